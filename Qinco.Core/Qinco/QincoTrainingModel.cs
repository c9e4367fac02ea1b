using System;
using System.Collections.Generic;
using System.Threading;
using Qinco.Training;

namespace Qinco.Core;

/// <summary>
/// Plugs a <see cref="QincoNetwork"/> into the <see cref="Trainer"/>: the parameters wrap the network's own arrays,
/// each worker re-encodes its shard with the current parameters (no gradient, §1.6 step 1) and back-propagates the
/// summed per-step loss for those codes (step 2). Validation is the MSE in raw units of encode+decode.
/// </summary>
internal sealed class QincoTrainingModel : ITrainableModel
{
    private readonly QincoNetwork _network;
    private readonly float[] _train; // normalised [n, D]
    private readonly float[] _validation; // normalised [nv, D]
    private readonly int _validationCount;
    private readonly int _threads;
    private readonly int _beamWidth;
    private readonly int _candidates;

    private readonly bool _finalStepOnly;

    public QincoTrainingModel(QincoNetwork network, float[] normalisedTrain, float[] normalisedValidation, int threads, int beamWidth, int candidates, bool finalStepOnly)
    {
        _finalStepOnly = finalStepOnly;
        _beamWidth = beamWidth;
        _candidates = candidates;
        _network = network;
        _train = normalisedTrain;
        _validation = normalisedValidation;
        _validationCount = normalisedValidation.Length / network.Dimension;
        _threads = threads;
        var parameters = new List<Parameter>();
        for (int i = 0; i < network.Tensors.Length; i++)
        {
            parameters.Add(new Parameter(network.Names[i], network.Shapes[i], network.Tensors[i]));
        }
        Parameters = new ParameterSet(parameters);
    }

    public ParameterSet Parameters { get; }

    public int TrainingRowCount => _train.Length / _network.Dimension;

    private QincoEncoder CreateEncoder(int threads) => new(_network, threads, _beamWidth, _candidates);

    public IGradientWorker CreateWorker(int workerIndex) => new Worker(this);

    /// <summary>Validation MSE in raw units: s² · mean ||x/s − x̂||².</summary>
    public double Validate(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        double sumSquares = QincoQuantizer.EncodeMse(CreateEncoder(_threads), _validation, _validationCount, _threads);
        return sumSquares / Math.Max(1, _validationCount) * _network.Scale * _network.Scale;
    }

    private sealed class Worker(QincoTrainingModel model) : IGradientWorker
    {
        private readonly QincoBackprop _backprop = new(model._network, model._finalStepOnly);
        private float[] _x = [];
        private int[] _codes = [];

        public double ComputeLossAndGradients(ReadOnlySpan<int> rows, IReadOnlyList<float[]> gradientBuffers, CancellationToken cancellationToken)
        {
            QincoNetwork network = model._network;
            int n = rows.Length, d = network.Dimension;
            if (n == 0)
            {
                return 0;
            }
            if (_x.Length < n * d)
            {
                _x = new float[n * d];
                _codes = new int[n * network.Steps];
            }
            for (int i = 0; i < n; i++)
            {
                model._train.AsSpan(rows[i] * d, d).CopyTo(_x.AsSpan(i * d, d));
            }
            cancellationToken.ThrowIfCancellationRequested();
            model.CreateEncoder(1).Encode(_x.AsSpan(0, n * d), n, _codes, []);
            cancellationToken.ThrowIfCancellationRequested();
            return _backprop.LossAndGradients(_x.AsSpan(0, n * d), _codes, n, gradientBuffers);
        }
    }
}
