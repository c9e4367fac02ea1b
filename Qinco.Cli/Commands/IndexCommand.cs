using System;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using Qinco.Core;
using Qinco.Core.IO;
using Qinco.Core.Numerics;
using Qinco.Search;

namespace Qinco.Cli.Commands;

/// <summary><c>qinco index centroids|build|add</c>: k-means coarse quantizers and compressed-domain IVF indexes.</summary>
internal static class IndexCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("index", "Build and extend compressed-domain search indexes (IVF lists of codes, docs/search.md).");
        command.Subcommands.Add(Centroids(context));
        command.Subcommands.Add(Build(context));
        command.Subcommands.Add(Add(context));
        return command;
    }

    private static Command Centroids(CliContext context)
    {
        var train = PathOptions.Input("--train", "Vectors to cluster (.fvecs, .bvecs or .npy).", required: true, "vector");
        var trainRows = CliOptions.Rows("--train-rows", "Rows of --train to cluster.");
        var lists = CliOptions.Int("--lists", "Number of centroids (inverted lists).", null, min: 1);
        lists.Required = true;
        var iterations = CliOptions.Int("--iterations", "k-means iterations.", new KMeansOptions().Iterations, min: 1);
        var seed = CliOptions.Int("--seed", "Random seed of the k-means sampling and initialisation.", new KMeansOptions().Seed);
        var threads = CliOptions.Threads();
        var output = PathOptions.Output("--out", "Where to write the centroids (.fvecs or .npy).", required: true, "FILE", ".fvecs", ".npy");
        var command = new Command("centroids", "Train a k-means coarse quantizer; train the model on --residuals-of it, then 'index build --centroids' it.");
        foreach (Option option in new Option[] { train, trainRows, lists, iterations, seed, threads, output })
        {
            command.Options.Add(option);
        }
        command.SetAction(parse => CommandRunner.Execute(context, () =>
        {
            VectorSet vectors = VectorFile.Read(parse.GetRequiredValue(train), parse.GetValue(trainRows));
            int count = parse.GetValue(lists);
            if (vectors.Count < count)
            {
                throw new CliException($"{vectors.Count} training vectors cannot make {count} centroids.");
            }
            var watch = Stopwatch.StartNew();
            CoarseQuantizer coarse = CoarseQuantizer.Train(vectors, count, KMeansOptionsFor(parse.GetValue(iterations), parse.GetValue(seed), parse.GetValue(threads)), context.CancellationToken);
            string outPath = parse.GetRequiredValue(output);
            VectorFile.Write(outPath, VectorSet.FromArray(coarse.Centroids.ToArray(), coarse.Dimension));
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"trained {count} centroids on {vectors.Count} x {vectors.Dimension} vectors in {watch.Elapsed.TotalSeconds:F1} s; wrote {outPath}"));
            return CliApp.Success;
        }, parse));
        return command;
    }

    private static Command Build(CliContext context)
    {
        var model = PathOptions.Input("--model", "The quantizer (trained on residuals of --centroids when given; an IVF-QINCo model brings its own lists).", required: true, "model", "MODEL");
        var baseFile = PathOptions.Input("--base", "Database vectors to index.", required: true, "vector");
        var baseRows = CliOptions.Rows("--base-rows", "Rows of --base to index; ids count from the first (see --first-id).");
        var lists = CliOptions.Int("--lists", "Inverted lists trained by k-means on --train (or the base rows) when --centroids is absent; 1 builds a flat index.", 1, min: 1);
        var centroids = PathOptions.Input("--centroids", "Coarse centroids (from 'index centroids'), the ones the model's training residuals were taken to.", required: false, "centroid");
        var train = PathOptions.Input("--train", "Vectors to fit the additive decoder and the 8-bit norm range on (default: the base rows' own codes).", required: false, "vector");
        var trainRows = CliOptions.Rows("--train-rows", "Rows of --train.");
        var norms = new Option<string>("--norms") { Description = "Stored norm: float (4 bytes) or byte (8-bit, §4.2).", DefaultValueFactory = _ => "float", HelpName = "float|byte" };
        norms.AcceptOnlyFromAmong("float", "byte");
        var firstId = CliOptions.Int("--first-id", "Id of the first base row; the others follow.", 0, min: 0);
        var seed = CliOptions.Int("--seed", "Seed of the k-means of --lists.", new KMeansOptions().Seed);
        var beam = CliOptions.Int("--beam", "Encode with this beam width instead of the model's own (the codes stay the model's).", null, min: 1);
        var candidates = CliOptions.Int("--candidates", "qinco: encode with this many pre-selected codewords per beam (0 = all K).", null, min: 0);
        var pairwise = CliOptions.Bool("--pairwise", "Also fit QINCo2's pairwise decoder (§4.4) on the fit set, for search --middle-shortlist (true|false).", false);
        var pairwiseMegabytes = CliOptions.Int("--pairwise-max-mb", "Memory bound of the pairwise codebooks, in MiB (32 MiB each at D = 128).", 1024, min: 1);
        var threads = CliOptions.Threads();
        var output = PathOptions.Output("--out", "Where to save the index (.qidx, written atomically).", required: true, "INDEX.qidx", ".qidx");
        var command = new Command("build", "Encode a database and save it as an IVF (or flat) index of codes with the model inside.");
        foreach (Option option in new Option[] { model, baseFile, baseRows, lists, centroids, train, trainRows, norms, firstId, seed, beam, candidates, pairwise, pairwiseMegabytes, threads, output })
        {
            command.Options.Add(option);
        }
        command.Validators.Add(result =>
        {
            if (CliOptions.IsGiven(result, centroids) && CliOptions.IsGiven(result, lists))
            {
                result.AddError("--lists and --centroids exclude each other: the centroids file sets the lists.");
            }
        });
        command.SetAction(parse => CommandRunner.Execute(context, () =>
        {
            int threadCount = parse.GetValue(threads);
            IQuantizer quantizer = Quantizer.Load(parse.GetRequiredValue(model), threadCount);
            if (CliOptions.ValueIfGiven(parse, beam) is int || CliOptions.ValueIfGiven(parse, candidates) is int)
            {
                var flags = new System.Collections.Generic.Dictionary<string, string>(StringComparer.Ordinal) { ["BeamWidth"] = "--beam", ["Candidates"] = "--candidates" };
                quantizer = CliOptions.ValidateWithLibrary(flags, () => quantizer.WithSearch(new EncoderSearch(
                    CliOptions.ValueIfGiven(parse, beam) ?? quantizer.Search.BeamWidth, CliOptions.ValueIfGiven(parse, candidates) ?? quantizer.Search.Candidates)));
            }
            VectorSet database = ReadMatching(parse.GetRequiredValue(baseFile), parse.GetValue(baseRows), quantizer.Dimension, "base");
            VectorSet? fitSet = parse.GetValue(train) is string trainPath ? ReadMatching(trainPath, parse.GetValue(trainRows), quantizer.Dimension, "training") : null;
            var clock = Stopwatch.StartNew();
            IIvfCodec codec;
            if (quantizer is IvfQincoQuantizer ivfQinco)
            {
                if (parse.GetValue(centroids) is not null || CliOptions.ValueIfGiven(parse, lists) is not null)
                {
                    throw new CliException("--lists and --centroids do not apply to an IVF-QINCo model: its own lists are the index's.");
                }
                codec = new IvfQincoCodec(ivfQinco);
            }
            else if (parse.GetValue(centroids) is string centroidPath)
            {
                VectorSet c = ReadMatching(centroidPath, null, quantizer.Dimension, "centroid");
                codec = new ResidualIvfCodec(new CoarseQuantizer(c.Data, c.Dimension), quantizer);
            }
            else if (parse.GetValue(lists) == 1)
            {
                codec = new ResidualIvfCodec(CoarseQuantizer.Single(quantizer.Dimension), quantizer);
            }
            else
            {
                context.Error.WriteLine($"training {parse.GetValue(lists)} centroids by k-means");
                codec = new ResidualIvfCodec(CoarseQuantizer.Train(fitSet ?? database, parse.GetValue(lists), KMeansOptionsFor(new KMeansOptions().Iterations, parse.GetValue(seed), threadCount), context.CancellationToken), quantizer);
            }
            double coarseSeconds = clock.Elapsed.TotalSeconds;
            clock.Restart();
            (int[] baseLists, CodeSet baseCodes) = IvfIndex.EncodeAll(codec, database, context.CancellationToken);
            double encodeSeconds = clock.Elapsed.TotalSeconds;
            clock.Restart();
            (VectorSet fitVectors, int[] fitLists, CodeSet fitCodes) = fitSet is null ? (database, baseLists, baseCodes) : With(fitSet, IvfIndex.EncodeAll(codec, fitSet, context.CancellationToken));
            NormStorage storage = parse.GetValue(norms) == "byte" ? NormStorage.Byte : NormStorage.Float;
            IvfIndex index = IvfIndex.Create(codec, fitVectors, fitLists, fitCodes, storage, threadCount, context.CancellationToken);
            double fitSeconds = clock.Elapsed.TotalSeconds;
            (double aqMse, double fullMse) = DecoderErrors(index, fitVectors, fitLists, fitCodes);
            long unknowns = (long)index.Decoder.Steps * index.Decoder.CodebookSize;
            if (!index.Decoder.IsExact && fitCodes.Count < unknowns)
            {
                // Least squares with fewer equations than codewords fits the fit set (a low MSE there) and nothing else.
                context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"warning: the additive decoder has {unknowns:N0} codewords ({index.Decoder.Steps} x {index.Decoder.CodebookSize}) but was fitted on {fitCodes.Count:N0} vectors: it reproduces them (MSE {aqMse:G4} there) and ranks other vectors badly; fit it on several times {unknowns:N0} vectors (--train)."));
            }
            string pairwiseText = string.Empty;
            if (parse.GetValue(pairwise))
            {
                if (fitCodes.Count < PairwiseDecoder.Cells)
                {
                    // Each codebook is 65,536 cells of D floats whatever the data: on fewer fit vectors most cells stay empty.
                    context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"warning: --pairwise fits codebooks of {PairwiseDecoder.Cells:N0} cells ({(long)PairwiseDecoder.Cells * codec.Dimension * 4 >> 20} MiB each, up to --pairwise-max-mb {parse.GetValue(pairwiseMegabytes)}) on {fitCodes.Count:N0} fit vectors: most cells stay empty and the decoder gains little; fit it on at least {PairwiseDecoder.Cells:N0} vectors (--train), or lower --pairwise-max-mb."));
                }
                var watch = Stopwatch.StartNew();
                float[] residuals = IvfIndex.Residuals(codec, fitVectors.Data, fitLists);
                var options = new PairwiseDecoderOptions { MaxBytes = parse.GetValue(pairwiseMegabytes) * (1L << 20), MaxDegreeOfParallelism = threadCount };
                PairwiseDecoder decoder = PairwiseDecoder.Fit(codec.Centroids, residuals, fitLists, fitCodes, options, context.CancellationToken);
                index.SetPairwiseDecoder(decoder);
                double error = 0;
                var reconstruction = new float[codec.Dimension];
                for (int i = 0; i < fitCodes.Count; i++)
                {
                    decoder.Decode(fitLists[i], fitCodes.Row(i), reconstruction);
                    error += Core.Numerics.Distances.SquaredL2(reconstruction, residuals.AsSpan(i * codec.Dimension, codec.Dimension));
                }
                pairwiseText = string.Create(CultureInfo.InvariantCulture,
                    $", pairwise {error / fitCodes.Count:G6} ({decoder.CodebookCount} codebooks, {decoder.Bytes >> 20} MiB, fitted in {watch.Elapsed.TotalSeconds:F1} s)");
            }
            clock.Restart();
            long first = parse.GetValue(firstId);
            index.AddCodes(baseLists, baseCodes, Enumerable.Range(0, database.Count).Select(i => first + i).ToArray());
            string outPath = parse.GetRequiredValue(output);
            index.Save(outPath);
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"indexed {index.Count} vectors in {index.ListCount} lists, {index.BytesPerVector} bytes/vector (code {index.Steps} + norm {index.BytesPerVector - index.Steps - 8} + id 8); wrote {outPath}"));
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"time: coarse {coarseSeconds:F1} s, encode {encodeSeconds:F1} s, decoder fit {fitSeconds:F1} s, add+save {clock.Elapsed.TotalSeconds:F1} s"));
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"decoder MSE on the {fitVectors.Count} fit vectors: additive {aqMse:G6} ({(index.Decoder.IsExact ? "the quantizer's own codebooks" : "least squares")}), full {fullMse:G6}{pairwiseText}"));
            return CliApp.Success;
        }, parse));
        return command;
    }

    private static Command Add(CliContext context)
    {
        var indexFile = PathOptions.Input("--index", "The index to extend.", required: true, "index", "INDEX");
        var baseFile = PathOptions.Input("--base", "Vectors to add.", required: true, "vector");
        var baseRows = CliOptions.Rows("--base-rows", "Rows of --base to add.");
        var firstId = CliOptions.Int("--first-id", "Id of the first added row (default: one past the largest id in the index).", null, min: 0);
        var threads = CliOptions.Threads();
        var output = PathOptions.Output("--out", "Where to save the result (.qidx; default: over --index, atomically).", required: false, "INDEX.qidx", ".qidx");
        var command = new Command("add", "Encode vectors with the index's own model and add them.");
        foreach (Option option in new Option[] { indexFile, baseFile, baseRows, firstId, threads, output })
        {
            command.Options.Add(option);
        }
        command.SetAction(parse => CommandRunner.Execute(context, () =>
        {
            string path = parse.GetRequiredValue(indexFile);
            if (parse.GetValue(output) is null)
            {
                OutputPath.RequireWritable(path, "--index"); // written over in place: its folder must take the temporary file
            }
            IvfIndex index = IvfIndex.Load(path, parse.GetValue(threads));
            VectorSet vectors = ReadMatching(parse.GetRequiredValue(baseFile), parse.GetValue(baseRows), index.Dimension, "added");
            long first = CliOptions.ValueIfGiven(parse, firstId) ?? (index.MaxId + 1);
            var watch = Stopwatch.StartNew();
            index.Add(vectors, Enumerable.Range(0, vectors.Count).Select(i => first + i).ToArray(), context.CancellationToken);
            string outPath = parse.GetValue(output) ?? path;
            index.Save(outPath);
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"added {vectors.Count} vectors (ids {first}..{first + vectors.Count - 1}) in {watch.Elapsed.TotalSeconds:F1} s; {index.Count} in the index; wrote {outPath}"));
            return CliApp.Success;
        }, parse));
        return command;
    }

    /// <summary>Reads vectors and checks their dimension against the model's.</summary>
    internal static VectorSet ReadMatching(string path, RowRange? rows, int dimension, string what)
    {
        VectorSet vectors = VectorFile.Read(path, rows);
        if (vectors.Dimension != dimension)
        {
            throw new CliException($"the {what} vectors ({path}) have dimension {vectors.Dimension}, but the model works in dimension {dimension}.");
        }
        return vectors;
    }

    private static KMeansOptions KMeansOptionsFor(int iterations, int seed, int threads) =>
        new() { Iterations = iterations, Seed = seed, Parallelism = new Parallelism(threads) };

    private static (VectorSet, int[], CodeSet) With(VectorSet vectors, (int[] Lists, CodeSet Codes) encoded) => (vectors, encoded.Lists, encoded.Codes);

    /// <summary>
    /// MSE of the additive decoder and of the codec's full decoder on the fit set (the centroid cancels: the error of
    /// <c>x − (c + r̂)</c> is that of the residual <c>(x − c) − r̂</c>).
    /// </summary>
    private static (double Additive, double Full) DecoderErrors(IvfIndex index, VectorSet vectors, int[] lists, CodeSet codes)
    {
        double additive = index.Decoder.MeanSquaredError(IvfIndex.Residuals(index.Codec, vectors.Data, lists), codes.Data);
        var decoded = new VectorSet(vectors.Count, vectors.Dimension);
        index.Codec.Decode(lists, codes.Data, decoded.Data);
        return (additive, QuantizerEvaluation.MeanSquaredError(vectors, decoded));
    }
}
