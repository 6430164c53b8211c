namespace GroupedGemm;

/// <summary>Element-wise activations of the MoE kernels; the values are those of <c>gg_activation</c>.</summary>
public enum Activation
{
    /// <summary>Identity.</summary>
    None = 0,

    /// <summary>max(x, 0).</summary>
    Relu = 1,

    /// <summary>GELU with the exact erf form (PyTorch's default <c>nn.GELU()</c>).</summary>
    Gelu = 2,

    /// <summary>SiLU, x · sigmoid(x).</summary>
    Silu = 3,
}
