using GroupedGemm.Interop;

namespace GroupedGemm;

/// <summary>
/// The Mixture-of-Experts kernels of the native library: routing (softmax + top-k), the stable sort of routed
/// slots by expert, row gather, bias + activation epilogues, the weighted combine, and the conversions between
/// the grouped layout and the padded layout of batched-GEMM implementations.
/// </summary>
/// <remarks>
/// <para>
/// Vocabulary: a token picks <c>topK</c> experts; each pick is a <em>slot</em>, numbered
/// <c>slot = token · topK + j</c>. Sorting the slots by expert gives the <em>sorted rows</em> that a grouped
/// GEMM consumes, <c>counts[e]</c> rows for expert <c>e</c>, in expert order.
/// </para>
/// <para>
/// Every method checks shapes and element types on the host (an <see cref="ArgumentException"/> names the
/// argument and the values), then queues its kernel on <c>stream</c> (null: the ambient stream, <see cref="CudaStream.Current"/>) and
/// returns without waiting. No method reads device data back to the host, so all of them can be captured in a
/// CUDA graph. Each call holds its tensors and stream until it returns, and a <see cref="CudaGraph"/> that captured
/// it holds them until the graph is disposed, as for <see cref="GroupedGemmContext"/>'s calls. All tensors must live on one device; the kernels run there. Float inputs may be
/// <see cref="DType.Float32"/>, <see cref="DType.Float16"/> or <see cref="DType.BFloat16"/>; math is fp32.
/// </para>
/// </remarks>
public static unsafe partial class MoeKernels
{
    /// <summary>
    /// Router probabilities: softmax over each row of <paramref name="logits"/>, then the <c>topK</c> largest
    /// (ties to the lower expert index) in descending order, optionally renormalised to sum to 1.
    /// </summary>
    /// <param name="logits">Router logits <c>[tokens, numExperts]</c>, a float type.</param>
    /// <param name="weights">Output <c>[tokens, topK]</c>, <see cref="DType.Float32"/>: the kept probabilities.</param>
    /// <param name="experts">Output <c>[tokens, topK]</c>, <see cref="DType.Int32"/>: the chosen expert ids.</param>
    /// <param name="renormalize">Whether to divide the kept probabilities by their sum.</param>
    /// <param name="stream">The stream to run on; null for the ambient stream (<see cref="CudaStream.Current"/>).</param>
    /// <exception cref="ArgumentException">A shape or element type does not fit.</exception>
    /// <exception cref="GroupedGemmException">The native call failed.</exception>
    public static void TopKSoftmax(DeviceTensor logits, DeviceTensor weights, DeviceTensor experts, bool renormalize,
        CudaStream? stream = null)
    {
        RequireFloat(logits, 2, nameof(logits));
        RequireDType(weights, DType.Float32, 2, nameof(weights));
        long tokens = logits.Shape[0], numExperts = logits.Shape[1], topK = weights.Shape[1];
        RequireShape(weights, nameof(weights), tokens, topK);
        RequireTensor(experts, DType.Int32, nameof(experts), tokens, topK);
        // The native top-k is an int32: with no tokens, numExperts (and so top-k) can pass it.
        if (topK < 1 || topK > Math.Min(numExperts, int.MaxValue))
        {
            throw new ArgumentException(
                $"weights has {topK} columns (top-k) but top-k must be in [1, {Math.Min(numExperts, int.MaxValue)}] for logits of shape {Format(logits)}.",
                nameof(weights));
        }

        using var lease = new CallLease();
        using DeviceScope scope = EnterSharedDevice(lease, (logits, nameof(logits)), (weights, nameof(weights)), (experts, nameof(experts)));
        NativeStatus.Check(NativeMethods.gg_moe_topk_softmax((void*)lease.Pointer(logits), (GgDType)logits.DType, tokens,
            numExperts, (int)topK, renormalize ? 1 : 0, (float*)lease.Pointer(weights), (int*)lease.Pointer(experts),
            (void*)lease.Stream(stream)));
    }

