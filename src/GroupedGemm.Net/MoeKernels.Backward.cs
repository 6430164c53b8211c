using GroupedGemm.Interop;

namespace GroupedGemm;

/// <summary>
/// The backward kernels of the Mixture-of-Experts layer, for training: the gradients of the combine, the dispatch
/// gather, the activations (plain and gated), the expert biases, the router's top-k softmax, and a Switch-style
/// load-balancing loss with its gradient.
/// </summary>
/// <remarks>
/// Same contract as the forward kernels: host-side checks (an <see cref="ArgumentException"/> naming the argument and
/// its values), then the kernel is queued on <c>stream</c> with no host synchronisation and no allocation, so a whole
/// backward step can be captured in a CUDA graph. Sums run in fp32 in a fixed order (no atomics): results are
/// deterministic. Gradients that accumulate across the batch (routing weights, biases, the loss) are float32.
/// </remarks>
public static unsafe partial class MoeKernels
{
    /// <summary>
    /// Backward of <see cref="Combine"/>: for every slot <c>s = t · topK + j</c> routed to sorted row
    /// <c>r = slotRows[s]</c>, <c>expertOutputGradient[r, :] = weights[s] · outputGradient[t, :]</c> and
    /// <c>weightsGradient[s] = outputGradient[t, :] · expertOutput[r, :]</c>. A dropped slot (row -1) gets a weight
    /// gradient of 0 and writes no row; rows that no slot maps to are left as they are. The residual's gradient is
    /// <paramref name="outputGradient"/> itself.
    /// </summary>
    /// <param name="outputGradient">Gradient of the combine's output <c>[tokens, cols]</c>, a float type.</param>
    /// <param name="expertOutput">The forward's expert outputs <c>[tokens · topK, cols]</c>; may be null when <paramref name="weightsGradient"/> is.</param>
    /// <param name="slotRows">Slot → sorted row, <see cref="DType.Int32"/>, <c>tokens · topK</c> elements (from <see cref="SortByExpert"/>).</param>
    /// <param name="weights">The forward's routing weights <c>[tokens, topK]</c>, <see cref="DType.Float32"/>; may be null when <paramref name="expertOutputGradient"/> is.</param>
    /// <param name="expertOutputGradient">Output <c>[tokens · topK, cols]</c> of the element type of <paramref name="outputGradient"/>, or null; may be <paramref name="expertOutput"/> itself.</param>
    /// <param name="weightsGradient">Output <c>[tokens, topK]</c>, <see cref="DType.Float32"/>, or null.</param>
    /// <param name="stream">The stream to run on; null for the ambient stream (<see cref="CudaStream.Current"/>).</param>
    /// <exception cref="ArgumentException">A shape or element type does not fit, or both outputs are null.</exception>
    /// <exception cref="GroupedGemmException">The native call failed.</exception>
    public static void CombineBackward(DeviceTensor outputGradient, DeviceTensor? expertOutput, DeviceTensor slotRows,
        DeviceTensor? weights, DeviceTensor? expertOutputGradient, DeviceTensor? weightsGradient, CudaStream? stream = null)
    {
        RequireFloat(outputGradient, 2, nameof(outputGradient));
        if (expertOutputGradient is null && weightsGradient is null)
            throw new ArgumentException("expertOutputGradient and weightsGradient are both null: nothing to compute.", nameof(expertOutputGradient));
        if (expertOutputGradient is not null && weights is null)
            throw new ArgumentException("weights is required to compute expertOutputGradient.", nameof(weights));
        if (weightsGradient is not null && expertOutput is null)
            throw new ArgumentException("expertOutput is required to compute weightsGradient.", nameof(expertOutput));
        DType dtype = outputGradient.DType;
        long tokens = outputGradient.Shape[0], cols = outputGradient.Shape[1];
        DeviceTensor routing = (weights ?? weightsGradient)!;
        RequireDType(routing, DType.Float32, 2, weights is not null ? nameof(weights) : nameof(weightsGradient));
        long topK = routing.Shape[1];
        BackwardChecks.TopK(topK, routing, weights is not null ? nameof(weights) : nameof(weightsGradient));
        BackwardChecks.Shape(weights, DType.Float32, nameof(weights), tokens, topK);
        BackwardChecks.Shape(weightsGradient, DType.Float32, nameof(weightsGradient), tokens, topK);
        BackwardChecks.Elements(slotRows, DType.Int32, tokens * topK, nameof(slotRows));
        BackwardChecks.Shape(expertOutput, dtype, nameof(expertOutput), tokens * topK, cols);
        BackwardChecks.Shape(expertOutputGradient, dtype, nameof(expertOutputGradient), tokens * topK, cols);

        using var lease = new CallLease();
        using DeviceScope scope = EnterSharedDevice(lease, (outputGradient, nameof(outputGradient)), (expertOutput, nameof(expertOutput)),
            (slotRows, nameof(slotRows)), (weights, nameof(weights)), (expertOutputGradient, nameof(expertOutputGradient)),
            (weightsGradient, nameof(weightsGradient)));
        NativeStatus.Check(NativeMethods.gg_moe_combine_backward((void*)lease.Pointer(outputGradient), (void*)lease.Pointer(expertOutput),
            tokens * topK, (int*)lease.Pointer(slotRows), (float*)lease.Pointer(weights), tokens, (int)topK, cols,
            (void*)lease.Pointer(expertOutputGradient), (float*)lease.Pointer(weightsGradient), (GgDType)dtype,
            (void*)lease.Stream(stream)));
    }

