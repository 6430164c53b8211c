namespace GroupedGemm.MoE;

/// <summary>
/// The router: logits = x·Wr (Wr [D, E], no bias), then softmax and top-k (ties to the lower expert index), optionally
/// renormalised over the kept experts. Under Zipf routing a fixed per-token bias log(1/(e+1)) + g[t, e] is added to
/// the logits, g drawn from Gumbel(0, 1) with the seed: by the Gumbel-top-k trick the top-k then draws experts without
/// replacement with probability ∝ 1/(e+1), the router's own (small, freshly initialised) logits perturbing that a little.
/// </summary>
internal sealed class Router : IDisposable
{
    private readonly float[] _w;
    private readonly float[]? _zipf;
    private readonly DeviceTensor? _wDevice;
    private readonly DeviceTensor? _zipfDevice;

    public Router(int tokens, int embedDim, int experts, int topK, bool renormalize, Routing routing, DType dtype, Random random, bool onDevice)
    {
        EmbedDim = embedDim;
        Experts = experts;
        TopK = topK;
        Renormalize = renormalize;
        DType = dtype;
        _w = HostValues.Uniform(random, (long)embedDim * experts, 1 / Math.Sqrt(embedDim), dtype);
        if (routing == Routing.Zipf) _zipf = ZipfBias(tokens, experts, dtype, new Random(random.Next()));
        if (!onDevice) return;
        _wDevice = HostValues.Upload(_w, dtype, embedDim, experts);
        if (_zipf is not null) _zipfDevice = HostValues.Upload(_zipf, dtype, tokens, experts);
    }

    public int EmbedDim { get; }

    public int Experts { get; }

    public int TopK { get; }

    public bool Renormalize { get; }

    public DType DType { get; }

    /// <summary>Routes x [T, D] on the device: weights [T, k] (float32) and experts [T, k] (int32), rented from the pool.</summary>
    public (DeviceTensor Weights, DeviceTensor Experts) Route(GroupedGemmContext context, DeviceTensor x, DevicePool pool, CudaStream stream)
    {
        long tokens = x.Shape[0];
        DeviceTensor logits = pool.Rent(DType, tokens, Experts);
        context.GemmInto(x, _wDevice!, logits, stream: stream);
        // The Zipf bias has one row per token: a padded bias-add in which every token is an "expert" of one row.
        if (_zipfDevice is not null) MoeKernels.BiasActivationPadded(logits.Reshape(tokens, 1, Experts), _zipfDevice, Activation.None, stream);
        DeviceTensor weights = pool.Rent(DType.Float32, tokens, TopK);
        DeviceTensor experts = pool.Rent(DType.Int32, tokens, TopK);
        MoeKernels.TopKSoftmax(logits, weights, experts, Renormalize, stream);
        pool.Return(logits);
        return (weights, experts);
    }

    /// <summary>Float64 softmax probabilities of token <paramref name="token"/>, whose row is x [D].</summary>
    public double[] ReferenceProbabilities(ReadOnlySpan<double> x, int token)
    {
        var logits = new double[Experts];
        ReferenceMath.RowTimesMatrix(x, _w, 0, Experts, _zipf, (long)token * Experts, logits);
        double max = logits.Max();
        double sum = 0;
        for (int e = 0; e < Experts; e++) sum += logits[e] = Math.Exp(logits[e] - max);
        for (int e = 0; e < Experts; e++) logits[e] /= sum;
        return logits;
    }

    /// <summary>The top-k experts of float64 probabilities, descending, ties to the lower index.</summary>
    public int[] ReferenceTopK(double[] probabilities) =>
        Enumerable.Range(0, Experts).OrderByDescending(e => probabilities[e]).ThenBy(e => e).Take(TopK).ToArray();

    /// <summary>Routing weights of <paramref name="chosen"/> experts under <paramref name="probabilities"/>.</summary>
    public double[] ReferenceWeights(double[] probabilities, ReadOnlySpan<int> chosen)
    {
        var weights = new double[chosen.Length];
        for (int j = 0; j < chosen.Length; j++) weights[j] = probabilities[chosen[j]];
        if (Renormalize)
        {
            double kept = weights.Sum();
            for (int j = 0; j < weights.Length; j++) weights[j] /= kept;
        }

        return weights;
    }

    /// <summary>bias[t, e] = log(1/(e+1)) + Gumbel(0, 1) noise, rounded to the device type.</summary>
    internal static float[] ZipfBias(int tokens, int experts, DType dtype, Random random)
    {
        var bias = new float[(long)tokens * experts];
        for (long i = 0; i < bias.LongLength; i++)
        {
            double gumbel = -Math.Log(-Math.Log(1 - random.NextDouble() * (1 - 1e-12)));
            bias[i] = (float)(Math.Log(1.0 / (i % experts + 1)) + gumbel);
        }

        return HostValues.RoundInPlace(bias, dtype);
    }

    public void Dispose()
    {
        _wDevice?.Dispose();
        _zipfDevice?.Dispose();
    }
}
