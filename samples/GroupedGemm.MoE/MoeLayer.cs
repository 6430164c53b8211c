namespace GroupedGemm.MoE;

/// <summary>
/// One MoE layer: router, E routed experts (plain or gated), optional dense shared experts applied to every token
/// (their outputs summed and added), and the weighted combine. Parameters come from <see cref="MoeOptions.Seed"/>.
/// </summary>
internal sealed class MoeLayer : IDisposable
{
    private readonly MoeOptions _o;
    private readonly Router _router;
    private readonly ExpertFeedForward _routed;
    private readonly ExpertFeedForward? _shared;
    private readonly Fp8ExpertWeights? _routedFp8;
    private readonly DeviceTensor? _sharedRows;
    private readonly DeviceTensor? _sharedWeights;
    private readonly long _sortWorkspaceBytes;

    public MoeLayer(MoeOptions options, bool onDevice)
    {
        _o = options;
        var random = new Random(options.Seed);
        _router = new Router(options.Tokens, options.EmbedDim, options.NumExperts, options.TopK, options.Renormalize, options.Routing, options.DType, random, onDevice);
        _routed = NewExperts(options.NumExperts, random, onDevice);
        if (options.NumShared > 0) _shared = NewExperts(options.NumShared, random, onDevice);
        if (!onDevice) return;
        if (options.Fp8Experts) _routedFp8 = _routed.QuantizeToFp8(options.Fp8Scales);

        long slots = (long)options.Tokens * options.TopK;
        _sortWorkspaceBytes = MoeKernels.SortWorkspaceBytes(slots, options.NumExperts);
        if (_shared is not null)
        {
            // The shared experts' outputs [S, T, D] are combined like routed ones: token t's j-th "slot" is row j·T + t, weight 1.
            int s = options.NumShared, t = options.Tokens;
            int[] rows = new int[t * s];
            for (int token = 0; token < t; token++)
            {
                for (int j = 0; j < s; j++) rows[token * s + j] = j * t + token;
            }

            _sharedRows = DeviceTensor.FromArray(rows, t, s);
            _sharedWeights = DeviceTensor.FromArray(Enumerable.Repeat(1f, t * s).ToArray(), t, s);
        }
    }

    /// <summary>
    /// Grouped-GEMM path: route, sort by expert on the device, gather, two grouped GEMMs with DEVICE counts (the counts
    /// never leave the device; no host synchronisation), bias + activation kernels, combine.
    /// </summary>
    public DeviceTensor ForwardGrouped(GroupedGemmContext context, DeviceTensor x, DevicePool pool, CudaStream stream)
    {
        Dispatched d = Dispatch(context, x, pool, stream);
        DeviceTensor expertOut = _routed.ForwardGrouped(context, d.SortedRows, d.Counts, pool, stream);
        pool.Return(d.SortedRows);
        return CombineAndShare(context, x, d, expertOut, pool, stream);
    }

    /// <summary>
    /// <see cref="ForwardGrouped"/> with the routed experts in FP8 (<see cref="MoeOptions.Fp8Experts"/>): the same
    /// routing and combine in bf16, the dispatch gather fused with the rows' E4M3 quantization, each expert GEMM the
    /// scaled grouped GEMM with <see cref="MoeOptions.Fp8Scales"/>'s scales (<see cref="ExpertFeedForward.ForwardGroupedFp8"/>).
    /// The shared experts stay bf16.
    /// </summary>
    public DeviceTensor ForwardGroupedFp8(GroupedGemmContext context, DeviceTensor x, DevicePool pool, CudaStream stream)
    {
        if (_routedFp8 is null) throw new InvalidOperationException("The layer was built without FP8 experts (MoeOptions.Fp8Experts).");
        Dispatched d = Dispatch(context, x, pool, stream, quantize: true);
        DeviceTensor expertOut = _routed.ForwardGroupedFp8(context, d.SortedRows, d.RowScales!, d.Counts, _routedFp8, pool, stream);
        pool.Return(d.SortedRows);
        pool.Return(d.RowScales!);
        return CombineAndShare(context, x, d, expertOut, pool, stream);
    }

