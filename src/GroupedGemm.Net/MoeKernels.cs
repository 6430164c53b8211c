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
/// argument and the values), then queues its kernel on <c>stream</c> (null: the legacy default stream) and
/// returns without waiting. No method reads device data back to the host, so all of them can be captured in a
/// CUDA graph. All tensors must live on one device; the kernels run there. Float inputs may be
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
    /// <param name="stream">The stream to run on; null for the legacy default stream.</param>
    /// <exception cref="ArgumentException">A shape or element type does not fit.</exception>
    /// <exception cref="GroupedGemmException">The native call failed.</exception>
    public static void TopKSoftmax(DeviceTensor logits, DeviceTensor weights, DeviceTensor experts, bool renormalize,
        CudaStream? stream = null)
    {
        RequireFloat(logits, nameof(logits));
        RequireRank(logits, 2, nameof(logits));
        RequireDType(weights, DType.Float32, nameof(weights));
        RequireDType(experts, DType.Int32, nameof(experts));
        long tokens = logits.Shape[0], numExperts = logits.Shape[1];
        RequireRank(weights, 2, nameof(weights));
        long topK = weights.Shape[1];
        RequireShape(weights, nameof(weights), tokens, topK);
        RequireShape(experts, nameof(experts), tokens, topK);
        if (topK < 1 || topK > numExperts)
        {
            throw new ArgumentException(
                $"weights has {topK} columns (top-k) but top-k must be in [1, {numExperts}] for logits of shape {Format(logits)}.",
                nameof(weights));
        }

        int device = SameDevice(logits, nameof(logits), weights, nameof(weights), experts, nameof(experts));
        using var scope = DeviceScope.Enter(device);
        NativeStatus.Check(NativeMethods.gg_moe_topk_softmax((void*)logits.Pointer, (GgDType)logits.DType, tokens,
            numExperts, (int)topK, renormalize ? 1 : 0, (float*)weights.Pointer, (int*)experts.Pointer, Stream(stream)));
        KeepAlive(logits, weights, experts, stream);
    }

    /// <summary>Device workspace bytes <see cref="SortByExpert"/> needs for <paramref name="slots"/> routed slots.</summary>
    /// <param name="slots">Number of routed slots (tokens · topK).</param>
    /// <param name="numExperts">Number of experts.</param>
    /// <returns>The size in bytes (0 for no slots).</returns>
    /// <remarks>Asks the CUDA device that is current on the calling thread; use the same device for the sort.</remarks>
    public static long SortWorkspaceBytes(long slots, long numExperts)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slots);
        ArgumentOutOfRangeException.ThrowIfLessThan(numExperts, 1);
        NativeLibraryLoader.EnsureLoaded();
        NativeStatus.Check(NativeMethods.gg_moe_sort_workspace_size(slots, numExperts, out nuint bytes));
        return checked((long)bytes);
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
    /// <param name="stream">The stream to run on; null for the legacy default stream.</param>
    /// <exception cref="ArgumentException">A shape, element type or the workspace size does not fit.</exception>
    /// <exception cref="GroupedGemmException">The native call failed.</exception>
    public static void SortByExpert(DeviceTensor experts, DeviceTensor counts, DeviceTensor sortedSlots,
        DeviceTensor slotRows, DeviceTensor workspace, CudaStream? stream = null)
    {
        RequireDType(experts, DType.Int32, nameof(experts));
        RequireDType(counts, DType.Int64, nameof(counts));
        RequireRank(counts, 1, nameof(counts));
        RequireDType(sortedSlots, DType.Int32, nameof(sortedSlots));
        RequireDType(slotRows, DType.Int32, nameof(slotRows));
        ArgumentNullException.ThrowIfNull(workspace);
        workspace.ThrowIfDisposed();
        long slots = experts.ElementCount, numExperts = counts.Shape[0];
        if (numExperts < 1) throw new ArgumentException("counts must have at least one expert.", nameof(counts));
        RequireCount(sortedSlots, slots, nameof(sortedSlots));
        RequireCount(slotRows, slots, nameof(slotRows));

        int device = SameDevice(experts, nameof(experts), counts, nameof(counts), sortedSlots, nameof(sortedSlots),
            slotRows, nameof(slotRows), workspace, nameof(workspace));
        using var scope = DeviceScope.Enter(device);
        long needed = SortWorkspaceBytes(slots, numExperts);
        if (workspace.ByteCount < needed)
        {
            throw new ArgumentException(
                $"workspace holds {workspace.ByteCount} bytes but sorting {slots} slots over {numExperts} experts needs {needed}; " +
                $"use {nameof(AllocateSortWorkspace)}.", nameof(workspace));
        }

        NativeStatus.Check(NativeMethods.gg_moe_sort_by_expert((int*)experts.Pointer, slots, numExperts,
            (long*)counts.Pointer, (int*)sortedSlots.Pointer, (int*)slotRows.Pointer, (void*)workspace.Pointer,
            (nuint)workspace.ByteCount, Stream(stream)));
        KeepAlive(experts, counts, sortedSlots, slotRows, workspace, stream);
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
    /// <param name="stream">The stream to run on; null for the legacy default stream.</param>
    /// <exception cref="ArgumentException">A shape or element type does not fit.</exception>
    /// <exception cref="GroupedGemmException">The native call failed.</exception>
    public static void GatherRows(DeviceTensor source, DeviceTensor index, int indexDivisor, DeviceTensor destination,
        CudaStream? stream = null)
    {
        RequireFloat(source, nameof(source));
        RequireRank(source, 2, nameof(source));
        RequireDType(index, DType.Int32, nameof(index));
        RequireDType(destination, source.DType, nameof(destination));
        ArgumentOutOfRangeException.ThrowIfLessThan(indexDivisor, 1);
        long rows = index.ElementCount, cols = source.Shape[1];
        RequireShape(destination, nameof(destination), rows, cols);

        int device = SameDevice(source, nameof(source), index, nameof(index), destination, nameof(destination));
        using var scope = DeviceScope.Enter(device);
        NativeStatus.Check(NativeMethods.gg_moe_gather_rows((void*)source.Pointer, source.Shape[0], (int*)index.Pointer, indexDivisor,
            rows, cols, (void*)destination.Pointer, (GgDType)source.DType, Stream(stream)));
        KeepAlive(source, index, destination, stream);
    }

    /// <summary>
    /// In place on sorted rows: <c>x = act(x + bias[expert of row])</c>, the expert of a row following the device
    /// <paramref name="counts"/> (rows grouped by expert in order). Rows past the sum of the counts get no bias.
    /// </summary>
    /// <param name="x">Sorted rows <c>[rows, cols]</c>, a float type; overwritten.</param>
    /// <param name="bias"><c>[numExperts, cols]</c> of the element type of <paramref name="x"/>, or null for none.</param>
    /// <param name="counts"><c>[numExperts]</c>, <see cref="DType.Int64"/>, on the device.</param>
    /// <param name="activation">The activation.</param>
    /// <param name="stream">The stream to run on; null for the legacy default stream.</param>
    /// <exception cref="ArgumentException">A shape or element type does not fit.</exception>
    /// <exception cref="GroupedGemmException">The native call failed.</exception>
    public static void BiasActivation(DeviceTensor x, DeviceTensor? bias, DeviceTensor counts, Activation activation,
        CudaStream? stream = null)
    {
        RequireFloat(x, nameof(x));
        RequireRank(x, 2, nameof(x));
        long numExperts = RequireCounts(counts, nameof(counts));
        long rows = x.Shape[0], cols = x.Shape[1];
        RequireBias(bias, x.DType, numExperts, cols, nameof(bias));
        RequireActivation(activation);

        int device = SameDevice(x, nameof(x), counts, nameof(counts), bias, nameof(bias));
        using var scope = DeviceScope.Enter(device);
        NativeStatus.Check(NativeMethods.gg_moe_bias_activation((void*)x.Pointer, Ptr(bias), (long*)counts.Pointer, 0,
            rows, cols, numExperts, (GgActivation)activation, (GgDType)x.DType, Stream(stream)));
        KeepAlive(x, bias, counts, stream);
    }

    /// <summary>In place on a padded batch: <c>x[e] = act(x[e] + bias[e])</c> for every expert <c>e</c>.</summary>
    /// <param name="x">Padded rows <c>[numExperts, capacity, cols]</c>, a float type; overwritten.</param>
    /// <param name="bias"><c>[numExperts, cols]</c> of the element type of <paramref name="x"/>, or null for none.</param>
    /// <param name="activation">The activation.</param>
    /// <param name="stream">The stream to run on; null for the legacy default stream.</param>
    /// <exception cref="ArgumentException">A shape or element type does not fit.</exception>
    /// <exception cref="GroupedGemmException">The native call failed.</exception>
    public static void BiasActivationPadded(DeviceTensor x, DeviceTensor? bias, Activation activation,
        CudaStream? stream = null)
    {
        RequireFloat(x, nameof(x));
        RequireRank(x, 3, nameof(x));
        long numExperts = x.Shape[0], capacity = x.Shape[1], cols = x.Shape[2];
        if (numExperts < 1) throw new ArgumentException($"x {Format(x)} has no expert.", nameof(x));
        RequireBias(bias, x.DType, numExperts, cols, nameof(bias));
        RequireActivation(activation);

        int device = SameDevice(x, nameof(x), bias, nameof(bias));
        using var scope = DeviceScope.Enter(device);
        NativeStatus.Check(NativeMethods.gg_moe_bias_activation((void*)x.Pointer, Ptr(bias), null,
            Math.Max(capacity, 1), numExperts * capacity, cols, numExperts, (GgActivation)activation,
            (GgDType)x.DType, Stream(stream)));
        KeepAlive(x, bias, stream);
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
    /// <param name="stream">The stream to run on; null for the legacy default stream.</param>
    /// <exception cref="ArgumentException">A shape or element type does not fit.</exception>
    /// <exception cref="GroupedGemmException">The native call failed.</exception>
    public static void GatedActivation(DeviceTensor gateUp, DeviceTensor? bias, DeviceTensor counts,
        Activation activation, DeviceTensor output, CudaStream? stream = null)
    {
        RequireFloat(gateUp, nameof(gateUp));
        RequireRank(gateUp, 2, nameof(gateUp));
        long numExperts = RequireCounts(counts, nameof(counts));
        long rows = gateUp.Shape[0], hidden = GatedHidden(gateUp, nameof(gateUp));
        RequireBias(bias, gateUp.DType, numExperts, 2 * hidden, nameof(bias));
        RequireDType(output, gateUp.DType, nameof(output));
        RequireShape(output, nameof(output), rows, hidden);
        RequireActivation(activation);

        int device = SameDevice(gateUp, nameof(gateUp), counts, nameof(counts), output, nameof(output), bias, nameof(bias));
        using var scope = DeviceScope.Enter(device);
        NativeStatus.Check(NativeMethods.gg_moe_gated_activation((void*)gateUp.Pointer, Ptr(bias), (long*)counts.Pointer,
            0, rows, hidden, numExperts, (GgActivation)activation, (void*)output.Pointer, (GgDType)gateUp.DType,
            Stream(stream)));
        KeepAlive(gateUp, bias, counts, output, stream);
    }

    /// <summary>Gated epilogue on a padded batch: <c>output[e] = act(gate[e] + biasGate[e]) · (up[e] + biasUp[e])</c>.</summary>
    /// <param name="gateUp">Padded rows <c>[numExperts, capacity, 2 · hidden]</c>, a float type.</param>
    /// <param name="bias"><c>[numExperts, 2 · hidden]</c> (gate | up) of the element type of <paramref name="gateUp"/>, or null.</param>
    /// <param name="activation">The activation applied to the gate.</param>
    /// <param name="output">Output <c>[numExperts, capacity, hidden]</c>, the element type of <paramref name="gateUp"/>.</param>
    /// <param name="stream">The stream to run on; null for the legacy default stream.</param>
    /// <exception cref="ArgumentException">A shape or element type does not fit.</exception>
    /// <exception cref="GroupedGemmException">The native call failed.</exception>
    public static void GatedActivationPadded(DeviceTensor gateUp, DeviceTensor? bias, Activation activation,
        DeviceTensor output, CudaStream? stream = null)
    {
        RequireFloat(gateUp, nameof(gateUp));
        RequireRank(gateUp, 3, nameof(gateUp));
        long numExperts = gateUp.Shape[0], capacity = gateUp.Shape[1], hidden = GatedHidden(gateUp, nameof(gateUp));
        if (numExperts < 1) throw new ArgumentException($"gateUp {Format(gateUp)} has no expert.", nameof(gateUp));
        RequireBias(bias, gateUp.DType, numExperts, 2 * hidden, nameof(bias));
        RequireDType(output, gateUp.DType, nameof(output));
        RequireShape(output, nameof(output), numExperts, capacity, hidden);
        RequireActivation(activation);

        int device = SameDevice(gateUp, nameof(gateUp), output, nameof(output), bias, nameof(bias));
        using var scope = DeviceScope.Enter(device);
        NativeStatus.Check(NativeMethods.gg_moe_gated_activation((void*)gateUp.Pointer, Ptr(bias), null,
            Math.Max(capacity, 1), numExperts * capacity, hidden, numExperts, (GgActivation)activation,
            (void*)output.Pointer, (GgDType)gateUp.DType, Stream(stream)));
        KeepAlive(gateUp, bias, output, stream);
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
    /// <param name="stream">The stream to run on; null for the legacy default stream.</param>
    /// <exception cref="ArgumentException">A shape or element type does not fit.</exception>
    /// <exception cref="GroupedGemmException">The native call failed.</exception>
    public static void Combine(DeviceTensor expertOutput, DeviceTensor slotRows, DeviceTensor weights,
        DeviceTensor? residual, DeviceTensor output, CudaStream? stream = null)
    {
        RequireFloat(expertOutput, nameof(expertOutput));
        RequireRank(expertOutput, 2, nameof(expertOutput));
        RequireDType(weights, DType.Float32, nameof(weights));
        RequireRank(weights, 2, nameof(weights));
        RequireDType(slotRows, DType.Int32, nameof(slotRows));
        RequireDType(output, expertOutput.DType, nameof(output));
        long tokens = weights.Shape[0], topK = weights.Shape[1], cols = expertOutput.Shape[1];
        if (topK < 1 || topK > int.MaxValue)
            throw new ArgumentException($"weights {Format(weights)} must have between 1 and {int.MaxValue} columns (top-k).", nameof(weights));
        RequireCount(slotRows, tokens * topK, nameof(slotRows));
        RequireShape(expertOutput, nameof(expertOutput), tokens * topK, cols);
        RequireShape(output, nameof(output), tokens, cols);
        if (residual is not null)
        {
            RequireDType(residual, expertOutput.DType, nameof(residual));
            RequireShape(residual, nameof(residual), tokens, cols);
        }

        int device = SameDevice(expertOutput, nameof(expertOutput), slotRows, nameof(slotRows), weights, nameof(weights),
            output, nameof(output), residual, nameof(residual));
        using var scope = DeviceScope.Enter(device);
        NativeStatus.Check(NativeMethods.gg_moe_combine((void*)expertOutput.Pointer, expertOutput.Shape[0], (int*)slotRows.Pointer,
            (float*)weights.Pointer, Ptr(residual), tokens, (int)topK, cols, (void*)output.Pointer,
            (GgDType)expertOutput.DType, Stream(stream)));
        KeepAlive(expertOutput, slotRows, weights, residual, output, stream);
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
    /// <param name="stream">The stream to run on; null for the legacy default stream.</param>
    /// <exception cref="ArgumentException">A shape or element type does not fit.</exception>
    /// <exception cref="GroupedGemmException">The native call failed.</exception>
    public static void Pad(DeviceTensor sorted, DeviceTensor counts, DeviceTensor padded, DeviceTensor? dropped = null,
        CudaStream? stream = null)
    {
        RequireFloat(sorted, nameof(sorted));
        RequireRank(sorted, 2, nameof(sorted));
        long numExperts = RequireCounts(counts, nameof(counts));
        RequireDType(padded, sorted.DType, nameof(padded));
        RequireRank(padded, 3, nameof(padded));
        long capacity = padded.Shape[1], cols = sorted.Shape[1];
        RequireShape(padded, nameof(padded), numExperts, capacity, cols);
        if (dropped is not null)
        {
            RequireDType(dropped, DType.Int64, nameof(dropped));
            RequireCount(dropped, 1, nameof(dropped));
        }

        int device = SameDevice(sorted, nameof(sorted), counts, nameof(counts), padded, nameof(padded), dropped, nameof(dropped));
        using var scope = DeviceScope.Enter(device);
        NativeStatus.Check(NativeMethods.gg_moe_pad((void*)sorted.Pointer, sorted.Shape[0], (long*)counts.Pointer, numExperts, capacity,
            cols, (void*)padded.Pointer, dropped is null ? null : (long*)dropped.Pointer, (GgDType)sorted.DType,
            Stream(stream)));
        KeepAlive(sorted, counts, padded, dropped, stream);
    }

    /// <summary>
    /// Padded → grouped: <c>[numExperts, capacity, cols]</c> back to sorted rows; the rows of an expert past
    /// <c>capacity</c> (those <see cref="Pad"/> dropped) become zero. Counts that sum to more than the rows of
    /// <paramref name="sorted"/> are clamped to them: nothing outside <paramref name="sorted"/> is written.
    /// </summary>
    /// <param name="padded">Padded rows <c>[numExperts, capacity, cols]</c>, a float type.</param>
    /// <param name="counts"><c>[numExperts]</c>, <see cref="DType.Int64"/>, on the device.</param>
    /// <param name="sorted">Output <c>[rows, cols]</c> (rows ≥ the sum of the counts), the element type of <paramref name="padded"/>.</param>
    /// <param name="stream">The stream to run on; null for the legacy default stream.</param>
    /// <exception cref="ArgumentException">A shape or element type does not fit.</exception>
    /// <exception cref="GroupedGemmException">The native call failed.</exception>
    public static void Unpad(DeviceTensor padded, DeviceTensor counts, DeviceTensor sorted, CudaStream? stream = null)
    {
        RequireFloat(padded, nameof(padded));
        RequireRank(padded, 3, nameof(padded));
        long numExperts = RequireCounts(counts, nameof(counts));
        long capacity = padded.Shape[1], cols = padded.Shape[2];
        if (padded.Shape[0] != numExperts)
        {
            throw new ArgumentException(
                $"padded {Format(padded)} must have {numExperts} experts, one per entry of counts.", nameof(padded));
        }

        RequireDType(sorted, padded.DType, nameof(sorted));
        RequireRank(sorted, 2, nameof(sorted));
        RequireShape(sorted, nameof(sorted), sorted.Shape[0], cols);

        int device = SameDevice(padded, nameof(padded), counts, nameof(counts), sorted, nameof(sorted));
        using var scope = DeviceScope.Enter(device);
        NativeStatus.Check(NativeMethods.gg_moe_unpad((void*)padded.Pointer, (long*)counts.Pointer, numExperts, capacity,
            cols, (void*)sorted.Pointer, sorted.Shape[0], (GgDType)padded.DType, Stream(stream)));
        KeepAlive(padded, counts, sorted, stream);
    }

    /// <summary>The largest of the device <paramref name="counts"/> (at least 0), written to the device.</summary>
    /// <param name="counts"><c>[numExperts]</c>, <see cref="DType.Int64"/>.</param>
    /// <param name="maxCount">Output: one <see cref="DType.Int64"/> element.</param>
    /// <param name="stream">The stream to run on; null for the legacy default stream.</param>
    /// <exception cref="ArgumentException">A shape or element type does not fit.</exception>
    /// <exception cref="GroupedGemmException">The native call failed.</exception>
    public static void MaxCount(DeviceTensor counts, DeviceTensor maxCount, CudaStream? stream = null)
    {
        long numExperts = RequireCounts(counts, nameof(counts));
        RequireDType(maxCount, DType.Int64, nameof(maxCount));
        RequireCount(maxCount, 1, nameof(maxCount));

        int device = SameDevice(counts, nameof(counts), maxCount, nameof(maxCount));
        using var scope = DeviceScope.Enter(device);
        NativeStatus.Check(NativeMethods.gg_moe_max_count((long*)counts.Pointer, numExperts, (long*)maxCount.Pointer,
            Stream(stream)));
        KeepAlive(counts, maxCount, stream);
    }

    /// <summary>Converts every element between float types (round to nearest even); shapes may differ, counts may not.</summary>
    /// <param name="source">The values, a float type.</param>
    /// <param name="destination">Output with as many elements, a float type (the same one copies).</param>
    /// <param name="stream">The stream to run on; null for the legacy default stream.</param>
    /// <exception cref="ArgumentException">An element type is not a float type, or the counts differ.</exception>
    /// <exception cref="GroupedGemmException">The native call failed.</exception>
    public static void Convert(DeviceTensor source, DeviceTensor destination, CudaStream? stream = null)
    {
        RequireFloat(source, nameof(source));
        RequireFloat(destination, nameof(destination));
        RequireCount(destination, source.ElementCount, nameof(destination));

        int device = SameDevice(source, nameof(source), destination, nameof(destination));
        using var scope = DeviceScope.Enter(device);
        NativeStatus.Check(NativeMethods.gg_convert((void*)source.Pointer, (GgDType)source.DType,
            (void*)destination.Pointer, (GgDType)destination.DType, source.ElementCount, Stream(stream)));
        KeepAlive(source, destination, stream);
    }

    // ---- validation helpers: every message names the argument and the values --------------------------------

    /// <summary>
    /// Keeps the tensors (and the stream) of a native call reachable until the call has returned: the call only sees
    /// raw pointers, so without this a temporary such as <c>DeviceTensor.FromArray(x)</c> could be finalized, and its
    /// memory freed, between reading its pointer and the kernel launch.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void KeepAlive(object? a, object? b = null, object? c = null, object? d = null, object? e = null,
        object? f = null)
    {
        GC.KeepAlive(a);
        GC.KeepAlive(b);
        GC.KeepAlive(c);
        GC.KeepAlive(d);
        GC.KeepAlive(e);
        GC.KeepAlive(f);
    }

    private static void* Stream(CudaStream? stream) => (void*)(stream?.Handle ?? 0);

    private static void* Ptr(DeviceTensor? tensor) => tensor is null ? null : (void*)tensor.Pointer;

    private static string Format(DeviceTensor t) => $"{t.DType} {TensorShape.Format(t.Shape)}";

    private static void RequireLive(DeviceTensor tensor, string name)
    {
        ArgumentNullException.ThrowIfNull(tensor, name);
        tensor.ThrowIfDisposed();
    }

    private static void RequireFloat(DeviceTensor tensor, string name)
    {
        RequireLive(tensor, name);
        if (!tensor.DType.IsFloatingPoint())
            throw new ArgumentException($"{name} is {Format(tensor)}; a float type (Float32, Float16, BFloat16) is required.", name);
    }

    private static void RequireDType(DeviceTensor tensor, DType dtype, string name)
    {
        RequireLive(tensor, name);
        if (tensor.DType != dtype)
            throw new ArgumentException($"{name} is {Format(tensor)} but must be {dtype}.", name);
    }

    private static void RequireRank(DeviceTensor tensor, int rank, string name)
    {
        if (tensor.Rank != rank)
            throw new ArgumentException($"{name} is {Format(tensor)} but must have {rank} dimensions.", name);
    }

    private static void RequireShape(DeviceTensor tensor, string name, params long[] shape)
    {
        if (!tensor.Shape.SequenceEqual(shape))
            throw new ArgumentException($"{name} is {Format(tensor)} but must have shape {TensorShape.Format(shape)}.", name);
    }

    private static void RequireCount(DeviceTensor tensor, long count, string name)
    {
        RequireLive(tensor, name);
        if (tensor.ElementCount != count)
            throw new ArgumentException($"{name} is {Format(tensor)} ({tensor.ElementCount} elements) but must have {count} elements.", name);
    }

    private static long RequireCounts(DeviceTensor counts, string name)
    {
        RequireDType(counts, DType.Int64, name);
        RequireRank(counts, 1, name);
        if (counts.Shape[0] < 1) throw new ArgumentException($"{name} is {Format(counts)}; at least one expert is required.", name);
        return counts.Shape[0];
    }

    private static void RequireBias(DeviceTensor? bias, DType dtype, long numExperts, long cols, string name)
    {
        if (bias is null) return;
        RequireDType(bias, dtype, name);
        RequireShape(bias, name, numExperts, cols);
    }

    private static long GatedHidden(DeviceTensor gateUp, string name)
    {
        long width = gateUp.Shape[^1];
        if (width % 2 != 0)
            throw new ArgumentException($"{name} is {Format(gateUp)}; its last dimension (gate | up) must be even.", name);
        return width / 2;
    }

    private static void RequireActivation(Activation activation)
    {
        if (!Enum.IsDefined(activation))
            throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown activation.");
    }

    // All tensors (nulls skipped) must be on one device; returns it.
    private static int SameDevice(params (DeviceTensor? Tensor, string Name)[] tensors)
    {
        int? device = null;
        string first = "";
        foreach ((DeviceTensor? tensor, string name) in tensors)
        {
            if (tensor is null) continue;
            tensor.ThrowIfDisposed();
            if (device is null)
            {
                device = tensor.Device;
                first = name;
            }
            else if (tensor.Device != device)
            {
                throw new ArgumentException(
                    $"{name} is on device {tensor.Device} but {first} is on device {device}; all tensors must share one device.", name);
            }
        }

        return device ?? throw new ArgumentException("No tensor given.", nameof(tensors));
    }

    private static int SameDevice(DeviceTensor? a, string an, DeviceTensor? b, string bn) => SameDevice((a, an), (b, bn));

    private static int SameDevice(DeviceTensor? a, string an, DeviceTensor? b, string bn, DeviceTensor? c, string cn) =>
        SameDevice((a, an), (b, bn), (c, cn));

    private static int SameDevice(DeviceTensor? a, string an, DeviceTensor? b, string bn, DeviceTensor? c, string cn,
        DeviceTensor? d, string dn) => SameDevice((a, an), (b, bn), (c, cn), (d, dn));

    private static int SameDevice(DeviceTensor? a, string an, DeviceTensor? b, string bn, DeviceTensor? c, string cn,
        DeviceTensor? d, string dn, DeviceTensor? e, string en) => SameDevice((a, an), (b, bn), (c, cn), (d, dn), (e, en));
}
