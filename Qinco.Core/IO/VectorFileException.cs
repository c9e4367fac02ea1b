using System;
using System.IO;

namespace Qinco.Core.IO;

/// <summary>
/// A vector file (<c>.fvecs</c>, <c>.bvecs</c>, <c>.ivecs</c>, <c>.npy</c>) that cannot be read: truncated, with a wrong or
/// corrupt header, inconsistent row dimensions, an unsupported element type or layout, or a requested row range it does
/// not hold. The message names the file and the problem. (It derives from <see cref="IOException"/>, because
/// <see cref="InvalidDataException"/> is sealed.)
/// </summary>
public sealed class VectorFileException : IOException
{
    /// <summary>Creates an exception with a default message.</summary>
    public VectorFileException()
        : base("The vector file cannot be read.")
    {
    }

    /// <summary>Creates an exception with the given message.</summary>
    /// <param name="message">The full message.</param>
    public VectorFileException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with the given message and cause.</summary>
    /// <param name="message">The full message.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public VectorFileException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception whose message is <c>"{filePath}: {problem}"</c>.</summary>
    /// <param name="filePath">The file (or stream name) that cannot be read.</param>
    /// <param name="problem">What is wrong with it.</param>
    /// <param name="innerException">The exception that caused this one, if any.</param>
    public VectorFileException(string filePath, string problem, Exception? innerException = null)
        : base($"{filePath}: {problem}", innerException)
    {
        FilePath = filePath;
        Problem = problem;
    }

    /// <summary>The file (or stream name) that cannot be read, when known.</summary>
    public string? FilePath { get; }

    /// <summary>What is wrong with the file, without the path, when known.</summary>
    public string? Problem { get; }
}
