using System;
using System.Linq;
using NUnit.Framework;
using Qinco.Core;
using Qinco.Search;

namespace Qinco.Tests.Search;

public sealed class AdditiveDecoderTests
{
    [Test]
    public void Fit_TinyCase_EqualsADenseSolveAndZeroesUnusedCodewords()
    {
        const int n = 60, m = 3, bits = 2, k = 4, d = 5;
        var rng = new Random(7);
        var layout = new CodeLayout(m, bits);
        var codes = new CodeSet(n, layout);
        var indices = new int[n * m];
        for (int i = 0; i < n; i++)
        {
            for (int s = 0; s < m; s++)
            {
                // Codeword 3 of step 1 is never used.
                indices[(i * m) + s] = s == 1 ? rng.Next(3) : rng.Next(k);
            }
            CodePacking.Pack(indices.AsSpan(i * m, m), layout, codes[i]);
        }
        float[] y = Enumerable.Range(0, n * d).Select(_ => (float)((rng.NextDouble() * 10) - 5)).ToArray();

        AdditiveDecoder decoder = AdditiveDecoder.Fit(y, codes, d, maxDegreeOfParallelism: 1);

        // Dense reference: Φ [n, M·K], (ΦᵀΦ + λI) A = ΦᵀY by Gaussian elimination with partial pivoting, λ as §4.1.
        int columns = m * k;
        var phi = new double[n, columns];
        for (int i = 0; i < n; i++)
        {
            for (int s = 0; s < m; s++)
            {
                phi[i, (s * k) + indices[(i * m) + s]] = 1;
            }
        }
        var a = new double[columns, columns + d];
        for (int r = 0; r < columns; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                for (int i = 0; i < n; i++)
                {
                    a[r, c] += phi[i, r] * phi[i, c];
                }
            }
            for (int j = 0; j < d; j++)
            {
                for (int i = 0; i < n; i++)
                {
                    a[r, columns + j] += phi[i, r] * y[(i * d) + j];
                }
            }
        }
        double ridge = 1e-8 * (n * m) / columns;
        for (int r = 0; r < columns; r++)
        {
            a[r, r] += ridge;
        }
        for (int p = 0; p < columns; p++)
        {
            int pivot = Enumerable.Range(p, columns - p).MaxBy(r => Math.Abs(a[r, p]));
            for (int c = 0; c < columns + d; c++)
            {
                (a[p, c], a[pivot, c]) = (a[pivot, c], a[p, c]);
            }
            for (int r = 0; r < columns; r++)
            {
                if (r != p)
                {
                    double f = a[r, p] / a[p, p];
                    for (int c = 0; c < columns + d; c++)
                    {
                        a[r, c] -= f * a[p, c];
                    }
                }
            }
        }
        var decoded = new float[d];
        var codeBytes = new byte[m];
        for (int i = 0; i < n; i++)
        {
            for (int s = 0; s < m; s++)
            {
                codeBytes[s] = (byte)indices[(i * m) + s];
            }
            decoder.Decode(codeBytes, decoded);
            for (int j = 0; j < d; j++)
            {
                double expected = 0;
                for (int s = 0; s < m; s++)
                {
                    int col = (s * k) + indices[(i * m) + s];
                    expected += a[col, columns + j] / a[col, col];
                }
                Assert.That(decoded[j], Is.EqualTo(expected).Within(1e-4 * (1 + Math.Abs(expected))), $"vector {i}, component {j}");
            }
        }
        Assert.That(decoder.Codebooks.Slice(((1 * k) + 3) * d, d).ToArray(), Is.All.EqualTo(0f), "the unused codeword");
        Assert.That(decoder.IsExact, Is.False);
    }

    [Test]
    public void FromResidualQuantizer_DecodesAsTheQuantizer_AndLookupTablesAreInnerProducts()
    {
        VectorSet train = SyntheticData.Generate(count: 1000, dimension: 16, seed: 1);
        var rq = (ResidualQuantizer)Quantizer.Residual(16).WithSteps(3).WithCodebookBits(8).WithBeamWidth(1).WithThreads(1).Build();
        rq.Fit(train);
        AdditiveDecoder decoder = AdditiveDecoder.FromResidualQuantizer(rq);
        CodeSet codes = rq.Encode(train.Slice(0, 50));
        var aq = new float[50 * 16];
        decoder.Decode(codes.Data, aq);
        Assert.That(aq, Is.EqualTo(rq.Decode(codes).Data).Within(1e-3f));
        Assert.That(decoder.IsExact, Is.True);

        float[] query = train.Row(7).ToArray();
        var tables = new float[3 * 256];
        decoder.ComputeLookupTables(query, 1, tables, scale: -2f);
        for (int step = 0; step < 3; step++)
        {
            for (int c = 0; c < 256; c += 37)
            {
                float expected = -2f * System.Numerics.Tensors.TensorPrimitives.Dot<float>(query, decoder.Codebooks.Slice(((step * 256) + c) * 16, 16));
                Assert.That(tables[(step * 256) + c], Is.EqualTo(expected).Within(1e-3f * (1 + Math.Abs(expected))));
            }
        }
    }

    [Test]
    public void Fit_BadInput_IsRejected()
    {
        var codes = new CodeSet(2, new CodeLayout(2, 8));
        Assert.Multiple(() =>
        {
            Assert.That(() => AdditiveDecoder.Fit(new float[3], codes, 2), Throws.ArgumentException);
            Assert.That(() => AdditiveDecoder.Fit([], new CodeSet(0, new CodeLayout(2, 8)), 2), Throws.ArgumentException);
            Assert.That(() => AdditiveDecoder.Fit([1, 2, float.NaN, 4], codes, 2), Throws.ArgumentException);
            Assert.That(() => AdditiveDecoder.Fit(new float[2], new CodeSet(2, new CodeLayout(40, 8)), 1, 1), Throws.InstanceOf<ArgumentOutOfRangeException>());
        });
    }
}
