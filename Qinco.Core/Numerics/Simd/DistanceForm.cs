namespace Qinco.Core.Numerics;

/// <summary>Which formula a distance computation uses.</summary>
public enum DistanceForm
{
    /// <summary>The GEMM form for large shapes (<see cref="Distances.PrefersGemm"/>), the direct form otherwise.</summary>
    Auto = 0,

    /// <summary>The direct form <c>sum (x - c)^2</c>: exact to float rounding, no cancellation.</summary>
    Direct = 1,

    /// <summary>The GEMM form <c>||x||^2 - 2 x.c + ||c||^2</c>, clamped at 0.</summary>
    Gemm = 2,
}