    /// <summary>
    /// Backward of the dispatch gather (<see cref="GatherRows"/> with <c>index = sortedSlots</c> and
    /// <c>indexDivisor = topK</c>): <c>sourceGradient[t, :] (+)= Σ_j rowsGradient[slotRows[t · topK + j], :]</c>,
    /// summed in fp32 in slot order (deterministic). A slot row of -1 (a dropped token) adds nothing.
    /// </summary>
    /// <param name="rowsGradient">Gradient of the gathered rows <c>[rows, cols]</c>, a float type.</param>
    /// <param name="slotRows">Slot → sorted row, <see cref="DType.Int32"/>, <c>tokens · topK</c> elements.</param>
    /// <param name="topK">Slots per token.</param>
    /// <param name="sourceGradient">Output <c>[tokens, cols]</c>, the element type of <paramref name="rowsGradient"/>.</param>
    /// <param name="accumulate">Whether to add to <paramref name="sourceGradient"/> instead of overwriting it.</param>
    /// <param name="stream">The stream to run on; null for the ambient stream (<see cref="CudaStream.Current"/>).</param>
    /// <exception cref="ArgumentException">A shape or element type does not fit.</exception>
    /// <exception cref="GroupedGemmException">The native call failed.</exception>
    public static void GatherRowsBackward(DeviceTensor rowsGradient, DeviceTensor slotRows, int topK,
        DeviceTensor sourceGradient, bool accumulate = false, CudaStream? stream = null)
    {
        RequireFloat(rowsGradient, 2, nameof(rowsGradient));
        DType dtype = rowsGradient.DType;
        long cols = rowsGradient.Shape[1];
        RequireDType(sourceGradient, dtype, 2, nameof(sourceGradient));
        long tokens = sourceGradient.Shape[0];
        if (topK < 1) throw new ArgumentOutOfRangeException(nameof(topK), topK, "topK must be at least 1.");
        BackwardChecks.Shape(sourceGradient, dtype, nameof(sourceGradient), tokens, cols);
        // With no columns sourceGradient is empty whatever its tokens, and tokens · topK can pass int64 (and wrap).
        if (TensorShape.Product(tokens, topK) > long.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(topK), topK,
                $"{tokens} tokens (sourceGradient {Format(sourceGradient)}) · topK {topK} = {TensorShape.Product(tokens, topK)} slots, more than {long.MaxValue}.");
        }

        BackwardChecks.Elements(slotRows, DType.Int32, tokens * topK, nameof(slotRows));

