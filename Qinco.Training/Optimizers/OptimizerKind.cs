namespace Qinco.Training;

/// <summary>The optimiser the trainer creates.</summary>
public enum OptimizerKind
{
    /// <summary><see cref="Training.Adam"/>: L2 weight decay (QINCo1).</summary>
    Adam = 0,

    /// <summary><see cref="Training.AdamW"/>: decoupled weight decay (QINCo2).</summary>
    AdamW = 1,
}
