namespace Qinco.Core.IO;

/// <summary>The vector file formats <see cref="VectorFile"/> reads and writes.</summary>
public enum VectorFileFormat
{
    /// <summary>TEXMEX <c>.fvecs</c>: per row a little-endian int32 dimension, then that many float32 values.</summary>
    Fvecs,

    /// <summary>TEXMEX <c>.bvecs</c>: per row a little-endian int32 dimension, then that many uint8 values.</summary>
    Bvecs,

    /// <summary>TEXMEX <c>.ivecs</c>: per row a little-endian int32 dimension, then that many int32 values.</summary>
    Ivecs,

    /// <summary>NumPy <c>.npy</c> (format 1.0, 2.0 or 3.0): a 2-D, C-order, little-endian array.</summary>
    Npy,
}

/// <summary>The element type stored in a vector file.</summary>
public enum VectorElementType
{
    /// <summary>32-bit IEEE float (<c>.fvecs</c>, NumPy <c>'&lt;f4'</c>).</summary>
    Float32,

    /// <summary>Unsigned byte (<c>.bvecs</c>, NumPy <c>'|u1'</c>).</summary>
    UInt8,

    /// <summary>32-bit signed integer (<c>.ivecs</c>, NumPy <c>'&lt;i4'</c>).</summary>
    Int32,

    /// <summary>64-bit signed integer (NumPy <c>'&lt;i8'</c>).</summary>
    Int64,
}

/// <summary>What a vector file holds, read from its header without reading the data.</summary>
/// <param name="Format">The file format.</param>
/// <param name="ElementType">The type of the stored values.</param>
/// <param name="Rows">The number of rows (vectors).</param>
/// <param name="Dimension">The number of values per row.</param>
public sealed record VectorFileInfo(VectorFileFormat Format, VectorElementType ElementType, long Rows, int Dimension);