        using var lease = new CallLease();
        using DeviceScope scope = EnterSharedDevice(lease, (rowsGradient, nameof(rowsGradient)), (slotRows, nameof(slotRows)),
            (sourceGradient, nameof(sourceGradient)));
        NativeStatus.Check(NativeMethods.gg_moe_gather_rows_backward((void*)lease.Pointer(rowsGradient), rowsGradient.Shape[0],
            (int*)lease.Pointer(slotRows), tokens, topK, cols, accumulate ? 1 : 0, (void*)lease.Pointer(sourceGradient), (GgDType)dtype,
            (void*)lease.Stream(stream)));
    }

    /// <summary>
    /// Backward of <see cref="BiasActivation"/> over sorted rows:
    /// <c>inputGradient = outputGradient · act'(x + bias[expert of row])</c>, from the pre-activation
    /// <paramref name="x"/> the forward was given (keep a copy: the forward works in place).
    /// </summary>
    /// <param name="x">The pre-activation <c>[rows, cols]</c>, a float type.</param>
    /// <param name="bias"><c>[numExperts, cols]</c> of the element type of <paramref name="x"/>, or null.</param>
    /// <param name="counts">Rows per expert <c>[numExperts]</c>, <see cref="DType.Int64"/>, on the device.</param>
    /// <param name="activation">The forward's activation.</param>
    /// <param name="outputGradient">Gradient of the activation's output <c>[rows, cols]</c>.</param>
    /// <param name="inputGradient">Output <c>[rows, cols]</c>; may be <paramref name="x"/> or <paramref name="outputGradient"/> itself.</param>
    /// <param name="stream">The stream to run on; null for the ambient stream (<see cref="CudaStream.Current"/>).</param>
    /// <exception cref="ArgumentException">A shape or element type does not fit.</exception>
    /// <exception cref="GroupedGemmException">The native call failed.</exception>
    public static void BiasActivationBackward(DeviceTensor x, DeviceTensor? bias, DeviceTensor counts, Activation activation,
        DeviceTensor outputGradient, DeviceTensor inputGradient, CudaStream? stream = null)
    {
        RequireFloat(x, 2, nameof(x));
        long numExperts = RequireCounts(counts, nameof(counts));
        ActivationBackward(x, x.Shape[0], x.Shape[1], bias, counts, 0, numExperts, activation, outputGradient, inputGradient, stream);
    }

    /// <summary>Backward of <see cref="BiasActivationPadded"/>: <see cref="BiasActivationBackward"/> on <c>[numExperts, capacity, cols]</c>.</summary>
    /// <param name="x">The pre-activation <c>[numExperts, capacity, cols]</c>, a float type.</param>
    /// <param name="bias"><c>[numExperts, cols]</c> of the element type of <paramref name="x"/>, or null.</param>
    /// <param name="activation">The forward's activation.</param>
    /// <param name="outputGradient">Gradient of the activation's output, the shape of <paramref name="x"/>.</param>
    /// <param name="inputGradient">Output, the shape of <paramref name="x"/>; may be <paramref name="x"/> or <paramref name="outputGradient"/> itself.</param>
    /// <param name="stream">The stream to run on; null for the ambient stream (<see cref="CudaStream.Current"/>).</param>
    /// <exception cref="ArgumentException">A shape or element type does not fit.</exception>
    /// <exception cref="GroupedGemmException">The native call failed.</exception>
    public static void BiasActivationBackwardPadded(DeviceTensor x, DeviceTensor? bias, Activation activation,
        DeviceTensor outputGradient, DeviceTensor inputGradient, CudaStream? stream = null)
    {
        (long numExperts, long capacity, long cols, long rows) = RequirePadded(x, nameof(x));
        ActivationBackward(x, rows, cols, bias, null, Math.Max(capacity, 1), numExperts, activation,
            outputGradient, inputGradient, stream);
    }

    /// <summary>
    /// Backward of <see cref="GatedActivation"/>: from the forward's <c>gateUp</c> (before the bias) and the gradient of
    /// its output, <c>gateUpGradient = [dy · up' · act'(gate'), dy · act(gate')]</c> (primes: with the bias added), in
    /// the forward's (gate | up) layout, ready as the output gradient of the first expert GEMM.
    /// </summary>
    /// <param name="gateUp">The forward's input <c>[rows, 2 · hidden]</c>, a float type.</param>
    /// <param name="bias"><c>[numExperts, 2 · hidden]</c> (gate | up), or null.</param>
    /// <param name="counts">Rows per expert <c>[numExperts]</c>, <see cref="DType.Int64"/>, on the device.</param>
    /// <param name="activation">The activation applied to the gate.</param>
    /// <param name="outputGradient">Gradient of the forward's output <c>[rows, hidden]</c>.</param>
    /// <param name="gateUpGradient">Output <c>[rows, 2 · hidden]</c>; may be <paramref name="gateUp"/> itself.</param>
    /// <param name="stream">The stream to run on; null for the ambient stream (<see cref="CudaStream.Current"/>).</param>
    /// <exception cref="ArgumentException">A shape or element type does not fit.</exception>
    /// <exception cref="GroupedGemmException">The native call failed.</exception>
    public static void GatedActivationBackward(DeviceTensor gateUp, DeviceTensor? bias, DeviceTensor counts,
        Activation activation, DeviceTensor outputGradient, DeviceTensor gateUpGradient, CudaStream? stream = null)
    {
        RequireFloat(gateUp, 2, nameof(gateUp));
        long numExperts = RequireCounts(counts, nameof(counts));
        GatedBackward(gateUp, gateUp.Shape[0], bias, counts, 0, numExperts, activation, outputGradient, gateUpGradient, stream);
    }

    /// <summary>Backward of <see cref="GatedActivationPadded"/>: <see cref="GatedActivationBackward"/> on <c>[numExperts, capacity, ·]</c>.</summary>
    /// <param name="gateUp">The forward's input <c>[numExperts, capacity, 2 · hidden]</c>, a float type.</param>
    /// <param name="bias"><c>[numExperts, 2 · hidden]</c> (gate | up), or null.</param>
    /// <param name="activation">The activation applied to the gate.</param>
    /// <param name="outputGradient">Gradient of the forward's output <c>[numExperts, capacity, hidden]</c>.</param>
    /// <param name="gateUpGradient">Output, the shape of <paramref name="gateUp"/>; may be <paramref name="gateUp"/> itself.</param>
    /// <param name="stream">The stream to run on; null for the ambient stream (<see cref="CudaStream.Current"/>).</param>
    /// <exception cref="ArgumentException">A shape or element type does not fit.</exception>
    /// <exception cref="GroupedGemmException">The native call failed.</exception>
    public static void GatedActivationBackwardPadded(DeviceTensor gateUp, DeviceTensor? bias, Activation activation,
        DeviceTensor outputGradient, DeviceTensor gateUpGradient, CudaStream? stream = null)
    {
        (long numExperts, long capacity, _, long rows) = RequirePadded(gateUp, nameof(gateUp));
        GatedBackward(gateUp, rows, bias, null, Math.Max(capacity, 1), numExperts, activation,
            outputGradient, gateUpGradient, stream);
    }

    /// <summary>
    /// Expert bias gradient over sorted rows: <c>biasGradient[e, :] (+)= Σ outputGradient[r, :]</c> over the rows
    /// <c>r</c> of expert <c>e</c> (counts clamped to the rows given; rows past the last expert's are ignored), in fp32,
    /// in a fixed order. An expert with no rows gets 0.
    /// </summary>
    /// <param name="outputGradient">Gradient of the biased output <c>[rows, cols]</c>, a float type.</param>
    /// <param name="counts">Rows per expert <c>[numExperts]</c>, <see cref="DType.Int64"/>, on the device.</param>
    /// <param name="biasGradient">Output <c>[numExperts, cols]</c>, <see cref="DType.Float32"/>.</param>
    /// <param name="accumulate">Whether to add to <paramref name="biasGradient"/> instead of overwriting it.</param>
    /// <param name="stream">The stream to run on; null for the ambient stream (<see cref="CudaStream.Current"/>).</param>
    /// <exception cref="ArgumentException">A shape or element type does not fit.</exception>
    /// <exception cref="GroupedGemmException">The native call failed.</exception>
    public static void BiasGradient(DeviceTensor outputGradient, DeviceTensor counts, DeviceTensor biasGradient,
        bool accumulate = false, CudaStream? stream = null)
    {
        RequireFloat(outputGradient, 2, nameof(outputGradient));
        long numExperts = RequireCounts(counts, nameof(counts));
        BiasGrad(outputGradient, outputGradient.Shape[0], outputGradient.Shape[1], counts, 0, numExperts, biasGradient,
            accumulate, stream);
    }

    /// <summary>Expert bias gradient over a padded batch: <c>biasGradient[e, :] (+)= Σ_i outputGradient[e, i, :]</c>.</summary>
    /// <param name="outputGradient">Gradient <c>[numExperts, capacity, cols]</c>, a float type.</param>
    /// <param name="biasGradient">Output <c>[numExperts, cols]</c>, <see cref="DType.Float32"/>.</param>
    /// <param name="accumulate">Whether to add to <paramref name="biasGradient"/> instead of overwriting it.</param>
    /// <param name="stream">The stream to run on; null for the ambient stream (<see cref="CudaStream.Current"/>).</param>
    /// <exception cref="ArgumentException">A shape or element type does not fit.</exception>
    /// <exception cref="GroupedGemmException">The native call failed.</exception>
    public static void BiasGradientPadded(DeviceTensor outputGradient, DeviceTensor biasGradient, bool accumulate = false,
        CudaStream? stream = null)
    {
        (long numExperts, long capacity, long cols, long rows) = RequirePadded(outputGradient, nameof(outputGradient));
        BiasGrad(outputGradient, rows, cols, null, Math.Max(capacity, 1), numExperts,
            biasGradient, accumulate, stream);
    }

    /// <summary>
    /// Backward of <see cref="TopKSoftmax"/> (the selection itself is not differentiated, as in PyTorch): the router
    /// logits' gradient from the gradient of the kept weights. With <c>c = Σ_j dw_j · w_j</c>: without
    /// renormalisation <c>dlogits[i] = p_i · (Σ_{j: experts_j = i} dw_j − c)</c> (p the softmax, recomputed from
    /// <paramref name="logits"/>); with it, <c>dlogits[i] = Σ_{j: experts_j = i} w_j · (dw_j − c)</c> (a softmax over
    /// the kept logits; <paramref name="logits"/> is not read). Slots with an expert id outside
    /// <c>[0, numExperts)</c> are ignored.
    /// </summary>
    /// <param name="logits">The forward's logits <c>[tokens, numExperts]</c>, a float type; may be null when <paramref name="renormalize"/> is true.</param>
    /// <param name="weights">The forward's weights <c>[tokens, topK]</c>, <see cref="DType.Float32"/>.</param>
    /// <param name="experts">The forward's experts <c>[tokens, topK]</c>, <see cref="DType.Int32"/>.</param>
    /// <param name="weightsGradient">Gradient of the weights <c>[tokens, topK]</c>, <see cref="DType.Float32"/> (from <see cref="CombineBackward"/>).</param>
    /// <param name="renormalize">Whether the forward renormalised the kept weights.</param>
    /// <param name="logitsGradient">Output <c>[tokens, numExperts]</c>, a float type (that of <paramref name="logits"/> when given).</param>
    /// <param name="stream">The stream to run on; null for the ambient stream (<see cref="CudaStream.Current"/>).</param>
    /// <exception cref="ArgumentException">A shape or element type does not fit.</exception>
    /// <exception cref="GroupedGemmException">The native call failed.</exception>
    public static void TopKSoftmaxBackward(DeviceTensor? logits, DeviceTensor weights, DeviceTensor experts,
        DeviceTensor weightsGradient, bool renormalize, DeviceTensor logitsGradient, CudaStream? stream = null)
    {
        RequireFloat(logitsGradient, 2, nameof(logitsGradient));
        long tokens = logitsGradient.Shape[0], numExperts = logitsGradient.Shape[1];
        if (logits is null && !renormalize)
            throw new ArgumentException("logits is required when the weights were not renormalised.", nameof(logits));
        BackwardChecks.Shape(logits, logitsGradient.DType, nameof(logits), tokens, numExperts);
        RequireDType(weights, DType.Float32, 2, nameof(weights));
        long topK = weights.Shape[1];
        BackwardChecks.TopK(topK, weights, nameof(weights), numExperts);
        BackwardChecks.Shape(weights, DType.Float32, nameof(weights), tokens, topK);
        BackwardChecks.Shape(experts, DType.Int32, nameof(experts), tokens, topK);
        BackwardChecks.Shape(weightsGradient, DType.Float32, nameof(weightsGradient), tokens, topK);

        using var lease = new CallLease();
        using DeviceScope scope = EnterSharedDevice(lease, (logits, nameof(logits)), (weights, nameof(weights)), (experts, nameof(experts)),
            (weightsGradient, nameof(weightsGradient)), (logitsGradient, nameof(logitsGradient)));
        NativeStatus.Check(NativeMethods.gg_moe_topk_softmax_backward((void*)lease.Pointer(logits), (float*)lease.Pointer(weights),
            (int*)lease.Pointer(experts), (float*)lease.Pointer(weightsGradient), tokens, numExperts, (int)topK, renormalize ? 1 : 0,
            (void*)lease.Pointer(logitsGradient), (GgDType)logitsGradient.DType, (void*)lease.Stream(stream)));
    }

    /// <summary>
    /// Switch-style load-balancing loss and its gradient w.r.t. the router logits. With <c>p = softmax(logits)</c>,
    /// <c>f_e = counts[e] / (tokens · topK)</c> (constant) and <c>P_e</c> the mean of <c>p[·, e]</c> over tokens:
    /// <c>loss = coefficient · numExperts · Σ_e f_e · P_e</c> and
    /// <c>logitsGradient[t, i] (+)= coefficient · numExperts / tokens · p[t, i] · (f_i − Σ_e f_e · p[t, e])</c>.
    /// The loss is summed in a fixed order (deterministic) on the device; nothing is read back.
    /// </summary>
    /// <param name="logits">Router logits <c>[tokens, numExperts]</c>, a float type.</param>
    /// <param name="counts">Routed slots per expert <c>[numExperts]</c>, <see cref="DType.Int64"/> (from <see cref="SortByExpert"/>).</param>
    /// <param name="topK">Slots per token.</param>
    /// <param name="coefficient">The loss weight (Switch uses 0.01).</param>
    /// <param name="loss">Output: one <see cref="DType.Float32"/> element, or null.</param>
    /// <param name="logitsGradient">Output <c>[tokens, numExperts]</c> of the element type of <paramref name="logits"/>, or null.</param>
    /// <param name="accumulate">Whether to add to <paramref name="logitsGradient"/> (e.g. after <see cref="TopKSoftmaxBackward"/>) instead of overwriting it.</param>
    /// <param name="stream">The stream to run on; null for the ambient stream (<see cref="CudaStream.Current"/>).</param>
    /// <exception cref="ArgumentException">A shape or element type does not fit, or both outputs are null.</exception>
    /// <exception cref="GroupedGemmException">The native call failed.</exception>
    public static void LoadBalancingLoss(DeviceTensor logits, DeviceTensor counts, int topK, float coefficient,
        DeviceTensor? loss, DeviceTensor? logitsGradient, bool accumulate = false, CudaStream? stream = null)
    {
        RequireFloat(logits, 2, nameof(logits));
        long tokens = logits.Shape[0], numExperts = logits.Shape[1];
        RequireDType(counts, DType.Int64, 1, nameof(counts));
        BackwardChecks.Shape(counts, DType.Int64, nameof(counts), numExperts);
        if (topK < 1 || topK > numExperts)
            throw new ArgumentOutOfRangeException(nameof(topK), topK, $"topK must be in [1, {numExperts}] for logits {Format(logits)}.");
        if (!float.IsFinite(coefficient))
            throw new ArgumentOutOfRangeException(nameof(coefficient), coefficient, "The coefficient must be finite.");
        if (loss is null && logitsGradient is null)
            throw new ArgumentException("loss and logitsGradient are both null: nothing to compute.", nameof(loss));
        if (loss is not null) BackwardChecks.Elements(loss, DType.Float32, 1, nameof(loss));
        BackwardChecks.Shape(logitsGradient, logits.DType, nameof(logitsGradient), tokens, numExperts);

        using var lease = new CallLease();
        using DeviceScope scope = EnterSharedDevice(lease, (logits, nameof(logits)), (counts, nameof(counts)), (loss, nameof(loss)),
            (logitsGradient, nameof(logitsGradient)));
        NativeStatus.Check(NativeMethods.gg_moe_aux_loss((void*)lease.Pointer(logits), (long*)lease.Pointer(counts), tokens, numExperts,
            topK, coefficient, (float*)lease.Pointer(loss), (void*)lease.Pointer(logitsGradient), accumulate ? 1 : 0,
            (GgDType)logits.DType, (void*)lease.Stream(stream)));
    }

    private static void ActivationBackward(DeviceTensor x, long rows, long cols, DeviceTensor? bias, DeviceTensor? counts,
        long rowsPerExpert, long numExperts, Activation activation, DeviceTensor outputGradient, DeviceTensor inputGradient,
        CudaStream? stream)
    {
        RequireActivation(activation);
        BackwardChecks.Shape(bias, x.DType, nameof(bias), numExperts, cols);
        BackwardChecks.SameShape(outputGradient, x, nameof(outputGradient), nameof(x));
        BackwardChecks.SameShape(inputGradient, x, nameof(inputGradient), nameof(x));

        using var lease = new CallLease();
        using DeviceScope scope = EnterSharedDevice(lease, (x, nameof(x)), (bias, nameof(bias)), (counts, nameof(counts)),
            (outputGradient, nameof(outputGradient)), (inputGradient, nameof(inputGradient)));
        NativeStatus.Check(NativeMethods.gg_moe_activation_backward((void*)lease.Pointer(x), (void*)lease.Pointer(bias),
            (long*)lease.Pointer(counts), rowsPerExpert, rows, cols, numExperts, (GgActivation)activation,
            (void*)lease.Pointer(outputGradient), (void*)lease.Pointer(inputGradient), (GgDType)x.DType, (void*)lease.Stream(stream)));
    }

    private static void GatedBackward(DeviceTensor gateUp, long rows, DeviceTensor? bias, DeviceTensor? counts,
        long rowsPerExpert, long numExperts, Activation activation, DeviceTensor outputGradient, DeviceTensor gateUpGradient,
        CudaStream? stream)
    {
        RequireActivation(activation);
        long width = gateUp.Shape[^1];
        if (width % 2 != 0)
            throw new ArgumentException($"gateUp is {Format(gateUp)}; its last dimension (gate | up) must be even.", nameof(gateUp));
        long hidden = width / 2;
        BackwardChecks.Shape(bias, gateUp.DType, nameof(bias), numExperts, width);
        long[] outputShape = gateUp.Shape.ToArray();
        outputShape[^1] = hidden;
        BackwardChecks.Shape(outputGradient, gateUp.DType, nameof(outputGradient), outputShape);
        BackwardChecks.SameShape(gateUpGradient, gateUp, nameof(gateUpGradient), nameof(gateUp));

        using var lease = new CallLease();
        using DeviceScope scope = EnterSharedDevice(lease, (gateUp, nameof(gateUp)), (bias, nameof(bias)), (counts, nameof(counts)),
            (outputGradient, nameof(outputGradient)), (gateUpGradient, nameof(gateUpGradient)));
        NativeStatus.Check(NativeMethods.gg_moe_gated_activation_backward((void*)lease.Pointer(gateUp), (void*)lease.Pointer(bias),
            (long*)lease.Pointer(counts), rowsPerExpert, rows, hidden, numExperts, (GgActivation)activation,
            (void*)lease.Pointer(outputGradient), (void*)lease.Pointer(gateUpGradient), (GgDType)gateUp.DType, (void*)lease.Stream(stream)));
    }

    private static void BiasGrad(DeviceTensor outputGradient, long rows, long cols, DeviceTensor? counts, long rowsPerExpert,
        long numExperts, DeviceTensor biasGradient, bool accumulate, CudaStream? stream)
    {
        BackwardChecks.Shape(biasGradient, DType.Float32, nameof(biasGradient), numExperts, cols);

        using var lease = new CallLease();
        using DeviceScope scope = EnterSharedDevice(lease, (outputGradient, nameof(outputGradient)), (counts, nameof(counts)),
            (biasGradient, nameof(biasGradient)));
        NativeStatus.Check(NativeMethods.gg_moe_bias_grad((void*)lease.Pointer(outputGradient), (long*)lease.Pointer(counts),
            rowsPerExpert, rows, cols, numExperts, accumulate ? 1 : 0, (float*)lease.Pointer(biasGradient),
            (GgDType)outputGradient.DType, (void*)lease.Stream(stream)));
    }
}
