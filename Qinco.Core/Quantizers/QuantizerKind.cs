namespace Qinco.Core;

/// <summary>The quantization methods of the library; the value is stored in model files.</summary>
public enum QuantizerKind
{
    /// <summary>Residual quantization with beam search (<see cref="ResidualQuantizer"/>).</summary>
    Residual = 1,

    /// <summary>QINCo: residual quantization with implicit neural codebooks.</summary>
    Qinco = 2,

    /// <summary>IVF-QINCo: an inverted-file coarse quantizer in front of QINCo.</summary>
    IvfQinco = 3,
}