    /// <summary>Device workspace bytes <see cref="SortByExpert"/> needs for <paramref name="slots"/> routed slots.</summary>
    /// <param name="slots">Number of routed slots (tokens · topK).</param>
    /// <param name="numExperts">Number of experts.</param>
    /// <returns>The size in bytes (0 for no slots).</returns>
    /// <remarks>Asks the CUDA device that is current on the calling thread; use the same device for the sort.</remarks>
    public static long SortWorkspaceBytes(long slots, long numExperts)
    {
        CheckSortSizes(slots, numExperts, nameof(slots), nameof(numExperts));
        NativeLibraryLoader.EnsureLoaded();
        NativeStatus.Check(NativeMethods.gg_moe_sort_workspace_size(slots, numExperts, out nuint bytes));
        return checked((long)bytes);
    }

    /// <summary>
    /// The sort's size rule (the native one, <c>gg_moe_sort_workspace_size</c>, refuses the same sizes, but as a
    /// <see cref="GroupedGemmException"/>): slot ids and expert ids are int32, so slots in [0, 2^31 - 1] and experts in
    /// [1, 2^31 - 2] (the key num_experts marks dropped slots).
    /// </summary>
    private static void CheckSortSizes(long slots, long numExperts, string slotsName, string expertsName)
    {
        if (slots is < 0 or > int.MaxValue)
            throw new ArgumentOutOfRangeException(slotsName, slots, $"{slots} slots: slot ids are int32, so at most {int.MaxValue}.");
        if (numExperts is < 1 or >= int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(expertsName, numExperts,
                $"{numExperts} experts: expert ids are int32, so between 1 and {int.MaxValue - 1}.");
        }
    }

    /// <summary>Allocates the device workspace <see cref="SortByExpert"/> needs, on the current device.</summary>
    /// <param name="slots">Number of routed slots (tokens · topK).</param>
    /// <param name="numExperts">Number of experts.</param>
    /// <returns>An owned <see cref="DType.Int64"/> tensor of at least <see cref="SortWorkspaceBytes"/> bytes.</returns>
    public static DeviceTensor AllocateSortWorkspace(long slots, long numExperts)
    {
        long bytes = SortWorkspaceBytes(slots, numExperts);
        return DeviceTensor.Allocate(DType.Int64, (bytes + 7) / 8);
    }

    /// <summary>
    /// Stable sort of routed slots by expert, entirely on the device. Expert ids outside
    /// <c>[0, numExperts)</c> (dropped tokens) sort after all valid slots and are not counted: their
    /// <paramref name="slotRows"/> entry is -1 and their sorted rows have <paramref name="sortedSlots"/> -1, so that
    /// <see cref="GatherRows"/> writes zeros there and <see cref="Combine"/> adds nothing for them.
    /// </summary>
    /// <param name="experts">Expert id of every slot, <see cref="DType.Int32"/>, any shape (<c>[tokens, topK]</c> usually).</param>
    /// <param name="counts">Output <c>[numExperts]</c>, <see cref="DType.Int64"/>: slots per expert (the grouped GEMM's batch sizes).</param>
    /// <param name="sortedSlots">Output, <see cref="DType.Int32"/>, as many elements as <paramref name="experts"/>: sorted row → slot.</param>
    /// <param name="slotRows">Output, <see cref="DType.Int32"/>, as many elements as <paramref name="experts"/>: slot → sorted row.</param>
    /// <param name="workspace">Device scratch of at least <see cref="SortWorkspaceBytes"/> bytes (any element type).</param>
    /// <param name="stream">The stream to run on; null for the ambient stream (<see cref="CudaStream.Current"/>).</param>
    /// <exception cref="ArgumentException">A shape, element type or the workspace size does not fit.</exception>
    /// <exception cref="GroupedGemmException">The native call failed.</exception>
    public static void SortByExpert(DeviceTensor experts, DeviceTensor counts, DeviceTensor sortedSlots,
        DeviceTensor slotRows, DeviceTensor workspace, CudaStream? stream = null)
    {
        RequireDType(experts, DType.Int32, nameof(experts));
        RequireDType(counts, DType.Int64, 1, nameof(counts));
        RequireDType(sortedSlots, DType.Int32, nameof(sortedSlots));
        RequireDType(slotRows, DType.Int32, nameof(slotRows));
        RequireLive(workspace, nameof(workspace));
        long slots = experts.ElementCount, numExperts = counts.Shape[0];
        if (numExperts < 1) throw new ArgumentException("counts must have at least one expert.", nameof(counts));
        CheckSortSizes(slots, numExperts, nameof(experts), nameof(counts));
        RequireCount(sortedSlots, slots, nameof(sortedSlots));
        RequireCount(slotRows, slots, nameof(slotRows));

        using var lease = new CallLease();
        using DeviceScope scope = EnterSharedDevice(lease, (experts, nameof(experts)), (counts, nameof(counts)),
            (sortedSlots, nameof(sortedSlots)), (slotRows, nameof(slotRows)), (workspace, nameof(workspace)));
        long needed = SortWorkspaceBytes(slots, numExperts);
        if (workspace.ByteCount < needed)
        {
            throw new ArgumentException(
                $"workspace holds {workspace.ByteCount} bytes but sorting {slots} slots over {numExperts} experts needs {needed}; " +
                $"use {nameof(AllocateSortWorkspace)}.", nameof(workspace));
        }

        NativeStatus.Check(NativeMethods.gg_moe_sort_by_expert((int*)lease.Pointer(experts), slots, numExperts,
            (long*)lease.Pointer(counts), (int*)lease.Pointer(sortedSlots), (int*)lease.Pointer(slotRows),
            (void*)lease.Pointer(workspace), (nuint)workspace.ByteCount, (void*)lease.Stream(stream)));
    }

