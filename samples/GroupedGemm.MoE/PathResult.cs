namespace GroupedGemm.MoE;

/// <summary>What one forward path produced and cost.</summary>
/// <param name="Name">The path's name in the table.</param>
/// <param name="Output">The layer output [T, D] of the first forward, as float values.</param>
/// <param name="MedianMs">Median time of one forward after warm-up (CUDA events), milliseconds.</param>
/// <param name="PeakBytes">Peak bytes of activation memory live during one forward (the sample's tracked allocator).</param>
internal sealed record PathResult(string Name, float[] Output, double MedianMs, long PeakBytes);
