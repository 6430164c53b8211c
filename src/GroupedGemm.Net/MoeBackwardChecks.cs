namespace GroupedGemm;

/// <summary>
/// Host-side argument checks and call plumbing of the MoE backward kernels (<c>MoeKernels.Backward.cs</c>). Kept apart
/// from the forward kernels' checks while those are being consolidated; every failure is an
/// <see cref="ArgumentException"/> naming the argument and its values.
/// </summary>
internal static unsafe class BackwardChecks
{
    internal static string Format(DeviceTensor t) => $"{t.DType} {TensorShape.Format(t.Shape)}";

    internal static void* Stream(CudaStream? stream) => (void*)(stream?.Handle ?? 0);

    internal static void* Ptr(DeviceTensor? tensor) => tensor is null ? null : (void*)tensor.Pointer;

    /// <summary>Keeps the tensors and the stream of a native call reachable until it has returned.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    internal static void KeepAlive(params object?[] objects) => GC.KeepAlive(objects);

    /// <summary>A live float tensor of <paramref name="rank"/> dimensions.</summary>
    internal static void Float(DeviceTensor tensor, string name, int rank)
    {
        Live(tensor, name);
        if (!tensor.DType.IsFloatingPoint())
            throw new ArgumentException($"{name} is {Format(tensor)}; a float type (Float32, Float16, BFloat16) is required.", name);
        Rank(tensor, rank, name);
    }

    /// <summary>A live tensor of <paramref name="dtype"/> and <paramref name="rank"/> dimensions.</summary>
    internal static void Type(DeviceTensor tensor, DType dtype, string name, int rank)
    {
        Live(tensor, name);
        if (tensor.DType != dtype) throw new ArgumentException($"{name} is {Format(tensor)} but must be {dtype}.", name);
        Rank(tensor, rank, name);
    }

    /// <summary>When <paramref name="tensor"/> is not null: of <paramref name="dtype"/> and exactly <paramref name="shape"/>.</summary>
    internal static void Shape(DeviceTensor? tensor, DType dtype, string name, params long[] shape)
    {
        if (tensor is null) return;
        Live(tensor, name);
        if (tensor.DType != dtype || !tensor.Shape.SequenceEqual(shape))
            throw new ArgumentException($"{name} is {Format(tensor)} but must be {dtype} {TensorShape.Format(shape)}.", name);
    }

    /// <summary><paramref name="tensor"/> has the element type and shape of <paramref name="like"/>.</summary>
    internal static void SameShape(DeviceTensor tensor, DeviceTensor like, string name, string likeName)
    {
        Live(tensor, name);
        if (tensor.DType != like.DType || !tensor.Shape.SequenceEqual(like.Shape))
            throw new ArgumentException($"{name} is {Format(tensor)} but must match {likeName} ({Format(like)}).", name);
    }

    /// <summary>A tensor of <paramref name="dtype"/> with <paramref name="count"/> elements (any shape).</summary>
    internal static void Elements(DeviceTensor tensor, DType dtype, long count, string name)
    {
        Live(tensor, name);
        if (tensor.DType != dtype || tensor.ElementCount != count)
            throw new ArgumentException(
                $"{name} is {Format(tensor)} ({tensor.ElementCount} elements) but must be {dtype} with {count} elements.", name);
    }

    /// <summary>Device counts <c>[numExperts]</c>, Int64, at least one expert; returns numExperts.</summary>
    internal static long Counts(DeviceTensor counts, string name)
    {
        Type(counts, DType.Int64, name, rank: 1);
        if (counts.Shape[0] < 1) throw new ArgumentException($"{name} is {Format(counts)}; at least one expert is required.", name);
        return counts.Shape[0];
    }

    /// <summary>topK (the columns of <paramref name="routing"/>) in [1, <paramref name="max"/>].</summary>
    internal static void TopK(long topK, DeviceTensor routing, string name, long max = int.MaxValue)
    {
        if (topK < 1 || topK > max)
            throw new ArgumentException($"{name} is {Format(routing)}: its {topK} columns (top-k) must be in [1, {max}].", name);
    }

    internal static void Activation(Activation activation)
    {
        if (!Enum.IsDefined(activation))
            throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown activation.");
    }

    /// <summary>All tensors (nulls skipped) on one device; returns it.</summary>
    internal static int SameDevice(params (DeviceTensor? Tensor, string Name)[] tensors)
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

    private static void Live(DeviceTensor tensor, string name)
    {
        ArgumentNullException.ThrowIfNull(tensor, name);
        tensor.ThrowIfDisposed();
    }

    private static void Rank(DeviceTensor tensor, int rank, string name)
    {
        if (tensor.Rank != rank)
            throw new ArgumentException($"{name} is {Format(tensor)} but must have {rank} dimensions.", name);
    }
}
