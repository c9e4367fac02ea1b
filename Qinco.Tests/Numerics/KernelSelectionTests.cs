using System;
using System.Runtime.Intrinsics;
using NUnit.Framework;
using Qinco.Core.Numerics;

namespace Qinco.Tests.Numerics;

public sealed class KernelSelectionTests
{
    [Test]
    public void ActiveVariant_IsTheBestOneUnlessForced()
    {
        string? forced = Environment.GetEnvironmentVariable(Kernels.ForceVariable);
        KernelVariant expected = string.IsNullOrWhiteSpace(forced) ? Kernels.Best : Kernels.Resolve(forced);
        Assert.That(Kernels.Active, Is.EqualTo(expected));
    }

    [Test]
    public void Best_FollowsTheHardwareKnobsOfThisProcess()
    {
        // DOTNET_EnableAVX512=0, DOTNET_EnableAVX2=0 or DOTNET_EnableHWIntrinsic=0 must show here, or a silently
        // ignored knob would make an "ISA matrix" run test the same code path twice.
        KernelVariant expected = Vector512.IsHardwareAccelerated ? KernelVariant.Vector512
            : Vector256.IsHardwareAccelerated ? KernelVariant.Vector256
            : Vector128.IsHardwareAccelerated ? KernelVariant.Vector128
            : KernelVariant.Scalar;
        Assert.That(Kernels.Best, Is.EqualTo(expected));
        if (Environment.GetEnvironmentVariable("DOTNET_EnableHWIntrinsic") == "0")
        {
            Assert.That(Kernels.Best, Is.EqualTo(KernelVariant.Scalar));
        }
        if (Environment.GetEnvironmentVariable("DOTNET_EnableAVX512") == "0")
        {
            Assert.That(Kernels.Best, Is.Not.EqualTo(KernelVariant.Vector512));
        }
    }

    [Test]
    public void Force_ScopesTheVariantAndRejectsUnknownNames()
    {
        using (Kernels.Force(KernelVariant.Scalar))
        {
            Assert.That(Kernels.Active, Is.EqualTo(KernelVariant.Scalar));
        }
        Assert.That(Kernels.Active, Is.Not.EqualTo(KernelVariant.Scalar).Or.EqualTo(Kernels.Best));
        Assert.Throws<InvalidOperationException>(() => Kernels.Resolve("Avx9000"));
        Assert.That(Kernels.Resolve("vector128"), Is.EqualTo(KernelVariant.Vector128 <= Kernels.Best ? KernelVariant.Vector128 : Kernels.Best));
    }
}