    /// <summary>
    /// Padded-BMM path (the seed's original): as above up to the gather, then [E, max_count, D] padded tensors and
    /// strided-batched GEMMs. The max count is read back to the host to size the padding, which this path needs.
    /// </summary>
    public DeviceTensor ForwardPadded(GroupedGemmContext context, DeviceTensor x, DevicePool pool, CudaStream stream)
    {
        Dispatched d = Dispatch(context, x, pool, stream);
        DeviceTensor maxDevice = pool.Rent(DType.Int64, 1);
        MoeKernels.MaxCount(d.Counts, maxDevice, stream);
        long[] max = new long[1];
        maxDevice.CopyTo<long>(max, 0, stream);
        pool.Return(maxDevice);
        long capacity = Math.Max(1, max[0]);

        DeviceTensor padded = pool.Rent(_o.DType, _o.NumExperts, capacity, _o.EmbedDim);
        MoeKernels.Pad(d.SortedRows, d.Counts, padded, null, stream);
        pool.Return(d.SortedRows);
        DeviceTensor paddedOut = _routed.ForwardPadded(context, padded, pool, stream);
        pool.Return(padded);
        DeviceTensor expertOut = pool.Rent(_o.DType, (long)_o.Tokens * _o.TopK, _o.EmbedDim);
        MoeKernels.Unpad(paddedOut, d.Counts, expertOut, stream);
        pool.Return(paddedOut);
        return CombineAndShare(context, x, d, expertOut, pool, stream);
    }

    /// <summary>The device's routing decision for x (experts [T, k], host copy).</summary>
    public int[] DeviceRouting(GroupedGemmContext context, DeviceTensor x, DevicePool pool, CudaStream stream)
    {
        (DeviceTensor weights, DeviceTensor experts) = _router.Route(context, x, pool, stream);
        stream.Synchronize();
        int[] result = experts.ToArray<int>();
        pool.Return(weights);
        pool.Return(experts);
        return result;
    }

    /// <summary>
    /// Float64 reference of token <paramref name="token"/>, whose row is <paramref name="x"/>. With <paramref name="chosen"/> (the device's experts for the token) the reference
    /// uses that routing, so that a near-tie resolved differently in low precision does not count as an output error;
    /// <c>Agrees</c> says whether the float64 top-k picks the same experts; <c>Experts</c> are the experts used.
    /// </summary>
    public (double[] Output, bool Agrees, int[] Experts) Reference(ReadOnlySpan<double> x, int token, ReadOnlySpan<int> chosen) =>
        Reference(x, token, chosen, fp8Experts: false);

    /// <summary>
    /// <see cref="Reference(ReadOnlySpan{double}, int, ReadOnlySpan{int})"/>, or with <paramref name="fp8Experts"/> the float64 emulation of
    /// <see cref="ForwardGroupedFp8"/>: the routed experts' inputs and weights quantized to E4M3 as that path does, with
    /// <see cref="MoeOptions.Fp8Scales"/>'s scales
    /// (<see cref="ExpertFeedForward.ReferenceAccumulateFp8"/>), router and shared experts as in the plain reference.
    /// </summary>
    public (double[] Output, bool Agrees, int[] Experts) Reference(ReadOnlySpan<double> x, int token, ReadOnlySpan<int> chosen, bool fp8Experts)
    {
        double[] p = _router.ReferenceProbabilities(x, token);
        int[] own = _router.ReferenceTopK(p);
        bool agrees = chosen.IsEmpty || own.Order().SequenceEqual(chosen.ToArray().Order());
        ReadOnlySpan<int> used = chosen.IsEmpty ? own : chosen;
        double[] w = _router.ReferenceWeights(p, used);
        var output = new double[_o.EmbedDim];
        for (int j = 0; j < used.Length; j++)
        {
            if (fp8Experts) _routed.ReferenceAccumulateFp8(used[j], x, w[j], output, _o.Fp8Scales);
            else _routed.ReferenceAccumulate(used[j], x, w[j], output);
        }

        for (int s = 0; s < _o.NumShared; s++) _shared!.ReferenceAccumulate(s, x, 1, output);
        return (output, agrees, used.ToArray());
    }

