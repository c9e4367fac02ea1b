using System;
using System.Numerics.Tensors;
using Qinco.Core.Numerics;

namespace Qinco.Core;

/// <summary>
/// QINCo's steps for <see cref="BeamSearch{TSteps}"/> (ALGORITHM.md §1.5, §5.4): step 0 scores the plain codebook C_0,
/// steps m ≥ 1 run the step network on every candidate of every beam (<see cref="QincoStep.Forward"/>) and score
/// <c>||r − f||²</c> directly (no cancellation, §8.3.4). Beams are tracked by their reconstruction x̂.
/// </summary>
/// <param name="model">The model, in normalised units.</param>
/// <param name="tables">Tables of the model's current parameters.</param>
/// <param name="activations">This call's activation buffers (inference layout).</param>
internal readonly struct QincoBeamSteps(QincoModel model, QincoStepTables[] tables, QincoActivations activations) : IBeamSteps
{
    public int Dimension => model.Dimension;

    public int CodebookSize(int step) => step == 0 ? model.FirstCodebookSize : model.CodebookSize;

    public bool TracksResidual => false;

    public int ScoringBlockVectors(int beamsIn, int perBeam) => int.MaxValue;

    public bool Preselects(int step) => step > 0;

    public ReadOnlySpan<float> SelectionCodebook(int step) => model.Step(step).SelectionCodebook;

    public void Score(int step, ReadOnlySpan<float> states, ReadOnlySpan<float> residuals, ReadOnlySpan<int> candidates, int slots, int perBeam, Span<float> errors, int threads)
    {
        int d = model.Dimension;
        if (step == 0)
        {
            Distances.SquaredL2Direct(residuals, model.Codebook0, slots, model.FirstCodebookSize, d, errors, maxDegreeOfParallelism: 1);
            return;
        }
        model.Step(step).Forward(tables[step], candidates, states, slots, perBeam, activations, threads);
        Span<float> outputs = activations.Output(slots * perBeam);
        for (int slot = 0; slot < slots; slot++)
        {
            Distances.SquaredL2Direct(residuals.Slice(slot * d, d), outputs.Slice(slot * perBeam * d, perBeam * d), 1, perBeam, d,
                errors.Slice(slot * perBeam, perBeam), maxDegreeOfParallelism: 1);
        }
    }

    public void Extend(int step, ReadOnlySpan<float> target, ReadOnlySpan<float> parent, int row, int code, Span<float> destination)
    {
        int d = model.Dimension;
        if (step == 0)
        {
            model.Codebook0.AsSpan(code * d, d).CopyTo(destination);
            return;
        }
        TensorPrimitives.Add(parent, activations.Output(row + 1).Slice(row * d, d), destination);
    }
}
