using System;
using System.Threading;
using Qinco.Core;
using static TorchSharp.torch;

namespace Qinco.TorchSharp;

/// <summary>
/// Encodes large sets with a trained QINCo or IVF-QINCo quantizer on a torch device: the quantizer's own beam search
/// and pre-selection (<see cref="EncoderSearch"/>) as batched tensor operations. The codes equal
/// <see cref="IQuantizer.Encode(ReadOnlySpan{float}, Span{byte})"/>'s up to float ties (the device sums in another
/// order), and decode with the same quantizer.
/// </summary>
/// <remarks>The model is copied to the device once; the encoder is not thread-safe (one call at a time).</remarks>
public sealed class TorchQincoEncoder : IDisposable
{
    private readonly QincoQuantizerBase _quantizer;
    private readonly QincoTorchNetwork _network;
    private readonly QincoModelDescription _model;

    /// <summary>Copies <paramref name="quantizer"/>'s model to <paramref name="device"/>.</summary>
    /// <param name="quantizer">A trained QINCo or IVF-QINCo quantizer.</param>
    /// <param name="device">One device: <c>cpu</c>, <c>cuda</c> (the first GPU) or <c>cuda:N</c> (default <c>"cuda"</c>).</param>
    /// <param name="batchSize">Vectors encoded per device call, 1..2²⁰ (default 4096); the activations take about
    /// batchSize × beam × candidates × (D + h) × 4 bytes.</param>
    /// <exception cref="InvalidOperationException">The quantizer is not trained.</exception>
    /// <exception cref="NotSupportedException">A QINCo2 model (see <see cref="QincoTorchNetwork.RequireSupported"/>).</exception>
    /// <exception cref="ArgumentException">More than one device, or a list that does not parse.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> out of range.</exception>
    /// <exception cref="TorchRuntimeException">TorchSharp's runtime or the device is not available.</exception>
    public TorchQincoEncoder(QincoQuantizerBase quantizer, string device = "cuda", int batchSize = 4096)
    {
        ArgumentNullException.ThrowIfNull(quantizer);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(batchSize, 1 << 20);
        _model = quantizer.DescribeModel();
        QincoTorchNetwork.RequireSupported(_model);
        var devices = TorchRuntime.ResolveDevices(device);
        if (devices.Count != 1)
        {
            throw new ArgumentException($"The encoder runs on one device; '{device}' names {devices.Count}.", nameof(device));
        }
        _quantizer = quantizer;
        BatchSize = batchSize;
        _network = new QincoTorchNetwork(_model, devices[0]);
    }

    /// <summary>Vectors per device call.</summary>
    public int BatchSize { get; }

    /// <summary>The device the model lives on.</summary>
    public Device Device => _network.Device;

    /// <summary>Encodes <paramref name="vectors"/> into codes of the quantizer's <see cref="QuantizerBase.Layout"/>.</summary>
    /// <exception cref="ArgumentException">Wrong dimension, or a vector with NaN or infinity.</exception>
    /// <exception cref="OperationCanceledException">Cancelled (checked between steps and batches).</exception>
    public CodeSet Encode(VectorSet vectors, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        int d = _model.Dimension, steps = _model.Steps;
        if (vectors.Dimension != d)
        {
            throw new ArgumentException($"Vectors have dimension {vectors.Dimension}; the model's is {d}.", nameof(vectors));
        }
        foreach (float value in vectors.Data)
        {
            if (!float.IsFinite(value))
            {
                throw new ArgumentException("The vectors hold NaN or infinity.", nameof(vectors));
            }
        }
        var codes = new CodeSet(vectors.Count, _quantizer.Layout);
        var indices = new long[(long)BatchSize * steps];
        var packed = new int[steps];
        for (int first = 0; first < vectors.Count; first += BatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = Math.Min(BatchSize, vectors.Count - first);
            using (var scope = NewDisposeScope())
            using (no_grad())
            {
                Tensor x = empty([count, d], ScalarType.Float32, Device);
                TorchHost.Upload(vectors.Data.AsSpan(first * d, count * d), x);
                x.div_(_model.Scale);
                Tensor result = TorchBeamSearch.Encode(_network, x, _model.Search, _model.FirstBeams, 0, null, null, cancellationToken).to(CPU).contiguous();
                result.data<long>().CopyTo(indices.AsSpan(0, count * steps), 0, 0);
            }
            for (int i = 0; i < count; i++)
            {
                for (int m = 0; m < steps; m++)
                {
                    packed[m] = (int)indices[(long)i * steps + m];
                }
                CodePacking.Pack(packed, codes.Layout, codes[first + i]);
            }
        }
        return codes;
    }

    /// <summary>Releases the device copy of the model.</summary>
    public void Dispose() => _network.Dispose();
}
