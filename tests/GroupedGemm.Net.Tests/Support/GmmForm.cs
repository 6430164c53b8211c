namespace GroupedGemm.Tests.Support;

/// <summary>The three forms of tgale96's gmm.</summary>
public enum GmmForm
{
    /// <summary>a [M,K] · b [E,K,N] → [M,N].</summary>
    Forward,

    /// <summary>a [M,K] · b [E,N,K]ᵀ → [M,N].</summary>
    TransB,

    /// <summary>a [M,K], b [M,N] → [E,K,N] (weight gradient).</summary>
    TransA,
}

/// <summary>Where the batch sizes live.</summary>
public enum CountsKind
{
    /// <summary>A host span.</summary>
    Host,

    /// <summary>An Int64 device tensor.</summary>
    Device,
}

/// <summary>Shapes of the operands of each form.</summary>
internal static class GmmFormShapes
{
    /// <summary>The shape of b for a problem with M rows, E experts, inner K and output N.</summary>
    /// <param name="form">The form.</param>
    /// <param name="m">M.</param>
    /// <param name="e">E.</param>
    /// <param name="k">K.</param>
    /// <param name="n">N.</param>
    /// <returns>The extents of b.</returns>
    internal static long[] B(this GmmForm form, long m, long e, long k, long n) => form switch
    {
        GmmForm.Forward => [e, k, n],
        GmmForm.TransB => [e, n, k],
        _ => [m, n],
    };

    /// <summary>The shape of c.</summary>
    /// <param name="form">The form.</param>
    /// <param name="m">M.</param>
    /// <param name="e">E.</param>
    /// <param name="k">K.</param>
    /// <param name="n">N.</param>
    /// <returns>The extents of c.</returns>
    internal static long[] C(this GmmForm form, long m, long e, long k, long n) =>
        form == GmmForm.TransA ? [e, k, n] : [m, n];
}
