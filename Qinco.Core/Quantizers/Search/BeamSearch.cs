using System;
using System.Numerics.Tensors;
using Qinco.Core.Numerics;

namespace Qinco.Core;

/// <summary>
/// The beam search every quantizer of the library encodes with (ALGORITHM.md §5.4, §6.3), generic over its steps:
/// at each step every beam of a vector proposes candidate codewords (all K, or the A nearest to its residual:
/// QINCo2's pre-selection, §5.3), the steps score each extension by the full error <c>||x − x̂ − f(c, x̂)||²</c>,
/// and the best extensions over all beams of the vector survive, ordered by (error, beam · candidates + position).
/// </summary>
/// <typeparam name="TSteps">The quantizer's steps; a struct, so the search is specialised per quantizer.</typeparam>
internal static class BeamSearch<TSteps>
    where TSteps : struct, IBeamSteps
{
    /// <summary>
    /// Encodes <paramref name="count"/> vectors with steps <c>firstStep .. totalSteps − 1</c>, starting from one beam per
    /// vector whose state is in <paramref name="start"/> (or x̂ = 0 when it is empty); the last step keeps one beam.
    /// </summary>
    /// <param name="steps">The quantizer's steps.</param>
    /// <param name="search">Beam width and candidate pre-selection.</param>
    /// <param name="x">Shape [count, D]: the vectors.</param>
    /// <param name="count">Vectors.</param>
    /// <param name="firstStep">The first step to run; earlier code indices must already be in <paramref name="codes"/>.</param>
    /// <param name="totalSteps">M.</param>
    /// <param name="start">Shape [count, D]: the starting reconstructions x̂, or empty for 0.</param>
    /// <param name="codes">Shape [count, M]: receives the code indices (indices before <paramref name="firstStep"/> are kept).</param>
    /// <param name="reconstruction">Shape [count, D]: receives x̂ of the chosen code, or empty.</param>
    /// <param name="threads">Threads the steps may use inside their kernels.</param>
    /// <param name="firstBeams">Beams kept after the first step run (default: the beam width); an IVF encoder keeps the probed lists.</param>
    public static void Encode(
        TSteps steps, EncoderSearch search, ReadOnlySpan<float> x, int count, int firstStep, int totalSteps,
        ReadOnlySpan<float> start, Span<int> codes, Span<float> reconstruction, int threads, int? firstBeams = null)
    {
        int d = steps.Dimension;
        // An IVF encoder may probe more lists than the beam width: the first step then keeps more beams than the others.
        long widest = Math.Max(search.BeamWidth, firstBeams ?? 0);
        using var buffers = new BeamBuffers(count * widest * d, count * widest * totalSteps);
        Span<float> states = buffers.States.AsSpan(0, count * d);
        if (start.IsEmpty)
        {
            if (steps.TracksResidual)
            {
                x[..(count * d)].CopyTo(states);
            }
            else
            {
                states.Clear();
            }
        }
        else if (steps.TracksResidual)
        {
            TensorPrimitives.Subtract(x[..(count * d)], start[..(count * d)], states);
        }
        else
        {
            start[..(count * d)].CopyTo(states);
        }
        for (int i = 0; i < count; i++)
        {
            codes.Slice(i * totalSteps, firstStep).CopyTo(buffers.Codes.AsSpan(i * totalSteps, firstStep));
        }

        using var scratch = new BeamScratch();
        int beams = 1;
        for (int s = firstStep; s < totalSteps; s++)
        {
            int width = s == firstStep ? firstBeams ?? search.BeamWidth : search.BeamWidth;
            int beamsOut = s == totalSteps - 1 ? 1 : (int)Math.Min((long)beams * steps.CodebookSize(s), width);
            Advance(ref steps, s, search, x, count, beams, beamsOut, totalSteps,
                buffers.States, buffers.Codes, buffers.NextStates, buffers.NextCodes, [], scratch, threads);
            buffers.Swap();
            beams = beamsOut;
        }
        buffers.Codes.AsSpan(0, count * totalSteps).CopyTo(codes);
        if (!reconstruction.IsEmpty)
        {
            Span<float> final = buffers.States.AsSpan(0, count * d);
            if (steps.TracksResidual)
            {
                TensorPrimitives.Subtract(x[..(count * d)], final, reconstruction[..(count * d)]);
            }
            else
            {
                final.CopyTo(reconstruction);
            }
        }
    }

    /// <summary>
    /// Advances the <paramref name="beamsIn"/> beams of each of <paramref name="count"/> vectors by step
    /// <paramref name="step"/>, keeping the best <paramref name="beamsOut"/> extensions of each vector.
    /// </summary>
    /// <param name="steps">The quantizer's steps.</param>
    /// <param name="step">Step index m.</param>
    /// <param name="search">Beam width and candidate pre-selection.</param>
    /// <param name="x">Shape [count, D].</param>
    /// <param name="count">Vectors.</param>
    /// <param name="beamsIn">Beams per vector on entry.</param>
    /// <param name="beamsOut">Beams per vector to keep (at most beamsIn × candidates).</param>
    /// <param name="totalSteps">M: the stride of the code arrays.</param>
    /// <param name="states">Shape [count, beamsIn, D].</param>
    /// <param name="codes">Shape [count, beamsIn, M]: entries 0..step−1 are read.</param>
    /// <param name="nextStates">Shape [count, beamsOut, D].</param>
    /// <param name="nextCodes">Shape [count, beamsOut, M]: entries 0..step are written.</param>
    /// <param name="errors">Shape [count, beamsOut]: the kept errors (clamped at 0), or empty.</param>
    /// <param name="scratch">This thread's scratch.</param>
    /// <param name="threads">Threads the steps may use inside their kernels.</param>
    public static void Advance(
        ref TSteps steps, int step, EncoderSearch search, ReadOnlySpan<float> x, int count, int beamsIn, int beamsOut, int totalSteps,
        ReadOnlySpan<float> states, ReadOnlySpan<int> codes, Span<float> nextStates, Span<int> nextCodes, Span<float> errors,
        BeamScratch scratch, int threads)
    {
        int d = steps.Dimension, k = steps.CodebookSize(step);
        int perBeam = steps.Preselects(step) ? CandidatesPerBeam(search, beamsIn, beamsOut, k) : k;
        bool preselect = perBeam < k;
        int block = Math.Clamp(steps.ScoringBlockVectors(beamsIn, perBeam), 1, Math.Max(count, 1));
        scratch.Ensure(block * beamsIn, perBeam, d, k, Math.Max(beamsOut, perBeam));
        for (int first = 0; first < count; first += block)
        {
            int n = Math.Min(block, count - first);
            int slots = n * beamsIn, rows = slots * perBeam;
            ReadOnlySpan<float> blockStates = states.Slice(first * beamsIn * d, slots * d);
            ReadOnlySpan<float> residuals = blockStates;
            if (!steps.TracksResidual)
            {
                Span<float> r = scratch.Residuals.AsSpan(0, slots * d);
                for (int slot = 0; slot < slots; slot++)
                {
                    TensorPrimitives.Subtract(x.Slice((first + slot / beamsIn) * d, d), blockStates.Slice(slot * d, d), r.Slice(slot * d, d));
                }
                residuals = r;
            }
            Span<int> candidates = preselect ? scratch.Candidates.AsSpan(0, rows) : [];
            if (preselect)
            {
                ReadOnlySpan<float> selection = steps.SelectionCodebook(step);
                Span<float> distances = scratch.Preselection.AsSpan(0, k);
                for (int slot = 0; slot < slots; slot++)
                {
                    Distances.SquaredL2Direct(residuals.Slice(slot * d, d), selection, 1, k, d, distances, maxDegreeOfParallelism: 1);
                    SelectSmallest(distances, perBeam, candidates.Slice(slot * perBeam, perBeam), scratch.SelectedValues);
                }
            }
            Span<float> scores = scratch.Errors.AsSpan(0, rows);
            steps.Score(step, blockStates, residuals, candidates, slots, perBeam, scores, threads);

            Span<int> best = scratch.Selected.AsSpan(0, beamsOut);
            int pool = beamsIn * perBeam;
            for (int v = 0; v < n; v++)
            {
                int vector = first + v;
                SelectSmallest(scores.Slice(v * pool, pool), beamsOut, best, scratch.SelectedValues);
                for (int b = 0; b < beamsOut; b++)
                {
                    int row = v * pool + best[b];
                    int parent = row / perBeam;
                    int code = preselect ? candidates[row] : row - parent * perBeam;
                    int next = vector * beamsOut + b;
                    codes.Slice((first * beamsIn + parent) * totalSteps, step).CopyTo(nextCodes.Slice(next * totalSteps, step));
                    nextCodes[next * totalSteps + step] = code;
                    steps.Extend(step, x.Slice(vector * d, d), blockStates.Slice(parent * d, d), row, code, nextStates.Slice(next * d, d));
                    if (!errors.IsEmpty)
                    {
                        errors[next] = Math.Max(scores[row], 0f);
                    }
                }
            }
        }
    }

    /// <summary>
    /// Candidates scored per beam: K without pre-selection, else A, raised to ceil(B_out / B_in) when fewer would not fill
    /// the outgoing beams: after IVF's single beam that is max(A, B), the rule of §5.3; without IVF step 0 already keeps B
    /// beams, so A per beam is used as the reference does.
    /// </summary>
    private static int CandidatesPerBeam(EncoderSearch search, int beamsIn, int beamsOut, int codebookSize)
    {
        int perBeam = search.CandidatesPerBeam(codebookSize);
        int needed = (beamsOut + beamsIn - 1) / Math.Max(beamsIn, 1);
        return Math.Min(codebookSize, Math.Max(perBeam, needed));
    }

    /// <summary>Indices of the <paramref name="count"/> smallest values, ascending (ties: smaller index first).</summary>
    private static void SelectSmallest(ReadOnlySpan<float> values, int count, Span<int> indices, float[] scratchValues)
    {
        if (count == 1)
        {
            indices[0] = RowSelection.ArgMin(values);
            return;
        }
        RowSelection.TopK(values, 1, values.Length, count, indices, scratchValues.AsSpan(0, count));
    }

    /// <summary>Double-buffered beam states and codes of one encode call, pooled.</summary>
    private sealed class BeamBuffers(long stateLength, long codeLength) : IDisposable
    {
        public float[] States { get; private set; } = Pool.Rent<float>(stateLength);

        public float[] NextStates { get; private set; } = Pool.Rent<float>(stateLength);

        public int[] Codes { get; private set; } = Pool.Rent<int>(codeLength);

        public int[] NextCodes { get; private set; } = Pool.Rent<int>(codeLength);

        public void Swap()
        {
            (States, NextStates) = (NextStates, States);
            (Codes, NextCodes) = (NextCodes, Codes);
        }

        public void Dispose()
        {
            Pool.Return(States);
            Pool.Return(NextStates);
            Pool.Return(Codes);
            Pool.Return(NextCodes);
        }
    }
}

