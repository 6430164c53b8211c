using GroupedGemm.Interop;

namespace GroupedGemm;

/// <summary>
/// A native grouped-GEMM handle on one device: a cuBLAS handle, a device workspace and a default backend.
/// Methods follow tgale96/grouped_gemm <c>gmm(a, b, batch_sizes, trans_a, trans_b)</c>; rows of <c>a</c> are
/// grouped by expert in order, <c>batchSizes[e]</c> rows each.
/// </summary>
/// <remarks>
/// A context must not be used by two threads at once, nor for two calls in flight on different streams: give
/// each thread (or stream) its own context (<see cref="Ops"/> keeps one per thread and device). Every argument
/// is checked before the native call; an <see cref="ArgumentException"/> names the argument and the numbers.
/// Results are queued on the options' stream, or on the ambient stream of the context's device
/// (<see cref="CudaStream.Current"/>) when the options name none; synchronise it before reading them on the host.
/// Outputs the methods allocate come from <see cref="Allocator"/> (or <see cref="DeviceAllocator.Default"/>), for that
/// stream.
/// Each call holds the context, its tensors and its stream until it returns, so a <see cref="Dispose"/> on another
/// thread takes effect after the call; a <see cref="CudaGraph"/> that captured calls of this context holds it (and
/// its workspace) until the graph is disposed.
/// </remarks>
public sealed unsafe partial class GroupedGemmContext : IDisposable
{
    private readonly NativeHandle _handle;
    private GemmBackend _backend = GemmBackend.Auto;

    /// <summary>Creates a context on <paramref name="device"/>, with workspace reserved for 1024 experts.</summary>
    /// <param name="device">The CUDA device ordinal.</param>
    /// <exception cref="CudaUnavailableException">No CUDA driver or no such device.</exception>
    public GroupedGemmContext(int device = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(device);
        NativeLibraryLoader.EnsureLoaded();
        NativeStatus.Check(NativeMethods.gg_handle_create(out nint handle, device));
        // gg_handle_destroy switches to the handle's device itself.
        _handle = new NativeHandle(handle, NativeHandleKind.GemmHandle, device: -1);
        Device = device;
    }

    /// <summary>The device this context runs on; every tensor passed must live there.</summary>
    public int Device { get; }

    /// <summary>
    /// Where the outputs this context allocates (<c>Gmm</c>, <c>GmmWeightGradient</c>, <c>GmmBackward</c>, <c>Gemm</c>)
    /// come from; null (the default) for <see cref="DeviceAllocator.Default"/>. A framework sets its own allocator here
    /// to keep all device memory in its pool.
    /// </summary>
    public IDeviceAllocator? Allocator { get; set; }

    /// <summary>The <c>gg_handle_t</c> value, for calling the C ABI directly.</summary>
    public nint Handle => _handle.DangerousGetHandle();

    /// <summary>The backend used by calls whose options say <see cref="GemmBackend.Auto"/>; Auto (the default) lets the library choose.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value set is not one of <see cref="GemmBackend"/>'s.</exception>
    public GemmBackend Backend
    {
        get => _backend;
        set
        {
            GmmValidation.CheckBackend(value, nameof(value));
            using var lease = new CallLease();
            NativeStatus.Check(NativeMethods.gg_handle_set_backend(lease.Handle(_handle, this), (GgBackend)value));
            _backend = value;
        }
    }