    public void Dispose()
    {
        _router.Dispose();
        _routed.Dispose();
        _routedFp8?.Dispose();
        _shared?.Dispose();
        _sharedRows?.Dispose();
        _sharedWeights?.Dispose();
    }

    private ExpertFeedForward NewExperts(int count, Random random, bool onDevice) => _o.Gated
        ? new GatedMoeFeedForward(count, _o.EmbedDim, _o.HiddenDim, _o.DType, _o.Activation, random, onDevice)
        : new MoeFeedForward(count, _o.EmbedDim, _o.HiddenDim, _o.DType, _o.Activation, random, onDevice);

    // Route, sort by expert, and gather each slot's token row in expert order: as the layer's type, or with
    // `quantize` straight to E4M3 with Fp8Scales' scales (the gather fused with the quantization, GatherQuantizeFp8).
    private Dispatched Dispatch(GroupedGemmContext context, DeviceTensor x, DevicePool pool, CudaStream stream, bool quantize = false)
    {
        (DeviceTensor weights, DeviceTensor experts) = _router.Route(context, x, pool, stream);
        long slots = experts.ElementCount;
        DeviceTensor counts = pool.Rent(DType.Int64, _o.NumExperts);
        DeviceTensor sortedSlots = pool.Rent(DType.Int32, slots);
        DeviceTensor slotRows = pool.Rent(DType.Int32, slots);
        DeviceTensor workspace = pool.Rent(DType.Int64, (_sortWorkspaceBytes + 7) / 8);
        MoeKernels.SortByExpert(experts, counts, sortedSlots, slotRows, workspace, stream);
        pool.Return(workspace);
        pool.Return(experts);
        DeviceTensor sortedRows = pool.Rent(quantize ? DType.Float8E4M3 : _o.DType, slots, _o.EmbedDim);
        DeviceTensor? rowScales = null;
        if (quantize)
        {
            rowScales = Fp8Scaling.RentRowScales(pool, _o.Fp8Scales, slots, _o.EmbedDim);
            MoeKernels.GatherQuantizeFp8(x, sortedSlots, _o.TopK, sortedRows, rowScales, Fp8Scaling.RowBlockCols(_o.Fp8Scales), stream);
        }
        else
        {
            MoeKernels.GatherRows(x, sortedSlots, _o.TopK, sortedRows, stream);
        }

        pool.Return(sortedSlots);
        return new Dispatched(weights, counts, slotRows, sortedRows, rowScales);
    }

    private DeviceTensor CombineAndShare(GroupedGemmContext context, DeviceTensor x, Dispatched d, DeviceTensor expertOut,
        DevicePool pool, CudaStream stream)
    {
        DeviceTensor output = pool.Rent(_o.DType, _o.Tokens, _o.EmbedDim);
        MoeKernels.Combine(expertOut, d.SlotRows, d.Weights, null, output, stream);
        pool.Return(expertOut);
        pool.Return(d.SlotRows);
        pool.Return(d.Weights);
        pool.Return(d.Counts);
        if (_shared is not null)
        {
            DeviceTensor sharedOut = _shared.ForwardPadded(context, x, pool, stream); // [S, T, D]: dense, every token
            MoeKernels.Combine(sharedOut.Reshape((long)_o.NumShared * _o.Tokens, _o.EmbedDim), _sharedRows!, _sharedWeights!,
                output, output, stream);
            pool.Return(sharedOut);
        }

        return output;
    }

    /// <summary>
    /// What routing and dispatch leave for the expert computation and the combine. SortedRows: the layer's type, or E4M3
    /// codes whose scales (per row, or per 128 columns of each row) are RowScales.
    /// </summary>
    private readonly record struct Dispatched(DeviceTensor Weights, DeviceTensor Counts, DeviceTensor SlotRows, DeviceTensor SortedRows,
        DeviceTensor? RowScales = null);
}
