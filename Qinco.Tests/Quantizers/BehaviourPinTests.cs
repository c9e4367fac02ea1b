using System;
using System.IO;
using System.Security.Cryptography;
using NUnit.Framework;
using Qinco.Core;
using Qinco.Core.IO;
using Qinco.Core.Numerics;

namespace Qinco.Tests.Quantizers;

/// <summary>
/// Pins, by SHA-256, what the quantizers produced on the SIFT split before the core redesign (issue 10), so that a
/// refactoring provably leaves behaviour unchanged: RQ fitted on the training rows and its codes of the database rows
/// (beam 1 and 5), and the codes of a QINCo model written by that earlier code (TestData/qinco-sift-m4b6.qinco: M = 4,
/// 6-bit codebooks, L = 1, h = 32, trained 2 epochs from PyTorch-default init) with its default search (beam 5 x 16
/// candidates) and with QINCo1's greedy exhaustive search.
/// </summary>
/// <remarks>
/// The hashes hold for the kernel variant and thread count they were recorded with (Vector512, 2 threads): results
/// are bit-identical only within one variant (README, "Determinism"). Elsewhere the tests are skipped with a message.
/// A deliberate change of the RQ training algorithm (e.g. k-means or PCA) changes the RQ hashes; record the new ones
/// in the same commit and say why.
/// </remarks>
[NonParallelizable]
public sealed class BehaviourPinTests
{
    private const string FixtureModel = "qinco-sift-m4b6.qinco";

    [TestCase(1, "BCC3797980892898DDBE7FE8AF4A22281176380148F327C58D1C8D5C2C69B4B8", "61314DF68C3EAFD491AEF4B0643C376F5326CA404AF593D90A31C0F59A53A652")]
    [TestCase(5, "676E36E7E6CE023733EE4B3679B2D2C6EE0641E21CEADD3F8DCE20A1D0ABDE2B", "CD4C8972BC9781C06C590982E7A177EEBCDA183DC03578E1A2B01DF0488F7031")]
    public void ResidualQuantizer_FitOnSiftSplit_GivesPinnedModelAndCodes(int beamWidth, string modelHash, string codesHash)
    {
        RequirePinnedVariant();
        (VectorSet train, VectorSet database) = SiftSplit();
        IQuantizer rq = Quantizer.Residual(128).WithSteps(8).WithCodebookBits(8).WithBeamWidth(beamWidth).WithSeed(1234).WithThreads(2).Build();
        rq.Fit(train);
        var model = new MemoryStream();
        rq.Save(model);
        Assert.That(Sha256(model.ToArray()), Is.EqualTo(modelHash), "model file");
        Assert.That(Sha256(rq.Encode(database).Data), Is.EqualTo(codesHash), "codes");
    }

    [Test]
    public void QincoModelWrittenBeforeTheRedesign_LoadsResavesAndEncodesIdentically()
    {
        RequirePinnedVariant();
        (_, VectorSet database) = SiftSplit();
        string path = Path.Combine(TestContext.CurrentContext.TestDirectory, "TestData", FixtureModel);
        byte[] bytes = File.ReadAllBytes(path);
        Assert.That(Sha256(bytes), Is.EqualTo("C4147118970A8FC09E39F086C570200D4B43371D0BC7BDA4BB19B37CD7248E86"), "fixture file");

        var qinco = (QincoQuantizer)Quantizer.Load(path, maxDegreeOfParallelism: 2);
        var resaved = new MemoryStream();
        qinco.Save(resaved);
        Assert.That(Sha256(resaved.ToArray()), Is.EqualTo(Sha256(bytes)), "re-saved model");
        Assert.That(Sha256(qinco.Encode(database).Data), Is.EqualTo("9F586AAF5176C75E0DF3ED3321A44B2CF571481D0B9D0CE889FB6F18BFC144FE"), "default search (beam 5 x 16)");
        Assert.That(Sha256(qinco.WithEncoding(1, 0).Encode(database).Data), Is.EqualTo("2A18EF56099334DA161ACB966DB64DBF647C17CE39C98E93B06821558A347D71"), "greedy exhaustive search");
    }

    private static (VectorSet Train, VectorSet Database) SiftSplit()
    {
        string path = TestData.RequireDataset("sift10k/sift10k_base.fvecs");
        return (VectorFile.Read(path, RowRange.Parse("0:4500")), VectorFile.Read(path, RowRange.Parse("5000:10000")));
    }

    private static void RequirePinnedVariant()
    {
        if (Kernels.Active != KernelVariant.Vector512)
        {
            Assert.Ignore($"The pinned hashes were recorded with the Vector512 kernels; this process runs {Kernels.Active}.");
        }
    }

    private static string Sha256(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes));
}
