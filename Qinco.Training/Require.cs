using System;
using System.Runtime.CompilerServices;

namespace Qinco.Training;

/// <summary>Range checks shared by the options, schedules and optimisers; the exception names the argument or option checked.</summary>
internal static class Require
{
    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> saying <paramref name="rule"/> unless <paramref name="holds"/>.</summary>
    public static void That(bool holds, double value, string rule, [CallerArgumentExpression(nameof(value))] string name = "")
    {
        if (!holds)
        {
            throw new ArgumentOutOfRangeException(name, value, rule);
        }
    }

    public static void PositiveFinite(double value, [CallerArgumentExpression(nameof(value))] string name = "") =>
        That(value > 0 && double.IsFinite(value), value, "Must be positive and finite.", name);

    public static void NonNegativeFinite(double value, [CallerArgumentExpression(nameof(value))] string name = "") =>
        That(value >= 0 && double.IsFinite(value), value, "Must be non-negative and finite.", name);
}
