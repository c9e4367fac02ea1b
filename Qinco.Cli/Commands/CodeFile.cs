using Qinco.Core;
using Qinco.Core.IO;

namespace Qinco.Cli.Commands;

/// <summary>Codes on disk: a 2-D uint8 .npy of shape [vectors, code size], read and written as bytes.</summary>
internal static class CodeFile
{
    /// <summary>The layout of the model's codes; the file does not store it.</summary>
    public static CodeLayout LayoutOf(IQuantizer quantizer) => new(quantizer.Steps, quantizer.CodebookBits);

    public static void Write(string path, byte[] codes, IQuantizer quantizer) =>
        VectorFile.WriteCodes(path, CodeSet.FromArray(codes, LayoutOf(quantizer)));

    /// <summary>Reads codes of the model's layout; a file of another type or code size fails naming the file.</summary>
    public static CodeSet Read(string path, IQuantizer quantizer) => VectorFile.ReadCodes(path, LayoutOf(quantizer));
}
