using System;
using System.Collections.Generic;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using Qinco.Core;
using Qinco.Core.IO;
using Qinco.Search;
using Qinco.TorchSharp;
using Qinco.Training;

namespace Qinco.Cli.Commands;

/// <summary><c>qinco train</c>: fits an RQ or QINCo quantizer on a vector file and saves the model.</summary>
internal static class TrainCommand
{
    /// <summary>QINCo1's reference shuffles epoch e with NumPy's <c>RandomState(123 + e)</c> (ALGORITHM.md §1.8).</summary>
    private const int ReferenceShuffleSeed = 123;

    private static string Describe(StopReason reason) => reason switch
    {
        StopReason.MaxEpochsReached => "the epoch limit (--max-epochs) was reached",
        StopReason.MaxDurationReached => "the time budget (--max-minutes) ran out",
        StopReason.PlateauPatienceExhausted => "validation stopped improving (plateau rule)",
        StopReason.LearningRateBelowMinimum => "the learning rate fell below its minimum after repeated plateaus",
        StopReason.EarlyStopping => "early stopping",
        StopReason.Cancelled => "it was interrupted (Ctrl+C or SIGTERM)",
        StopReason.NonFiniteLoss => "the loss became NaN or infinite",
        _ => "it completed",
    };

    public static Command Create(CliContext context)
    {
        var method = new Option<string>("--method")
        {
            Description = "Quantization method: rq (residual quantization with beam search), qinco (QINCo1 steps), qinco2 (QINCo2 steps and recipe, see --preset), ivf-qinco or ivf-qinco2 (inverted lists in front of either).",
            Required = true,
            HelpName = "rq|qinco|qinco2|ivf-qinco|ivf-qinco2",
        };
        method.AcceptOnlyFromAmong("rq", "qinco", "qinco2", "ivf-qinco", "ivf-qinco2");
        var train = PathOptions.Input("--train", "Training vectors (.fvecs, .bvecs or .npy).", required: true, "vector");
        var trainRows = CliOptions.Rows("--train-rows", "Rows of --train to train on.");
        var val = PathOptions.Input("--val", "Validation vectors (early stopping for qinco; reported MSE).", required: false, "vector");
        var valRows = CliOptions.Rows("--val-rows", "Rows of --val to validate on.");
        var rqDefaults = new ResidualQuantizerOptions();
        var defaults = new QincoOptions();
        var qinco2Defaults = QincoOptions.Qinco2(1, Qinco2Preset.S);
        var steps = CliOptions.Int("--steps", "Code indices per vector, M.", defaults.Steps);
        var bits = CliOptions.Int("--codebook-bits", "Bits per code index (K = 2^bits codewords per step).", defaults.CodebookBits);
        var beam = CliOptions.Int("--beam", "Beam width of RQ training and encoding (1 = greedy).", rqDefaults.BeamWidth);
        var seed = CliOptions.Int("--seed", "Random seed.", defaults.Seed);
        var progressive = CliOptions.Bool("--progressive-dims", "rq: k-means of each step on growing PCA prefixes of the dimensions, as Faiss (true|false); false clusters in all dimensions at once, without a PCA.", rqDefaults.ProgressiveDimensions);
        var threads = CliOptions.Threads();
        var output = PathOptions.Output("--out", "Where to save the model (.qinco, written atomically).", required: true, "MODEL", ".qinco");
        var residualsOf = PathOptions.Input("--residuals-of", "Train on the residuals of the vectors to their nearest of these centroids (from 'index centroids'), for an IVF index.", required: false, "centroid", "CENTROIDS");

        var blocks = CliOptions.Int("--blocks", $"qinco: residual blocks per step, L (default {defaults.ResidualBlocks}; qinco2: the preset's).", null);
        var hidden = CliOptions.Int("--hidden", $"qinco: hidden width of the residual blocks, h (default {defaults.HiddenSize}; qinco2: the preset's).", null);
        var lr = CliOptions.Double("--lr", string.Create(CultureInfo.InvariantCulture, $"qinco: initial (qinco2: peak) learning rate (default {defaults.Training.LearningRate:G}; qinco2 {qinco2Defaults.Training.LearningRate:G})."), null);
        var maxEpochs = CliOptions.Int("--max-epochs", $"qinco: largest number of epochs (default {defaults.Training.MaxEpochs}; qinco2 {qinco2Defaults.Training.MaxEpochs}).", null);
        var maxMinutes = CliOptions.Double("--max-minutes", "qinco: wall-clock budget of the training loop, in minutes (default: none).", null);
        var batchSize = CliOptions.Int("--batch-size", $"qinco: vectors per optimiser step (default {defaults.Training.BatchSize}; qinco2 {qinco2Defaults.Training.BatchSize}).", null);
        var workers = CliOptions.Int("--workers", "qinco: data-parallel training workers.", defaults.Training.Workers);
        var zeroInit = CliOptions.Bool("--zero-init", "qinco: start the network at zero so it begins as its RQ initialisation (true|false).", defaults.ZeroInitialization);
        var encodeBeam = CliOptions.Int("--encode-beam", $"qinco: beam width of the encoder, which validates and, unless --train-beam or the cosine recipe sets another, encodes the training batches (1 = greedy, as QINCo1; default {defaults.Search.BeamWidth}, qinco2 {qinco2Defaults.Search.BeamWidth}).", null);
        var candidates = CliOptions.Int("--candidates", $"qinco: codewords per beam that go through the network, pre-selected by distance (0 = all K, as QINCo1; default {defaults.Search.Candidates}, qinco2 {qinco2Defaults.Search.Candidates}).", null);
        var trainBeam = CliOptions.Int("--train-beam", $"qinco: beam width of the search that encodes each training batch, when it differs from the encoder's (default: the recipe's, beam {QincoOptions.CosineRecipeTrainingSearch.BeamWidth} for cosine; the encoder's for plateau and qinco2).",
            null, min: 1, max: QuantizerLimits.MaxBeamWidth);
        var trainCandidates = CliOptions.Int("--train-candidates", $"qinco: pre-selected codewords per beam in that search (0 = all K; default: the recipe's, {QincoOptions.CosineRecipeTrainingSearch.Candidates} for cosine; the encoder's for plateau and qinco2).",
            null, min: 0, max: QuantizerLimits.MaxCandidates);
        var initBeam = CliOptions.Int("--init-beam", "qinco: beam width of the RQ that initialises the codebooks.", defaults.InitializationBeamWidth);
        var loss = new Option<string>("--loss")
        {
            Description = "qinco: training objective: all (sum of every prefix's error, the reference) or final (the full code's error only).",
            DefaultValueFactory = _ => "all",
            HelpName = "all|final",
        };
        loss.AcceptOnlyFromAmong("all", "final");
        var referenceOrder = CliOptions.Bool("--reference-order", "qinco: visit the training rows in the QINCo1 reference's order, NumPy RandomState(123 + epoch) permutations, instead of the library's seeded shuffle (true|false).", false);
        var device = new Option<string?>("--device")
        {
            Description = "qinco: train on torch devices through the optional TorchSharp backend instead of the managed CPU workers: cpu, cuda (every GPU), "
                + "cuda:N, or a comma-separated list for data parallelism (cuda:0,cuda:1). Needs libtorch " + TorchRuntime.LibTorchVersion
                + " on the native library path (see the README); QINCo1 models only.",
            HelpName = "LIST",
            CustomParser = result =>
            {
                string text = result.Tokens.Count == 1 ? result.Tokens[0].Value : string.Empty;
                try
                {
                    TorchRuntime.ParseDevices(text); // syntax only: nothing native is loaded while parsing
                }
                catch (ArgumentException ex)
                {
                    result.AddError("--device: " + CommandRunner.StripParameter(ex));
                }
                return text;
            },
        };
        var recipe = new Option<string>("--recipe")
        {
            Description = "qinco: training recipe: plateau (Adam 1e-4, batch 256, rate /10 after 10 epochs without progress), cosine (AdamW 8e-4, batch 1024, "
                + $"warm-up and cosine decay following --max-minutes), or auto: cosine from {QincoOptions.LargeTrainingSetRows:N0} training vectors on, plateau below "
                + "(qinco2: always its preset's cosine). --lr, --batch-size and --max-epochs override the recipe's values.",
            DefaultValueFactory = _ => "auto",
            HelpName = "auto|plateau|cosine",
        };
        recipe.AcceptOnlyFromAmong("auto", "plateau", "cosine");
        Option[] qincoOnly = [blocks, hidden, lr, maxEpochs, maxMinutes, batchSize, workers, device, zeroInit, encodeBeam, candidates, trainBeam, trainCandidates, initBeam, loss, referenceOrder, recipe];
        var lists = CliOptions.Int("--lists", "ivf-qinco: inverted lists N (default: about 4·sqrt(training vectors), a power of two in 16..65536).", null);
        var probedLists = CliOptions.Int("--probed-lists", "ivf-qinco: lists whose centroids start the encoder's beams (1 = the nearest).", new IvfQincoOptions().ProbedLists);
        Option[] ivfOnly = [lists, probedLists];
        var preset = new Option<string>("--preset")
        {
            Description = "qinco2: model preset, S (L = 2, De = 128, Dh = 256), M (L = 4, De = Dh = 384) or L (L = 16, De = Dh = 384), with QINCo2's search (beam 32 x 16 candidates) and recipe (AdamW 8e-4, warm-up cosine following --max-minutes); the qinco options given override it.",
            DefaultValueFactory = _ => "S",
            HelpName = "S|M|L",
        };
        preset.AcceptOnlyFromAmong("S", "M", "L");
        var embedding = CliOptions.Int("--embedding", "qinco2: width inside a step, De (default: the preset's; equal to the dimension means no projections).", null);
        Option[] qinco2Only = [preset, embedding];

        // The library validates every option (QuantizerLimits, TrainingOptions); its error names the option, mapped to the flag here.
        var flags = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["Steps"] = "--steps", ["CodebookBits"] = "--codebook-bits", ["Seed"] = "--seed", ["MaxDegreeOfParallelism"] = "--threads",
            ["ResidualBlocks"] = "--blocks", ["HiddenSize"] = "--hidden", ["LearningRate"] = "--lr", ["MaxEpochs"] = "--max-epochs",
            ["MaxDuration"] = "--max-minutes", ["BatchSize"] = "--batch-size", ["Workers"] = "--workers", ["Candidates"] = "--candidates",
            ["InitializationBeamWidth"] = "--init-beam", ["Lists"] = "--lists", ["ProbedLists"] = "--probed-lists", ["EmbeddingSize"] = "--embedding",
        };
        // Options the user gave override the builder's defaults: QINCo1's, or the QINCo2 preset's.
        TBuilder Configure<TBuilder, TOptions, TQuantizer>(QincoBuilderBase<TBuilder, TOptions, TQuantizer> builder, SymbolResult parse, bool qinco2, long trainingRows)
            where TBuilder : QincoBuilderBase<TBuilder, TOptions, TQuantizer>
            where TOptions : QincoOptions
        {
            flags["BeamWidth"] = "--encode-beam";
            TBuilder b = (TBuilder)builder;
            TBuilder Given<T>(TBuilder current, Option<T> option, Func<TBuilder, T, TBuilder> apply) =>
                CliOptions.IsGiven(parse, option) ? apply(current, parse.GetValue(option)!) : current;
            if (qinco2)
            {
                b = b.WithQinco2(Enum.Parse<Qinco2Preset>(parse.GetValue(preset) ?? "S"));
                b = CliOptions.IsGiven(parse, embedding) ? b.WithEmbeddingSize(parse.GetValue(embedding)) : b;
            }
            b = parse.GetValue(recipe) switch
            {
                "plateau" => b.WithTrainingRecipe(QincoTrainingRecipe.Plateau),
                "cosine" => b.WithTrainingRecipe(QincoTrainingRecipe.WarmupCosine),
                _ => qinco2 ? b : b.WithTrainingRecipeFor(trainingRows),
            };
            b = b.WithSteps(parse.GetValue(steps)).WithCodebookBits(parse.GetValue(bits)).WithSeed(parse.GetValue(seed)).WithThreads(parse.GetValue(threads));
            b = Given(b, blocks, (x, v) => x.WithResidualBlocks(v));
            b = Given(b, hidden, (x, v) => x.WithHiddenSize(v));
            b = Given(b, zeroInit, (x, v) => x.WithZeroInitialization(v));
            b = Given(b, encodeBeam, (x, v) => x.WithEncoding(v));
            b = Given(b, candidates, (x, v) => x.WithEncoding(x.Options.Search.BeamWidth, v));
            if (CliOptions.IsGiven(parse, trainBeam) || CliOptions.IsGiven(parse, trainCandidates))
            {
                EncoderSearch current = b.Options.TrainingSearch ?? b.Options.Search;
                b = b.WithTrainingSearch(new EncoderSearch(CliOptions.IsGiven(parse, trainBeam) ? parse.GetValue(trainBeam) : current.BeamWidth,
                    CliOptions.IsGiven(parse, trainCandidates) ? parse.GetValue(trainCandidates) : current.Candidates));
            }
            b = Given(b, initBeam, (x, v) => x.WithInitializationBeamWidth(v));
            b = Given(b, loss, (x, v) => x.WithLoss(v == "final" ? QincoLoss.FinalStep : QincoLoss.AllSteps));
            double? minutes = parse.GetValue(maxMinutes);
            return b.WithTraining(t =>
            {
                t = CliOptions.IsGiven(parse, lr) ? t.LearningRate(parse.GetValue(lr)!.Value) : t;
                t = CliOptions.IsGiven(parse, maxEpochs) ? t.MaxEpochs(parse.GetValue(maxEpochs)) : t;
                t = CliOptions.IsGiven(parse, batchSize) ? t.BatchSize(parse.GetValue(batchSize)) : t;
                t = t.Workers(parse.GetValue(workers));
                t = parse.GetValue(referenceOrder) ? t.Seed(ReferenceShuffleSeed).NumpyCompatibleShuffle() : t.Seed(parse.GetValue(seed));
                t = parse.GetValue(device) is string devices ? t.Devices(devices) : t;
                return minutes is double m ? t.MaxDuration(TimeSpan.FromMinutes(m)) : t;
            });
        }
        IQuantizer Build(SymbolResult parse, int dimension, long trainingRows)
        {
            switch (parse.GetValue(method))
            {
                case "rq":
                    flags["BeamWidth"] = "--beam";
                    return Quantizer.Residual(dimension)
                        .WithSteps(parse.GetValue(steps)).WithCodebookBits(parse.GetValue(bits))
                        .WithBeamWidth(parse.GetValue(beam)).WithProgressiveDimensions(parse.GetValue(progressive))
                        .WithSeed(parse.GetValue(seed)).WithThreads(parse.GetValue(threads))
                        .Build();
                case "ivf-qinco" or "ivf-qinco2":
                    return Configure(Quantizer.IvfQinco(dimension), parse, qinco2: parse.GetValue(method) == "ivf-qinco2", trainingRows)
                        .WithLists(CliOptions.IsGiven(parse, lists) ? parse.GetValue(lists) : null).WithProbedLists(parse.GetValue(probedLists))
                        .Build();
                default:
                    return Configure(Quantizer.Qinco(dimension), parse, qinco2: parse.GetValue(method) == "qinco2", trainingRows).Build();
            }
        }

