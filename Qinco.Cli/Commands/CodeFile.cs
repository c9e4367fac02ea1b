using System;
using Qinco.Core;
using Qinco.Core.IO;

namespace Qinco.Cli.Commands;

/// <summary>Codes on disk: a 2-D uint8 .npy of shape [vectors, code size].</summary>
internal static class CodeFile
{
    public static void Write(string path, byte[] codes, int codeSize)
    {
        int n = codes.Length / codeSize;
        var set = new VectorSet(n, codeSize);
        float[] data = set.Data;
        for (int i = 0; i < codes.Length; i++)
        {
            data[i] = codes[i];
        }
        VectorFile.WriteNpy(path, set, VectorElementType.UInt8);
    }

    public static byte[] Read(string path, int codeSize)
    {
        VectorFileInfo info = VectorFile.GetInfo(path);
        if (info.ElementType != VectorElementType.UInt8)
        {
            throw new CliException($"{path}: the codes must be a uint8 array; the file holds {info.ElementType} values.");
        }
        if (info.Dimension != codeSize)
        {
            throw new CliException($"{path}: the codes are {info.Dimension} bytes each, but the model writes {codeSize}-byte codes.");
        }
        VectorSet set = VectorFile.Read(path);
        var codes = new byte[set.Data.Length];
        ReadOnlySpan<float> data = set.Data;
        for (int i = 0; i < codes.Length; i++)
        {
            codes[i] = (byte)data[i];
        }
        return codes;
    }
}
