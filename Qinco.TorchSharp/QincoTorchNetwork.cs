using System;
using System.Collections.Generic;
using System.Linq;
using Qinco.Core;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Qinco.TorchSharp;

/// <summary>
/// A QINCo model as TorchSharp modules on one torch device, built from a <see cref="QincoModelDescription"/>: every
/// tensor of the description becomes a <see cref="Parameter"/> registered under its model-file name
/// (<c>codebook0</c>, <c>step3.concat.weight</c>, <c>step3.block1.up</c>, …), so <c>named_parameters()</c> lists exactly
/// the model file's tensors, in its order. Values are copied in and out (<see cref="Load(QincoModelDescription)"/>, <see cref="Store"/>); the
/// module never aliases host memory.
/// </summary>
/// <remarks>
/// Each neural step is a <see cref="QincoTorchStep"/> child module named <c>step{m}</c>. The network reads its tensors
/// by name and checks their shapes against the description's hyper-parameters, so a later architecture adds names
/// (and a forward) without touching the registration.
/// </remarks>
public sealed class QincoTorchNetwork : nn.Module
{
    private readonly List<(string Name, Parameter Tensor)> _tensors = [];
    private readonly Dictionary<string, Parameter> _byName = new(StringComparer.Ordinal);
    private readonly QincoTorchStep[] _steps;

