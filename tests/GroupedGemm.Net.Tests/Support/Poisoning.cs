// In the root test namespace so that every test file (GroupedGemm.Tests.*) sees the extension without a using.
namespace GroupedGemm.Tests;

/// <summary>Test-only helper over the public API: poisoning outputs so that unwritten elements are caught.</summary>
internal static class Poisoning
{
    /// <summary>
    /// Fills the tensor with 0xFF bytes: NaN for the float types, -1 for the integer types. Tests poison outputs
    /// before a call so that an element the call forgot to write cannot pass for a correct one.
    /// </summary>
    /// <param name="tensor">The tensor.</param>
    /// <param name="stream">Stream to order the fill on; null for the legacy default stream.</param>
    internal static void Poison(this DeviceTensor tensor, CudaStream? stream = null) => tensor.Fill(0xFF, stream);
}
