using System;

namespace Qinco.Core;

/// <summary>
/// The steps of a residual-type quantizer as <see cref="BeamSearch{TSteps}"/> sees them: step m maps a codeword index k
/// and a beam's current reconstruction x̂ to the extension <c>f_m(C_m[k], x̂)</c> (RQ: <c>f = C_m[k]</c>; QINCo: a
/// network), and scores <c>||x − x̂ − f||²</c>. Implemented by structs so the search specialises per quantizer.
/// </summary>
/// <remarks>
/// Every beam carries one state vector of <see cref="Dimension"/> floats: its residual <c>x − x̂</c> when
/// <see cref="TracksResidual"/> (additive steps update it as <c>r − c</c>), else its reconstruction x̂ (neural steps
/// need x̂ as their input; the search then forms <c>r = x − x̂</c> itself before each step).
/// Instances are created per encode call and may hold that call's scratch buffers; they are never shared by threads.
/// </remarks>
internal interface IBeamSteps
{
    /// <summary>Floats per vector, D.</summary>
    int Dimension { get; }

    /// <summary>Codewords of step <paramref name="step"/> (K; an IVF quantizer's step 0 has one per list).</summary>
    int CodebookSize(int step);

    /// <summary>Whether a beam's state vector is its residual (true) or its reconstruction (false).</summary>
    bool TracksResidual { get; }

    /// <summary>Most vectors whose candidates are scored together at a step with <paramref name="beamsIn"/> beams of <paramref name="perBeam"/> candidates (bounds the scratch).</summary>
    int ScoringBlockVectors(int beamsIn, int perBeam);

    /// <summary>Whether the candidates of <paramref name="step"/> may be pre-selected (neural steps); otherwise every codeword is scored.</summary>
    bool Preselects(int step);

    /// <summary>The codebook whose codewords nearest to a beam's residual are pre-selected at <paramref name="step"/>, shape [K, D].</summary>
    ReadOnlySpan<float> SelectionCodebook(int step);

    /// <summary>
    /// Scores the candidates of <paramref name="slots"/> beams at <paramref name="step"/>:
    /// <c>errors[b·perBeam + j] = ||r_b − f_step(C[k], x̂_b)||²</c> with <c>k = candidates[b·perBeam + j]</c>, or
    /// <c>k = j</c> when <paramref name="candidates"/> is empty (every codeword, perBeam = K).
    /// </summary>
    /// <param name="step">Step index m.</param>
    /// <param name="states">Shape [slots, D]: the beams' state vectors.</param>
    /// <param name="residuals">Shape [slots, D]: <c>x − x̂</c> of every beam.</param>
    /// <param name="candidates">Shape [slots · perBeam], or empty for all K.</param>
    /// <param name="slots">Beams scored.</param>
    /// <param name="perBeam">Candidates per beam.</param>
    /// <param name="errors">Shape [slots · perBeam].</param>
    /// <param name="threads">Threads the step may use inside its kernels.</param>
    void Score(int step, ReadOnlySpan<float> states, ReadOnlySpan<float> residuals, ReadOnlySpan<int> candidates, int slots, int perBeam, Span<float> errors, int threads);

    /// <summary>
    /// Writes the state of the beam that extends <paramref name="parent"/> (a state vector) with candidate row
    /// <paramref name="row"/> (codeword <paramref name="code"/>) of the last <see cref="Score"/> call.
    /// </summary>
    /// <param name="step">Step index m.</param>
    /// <param name="target">The vector x being encoded, [D].</param>
    /// <param name="parent">The parent beam's state vector, [D].</param>
    /// <param name="row">The candidate row of the last Score call.</param>
    /// <param name="code">The codeword index of that row.</param>
    /// <param name="destination">The new state vector, [D].</param>
    void Extend(int step, ReadOnlySpan<float> target, ReadOnlySpan<float> parent, int row, int code, Span<float> destination);
}