    /// <summary>
    /// Row gather: <c>destination[i, :] = source[index[i] / indexDivisor, :]</c>. With the sorted slots as index and
    /// <c>topK</c> as divisor this dispatches tokens into expert order. A negative index, or one past the rows of
    /// <paramref name="source"/>, writes a zero row.
    /// </summary>
    /// <param name="source">Rows <c>[sourceRows, cols]</c>, a float type.</param>
    /// <param name="index">Row indices, <see cref="DType.Int32"/>, one per destination row; must be below <c>sourceRows · indexDivisor</c>.</param>
    /// <param name="indexDivisor">Divides every index (1 for a plain permutation).</param>
    /// <param name="destination">Output <c>[index.ElementCount, cols]</c>, the element type of <paramref name="source"/>.</param>
    /// <param name="stream">The stream to run on; null for the ambient stream (<see cref="CudaStream.Current"/>).</param>
    /// <exception cref="ArgumentException">A shape or element type does not fit.</exception>
    /// <exception cref="GroupedGemmException">The native call failed.</exception>
    public static void GatherRows(DeviceTensor source, DeviceTensor index, int indexDivisor, DeviceTensor destination,
        CudaStream? stream = null)
    {
        RequireFloat(source, 2, nameof(source));
        RequireDType(index, DType.Int32, nameof(index));
        RequireDType(destination, source.DType, nameof(destination));
        ArgumentOutOfRangeException.ThrowIfLessThan(indexDivisor, 1);
        long rows = index.ElementCount, cols = source.Shape[1];
        RequireShape(destination, nameof(destination), rows, cols);

        using var lease = new CallLease();
        using DeviceScope scope = EnterSharedDevice(lease, (source, nameof(source)), (index, nameof(index)), (destination, nameof(destination)));
        NativeStatus.Check(NativeMethods.gg_moe_gather_rows((void*)lease.Pointer(source), source.Shape[0], (int*)lease.Pointer(index),
            indexDivisor, rows, cols, (void*)lease.Pointer(destination), (GgDType)source.DType, (void*)lease.Stream(stream)));
    }

