using System.IO;

namespace Qinco.Core;

/// <summary>A model file is truncated, corrupt, of another kind, or written by a newer version of the library.</summary>
public sealed class ModelFormatException : IOException
{
    /// <summary>Creates the exception with a message that names the problem.</summary>
    public ModelFormatException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the underlying cause.</summary>
    public ModelFormatException(string message, System.Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with a generic message.</summary>
    public ModelFormatException() : base("The model file is not valid.")
    {
    }
}
