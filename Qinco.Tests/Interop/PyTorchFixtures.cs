using System;
using System.Collections.Generic;
using System.IO;
using NUnit.Framework;
using Qinco.Core;
using Qinco.Core.IO;

namespace Qinco.Tests.Interop;

/// <summary>
/// The PyTorch fixtures of TestData/pytorch, written by tools/pytorch/make_fixtures.py with Debian's python3-torch:
/// QINCo1 (D = 8, K = 16, L = 2, M = 3, h = 16, db_scale a NumPy float32 37.5) and IVF-QINCo1 (D = 8, K = 16, L = 1,
/// M = 2, h = 16, K_IVF = 10, db_scale 12.0) models saved with torch.save(model), each with 48 vectors, their greedy
/// codes and the PyTorch decoder's outputs (<c>name.npz</c>); QINCo2 dict checkpoints with the same (qinco2_proj: De = 12,
/// A = 4, B = 3; qinco2_greedy: De = D, A = 0, B = 1; ivf_qinco2: 10 centroids, A = 4, B = 2; qinco2_qinco1_mode: α = 0,
/// A = 0, B = 2), codes from the encoder of ALGORITHM.md §5.4; QINCo-LR and PQ-QINCo models; a QINCo2 dict checkpoint
/// without outputs (qinco2.pt); a bare state dict; tensors of every storage type (dtypes.pt, expected values in dtypes.json).
/// </summary>
internal static class PyTorchFixtures
{
    public static string PathOf(string name) => Path.Combine(TestContext.CurrentContext.TestDirectory, "TestData", "pytorch", name);

    /// <summary>tools/pytorch/make_fixtures.py in an ancestor of the test directory (the repository), or null.</summary>
    public static string? Script()
    {
        for (DirectoryInfo? dir = new(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tools", "pytorch", "make_fixtures.py");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }

    /// <summary>The vectors, the reference's codes [n, indices] and its decoder's outputs of a model fixture.</summary>
    public static (VectorSet X, Matrix<long> Codes, VectorSet Decoded) Expected(string model)
    {
        using NpzFile npz = NpzFile.Open(PathOf(model + ".npz"));
        return (npz.ReadVectors("x"), npz.ReadLongMatrix("codes"), npz.ReadVectors("decoded"));
    }

    /// <summary>Packs the reference's int64 code indices [n, indices] (the list number first for IVF) into codes of <paramref name="layout"/>.</summary>
    public static CodeSet Pack(Matrix<long> indices, CodeLayout layout)
    {
        Assert.That(indices.Columns, Is.EqualTo(layout.IndicesPerCode));
        var codes = new CodeSet(indices.Rows, layout);
        var row = new int[indices.Columns];
        for (int i = 0; i < indices.Rows; i++)
        {
            for (int j = 0; j < row.Length; j++)
            {
                row[j] = checked((int)indices.Data[(i * row.Length) + j]);
            }
            CodePacking.Pack(row, layout, codes.Data.AsSpan(i * layout.CodeSize, layout.CodeSize));
        }
        return codes;
    }

    /// <summary>The code indices [n, indices] of packed codes.</summary>
    public static long[] Unpack(CodeSet codes)
    {
        int per = codes.Layout.IndicesPerCode;
        var result = new long[codes.Count * per];
        var row = new int[per];
        for (int i = 0; i < codes.Count; i++)
        {
            CodePacking.Unpack(codes.Data.AsSpan(i * codes.CodeSize, codes.CodeSize), codes.Layout, row);
            for (int j = 0; j < per; j++)
            {
                result[(i * per) + j] = row[j];
            }
        }
        return result;
    }

    /// <summary>
    /// The quantizer decodes the reference's codes to the reference decoder's outputs within 1e-5 relative (to the
    /// data's scale, and per value to max(|value|, 1)), and encodes the vectors to the reference's codes.
    /// </summary>
    public static void AssertDecodesAndEncodesAsPyTorch(IQuantizer quantizer, string fixture, VectorSet x, Matrix<long> codes, VectorSet expected)
    {
        VectorSet decoded = quantizer.Decode(Pack(codes, quantizer.Layout));
        double error = MaxRelativeError(decoded.Data, expected.Data);
        TestContext.Out.WriteLine($"{fixture}: max |decoded - pytorch| / max |pytorch| = {error:E2} over {expected.Data.Length} values");
        Assert.That(error, Is.LessThanOrEqualTo(1e-5));
        for (int i = 0; i < expected.Data.Length; i++)
        {
            Assert.That(decoded.Data[i], Is.EqualTo(expected.Data[i]).Within(1e-5 * Math.Max(Math.Abs(expected.Data[i]), 1.0)), $"value {i}");
        }

        long[] encoded = Unpack(quantizer.Encode(x));
        int agree = 0;
        for (int i = 0; i < codes.Rows; i++)
        {
            agree += encoded.AsSpan(i * codes.Columns, codes.Columns).SequenceEqual(codes.Data.AsSpan(i * codes.Columns, codes.Columns)) ? 1 : 0;
        }
        TestContext.Out.WriteLine($"{fixture}: {agree} of {codes.Rows} codes equal PyTorch's ({quantizer.Search})");
        Assert.That(encoded, Is.EqualTo(codes.Data));
    }

    /// <summary>A copy of <paramref name="checkpoint"/> named "edited.pt", with its tensors edited and optionally other hyper-parameters.</summary>
    public static ReferenceCheckpoint Edited(ReferenceCheckpoint checkpoint, Action<Dictionary<string, ReferenceTensor>> edit, ReferenceHyperparameters? hyper = null)
    {
        var tensors = new Dictionary<string, ReferenceTensor>(checkpoint.Tensors);
        edit(tensors);
        return new ReferenceCheckpoint(checkpoint.Format, hyper ?? checkpoint.Hyperparameters, tensors, "edited.pt");
    }

    /// <summary>max_i |a_i − e_i| / max_i |e_i|: the error relative to the data's scale.</summary>
    public static double MaxRelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        double maxError = 0, maxValue = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            maxError = Math.Max(maxError, Math.Abs((double)actual[i] - expected[i]));
            maxValue = Math.Max(maxValue, Math.Abs((double)expected[i]));
        }
        return maxError / maxValue;
    }
}
