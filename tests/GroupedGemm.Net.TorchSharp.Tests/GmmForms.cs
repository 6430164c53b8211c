namespace GroupedGemm.TorchSharp.Tests;

/// <summary>The three gmm forms, for parameterised tests.</summary>
internal static class GmmForms
{
    /// <summary>(transA, transB) of the forward, transposed-weight and weight-gradient forms.</summary>
    internal static readonly object[] All =
    [
        new object[] { false, false },
        new object[] { false, true },
        new object[] { true, false },
    ];
}