    /// <summary>
    /// In place on sorted rows: <c>x = act(x + bias[expert of row])</c>, the expert of a row following the device
    /// <paramref name="counts"/> (rows grouped by expert in order). Rows past the sum of the counts get no bias.
    /// </summary>
    /// <param name="x">Sorted rows <c>[rows, cols]</c>, a float type; overwritten.</param>
    /// <param name="bias"><c>[numExperts, cols]</c> of the element type of <paramref name="x"/>, or null for none.</param>
    /// <param name="counts"><c>[numExperts]</c>, <see cref="DType.Int64"/>, on the device.</param>
    /// <param name="activation">The activation.</param>
    /// <param name="stream">The stream to run on; null for the ambient stream (<see cref="CudaStream.Current"/>).</param>
    /// <exception cref="ArgumentException">A shape or element type does not fit.</exception>
    /// <exception cref="GroupedGemmException">The native call failed.</exception>
    public static void BiasActivation(DeviceTensor x, DeviceTensor? bias, DeviceTensor counts, Activation activation,
        CudaStream? stream = null)
    {
        RequireFloat(x, 2, nameof(x));
        long numExperts = RequireCounts(counts, nameof(counts));
        long rows = x.Shape[0], cols = x.Shape[1];
        RequireOptionalTensor(bias, x.DType, nameof(bias), numExperts, cols);
        RequireActivation(activation);

        using var lease = new CallLease();
        using DeviceScope scope = EnterSharedDevice(lease, (x, nameof(x)), (counts, nameof(counts)), (bias, nameof(bias)));
        NativeStatus.Check(NativeMethods.gg_moe_bias_activation((void*)lease.Pointer(x), (void*)lease.Pointer(bias),
            (long*)lease.Pointer(counts), 0, rows, cols, numExperts, (GgActivation)activation, (GgDType)x.DType,
            (void*)lease.Stream(stream)));
    }

    /// <summary>In place on a padded batch: <c>x[e] = act(x[e] + bias[e])</c> for every expert <c>e</c>.</summary>
    /// <param name="x">Padded rows <c>[numExperts, capacity, cols]</c>, a float type; overwritten.</param>
    /// <param name="bias"><c>[numExperts, cols]</c> of the element type of <paramref name="x"/>, or null for none.</param>
    /// <param name="activation">The activation.</param>
    /// <param name="stream">The stream to run on; null for the ambient stream (<see cref="CudaStream.Current"/>).</param>
    /// <exception cref="ArgumentException">A shape or element type does not fit.</exception>
    /// <exception cref="GroupedGemmException">The native call failed.</exception>
    public static void BiasActivationPadded(DeviceTensor x, DeviceTensor? bias, Activation activation,
        CudaStream? stream = null)
    {
        (long numExperts, long capacity, long cols, long rows) = RequirePadded(x, nameof(x));
        RequireOptionalTensor(bias, x.DType, nameof(bias), numExperts, cols);
        RequireActivation(activation);

        using var lease = new CallLease();
        using DeviceScope scope = EnterSharedDevice(lease, (x, nameof(x)), (bias, nameof(bias)));
        NativeStatus.Check(NativeMethods.gg_moe_bias_activation((void*)lease.Pointer(x), (void*)lease.Pointer(bias), null,
            Math.Max(capacity, 1), rows, cols, numExperts, (GgActivation)activation,
            (GgDType)x.DType, (void*)lease.Stream(stream)));
    }

    /// <summary>
    /// Gated epilogue on sorted rows: <c>output = act(gate + biasGate) · (up + biasUp)</c>, where
    /// <paramref name="gateUp"/> holds the gate in its first half of columns and the up projection in its second.
    /// </summary>
    /// <param name="gateUp">Sorted rows <c>[rows, 2 · hidden]</c>, a float type.</param>
    /// <param name="bias"><c>[numExperts, 2 · hidden]</c> (gate | up) of the element type of <paramref name="gateUp"/>, or null.</param>
    /// <param name="counts"><c>[numExperts]</c>, <see cref="DType.Int64"/>, on the device.</param>
    /// <param name="activation">The activation applied to the gate.</param>
    /// <param name="output">Output <c>[rows, hidden]</c>, the element type of <paramref name="gateUp"/>.</param>
    /// <param name="stream">The stream to run on; null for the ambient stream (<see cref="CudaStream.Current"/>).</param>
    /// <exception cref="ArgumentException">A shape or element type does not fit.</exception>
    /// <exception cref="GroupedGemmException">The native call failed.</exception>
    public static void GatedActivation(DeviceTensor gateUp, DeviceTensor? bias, DeviceTensor counts,
        Activation activation, DeviceTensor output, CudaStream? stream = null)
    {
        RequireFloat(gateUp, 2, nameof(gateUp));
        long numExperts = RequireCounts(counts, nameof(counts));
        long rows = gateUp.Shape[0], hidden = GatedHidden(gateUp, nameof(gateUp));
        RequireOptionalTensor(bias, gateUp.DType, nameof(bias), numExperts, 2 * hidden);
        RequireTensor(output, gateUp.DType, nameof(output), rows, hidden);
        RequireActivation(activation);

        using var lease = new CallLease();
        using DeviceScope scope = EnterSharedDevice(lease, (gateUp, nameof(gateUp)), (counts, nameof(counts)),
            (output, nameof(output)), (bias, nameof(bias)));
        NativeStatus.Check(NativeMethods.gg_moe_gated_activation((void*)lease.Pointer(gateUp), (void*)lease.Pointer(bias),
            (long*)lease.Pointer(counts), 0, rows, hidden, numExperts, (GgActivation)activation,
            (void*)lease.Pointer(output), (GgDType)gateUp.DType, (void*)lease.Stream(stream)));
    }