    /// <summary>
    /// Grows the workspace so that calls with up to <paramref name="maxExperts"/> experts never allocate. Call it
    /// before capturing a graph with more than 1024 experts.
    /// </summary>
    /// <param name="maxExperts">The largest expert count to be used, 1 to 2^31 - 1 (no backend takes more).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxExperts"/> is outside [1, 2^31 - 1].</exception>
    /// <exception cref="GroupedGemmException">The workspace would not fit the device (the native message gives the
    /// sizes), or the native call failed.</exception>
    public void Reserve(long maxExperts)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxExperts);
        // The native call refuses it too (and a workspace larger than the device), but not by argument.
        if (maxExperts > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(maxExperts), maxExperts, $"no backend takes more than {int.MaxValue} experts.");
        using var lease = new CallLease();
        NativeStatus.Check(NativeMethods.gg_handle_reserve(lease.Handle(_handle, this), maxExperts));
    }

    /// <summary>
    /// Forward grouped GEMM: a [M, K] · b [E, K, N] (or b [E, N, K] with <paramref name="transB"/>) → c [M, N].
    /// With device batch sizes the call does not synchronise and allocates nothing inside the native call (to capture
    /// it in a CUDA graph, allocate the output first and use
    /// <see cref="GmmInto(DeviceTensor, DeviceTensor, BatchSizes, DeviceTensor, bool, bool, bool, GmmOptions?)"/>).
    /// </summary>
    /// <param name="a">The rows, grouped by expert: [M, K].</param>
    /// <param name="b">The expert weights: [E, K, N], or [E, N, K] when <paramref name="transB"/>.</param>
    /// <param name="batchSizes">Rows per expert, E values, non-negative, summing to M: a <c>long[]</c> or an Int64 device tensor.</param>
    /// <param name="transB">Whether <paramref name="b"/> is stored transposed.</param>
    /// <param name="options">Backend, stream, count checking; null for defaults.</param>
    /// <returns>A new [M, N] tensor of the operands' type (the caller disposes it).</returns>
    public DeviceTensor Gmm(DeviceTensor a, DeviceTensor b, BatchSizes batchSizes, bool transB = false, GmmOptions? options = null)
    {
        GmmDims dims = GmmValidation.Validate(a, b, null, batchSizes, false, transB, Device, GmmNames.Context, options);
        return RunIntoNew(a, b, batchSizes, dims, false, transB, options);
    }

    /// <summary>
    /// Grouped GEMM into an existing output, any of the three forms. With device batch sizes it can be captured in a
    /// CUDA graph (without <see cref="GmmOptions.CheckCounts"/>).
    /// </summary>
    /// <param name="a">[M, K].</param>
    /// <param name="b">[E, K, N]; [E, N, K] with <paramref name="transB"/>; [M, N] with <paramref name="transA"/>.</param>
    /// <param name="batchSizes">Rows per expert, E values, non-negative, summing to M: a <c>long[]</c> or an Int64 device tensor.</param>
    /// <param name="c">The output: [M, N], or [E, K, N] with <paramref name="transA"/>.</param>
    /// <param name="transA">Weight-gradient form: c[e] = a_eᵀ · b_e.</param>
    /// <param name="transB">b stored transposed (not with <paramref name="transA"/>).</param>
    /// <param name="accumulate">Add to c instead of overwriting it; an expert with no rows then leaves its part unchanged.</param>
    /// <param name="options">Backend, stream, count checking; null for defaults.</param>
    public void GmmInto(DeviceTensor a, DeviceTensor b, BatchSizes batchSizes, DeviceTensor c,
        bool transA = false, bool transB = false, bool accumulate = false, GmmOptions? options = null)
    {
        GmmDims dims = GmmValidation.Validate(a, b, c, batchSizes, transA, transB, Device, GmmNames.Context, options);
        Run(a, b, c, batchSizes, dims, transA, transB, accumulate, options);
    }

    /// <summary>Weight gradient (trans_a): a [M, K], b [M, N] → c [E, K, N], c[e] = a_eᵀ · b_e.</summary>
    /// <param name="a">[M, K], rows grouped by expert.</param>
    /// <param name="b">[M, N], rows grouped the same way.</param>
    /// <param name="batchSizes">Rows per expert, E values, summing to M: a <c>long[]</c> or an Int64 device tensor.</param>
    /// <param name="options">Backend, stream, count checking; null for defaults.</param>
    /// <returns>A new [E, K, N] tensor; experts with no rows get zeros.</returns>
    public DeviceTensor GmmWeightGradient(DeviceTensor a, DeviceTensor b, BatchSizes batchSizes, GmmOptions? options = null)
    {
        GmmDims dims = GmmValidation.Validate(a, b, null, batchSizes, true, false, Device, GmmNames.Context, options);
        return RunIntoNew(a, b, batchSizes, dims, true, false, options);
    }

    /// <summary>
    /// Gradients of y = gmm(x, w, batchSizes, transB) by tgale96's formulas:
    /// dX = gmm(dy, w, batchSizes, trans_b = !transB); dW = gmm(x, dy, batchSizes, trans_a) ([E, K, N]), or
    /// gmm(dy, x, batchSizes, trans_a) ([E, N, K]) when <paramref name="transB"/>.
    /// </summary>
    /// <param name="x">The forward input [M, K].</param>
    /// <param name="w">The forward weights [E, K, N], or [E, N, K] when <paramref name="transB"/>.</param>
    /// <param name="dy">The gradient of the forward output [M, N].</param>
    /// <param name="batchSizes">Rows per expert, E values, summing to M: a <c>long[]</c> or an Int64 device tensor.</param>
    /// <param name="transB">Whether the forward call used transB.</param>
    /// <param name="options">Backend, stream, count checking; null for defaults.</param>
    /// <returns>dX [M, K] and dW shaped like <paramref name="w"/>.</returns>
    public (DeviceTensor DX, DeviceTensor DW) GmmBackward(
        DeviceTensor x, DeviceTensor w, DeviceTensor dy, BatchSizes batchSizes, bool transB = false, GmmOptions? options = null)
    {
        GmmDims dims = GmmValidation.Validate(x, w, null, batchSizes, false, transB, Device, BackwardNames, options);
        ValidateGradient(dy, dims, Device);
        using var outputs = new PendingOutputs();
        DeviceTensor dx = outputs.Allocate(Device, dims.DType, [dims.M, dims.K], options?.Stream, Allocator);
        DeviceTensor dw = outputs.Allocate(Device, dims.DType, [.. w.Shape], options?.Stream, Allocator);
        GmmBackwardInto(x, w, dy, batchSizes, dx, dw, transB: transB, accumulate: false, options: options);
        return outputs.HandOver((dx, dw));
    }

    /// <summary>
    /// The gradients of y = gmm(x, w, batchSizes, transB) into outputs of the caller's, only those asked for (tgale96's
    /// formulas, as <see cref="GmmBackward"/>): a null <paramref name="dx"/> or <paramref name="dw"/> is not computed,
    /// so a frozen weight or an input that needs no gradient costs nothing. With <paramref name="accumulate"/> the
    /// gradients are added to the outputs (gradient accumulation over micro-batches; an expert with no rows leaves its
    /// part of dW unchanged) instead of overwriting them. With device batch sizes it can be captured in a CUDA graph.
    /// </summary>
    /// <param name="x">The forward input [M, K].</param>
    /// <param name="w">The forward weights [E, K, N], or [E, N, K] when <paramref name="transB"/>.</param>
    /// <param name="dy">The gradient of the forward output [M, N].</param>
    /// <param name="batchSizes">Rows per expert, E values, summing to M: a <c>long[]</c> or an Int64 device tensor.</param>
    /// <param name="dx">Where dX [M, K] goes; null to skip it.</param>
    /// <param name="dw">Where dW (shaped like <paramref name="w"/>) goes; null to skip it.</param>
    /// <param name="transB">Whether the forward call used transB.</param>
    /// <param name="accumulate">Add to <paramref name="dx"/> and <paramref name="dw"/> instead of overwriting them.</param>
    /// <param name="options">Backend, stream (null: the ambient stream), count checking; null for defaults.</param>
    /// <exception cref="ArgumentException">A shape or element type does not fit, or both outputs are null.</exception>
    public void GmmBackwardInto(DeviceTensor x, DeviceTensor w, DeviceTensor dy, BatchSizes batchSizes,
        DeviceTensor? dx, DeviceTensor? dw, bool transB = false, bool accumulate = false, GmmOptions? options = null)
    {
        GmmDims dims = GmmValidation.Validate(x, w, null, batchSizes, false, transB, Device, BackwardNames, options);
        ValidateGradient(dy, dims, Device);
        if (dx is null && dw is null)
            throw new ArgumentException("Neither dx nor dw was given: there is nothing to compute.", nameof(dx));
        ValidateOutput(dx, dims.DType, [dims.M, dims.K], nameof(dx));
        ValidateOutput(dw, dims.DType, [.. w.Shape], nameof(dw));
        // Every check before the first product: the inner calls would name their own parameters (a, c), and a refusal
        // of dw after dx was computed would leave dx written. The two products run one after the other, so neither
        // gradient may alias an input (the second product would read what the first wrote) or the other gradient.
        foreach ((DeviceTensor? grad, string name) in new[] { (dx, nameof(dx)), (dw, nameof(dw)) })
        {
            if (grad is null) continue;
            GmmValidation.CheckDevice(grad, Device, name);
            foreach ((DeviceTensor? other, string otherName) in new[] { (x, nameof(x)), (w, nameof(w)), (dy, nameof(dy)), (dx, nameof(dx)) })
            {
                if (ReferenceEquals(grad, other)) continue;
                GmmValidation.CheckApart(grad, name, other, otherName, "a gradient must not alias an input or the other gradient.");
            }
        }

        if (dx is not null) GmmInto(dy, w, batchSizes, dx, transA: false, transB: !transB, accumulate: accumulate, options: options);
        if (dw is null) return;
        if (transB) GmmInto(dy, x, batchSizes, dw, transA: true, transB: false, accumulate: accumulate, options: options);
        else GmmInto(x, dy, batchSizes, dw, transA: true, transB: false, accumulate: accumulate, options: options);
    }

    /// <summary>
    /// Disposes the native handle once calls in flight on other threads and graphs that captured its calls are
    /// done with it. Synchronise the streams it used first.
    /// </summary>
    public void Dispose() => _handle.Dispose();

    internal static GmmNames BackwardNames { get; } = new("x", "w", "batchSizes", "dy");

    internal nint LiveHandle
    {
        get
        {
            ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
            return _handle.DangerousGetHandle();
        }
    }

    private static void ValidateGradient(DeviceTensor? dy, GmmDims dims, int device)
    {
        ArgumentNullException.ThrowIfNull(dy);
        dy.ThrowIfDisposed();
        if (dy.DType != dims.DType)
            throw new ArgumentException($"dy is {dy.DType} but x and w are {dims.DType}.", nameof(dy));
        if (dy.Rank != 2 || dy.Shape[0] != dims.M || dy.Shape[1] != dims.N)
        {
            throw new ArgumentException(
                $"dy has shape {TensorShape.Format(dy.Shape)} but the forward output is [{dims.M}, {dims.N}].", nameof(dy));
        }

        // Checked here, not by the inner products, which would name dy as their own a or b.
        GmmValidation.CheckDevice(dy, device, nameof(dy));
    }

    private static void ValidateOutput(DeviceTensor? output, DType dtype, long[] shape, string name)
    {
        if (output is null) return;
        output.ThrowIfDisposed();
        if (output.DType != dtype || !output.Shape.SequenceEqual(shape))
        {
            throw new ArgumentException(
                $"{name} is {output.DType} {TensorShape.Format(output.Shape)} but the gradient is {dtype} {TensorShape.Format(shape)}.", name);
        }
    }

    private void Run(DeviceTensor a, DeviceTensor b, DeviceTensor c, BatchSizes counts, GmmDims dims,
        bool transA, bool transB, bool accumulate, GmmOptions? options)
    {
        using var lease = new CallLease();
        GgGmmArgs args = BuildArgs(lease, a, b, c, counts, dims, transA, transB, accumulate, options);
        NativeStatus.Check(NativeMethods.gg_gmm(lease.Handle(_handle, this), &args));
    }

    /// <summary>Runs a validated call into a new output of the call's shape, freed if the call fails.</summary>
    private DeviceTensor RunIntoNew(DeviceTensor a, DeviceTensor b, BatchSizes counts, GmmDims dims, bool transA, bool transB,
        GmmOptions? options)
    {
        using var outputs = new PendingOutputs();
        DeviceTensor c = outputs.Allocate(Device, dims.DType, dims.OutputShape(transA), options?.Stream, Allocator);
        Run(a, b, c, counts, dims, transA, transB, false, options);
        return outputs.HandOver(c);
    }

    /// <summary>The native arguments; every pointer, the counts and the stream are taken through <paramref name="lease"/>.</summary>
    private static GgGmmArgs BuildArgs(CallLease lease, DeviceTensor a, DeviceTensor b, DeviceTensor? c, BatchSizes counts,
        GmmDims dims, bool transA, bool transB, bool accumulate, GmmOptions? options) => new()
        {
            A = (void*)lease.Pointer(a),
            B = (void*)lease.Pointer(b),
            C = (void*)lease.Pointer(c),
            BatchSizes = counts.Take(lease),
            M = dims.M,
            K = dims.K,
            N = dims.N,
            NumExperts = dims.Experts,
            Dtype = (GgDType)dims.DType,
            CountsLocation = counts.Location,
            TransA = transA ? 1 : 0,
            TransB = transB ? 1 : 0,
            Accumulate = accumulate ? 1 : 0,
            CheckCounts = options?.CheckCounts == true ? 1 : 0,
            Backend = (GgBackend)(options?.Backend ?? GemmBackend.Auto),
            Reserved = 0,
            Stream = (void*)lease.Stream(options?.Stream),
        };
}
