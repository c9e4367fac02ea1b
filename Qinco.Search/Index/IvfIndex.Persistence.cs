using System;
using System.Collections.Generic;
using System.IO;
using Qinco.Core;
using Qinco.Core.IO;

namespace Qinco.Search;

public sealed partial class IvfIndex
{
    /// <summary>The signature of index files (a quantizer reader refuses them, and the reverse).</summary>
    public const string FileSignature = "QINCOIDX";

    /// <summary>The header kind of an IVF index file.</summary>
    private const ushort FileKind = 1;

    /// <summary>How each codec is read back from an index file.</summary>
    private static readonly Dictionary<string, Func<ContainerFile, IQuantizer, IIvfCodec>> s_codecReaders = new(StringComparer.Ordinal)
    {
        [ResidualIvfCodec.CodecName] = (file, quantizer) =>
        {
            int lists = file.GetInt32("lists", 1, int.MaxValue), d = quantizer.Dimension;
            if ((long)lists * d > Array.MaxLength)
            {
                throw new ModelFormatException($"The index file names {lists} lists of dimension {d}: more than an array holds.");
            }
            return new ResidualIvfCodec(new CoarseQuantizer(file.GetFiniteFloats("centroids", lists, d), d), quantizer);
        },
        [IvfQincoCodec.CodecName] = (_, quantizer) => quantizer is IvfQincoQuantizer ivf
            ? new IvfQincoCodec(ivf)
            : throw new ModelFormatException($"The index file's codec is '{IvfQincoCodec.CodecName}' but its quantizer is {quantizer.Description}."),
    };

