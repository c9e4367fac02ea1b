using System;
using System.IO;
using NUnit.Framework;
using Qinco.Core;
using Qinco.Core.IO;

namespace Qinco.Tests.Interop;

/// <summary>
/// The PyTorch fixtures of TestData/pytorch, written by tools/pytorch/make_fixtures.py with Debian's python3-torch:
/// QINCo1 (D = 8, K = 16, L = 2, M = 3, h = 16, db_scale a NumPy float32 37.5) and IVF-QINCo1 (D = 8, K = 16, L = 1,
/// M = 2, h = 16, K_IVF = 10, db_scale 12.0) models saved with torch.save(model), each with 48 vectors, their greedy
/// codes and the PyTorch decoder's outputs (<c>name.npz</c>); QINCo-LR and PQ-QINCo models; a QINCo2 dict checkpoint;
/// a bare state dict; tensors of every storage type (dtypes.pt, expected values in dtypes.json).
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