    /// <summary>Gated epilogue on a padded batch: <c>output[e] = act(gate[e] + biasGate[e]) · (up[e] + biasUp[e])</c>.</summary>
    /// <param name="gateUp">Padded rows <c>[numExperts, capacity, 2 · hidden]</c>, a float type.</param>
    /// <param name="bias"><c>[numExperts, 2 · hidden]</c> (gate | up) of the element type of <paramref name="gateUp"/>, or null.</param>
    /// <param name="activation">The activation applied to the gate.</param>
    /// <param name="output">Output <c>[numExperts, capacity, hidden]</c>, the element type of <paramref name="gateUp"/>.</param>
    /// <param name="stream">The stream to run on; null for the ambient stream (<see cref="CudaStream.Current"/>).</param>
    /// <exception cref="ArgumentException">A shape or element type does not fit.</exception>
    /// <exception cref="GroupedGemmException">The native call failed.</exception>
    public static void GatedActivationPadded(DeviceTensor gateUp, DeviceTensor? bias, Activation activation,
        DeviceTensor output, CudaStream? stream = null)
    {
        (long numExperts, long capacity, _, long rows) = RequirePadded(gateUp, nameof(gateUp));
        long hidden = GatedHidden(gateUp, nameof(gateUp));
        RequireOptionalTensor(bias, gateUp.DType, nameof(bias), numExperts, 2 * hidden);
        RequireTensor(output, gateUp.DType, nameof(output), numExperts, capacity, hidden);
        RequireActivation(activation);

        using var lease = new CallLease();
        using DeviceScope scope = EnterSharedDevice(lease, (gateUp, nameof(gateUp)), (output, nameof(output)), (bias, nameof(bias)));
        NativeStatus.Check(NativeMethods.gg_moe_gated_activation((void*)lease.Pointer(gateUp), (void*)lease.Pointer(bias), null,
            Math.Max(capacity, 1), rows, hidden, numExperts, (GgActivation)activation,
            (void*)lease.Pointer(output), (GgDType)gateUp.DType, (void*)lease.Stream(stream)));
    }

    /// <summary>
    /// Weighted un-permute: <c>output[t, :] = residual[t, :] + Σ_j weights[t, j] · expertOutput[slotRows[t · topK + j], :]</c>,
    /// summed in fp32. <paramref name="output"/> may be the same tensor as <paramref name="residual"/>. A slot row
    /// of -1 (a dropped token) or past the rows of <paramref name="expertOutput"/> adds nothing.
    /// </summary>
    /// <param name="expertOutput">Sorted expert outputs <c>[tokens · topK, cols]</c>, a float type.</param>
    /// <param name="slotRows">Slot → sorted row, <see cref="DType.Int32"/>, <c>tokens · topK</c> elements (from <see cref="SortByExpert"/>).</param>
    /// <param name="weights">Routing weights <c>[tokens, topK]</c>, <see cref="DType.Float32"/>.</param>
    /// <param name="residual"><c>[tokens, cols]</c> to add, of the element type of <paramref name="expertOutput"/>, or null.</param>
    /// <param name="output">Output <c>[tokens, cols]</c>, the element type of <paramref name="expertOutput"/>.</param>
    /// <param name="stream">The stream to run on; null for the ambient stream (<see cref="CudaStream.Current"/>).</param>
    /// <exception cref="ArgumentException">A shape or element type does not fit.</exception>
    /// <exception cref="GroupedGemmException">The native call failed.</exception>
    public static void Combine(DeviceTensor expertOutput, DeviceTensor slotRows, DeviceTensor weights,
        DeviceTensor? residual, DeviceTensor output, CudaStream? stream = null)
    {
        RequireFloat(expertOutput, 2, nameof(expertOutput));
        RequireDType(weights, DType.Float32, 2, nameof(weights));
        RequireDType(slotRows, DType.Int32, nameof(slotRows));
        RequireDType(output, expertOutput.DType, nameof(output));
        long tokens = weights.Shape[0], topK = weights.Shape[1], cols = expertOutput.Shape[1];
        if (topK < 1 || topK > int.MaxValue)
            throw new ArgumentException($"weights {Format(weights)} must have between 1 and {int.MaxValue} columns (top-k).", nameof(weights));
        RequireCount(slotRows, tokens * topK, nameof(slotRows));
        RequireShape(expertOutput, nameof(expertOutput), tokens * topK, cols);
        RequireShape(output, nameof(output), tokens, cols);
        RequireOptionalTensor(residual, expertOutput.DType, nameof(residual), tokens, cols);

        using var lease = new CallLease();
        using DeviceScope scope = EnterSharedDevice(lease, (expertOutput, nameof(expertOutput)), (slotRows, nameof(slotRows)),
            (weights, nameof(weights)), (output, nameof(output)), (residual, nameof(residual)));
        NativeStatus.Check(NativeMethods.gg_moe_combine((void*)lease.Pointer(expertOutput), expertOutput.Shape[0],
            (int*)lease.Pointer(slotRows), (float*)lease.Pointer(weights), (void*)lease.Pointer(residual), tokens, (int)topK,
            cols, (void*)lease.Pointer(output), (GgDType)expertOutput.DType, (void*)lease.Stream(stream)));
    }

