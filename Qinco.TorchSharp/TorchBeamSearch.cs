using System;
using System.Threading;
using Qinco.Core;
using static TorchSharp.torch;

namespace Qinco.TorchSharp;

/// <summary>
/// The library's beam search with candidate pre-selection (ALGORITHM.md §5.3–5.4, Qinco.Core's <c>BeamSearch</c> over
/// QINCo's steps) as batched tensor operations on one device: every vector of the batch, every beam and every
/// candidate of a step go through the step network together. It keeps the managed encoder's rules: step 0 scores the
/// plain codebook; at step m ≥ 1 each beam pre-selects the A codewords nearest to its residual (max(A, B) at step 1;
/// all K when A = 0), the network scores <c>||r − f||²</c> directly, and the best extensions over all beams of a vector
/// survive, ordered by (error, beam · candidates + position), the last step keeping one.
/// </summary>
/// <remarks>
/// Nearest codewords are found with the expansion <c>||r||² − 2r·c + ||c||²</c> (one GEMM), then the best
/// <c>count + 16</c> of them are re-scored with direct differences and ordered by (distance, index), so the selection is
/// the direct-difference one of the managed encoder unless the expansion's rounding exceeds the gap to the 16th next
/// codeword. Codes equal the managed encoder's up to float ties (sums are ordered differently on the device).
/// </remarks>
internal static class TorchBeamSearch
{
    private const int RefineMargin = 16;

    /// <summary>Encodes normalised vectors; call under <c>no_grad</c>.</summary>
    /// <param name="network">The model on the device of <paramref name="x"/>.</param>
    /// <param name="x">Shape [n, D].</param>
    /// <param name="search">Beam width B and candidates A.</param>
    /// <param name="firstBeams">Beams kept after the first step run.</param>
    /// <param name="firstStep">0, or 1 for IVF-QINCo's training rows whose list is fixed.</param>
    /// <param name="start">With <paramref name="firstStep"/> 1: the reconstructions x̂ [n, D] (the rows' centroids).</param>
    /// <param name="firstCodes">With <paramref name="firstStep"/> 1: the step-0 codes [n] (int64).</param>
    /// <param name="cancellationToken">Checked before every step.</param>
    /// <returns>Codes [n, Steps], int64.</returns>
    public static Tensor Encode(QincoTorchNetwork network, Tensor x, EncoderSearch search, int firstBeams, int firstStep, Tensor? start, Tensor? firstCodes, CancellationToken cancellationToken)
    {
        QincoModelDescription model = network.Description;
        int totalSteps = model.Steps, d = model.Dimension;
        long n = x.shape[0];
        Tensor states = start is null ? zeros([n, 1, d], ScalarType.Float32, x.device) : start.reshape(n, 1, d);
        Tensor codes = zeros([n, 1, totalSteps], ScalarType.Int64, x.device);
        if (firstCodes is not null)
        {
            codes.select(2, 0).copy_(firstCodes.reshape(n, 1));
        }
        int beams = 1;
        for (int s = firstStep; s < totalSteps; s++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int codebookSize = s == 0 ? model.FirstCodebookSize : model.CodebookSize;
            int width = s == firstStep ? firstBeams : search.BeamWidth;
            int beamsOut = s == totalSteps - 1 ? 1 : (int)Math.Min((long)beams * codebookSize, width);
            (states, codes) = s == 0
                ? StepZero(network, x, beamsOut, codes)
                : NeuralStep(network, s, search, x, states, codes, beams, beamsOut);
            beams = beamsOut;
        }
        return codes.reshape(n, totalSteps);
    }

    /// <summary>Candidates per beam at step m (Core's rule): K without pre-selection, max(A, B) at step 1.</summary>
    internal static int CandidatesPerBeam(EncoderSearch search, int step, int codebookSize)
    {
        int perBeam = search.CandidatesPerBeam(codebookSize);
        return perBeam == codebookSize || step != 1 ? perBeam : Math.Min(codebookSize, Math.Max(perBeam, search.BeamWidth));
    }

