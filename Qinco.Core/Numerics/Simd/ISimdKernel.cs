namespace Qinco.Core.Numerics;

/// <summary>
/// A SIMD kernel bound to its arguments: a struct whose <see cref="Run{TOps, TVec}"/> calls a driver written once
/// against <see cref="ISimdOps{TVec}"/>. <see cref="SimdDispatch"/> chooses the width once per call, so the loops run
/// fully specialised.
/// </summary>
/// <typeparam name="TResult">What the kernel returns.</typeparam>
internal interface ISimdKernel<TResult>
{
    /// <summary>Runs the kernel with the operations of one width.</summary>
    /// <typeparam name="TOps">The width's operator struct.</typeparam>
    /// <typeparam name="TVec">The width's vector type.</typeparam>
    TResult Run<TOps, TVec>()
        where TOps : struct, ISimdOps<TVec>
        where TVec : struct;
}