    /// <summary>Creates the modules on <paramref name="device"/> with the description's values.</summary>
    /// <param name="model">The model: architecture <c>"qinco1"</c>, its tensors by name and shape.</param>
    /// <param name="device">Where the parameters live.</param>
    /// <param name="frozen">Names of tensors that get no gradient (IVF-QINCo's <c>codebook0</c>); null: none.</param>
    /// <exception cref="NotSupportedException">Not a QINCo1 model (<c>"qinco2"</c>: the message names what is missing).</exception>
    /// <exception cref="ArgumentException">A tensor is missing or has another shape than the hyper-parameters imply.</exception>
    /// <exception cref="TorchRuntimeException">TorchSharp's runtime does not load.</exception>
    public QincoTorchNetwork(QincoModelDescription model, Device device, IReadOnlyCollection<string>? frozen = null)
        : base("qinco")
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(device);
        RequireSupported(model);
        TorchRuntime.EnsureAvailable();
        Description = model;
        Device = device;
        _steps = new QincoTorchStep[model.Steps];
        for (int m = 1; m < model.Steps; m++)
        {
            _steps[m] = new QincoTorchStep($"step{m}", model.Dimension, model.ResidualBlocks);
            register_module($"step{m}", _steps[m]);
        }
        using (no_grad())
        {
            foreach (QincoTensor tensor in model.Tensors)
            {
                long[] shape = tensor.Shape.Select(s => (long)s).ToArray();
                var parameter = new Parameter(empty(shape, ScalarType.Float32, device), requires_grad: frozen?.Contains(tensor.Name) != true);
                Register(tensor.Name, parameter);
                _tensors.Add((tensor.Name, parameter));
                _byName.Add(tensor.Name, parameter);
            }
        }
        CheckShapes(model);
        Load(model);
        for (int m = 1; m < model.Steps; m++)
        {
            _steps[m].Bind(name => this[$"step{m}.{name}"]);
        }
    }

    /// <summary>Checks that this package can run <paramref name="model"/> (a QINCo1 or IVF-QINCo1 model), before any torch call.</summary>
    /// <exception cref="NotSupportedException">Another architecture; for <c>"qinco2"</c> the message names what is missing.</exception>
    public static void RequireSupported(QincoModelDescription model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Architecture != "qinco1")
        {
            throw new NotSupportedException(model.Architecture == "qinco2"
                ? "Qinco.TorchSharp runs QINCo1 models only; this is a QINCo2 model, whose pieces it does not implement on torch devices: the "
                    + "in/out projections and the codeword skip term of the step network, the pre-selection codebooks and their auxiliary loss (5.7), "
                    + "the mean/std normalisation and the dead-codeword reset. Train and encode QINCo2 with the managed CPU device."
                : $"Qinco.TorchSharp knows the step network 'qinco1'; this model's is '{model.Architecture}'.");
        }
    }

    /// <summary>The description this network was built from (its values are those of construction time).</summary>
    public QincoModelDescription Description { get; }

    /// <summary>The device of every parameter.</summary>
    public Device Device { get; }

    /// <summary>Every tensor with its model-file name, in model-file order.</summary>
    public IReadOnlyList<(string Name, Parameter Tensor)> Tensors => _tensors;

    /// <summary>The tensor called <paramref name="name"/> (a model-file name).</summary>
    /// <exception cref="KeyNotFoundException">No tensor has that name.</exception>
    public Parameter this[string name] => _byName.TryGetValue(name, out Parameter? p) ? p : throw new KeyNotFoundException($"No tensor named '{name}'.");

    /// <summary>The neural step m (1..Steps−1).</summary>
    public QincoTorchStep Step(int m) => _steps[m];

    /// <summary>Copies every tensor's values from <paramref name="model"/> (same names and shapes) onto the device.</summary>
    /// <exception cref="KeyNotFoundException">A tensor of the description is not in this network.</exception>
    public void Load(QincoModelDescription model)
    {
        ArgumentNullException.ThrowIfNull(model);
        foreach (QincoTensor tensor in model.Tensors)
        {
            Load(tensor.Name, tensor.Values.Span);
        }
    }

    /// <summary>Copies <paramref name="values"/> (row-major, the tensor's element count) into the tensor <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">Wrong length.</exception>
    public void Load(string name, ReadOnlySpan<float> values) => TorchHost.Upload(values, this[name]);

    /// <summary>Copies the tensor <paramref name="name"/> into <paramref name="destination"/> (row-major).</summary>
    /// <exception cref="ArgumentException">Wrong length.</exception>
    public void Store(string name, Span<float> destination) => TorchHost.Download(this[name], destination);

    /// <summary>
    /// The training loss of ALGORITHM.md §1.6 for fixed codes, with autograd: decodes step by step with
    /// <see cref="QincoTorchStep.Forward"/> (x̂ not detached) and sums <c>||x_i − x̂_{i,m}||² / D</c> over the rows and the
    /// steps that count (every step, or only the last with <paramref name="finalStepOnly"/>; never step 0 when
    /// <paramref name="frozenFirstStep"/>).
    /// </summary>
    /// <param name="x">Normalised vectors [n, D] on <see cref="Device"/>.</param>
    /// <param name="codes">Codes [n, Steps], int64.</param>
    /// <param name="finalStepOnly">Only the full code's error counts.</param>
    /// <param name="frozenFirstStep">IVF-QINCo: step 0 is the frozen centroids and adds no term.</param>
    /// <returns>A scalar: the summed loss (its gradient is the gradient of the sum, not of the mean).</returns>
    public Tensor Loss(Tensor x, Tensor codes, bool finalStepOnly, bool frozenFirstStep)
    {
        int steps = Description.Steps;
        bool Counts(int m) => (!finalStepOnly || m == steps - 1) && !(frozenFirstStep && m == 0);
        Tensor xhat = this["codebook0"].index_select(0, codes.select(1, 0));
        Tensor loss = Counts(0) ? (x - xhat).square().sum() : zeros([], ScalarType.Float32, Device);
        for (int m = 1; m < steps; m++)
        {
            Tensor codewords = _steps[m].Codebook.index_select(0, codes.select(1, m));
            xhat = xhat + _steps[m].Forward(codewords, xhat);
            if (Counts(m))
            {
                loss = loss + (x - xhat).square().sum();
            }
        }
        return loss / Description.Dimension;
    }

    private void Register(string path, Parameter parameter)
    {
        string[] parts = path.Split('.');
        nn.Module owner = this;
        for (int i = 0; i < parts.Length - 1; i++)
        {
            nn.Module? child = owner.named_children().FirstOrDefault(c => c.name == parts[i]).module;
            if (child is null)
            {
                child = new TensorGroup(parts[i]);
                owner.register_module(parts[i], child);
            }
            owner = child;
        }
        owner.register_parameter(parts[^1], parameter);
    }

    private void CheckShapes(QincoModelDescription model)
    {
        int d = model.Dimension, h = model.HiddenSize;
        void Expect(string name, params long[] shape)
        {
            if (!_byName.TryGetValue(name, out Parameter? p))
            {
                throw new ArgumentException($"The {model.Architecture} model has no tensor '{name}'.", nameof(model));
            }
            if (!p.shape.SequenceEqual(shape))
            {
                throw new ArgumentException($"Tensor '{name}' has shape [{string.Join(", ", p.shape)}]; the hyper-parameters imply [{string.Join(", ", shape)}].", nameof(model));
            }
        }
        Expect("codebook0", model.FirstCodebookSize, d);
        for (int m = 1; m < model.Steps; m++)
        {
            Expect($"step{m}.codebook", model.CodebookSize, d);
            Expect($"step{m}.concat.weight", d, 2 * d);
            Expect($"step{m}.concat.bias", d);
            for (int l = 0; l < model.ResidualBlocks; l++)
            {
                Expect($"step{m}.block{l}.up", h, d);
                Expect($"step{m}.block{l}.down", d, h);
            }
        }
    }

    /// <summary>An intermediate module of a dotted tensor name (e.g. <c>concat</c> of <c>step1.concat.weight</c>).</summary>
    private sealed class TensorGroup(string name) : nn.Module(name);
}