        var command = new Command("train", "Train a quantizer and save it as a model file.");
        foreach (Option option in new Option[] { method, train, trainRows, val, valRows, steps, bits, beam, progressive, seed, threads, output, residualsOf })
        {
            command.Options.Add(option);
        }
        foreach (Option option in qincoOnly.Concat(ivfOnly).Concat(qinco2Only))
        {
            command.Options.Add(option);
        }
        command.Validators.Add(result =>
        {
            if (CliOptions.IsGiven(result, progressive) && result.GetResult(method)?.Tokens is [{ Value: not "rq" }])
            {
                result.AddError("--progressive-dims applies only to --method rq.");
            }
            if (CliOptions.IsGiven(result, valRows) && !CliOptions.IsGiven(result, val))
            {
                result.AddError("--val-rows needs --val.");
            }
            if (CliOptions.IsGiven(result, device) && CliOptions.IsGiven(result, workers))
            {
                result.AddError("--workers applies to the managed CPU trainer; with --device there is one replica per listed device.");
            }
            // Read the token, not the value: an invalid --method already carries its own error.
            string? chosen = result.GetResult(method)?.Tokens is [{ Value: var value }] ? value : null;
            if (chosen is "qinco2" or "ivf-qinco2" && CliOptions.IsGiven(result, device))
            {
                result.AddError($"--device: Qinco.TorchSharp trains QINCo1 models (--method qinco or ivf-qinco) only; train --method {chosen} on the managed CPU workers (without --device).");
            }
            foreach (Option option in qincoOnly.Concat(ivfOnly).Concat(qinco2Only))
            {
                (bool applies, string methods) = ivfOnly.Contains(option) ? (chosen is "ivf-qinco" or "ivf-qinco2", "ivf-qinco or ivf-qinco2")
                    : qinco2Only.Contains(option) ? (chosen is "qinco2" or "ivf-qinco2", "qinco2 or ivf-qinco2")
                    : (chosen is not null && chosen != "rq", "qinco, qinco2, ivf-qinco or ivf-qinco2");
                if (chosen is not null && !applies && CliOptions.IsGiven(result, option))
                {
                    result.AddError($"{option.Name} applies only to --method {methods}.");
                }
            }
        });

