using System.Runtime.CompilerServices;

// Qinco.Core's model files use the same CRC-32 as the training checkpoints.
[assembly: InternalsVisibleTo("Qinco.Core")]
// The tests check the NumPy-compatible shuffle against values NumPy printed.
[assembly: InternalsVisibleTo("Qinco.Tests")]