/// <summary>
/// QINCo1's step network on torch tensors (ALGORITHM.md §1.3): <c>f(c, x̂) = z_L</c>, <c>z_0 = c + W·[c; x̂] + b</c>,
/// <c>z_l = z_{l−1} + V_l·ReLU(U_l·z_{l−1})</c>. <see cref="Forward"/> is the definition (training, with autograd);
/// <see cref="ForwardCandidates"/> evaluates many codewords per reconstruction with the hoisting of §8.1, as the
/// managed encoder does.
/// </summary>
public sealed class QincoTorchStep : nn.Module
{
    private readonly int _dimension;
    private readonly int _blocks;
    private Parameter _codebook = null!, _weight = null!, _bias = null!;
    private Parameter[] _up = [], _down = [];

    internal QincoTorchStep(string name, int dimension, int blocks)
        : base(name)
    {
        _dimension = dimension;
        _blocks = blocks;
    }

    /// <summary>The base codebook C [K, D].</summary>
    public Parameter Codebook => _codebook;

    /// <summary><c>f(c, x̂)</c> row by row, by the definition: <paramref name="codewords"/> and <paramref name="xhat"/> are [r, D]; returns [r, D].</summary>
    public Tensor Forward(Tensor codewords, Tensor xhat)
    {
        Tensor z = codewords + F.linear(cat([codewords, xhat], 1), _weight, _bias);
        for (int l = 0; l < _blocks; l++)
        {
            z = z + F.linear(F.relu(F.linear(z, _up[l])), _down[l]);
        }
        return z;
    }

    /// <summary>
    /// The codeword-only terms of §8.1 from the current parameters: <c>T = C + C·W_cᵀ</c> [K, D] and <c>S = T·U_0ᵀ</c>
    /// [K, h] (S is T when there is no block). Call without gradient.
    /// </summary>
    public (Tensor CodewordTerm, Tensor CodewordHidden) ComputeTables()
    {
        Tensor t = _codebook + F.linear(_codebook, _weight.narrow(1, 0, _dimension));
        return (t, _blocks > 0 ? F.linear(t, _up[0]) : t);
    }

    /// <summary>
    /// <c>f(C[k], x̂_s)</c> for <paramref name="candidates"/> [s, A] codeword indices of each of s reconstructions
    /// <paramref name="xhat"/> [s, D], from <see cref="ComputeTables"/>: <c>v = W_x·x̂ + b</c> and <c>q = U_0·v</c> once per
    /// reconstruction, <c>z_0 = T[k] + v</c>, first block <c>z_0 + V_0·ReLU(S[k] + q)</c>. Returns [s, A, D].
    /// </summary>
    public Tensor ForwardCandidates((Tensor CodewordTerm, Tensor CodewordHidden) tables, Tensor candidates, Tensor xhat)
    {
        long slots = candidates.shape[0], perSlot = candidates.shape[1];
        Tensor flat = candidates.reshape(-1);
        Tensor v = F.linear(xhat, _weight.narrow(1, _dimension, _dimension), _bias);
        Tensor z = tables.CodewordTerm.index_select(0, flat).view(slots, perSlot, _dimension) + v.unsqueeze(1);
        if (_blocks == 0)
        {
            return z;
        }
        Tensor q = F.linear(v, _up[0]);
        Tensor hidden = F.relu(tables.CodewordHidden.index_select(0, flat).view(slots, perSlot, -1) + q.unsqueeze(1));
        z = z + F.linear(hidden, _down[0]);
        for (int l = 1; l < _blocks; l++)
        {
            z = z + F.linear(F.relu(F.linear(z, _up[l])), _down[l]);
        }
        return z;
    }

    internal void Bind(Func<string, Parameter> tensor)
    {
        _codebook = tensor("codebook");
        _weight = tensor("concat.weight");
        _bias = tensor("concat.bias");
        _up = new Parameter[_blocks];
        _down = new Parameter[_blocks];
        for (int l = 0; l < _blocks; l++)
        {
            _up[l] = tensor($"block{l}.up");
            _down[l] = tensor($"block{l}.down");
        }
    }
}