        command.SetAction(parse => CommandRunner.Execute(context, () =>
        {
            CliOptions.ValidateWithLibrary(flags, () => Build(parse.CommandResult, dimension: 1, trainingRows: 0)); // before reading any data
            string outPath = parse.GetRequiredValue(output), trainPath = parse.GetRequiredValue(train);
            if (parse.GetValue(device) is string devices)
            {
                // Load libtorch and check the devices before reading any data: a missing runtime or GPU fails here, with the fix.
                try
                {
                    TorchRuntime.ResolveDevices(devices);
                }
                catch (TorchRuntimeException ex)
                {
                    throw new CliException($"--device {devices}: {ex.Message} The qinco tool ships TorchSharp's managed bindings but no libtorch: put the lib "
                        + $"folder of libtorch {TorchRuntime.LibTorchVersion} (CPU or CUDA build) on LD_LIBRARY_PATH (PATH on Windows) before starting it.");
                }
            }
            // The training rows are read from the file batch by batch (a set larger than memory trains in bounded memory),
            // residuals to IVF centroids too (computed as the rows are read).
            using VectorFileSource fileSource = VectorFileSource.Open(trainPath, parse.GetValue(trainRows));
            IVectorSource trainSet = fileSource;
            string? valPath = parse.GetValue(val);
            VectorSet? valSet = valPath is null ? null : VectorFile.Read(valPath, parse.GetValue(valRows));
            if (trainSet.Count == 0)
            {
                throw new CliException($"{trainPath}: the training set is empty.");
            }
            if (valSet is not null && valSet.Dimension != trainSet.Dimension)
            {
                throw new CliException($"{valPath}: the validation vectors have dimension {valSet.Dimension}, the training vectors {trainSet.Dimension}.");
            }
            if (parse.GetValue(residualsOf) is string centroidPath)
            {
                VectorSet centroids = IndexCommand.ReadMatching(centroidPath, null, trainSet.Dimension, "centroid");
                var coarse = new CoarseQuantizer(centroids.Data, centroids.Dimension);
                trainSet = coarse.ResidualsOf(fileSource);
                valSet = valSet is null ? null : coarse.Residuals(valSet, parse.GetValue(threads));
                context.Error.WriteLine($"training on residuals to the {coarse.ListCount} centroids of {centroidPath}");
            }

            int d = trainSet.Dimension;
            IQuantizer quantizer = Build(parse.CommandResult, d, trainSet.Count);
            QincoOptions? qincoOptions = (quantizer as QincoQuantizer)?.Options ?? (quantizer as IvfQincoQuantizer)?.Options;
            string recipeNote = qincoOptions is { Training: var t }
                ? $", {(t.Schedule == ScheduleKind.WarmupCosine ? "warm-up cosine" : "plateau")} recipe (lr {t.LearningRate:G3}, batch {t.BatchSize}"
                    + (qincoOptions.TrainingSearch is { } s ? $", batches encoded with {s}" : string.Empty) + ")"
                : string.Empty;
            context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"training {quantizer.Description} on {trainSet.Count} x {d} vectors read from {trainPath} batch by batch{recipeNote}{(valSet is null ? string.Empty : $", validating on {valSet.Count}")}"));
            var watch = Stopwatch.StartNew();
            try
            {
                quantizer.Fit(trainSet, valSet, new ProgressPrinter(context.Error, "  ", TimeSpan.FromSeconds(1)), context.CancellationToken);
            }
            catch (ArgumentException ex) when (ex.ParamName is "train" or "validation")
            {
                throw new CliException($"{(ex.ParamName == "train" ? trainPath : valPath)}: {CommandRunner.StripParameter(ex)}");
            }
            catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
            {
                // RQ fits its codebooks step by step, with no epochs and no model to keep until the last step is fitted.
                context.Error.WriteLine(quantizer is QincoQuantizerBase
                    ? "interrupted before any epoch of training ended: no model was saved."
                    : "interrupted: RQ training keeps no partial model (its codebooks are fitted step by step, not in epochs); nothing was saved.");
                return CliApp.Interrupted;
            }
            double seconds = watch.Elapsed.TotalSeconds;
            quantizer.Save(outPath);

            string validation = string.Empty;
            if (valSet is not null && valSet.Count > 0)
            {
                VectorSet decoded = quantizer.Decode(quantizer.Encode(valSet));
                validation = string.Create(CultureInfo.InvariantCulture, $", validation MSE {QuantizerEvaluation.MeanSquaredError(valSet, decoded):G6}");
            }
            TrainingResult? run = (quantizer as QincoQuantizerBase)?.LastTraining;
            if (valSet is null && run is not null && (run.BestEpoch is null ? run.InitialValidationMetric : run.BestValidationMetric) is double trainingRowsMse)
            {
                // Without --val the kept model was chosen on training rows: say so, rather than pass that MSE off as a validation MSE.
                validation = string.Create(CultureInfo.InvariantCulture,
                    $", no validation MSE (no --val; MSE {trainingRowsMse:G6} on the first {QincoQuantizerBase.DefaultValidationCount(trainSet.Count)} training rows, which chose the model kept)");
            }
            if (run is not null)
            {
                context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"training stopped: {Describe(run.StopReason)} after {run.EpochsCompleted} epoch{(run.EpochsCompleted == 1 ? string.Empty : "s")}{(run.StopReason == StopReason.MaxDurationReached && run.EpochsCompleted > 0 ? " (the last one ended early and was validated)" : string.Empty)}; kept {(run.BestEpoch is int best ? $"epoch {best + 1}" : run.InitialValidationMetric is null ? "the last parameters (no epoch was validated)" : "the initialisation, which no epoch beat")}."));
            }
            bool interrupted = run?.StopReason == StopReason.Cancelled;
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{(interrupted ? "interrupted; saved the best model so far:" : "trained")} {quantizer.Description} in {seconds:F1} s{validation}; {quantizer.CodeSize} bytes/vector; saved {outPath}"));
            return interrupted ? CliApp.Interrupted : CliApp.Success;
        }, parse));
        return command;
    }
}
