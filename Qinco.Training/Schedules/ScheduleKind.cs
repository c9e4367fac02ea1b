namespace Qinco.Training;

/// <summary>The learning-rate schedules the trainer can build from <see cref="TrainingOptions"/>.</summary>
public enum ScheduleKind
{
    /// <summary>A fixed learning rate (<see cref="ConstantSchedule"/>).</summary>
    Constant = 0,

    /// <summary>Divide by 10 on plateaus, QINCo1's rule (<see cref="PlateauSchedule"/>).</summary>
    Plateau = 1,

    /// <summary>Linear warm-up then quarter cosine, QINCo2's rule (<see cref="WarmupCosineSchedule"/>).</summary>
    WarmupCosine = 2,
}