/// <summary>Per-thread scratch of <see cref="BeamSearch{TSteps}.Advance"/>: pooled, grown on demand, returned on dispose.</summary>
internal sealed class BeamScratch : IDisposable
{
    private float[] _residuals = [], _errors = [], _preselection = [], _selectedValues = [];
    private int[] _candidates = [], _selected = [];

    public float[] Residuals => _residuals;

    public float[] Errors => _errors;

    public int[] Candidates => _candidates;

    public float[] Preselection => _preselection;

    public int[] Selected => _selected;

    public float[] SelectedValues => _selectedValues;

    /// <summary>Makes room for <paramref name="slots"/> beams of <paramref name="perBeam"/> candidates in dimension <paramref name="d"/>.</summary>
    public void Ensure(int slots, int perBeam, int d, int codebookSize, int selections)
    {
        long rows = (long)slots * perBeam;
        Pool.Grow(ref _residuals, (long)slots * d);
        Pool.Grow(ref _errors, rows);
        Pool.Grow(ref _candidates, rows);
        Pool.Grow(ref _preselection, codebookSize);
        Pool.Grow(ref _selected, selections);
        Pool.Grow(ref _selectedValues, selections);
    }

    public void Dispose()
    {
        Pool.Return(_residuals);
        Pool.Return(_errors);
        Pool.Return(_preselection);
        Pool.Return(_selectedValues);
        Pool.Return(_candidates);
        Pool.Return(_selected);
    }
}