    /// <summary>
    /// Writes the index in the checksummed container (docs/search.md): the quantizer's own model file (so the codes are
    /// never decoded by another model), the centroids, the additive decoder, the norm settings and every list's ids,
    /// codes and norms.
    /// </summary>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (Count * Steps > Array.MaxLength)
        {
            throw new InvalidOperationException($"The index holds {Count} entries: more than one file of this format stores.");
        }
        var model = new MemoryStream();
        Codec.Quantizer.Save(model);
        int n = (int)Count, m = Steps;
        var sizes = new int[ListCount];
        var codes = new byte[n * m];
        var floatNorms = new float[Norms == NormStorage.Float ? n : 0];
        var byteNorms = new byte[Norms == NormStorage.Byte ? n : 0];
        var ids = new long[n];
        int at = 0;
        for (int l = 0; l < ListCount; l++)
        {
            InvertedList list = _lists[l];
            sizes[l] = list.Count;
            for (int i = 0; i < list.Count; i++, at++)
            {
                list.ReadCode(i, codes.AsSpan(at * m, m));
                ids[at] = list.Ids[i];
            }
            if (Norms == NormStorage.Float)
            {
                list.FloatNorms.AsSpan(0, list.Count).CopyTo(floatNorms.AsSpan(at - list.Count));
            }
            else
            {
                list.ByteNorms.AsSpan(0, list.Count).CopyTo(byteNorms.AsSpan(at - list.Count));
            }
        }
        var file = new ContainerFile(FileSignature, FileKind, "index");
        file.Set("dimension", Dimension);
        file.Set("lists", ListCount);
        file.Set("steps", m);
        file.Set("count", n);
        file.Set("codec", Codec.Name);
        file.Set("norm_storage", (long)Norms);
        file.Set("norm_min", (double)NormMin);
        file.Set("norm_max", (double)NormMax);
        file.Set("quantizer_bytes", model.Length);
        file.Set("quantizer", model.ToArray(), (int)model.Length);
        file.Set("centroids", Codec.Centroids.ToArray(), ListCount, Dimension);
        file.Set("decoder", Decoder.Codebooks.ToArray(), m, LookupTableScan.TableSize, Dimension);
        file.Set("decoder_exact", Decoder.IsExact ? 1 : 0);
        file.Set("list_sizes", sizes, ListCount);
        file.Set("codes", codes, n, m);
        if (Norms == NormStorage.Float)
        {
            file.Set("norms", floatNorms, n);
        }
        else
        {
            file.Set("norms", byteNorms, n);
        }
        file.Set("ids", ids, n);
        if (Pairwise is PairwiseDecoder pairwise)
        {
            int j = pairwise.CodebookCount, sub = pairwise.ListSubcodes;
            file.Set("pairwise_subcodes", sub);
            file.Set("pairwise_codebook_count", j);
            file.Set("pairwise_pairs", pairwise.Pairs.ToArray(), j, 2);
            file.Set("pairwise_list_codes", pairwise.ListCodes[..(ListCount * sub)].ToArray(), ListCount, sub);
            file.Set("pairwise_codebooks", pairwise.Codebooks.ToArray(), j, PairwiseDecoder.Cells, Dimension);
        }
        file.WriteTo(stream);
    }

    /// <summary>Saves atomically (<see cref="AtomicFile"/>): written to a temporary file beside <paramref name="path"/>, then renamed over it.</summary>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
    /// <exception cref="InvalidOperationException">The index is too large for one file of this format.</exception>
    public void Save(string path) => AtomicFile.Write(path, Save);

    /// <summary>Reads an index written by <see cref="Save(Stream)"/>; every size and value is checked before use.</summary>
    /// <param name="stream">The index file's bytes.</param>
    /// <param name="maxDegreeOfParallelism">Threads of the loaded quantizer; -1 uses all processors.</param>
    /// <exception cref="ModelFormatException">Not an index file, truncated, corrupt (checksum, sizes, ids, codes), or from a newer version.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxDegreeOfParallelism"/> is 0 or below -1.</exception>
    public static IvfIndex Load(Stream stream, int maxDegreeOfParallelism = -1)
    {
        Checks.Parallelism(maxDegreeOfParallelism);
        ContainerFile file = ContainerFile.ReadFrom(stream, FileSignature, "index");
        if (file.Kind != FileKind)
        {
            throw new ModelFormatException($"The index file is of kind {file.Kind}; this library reads kind {FileKind} (IVF index).");
        }
        try
        {
            return Read(file, maxDegreeOfParallelism);
        }
        catch (ArgumentException ex)
        {
            throw new ModelFormatException($"The index file holds inconsistent data: {ex.Message}", ex);
        }
    }

    /// <summary>Reads an index file.</summary>
    /// <exception cref="ModelFormatException">The file is not a valid index; the message names the file and the problem.</exception>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    public static IvfIndex Load(string path, int maxDegreeOfParallelism = -1)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using FileStream stream = File.OpenRead(path);
        try
        {
            return Load(stream, maxDegreeOfParallelism);
        }
        catch (ModelFormatException ex)
        {
            throw new ModelFormatException($"{path}: {ex.Message}", ex);
        }
    }

    private static IvfIndex Read(ContainerFile file, int maxDegreeOfParallelism)
    {
        int d = file.GetInt32("dimension", 1, QuantizerLimits.MaxDimension);
        int lists = file.GetInt32("lists", 1, int.MaxValue);
        int m = file.GetInt32("steps", 1, QuantizerLimits.MaxSteps);
        int n = file.GetInt32("count", 0, int.MaxValue);
        string codecName = file.GetString("codec");
        var norms = (NormStorage)file.GetInt32("norm_storage", 0, 1);
        float normMin = (float)file.GetFloat64("norm_min"), normMax = (float)file.GetFloat64("norm_max");
        if (!s_codecReaders.TryGetValue(codecName, out Func<ContainerFile, IQuantizer, IIvfCodec>? readCodec))
        {
            throw new ModelFormatException($"The index file's codec '{codecName}' is not known to this library.");
        }
        byte[] model = file.GetBytes("quantizer", file.GetInt32("quantizer_bytes", 0, int.MaxValue));
        IQuantizer quantizer = Quantizer.Load(new MemoryStream(model), maxDegreeOfParallelism);
        if (quantizer.Dimension != d || quantizer.Steps != m || quantizer.CodebookBits != 8)
        {
            throw new ModelFormatException($"The index's quantizer ({quantizer.Description}, dimension {quantizer.Dimension}) does not match the index ({m} steps of 8 bits, dimension {d}).");
        }
        IIvfCodec codec = readCodec(file, quantizer);
        if (codec.ListCount != lists)
        {
            throw new ModelFormatException($"The index's codec has {codec.ListCount} lists, the header {lists}.");
        }
        var decoder = new AdditiveDecoder(file.GetFiniteFloats("decoder", m, LookupTableScan.TableSize, d), m, LookupTableScan.TableSize, d, file.GetInt32("decoder_exact", 0, 1) == 1);
        var index = new IvfIndex(codec, decoder, norms, normMin, normMax);
        int[] sizes = file.GetInts("list_sizes", lists);
        long total = 0;
        foreach (int size in sizes)
        {
            if (size < 0)
            {
                throw new ModelFormatException($"The index file holds a negative list size {size}.");
            }
            total += size;
        }
        if (total != n)
        {
            throw new ModelFormatException($"The index file's list sizes add up to {total}, but its count is {n}.");
        }
        byte[] codes = file.GetBytes("codes", n, m);
        float[] floatNorms = norms == NormStorage.Float ? file.GetFiniteFloats("norms", n) : [];
        Checks.Representable(floatNorms, Checks.MaxSquaredNorm, "stored norms", "norms");
        byte[] byteNorms = norms == NormStorage.Byte ? file.GetBytes("norms", n) : [];
        long[] ids = file.GetLongs("ids", n);
        var seen = new HashSet<long>(n);
        foreach (long id in ids)
        {
            if (id < 0 || !seen.Add(id))
            {
                throw new ModelFormatException($"The index file holds id {id} {(id < 0 ? "(negative)" : "twice")}.");
            }
        }
        int at = 0;
        for (int l = 0; l < lists; l++)
        {
            InvertedList list = index._lists[l];
            list.Reserve(sizes[l]);
            for (int i = 0; i < sizes[l]; i++, at++)
            {
                list.Append(codes.AsSpan(at * m, m), floatNorms.Length > 0 ? floatNorms[at] : 0f, byteNorms.Length > 0 ? byteNorms[at] : (byte)0, ids[at]);
            }
        }
        index.Count = n;
        if (file.Has("pairwise_pairs"))
        {
            int sub = file.GetInt32("pairwise_subcodes", 0, 16);
            int j = file.GetInt32("pairwise_codebook_count", 1, 4096);
            index.SetPairwiseDecoder(new PairwiseDecoder(
                file.GetFiniteFloats("pairwise_codebooks", j, PairwiseDecoder.Cells, d), file.GetInts("pairwise_pairs", j, 2),
                file.GetBytes("pairwise_list_codes", lists, sub), m, d, sub));
        }
        return index;
    }
}
