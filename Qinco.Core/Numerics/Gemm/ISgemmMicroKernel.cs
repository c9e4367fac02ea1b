namespace Qinco.Core.Numerics;

/// <summary>
/// A register-blocked SGEMM micro-kernel: multiplies an <see cref="Mr"/> x kc packed panel of A by a kc x
/// <see cref="Nr"/> packed panel of B and folds the product into a full <see cref="Mr"/> x <see cref="Nr"/> tile of C.
/// </summary>
/// <remarks>
/// Packed A holds, for each p, the <see cref="Mr"/> values <c>A[i, p]</c> of the panel's rows; packed B holds, for each
/// p, the <see cref="Nr"/> values <c>B[p, j]</c> of the panel's columns. The kernel accumulates the kc products from
/// zero, then writes <c>C = alpha * acc</c>, or, when <c>accumulate</c>, <c>C = alpha * acc + betaEff * C</c> (fused
/// where the width fuses). Every element of C therefore sees the same operation sequence wherever its tile lies.
/// </remarks>
internal interface ISgemmMicroKernel
{
    /// <summary>Rows of the C tile.</summary>
    static abstract int Mr { get; }

    /// <summary>Columns of the C tile.</summary>
    static abstract int Nr { get; }

    /// <summary>Whether the vector width is accelerated on this CPU.</summary>
    static abstract bool IsSupported { get; }

    /// <summary>Runs the kernel on one full tile; <paramref name="ldc"/> is C's row stride in floats.</summary>
    static abstract unsafe void Run(float* a, float* b, nint kc, float* c, nint ldc, float alpha, float betaEff, bool accumulate);

    /// <summary>
    /// Same as <see cref="Run"/>, reading A unpacked: row r of the tile starts at <c>a + r * lda</c>. The operation
    /// sequence per element is identical, so the result is bit for bit the same as packing A first.
    /// </summary>
    static abstract unsafe void RunDirect(float* a, nint lda, float* b, nint kc, float* c, nint ldc, float alpha, float betaEff, bool accumulate);
}
