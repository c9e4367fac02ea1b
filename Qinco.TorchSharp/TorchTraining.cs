using System;
using Qinco.Training;

namespace Qinco.TorchSharp;

/// <summary>Selects torch devices for QINCo training: <c>Quantizer.Qinco(d).WithTraining(t =&gt; t.Devices("cuda:0,cuda:1"))</c>.</summary>
public static class TorchTraining
{
    /// <summary>
    /// Trains on <paramref name="devices"/> with a <see cref="TorchTrainingDevice"/>, one replica per device (data
    /// parallel; <see cref="TrainingOptions.Workers"/> no longer applies). The list is parsed now; the runtime and the
    /// devices are checked when training starts (<see cref="TorchRuntime.ResolveDevices"/> checks them earlier).
    /// </summary>
    /// <param name="builder">The training settings being built.</param>
    /// <param name="devices">Comma-separated <c>cpu</c>, <c>cuda</c> (every visible GPU), <c>cuda:N</c>, e.g. <c>"cuda:0,cuda:1"</c>.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">The list does not parse.</exception>
    public static TrainingBuilder Devices(this TrainingBuilder builder, string devices)
    {
        ArgumentNullException.ThrowIfNull(builder);
        Func<ITrainableModel, TrainingOptions, ITrainingDevice> factory = DeviceFactory(devices);
        return builder.With(o => o with { DeviceFactory = factory });
    }

    /// <summary>
    /// A <see cref="TrainingOptions.DeviceFactory"/> that creates a <see cref="TorchTrainingDevice"/> on
    /// <paramref name="devices"/> (resolved, and checked, when the trainer calls it).
    /// </summary>
    /// <param name="devices">As for <see cref="Devices"/>.</param>
    /// <exception cref="ArgumentException">The list does not parse.</exception>
    public static Func<ITrainableModel, TrainingOptions, ITrainingDevice> DeviceFactory(string devices)
    {
        TorchRuntime.ParseDevices(devices);
        return (model, options) => new TorchTrainingDevice(model, options, TorchRuntime.ResolveDevices(devices));
    }
}