    private static (Tensor States, Tensor Codes) StepZero(QincoTorchNetwork network, Tensor x, int beamsOut, Tensor codes)
    {
        Tensor codebook = network["codebook0"];
        long n = x.shape[0];
        Tensor best = Nearest(x, codebook, beamsOut); // [n, beamsOut]: one incoming beam, so the pool index is the code
        Tensor states = codebook.index_select(0, best.reshape(-1)).view(n, beamsOut, -1);
        Tensor next = codes.expand(n, beamsOut, codes.shape[2]).clone();
        next.select(2, 0).copy_(best);
        return (states, next);
    }

    private static (Tensor States, Tensor Codes) NeuralStep(QincoTorchNetwork network, int step, EncoderSearch search, Tensor x, Tensor states, Tensor codes, int beamsIn, int beamsOut)
    {
        QincoTorchStep layer = network.Step(step);
        int k = network.Description.CodebookSize, d = network.Description.Dimension;
        long n = x.shape[0], slots = n * beamsIn, totalSteps = codes.shape[2];
        int perBeam = CandidatesPerBeam(search, step, k);
        Tensor flatStates = states.reshape(slots, d);
        Tensor residuals = (x.unsqueeze(1) - states).reshape(slots, d);
        Tensor candidates = perBeam < k
            ? Nearest(residuals, layer.Codebook, perBeam)
            : arange(k, ScalarType.Int64, x.device).expand(slots, k);
        Tensor outputs = layer.ForwardCandidates(layer.ComputeTables(), candidates, flatStates); // [slots, perBeam, D]
        Tensor errors = (residuals.unsqueeze(1) - outputs).square().sum(-1); // [slots, perBeam]
        Tensor best = SmallestFirst(errors.view(n, beamsIn * perBeam), beamsOut); // [n, beamsOut], pool index beam·perBeam + position
        Tensor row = (arange(n, ScalarType.Int64, x.device).unsqueeze(1) * (beamsIn * perBeam) + best).reshape(-1);
        Tensor parent = (arange(n, ScalarType.Int64, x.device).unsqueeze(1) * beamsIn + best.div(perBeam, rounding_mode: RoundingMode.floor)).reshape(-1);
        Tensor chosen = candidates.reshape(-1).index_select(0, row);
        Tensor nextStates = (flatStates.index_select(0, parent) + outputs.reshape(-1, d).index_select(0, row)).view(n, beamsOut, d);
        Tensor nextCodes = codes.reshape(slots, totalSteps).index_select(0, parent);
        nextCodes.select(1, step).copy_(chosen);
        return (nextStates, nextCodes.view(n, beamsOut, totalSteps));
    }

    /// <summary>
    /// Indices [q, count] of the <paramref name="count"/> rows of <paramref name="table"/> [K, D] nearest to each query
    /// [q, D], ordered by (direct squared distance, index): expansion GEMM for a shortlist, direct differences to order it.
    /// </summary>
    internal static Tensor Nearest(Tensor queries, Tensor table, int count)
    {
        long k = table.shape[0];
        int shortlist = (int)Math.Min(k, (long)count + RefineMargin);
        Tensor approximate = (table.square().sum(-1).unsqueeze(0) - 2 * queries.matmul(table.t())) + queries.square().sum(-1, keepdim: true);
        Tensor candidates = shortlist == k
            ? arange(k, ScalarType.Int64, queries.device).expand(queries.shape[0], k)
            : approximate.topk(shortlist, dim: 1, largest: false, sorted: false).indexes.sort(dim: 1).Values;
        long q = queries.shape[0], d = queries.shape[1];
        Tensor rows = table.index_select(0, candidates.reshape(-1)).view(q, shortlist, d);
        Tensor exact = (queries.unsqueeze(1) - rows).square().sum(-1);
        return candidates.gather(1, SmallestFirst(exact, count));
    }

    /// <summary>Positions of the <paramref name="count"/> smallest values of each row, ascending; ties: smaller position first.</summary>
    internal static Tensor SmallestFirst(Tensor values, int count) => values.sort(dim: 1, descending: false, stable: true).Indices.narrow(1, 0, count);
}