    /// <summary>
    /// Grouped → padded: sorted rows to <c>[numExperts, capacity, cols]</c>, padding zero-filled. Rows of an expert
    /// past <c>capacity</c> are dropped and counted in <paramref name="dropped"/>. Counts that sum to more than the
    /// rows of <paramref name="sorted"/> are clamped to them: nothing outside <paramref name="sorted"/> is read.
    /// </summary>
    /// <param name="sorted">Sorted rows <c>[rows, cols]</c> (rows ≥ the sum of the counts), a float type.</param>
    /// <param name="counts"><c>[numExperts]</c>, <see cref="DType.Int64"/>, on the device.</param>
    /// <param name="padded">Output <c>[numExperts, capacity, cols]</c>, the element type of <paramref name="sorted"/>.</param>
    /// <param name="dropped">One <see cref="DType.Int64"/> element for the number of dropped rows, or null.</param>
    /// <param name="stream">The stream to run on; null for the ambient stream (<see cref="CudaStream.Current"/>).</param>
    /// <exception cref="ArgumentException">A shape or element type does not fit.</exception>
    /// <exception cref="GroupedGemmException">The native call failed.</exception>
    public static void Pad(DeviceTensor sorted, DeviceTensor counts, DeviceTensor padded, DeviceTensor? dropped = null,
        CudaStream? stream = null)
    {
        RequireFloat(sorted, 2, nameof(sorted));
        long numExperts = RequireCounts(counts, nameof(counts));
        RequireDType(padded, sorted.DType, 3, nameof(padded));
        long capacity = padded.Shape[1], cols = sorted.Shape[1];
        RequireShape(padded, nameof(padded), numExperts, capacity, cols);
        if (dropped is not null) RequireScalar(dropped, DType.Int64, nameof(dropped));

        using var lease = new CallLease();
        using DeviceScope scope = EnterSharedDevice(lease, (sorted, nameof(sorted)), (counts, nameof(counts)),
            (padded, nameof(padded)), (dropped, nameof(dropped)));
        NativeStatus.Check(NativeMethods.gg_moe_pad((void*)lease.Pointer(sorted), sorted.Shape[0], (long*)lease.Pointer(counts),
            numExperts, capacity, cols, (void*)lease.Pointer(padded), (long*)lease.Pointer(dropped), (GgDType)sorted.DType,
            (void*)lease.Stream(stream)));
    }

