using System;
using System.Collections.Generic;
using System.Threading;
using Qinco.Training;

namespace Qinco.Core;

/// <summary>
/// Plugs a <see cref="QincoModel"/> into the <see cref="Trainer"/> (ALGORITHM.md §1.6): the parameters wrap the model's
/// own arrays; each worker re-encodes its shard with the current parameters (no gradient) and back-propagates the
/// summed per-step loss for those codes through the step networks. Validation is the MSE in raw units of encode+decode.
/// With IVF (§3.1) step 0 holds the frozen centroids: they are not parameters, every training vector keeps the list it
/// was assigned once (<c>trainingLists</c>), its beams start from that centroid, and step 0 adds no loss term.
/// </summary>
internal sealed class QincoTrainingModel : ITrainableModel, IQincoTrainingSource
{
    private readonly QincoModel _model;
    private readonly IVectorSource _train; // raw rows, normalised batch by batch
    private readonly float[] _validation; // normalised [nv, D]
    private readonly int _threads;
    private readonly QincoSearchPlan _training, _validationSearch;
    private readonly bool _finalStepOnly;
    private readonly int[]? _trainingLists;
    private readonly DeadCodewordReset? _reset;

    // training: how each batch is encoded before the gradient step; validation: the model's own search, so the model
    // kept is the best under the search it will encode with.
    public QincoTrainingModel(QincoModel model, IVectorSource train, float[] normalisedValidation, int threads, QincoSearchPlan training, QincoSearchPlan validation, bool finalStepOnly, int[]? trainingLists, int seed)
    {
        _reset = model.StepShape.Preselection ? new DeadCodewordReset(model, seed) : null;
        _model = model;
        _train = train;
        _validation = normalisedValidation;
        _threads = threads;
        _training = training;
        _validationSearch = validation;
        _finalStepOnly = finalStepOnly;
        _trainingLists = trainingLists;
        var parameters = new List<Parameter>();
        foreach (ModelTensor tensor in model.Tensors)
        {
            if (trainingLists is null || tensor.Values != model.Codebook0)
            {
                parameters.Add(new Parameter(tensor.Name, tensor.Shape, tensor.Values));
            }
        }
        Parameters = new ParameterSet(parameters);
    }

    public ParameterSet Parameters { get; }

    public int TrainingRowCount => _train.Count;

    /// <inheritdoc/>
    /// <remarks>Described with the training search: a device encodes its batches with it.</remarks>
    public QincoModelDescription Model => _model.Describe(_training.Search, _training.FirstBeams, copy: false);

    /// <inheritdoc/>
    public QincoLoss Loss => _finalStepOnly ? QincoLoss.FinalStep : QincoLoss.AllSteps;

    /// <inheritdoc/>
    public void ReadTrainingRows(ReadOnlySpan<int> rows, Span<float> destination)
    {
        int count = rows.Length * _model.Dimension;
        _train.ReadRows(rows, destination);
        _model.Normalise(destination[..count], destination[..count]);
    }

    /// <inheritdoc/>
    public ReadOnlyMemory<int> TrainingLists => _trainingLists ?? [];

    public IGradientWorker CreateWorker(int workerIndex) => new Worker(this, _reset?.CreateTally(workerIndex));

    /// <summary>Codewords replaced by the last epoch's dead-codeword reset (QINCo2), for tests and logs.</summary>
    public int LastReset { get; private set; }

    /// <summary>QINCo2 resets the codewords no training vector chose this epoch (§5.8).</summary>
    public void OnEpochEnd(int epoch) => LastReset = _reset?.Apply(epoch) ?? 0;

    /// <summary>Validation MSE in raw units: s² · mean ||x/s − x̂||².</summary>
    public double Validate(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        int d = _model.Dimension, n = _validation.Length / d;
        var reconstruction = new float[_validation.Length];
        QincoQuantizerBase.EncodeNormalised(_model, _model.CreateTables(_threads), _validationSearch.Search, _validation, n, new int[n * _model.Steps], reconstruction, _threads, _validationSearch.FirstBeams);
        double sum = 0;
        for (int i = 0; i < reconstruction.Length; i++)
        {
            double diff = _validation[i] - reconstruction[i];
            sum += diff * diff;
        }
        return sum / Math.Max(1, n) * _model.Scale * _model.Scale;
    }

    /// <summary>One worker: its own encoder tables and buffers, and its loss/gradient chain; not thread-safe.</summary>
    private sealed class Worker : IGradientWorker, IDisposable
    {
        private readonly QincoTrainingModel _owner;
        private readonly QincoModel _model;
        private readonly QincoStepTables[] _tables;
        private readonly QincoActivations _encoding;
        private readonly QincoLossGradient _lossGradient;
        private float[] _x = [], _start = [];
        private int[] _codes = [];

        public Worker(QincoTrainingModel owner, DeadCodewordReset.Tally? tally)
        {
            _owner = owner;
            _model = owner._model;
            _tables = _model.CreateTables(threads: 1);
            _encoding = new QincoActivations(_model.StepShape, keepLayers: false);
            _lossGradient = new QincoLossGradient(_model, owner._finalStepOnly, frozenFirstStep: owner._trainingLists is not null, tally);
        }

        public double ComputeLossAndGradients(ReadOnlySpan<int> rows, IReadOnlyList<float[]> gradientBuffers, CancellationToken cancellationToken)
        {
            int n = rows.Length, d = _model.Dimension, steps = _model.Steps;
            if (n == 0)
            {
                return 0;
            }
            if (_x.Length < n * d)
            {
                _x = new float[n * d];
                _start = _owner._trainingLists is null ? [] : new float[n * d];
                _codes = new int[n * steps];
            }
            int[]? lists = _owner._trainingLists;
            _owner.ReadTrainingRows(rows, _x);
            for (int i = 0; lists is not null && i < n; i++)
            {
                _codes[i * steps] = lists[rows[i]];
                _model.Codebook0.AsSpan(lists[rows[i]] * d, d).CopyTo(_start.AsSpan(i * d, d));
            }
            cancellationToken.ThrowIfCancellationRequested();
            _model.RefreshTables(_tables, threads: 1);
            int tile = QincoQuantizerBase.TileVectors(_owner._training.Search, _model.CodebookSize);
            int firstStep = lists is null ? 0 : 1;
            for (int first = 0; first < n; first += tile)
            {
                int count = Math.Min(tile, n - first);
                BeamSearch<QincoBeamSteps>.Encode(new QincoBeamSteps(_model, _tables, _encoding), _owner._training.Search,
                    _x.AsSpan(first * d, count * d), count, firstStep, steps, lists is null ? [] : _start.AsSpan(first * d, count * d),
                    _codes.AsSpan(first * steps, count * steps), [], threads: 1, _owner._training.FirstBeams);
            }
            cancellationToken.ThrowIfCancellationRequested();
            return _lossGradient.Compute(_tables, _x.AsSpan(0, n * d), _codes.AsSpan(0, n * steps), n, gradientBuffers);
        }

        public void Dispose()
        {
            _encoding.Dispose();
            _lossGradient.Dispose();
        }
    }
}
