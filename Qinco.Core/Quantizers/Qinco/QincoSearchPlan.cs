namespace Qinco.Core;

/// <summary>An encoder search and the beams it keeps after its first step (IVF-QINCo: the probed lists).</summary>
internal readonly record struct QincoSearchPlan(EncoderSearch Search, int FirstBeams);