    /// <summary>
    /// Padded → grouped: <c>[numExperts, capacity, cols]</c> back to sorted rows; the rows of an expert past
    /// <c>capacity</c> (those <see cref="Pad"/> dropped) become zero. Counts that sum to more than the rows of
    /// <paramref name="sorted"/> are clamped to them: nothing outside <paramref name="sorted"/> is written.
    /// </summary>
    /// <param name="padded">Padded rows <c>[numExperts, capacity, cols]</c>, a float type.</param>
    /// <param name="counts"><c>[numExperts]</c>, <see cref="DType.Int64"/>, on the device.</param>
    /// <param name="sorted">Output <c>[rows, cols]</c> (rows ≥ the sum of the counts), the element type of <paramref name="padded"/>.</param>
    /// <param name="stream">The stream to run on; null for the ambient stream (<see cref="CudaStream.Current"/>).</param>
    /// <exception cref="ArgumentException">A shape or element type does not fit.</exception>
    /// <exception cref="GroupedGemmException">The native call failed.</exception>
    public static void Unpad(DeviceTensor padded, DeviceTensor counts, DeviceTensor sorted, CudaStream? stream = null)
    {
        RequireFloat(padded, 3, nameof(padded));
        long numExperts = RequireCounts(counts, nameof(counts));
        long capacity = padded.Shape[1], cols = padded.Shape[2];
        if (padded.Shape[0] != numExperts)
        {
            throw new ArgumentException(
                $"padded {Format(padded)} must have {numExperts} experts, one per entry of counts.", nameof(padded));
        }

        RequireDType(sorted, padded.DType, 2, nameof(sorted));
        RequireShape(sorted, nameof(sorted), sorted.Shape[0], cols);

        using var lease = new CallLease();
        using DeviceScope scope = EnterSharedDevice(lease, (padded, nameof(padded)), (counts, nameof(counts)), (sorted, nameof(sorted)));
        NativeStatus.Check(NativeMethods.gg_moe_unpad((void*)lease.Pointer(padded), (long*)lease.Pointer(counts), numExperts,
            capacity, cols, (void*)lease.Pointer(sorted), sorted.Shape[0], (GgDType)padded.DType, (void*)lease.Stream(stream)));
    }

    /// <summary>The largest of the device <paramref name="counts"/> (at least 0), written to the device.</summary>
    /// <param name="counts"><c>[numExperts]</c>, <see cref="DType.Int64"/>.</param>
    /// <param name="maxCount">Output: one <see cref="DType.Int64"/> element.</param>
    /// <param name="stream">The stream to run on; null for the ambient stream (<see cref="CudaStream.Current"/>).</param>
    /// <exception cref="ArgumentException">A shape or element type does not fit.</exception>
    /// <exception cref="GroupedGemmException">The native call failed.</exception>
    public static void MaxCount(DeviceTensor counts, DeviceTensor maxCount, CudaStream? stream = null)
    {
        long numExperts = RequireCounts(counts, nameof(counts));
        RequireScalar(maxCount, DType.Int64, nameof(maxCount));

        using var lease = new CallLease();
        using DeviceScope scope = EnterSharedDevice(lease, (counts, nameof(counts)), (maxCount, nameof(maxCount)));
        NativeStatus.Check(NativeMethods.gg_moe_max_count((long*)lease.Pointer(counts), numExperts,
            (long*)lease.Pointer(maxCount), (void*)lease.Stream(stream)));
    }

    /// <summary>Converts every element between float types (round to nearest even); shapes may differ, counts may not.</summary>
    /// <param name="source">The values, a float type.</param>
    /// <param name="destination">Output with as many elements, a float type (the same one copies).</param>
    /// <param name="stream">The stream to run on; null for the ambient stream (<see cref="CudaStream.Current"/>).</param>
    /// <exception cref="ArgumentException">An element type is not a float type, or the counts differ.</exception>
    /// <exception cref="GroupedGemmException">The native call failed.</exception>
    public static void Convert(DeviceTensor source, DeviceTensor destination, CudaStream? stream = null)
    {
        RequireFloat(source, nameof(source));
        RequireFloat(destination, nameof(destination));
        RequireCount(destination, source.ElementCount, nameof(destination));

        using var lease = new CallLease();
        using DeviceScope scope = EnterSharedDevice(lease, (source, nameof(source)), (destination, nameof(destination)));
        NativeStatus.Check(NativeMethods.gg_convert((void*)lease.Pointer(source), (GgDType)source.DType,
            (void*)lease.Pointer(destination), (GgDType)destination.DType, source.ElementCount, (void*)lease.Stream(stream)));
    }
}
