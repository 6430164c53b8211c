using GroupedGemm.Interop;

namespace GroupedGemm;

// The argument checks every MoeKernels method is made of, one helper per pattern, and the one way a kernel call
// holds its tensors (EnterSharedDevice). Every message names the argument and the values. Internal, so that new
// kernels (forward or backward, in other parts of this class) check their arguments the same way.
// (No XML summary here: the class's summary is in MoeKernels.cs, and the parts' summaries would be merged.)
public static unsafe partial class MoeKernels
{
    /// <summary>
    /// Checks that the tensors (nulls skipped) share one device, takes each of them through <paramref name="lease"/>
    /// before any native code runs (a <c>Dispose</c> on another thread or a finalizer then cannot free them under the
    /// launch, and a graph capture keeps them), and makes their device current. Use as
    /// <c>using var lease = new CallLease(); using DeviceScope scope = EnterSharedDevice(lease, (x, nameof(x)), ...);</c>
    /// and pass <c>lease.Pointer(x)</c> and <c>lease.Stream(stream)</c> to the native call.
    /// </summary>
    /// <param name="lease">The call's lease, disposed after the native call returns.</param>
    /// <param name="tensors">Every tensor of the call with its argument name.</param>
    /// <returns>The device scope to dispose after the call.</returns>
    /// <exception cref="ArgumentException">Two tensors are on different devices, or none was given.</exception>
    internal static DeviceScope EnterSharedDevice(CallLease lease, params ReadOnlySpan<(DeviceTensor? Tensor, string Name)> tensors)
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

        if (device is null) throw new ArgumentException("No tensor given.", nameof(tensors));
        foreach ((DeviceTensor? tensor, _) in tensors) lease.Pointer(tensor);
        return DeviceScope.Enter(device.Value);
    }

    /// <summary>The element type and shape of a tensor, for messages: <c>BFloat16 [4, 8]</c>.</summary>
    internal static string Format(DeviceTensor t) => $"{t.DType} {TensorShape.Format(t.Shape)}";

    /// <summary>Not null and not disposed.</summary>
    internal static void RequireLive(DeviceTensor tensor, string name)
    {
        ArgumentNullException.ThrowIfNull(tensor, name);
        tensor.ThrowIfDisposed();
    }

    /// <summary>A live tensor of a float type (Float32, Float16, BFloat16).</summary>
    internal static void RequireFloat(DeviceTensor tensor, string name)
    {
        RequireLive(tensor, name);
        if (!tensor.DType.IsFloatingPoint())
            throw new ArgumentException($"{name} is {Format(tensor)}; a float type (Float32, Float16, BFloat16) is required.", name);
    }

    /// <summary>A live tensor of a float type with <paramref name="rank"/> dimensions.</summary>
    internal static void RequireFloat(DeviceTensor tensor, int rank, string name)
    {
        RequireFloat(tensor, name);
        RequireRank(tensor, rank, name);
    }

    /// <summary>A live tensor of element type <paramref name="dtype"/>.</summary>
    internal static void RequireDType(DeviceTensor tensor, DType dtype, string name)
    {
        RequireLive(tensor, name);
        if (tensor.DType != dtype)
            throw new ArgumentException($"{name} is {Format(tensor)} but must be {dtype}.", name);
    }

    /// <summary>A live tensor of element type <paramref name="dtype"/> with <paramref name="rank"/> dimensions.</summary>
    internal static void RequireDType(DeviceTensor tensor, DType dtype, int rank, string name)
    {
        RequireDType(tensor, dtype, name);
        RequireRank(tensor, rank, name);
    }

    /// <summary>Exactly <paramref name="rank"/> dimensions.</summary>
    internal static void RequireRank(DeviceTensor tensor, int rank, string name)
    {
        if (tensor.Rank != rank)
            throw new ArgumentException($"{name} is {Format(tensor)} but must have {rank} dimensions.", name);
    }

    /// <summary>Exactly the extents <paramref name="shape"/>.</summary>
    internal static void RequireShape(DeviceTensor tensor, string name, params long[] shape)
    {
        if (!tensor.Shape.SequenceEqual(shape))
            throw new ArgumentException($"{name} is {Format(tensor)} but must have shape {TensorShape.Format(shape)}.", name);
    }

    /// <summary>A live tensor of element type <paramref name="dtype"/> and exactly the extents <paramref name="shape"/> (an output, usually).</summary>
    internal static void RequireTensor(DeviceTensor tensor, DType dtype, string name, params long[] shape)
    {
        RequireDType(tensor, dtype, name);
        RequireShape(tensor, name, shape);
    }

    /// <summary>As <see cref="RequireTensor"/> when the tensor is given; null (an optional bias or residual) passes.</summary>
    internal static void RequireOptionalTensor(DeviceTensor? tensor, DType dtype, string name, params long[] shape)
    {
        if (tensor is not null) RequireTensor(tensor, dtype, name, shape);
    }

    /// <summary>A live tensor of exactly <paramref name="count"/> elements, any shape.</summary>
    internal static void RequireCount(DeviceTensor tensor, long count, string name)
    {
        RequireLive(tensor, name);
        if (tensor.ElementCount != count)
            throw new ArgumentException($"{name} is {Format(tensor)} ({tensor.ElementCount} elements) but must have {count} elements.", name);
    }

    /// <summary>One element of element type <paramref name="dtype"/> (a device-side result such as a maximum or a drop count).</summary>
    internal static void RequireScalar(DeviceTensor tensor, DType dtype, string name)
    {
        RequireDType(tensor, dtype, name);
        RequireCount(tensor, 1, name);
    }

    /// <summary>Device counts per expert: <see cref="DType.Int64"/>, 1-D, at least one expert.</summary>
    /// <returns>The number of experts.</returns>
    internal static long RequireCounts(DeviceTensor counts, string name)
    {
        RequireDType(counts, DType.Int64, 1, name);
        if (counts.Shape[0] < 1) throw new ArgumentException($"{name} is {Format(counts)}; at least one expert is required.", name);
        return counts.Shape[0];
    }

    /// <summary>
    /// A padded batch: a float type, <c>[numExperts, capacity, width]</c> with at least one expert and at most int64
    /// rows (numExperts · capacity, which the kernels are given: with width 0 the tensor is empty whatever they are).
    /// </summary>
    /// <returns>The extents and the rows.</returns>
    internal static (long Experts, long Capacity, long Width, long Rows) RequirePadded(DeviceTensor x, string name)
    {
        RequireFloat(x, 3, name);
        long numExperts = x.Shape[0], capacity = x.Shape[1];
        if (numExperts < 1) throw new ArgumentException($"{name} {Format(x)} has no expert.", name);
        if (TensorShape.Product(numExperts, capacity) > long.MaxValue)
        {
            throw new ArgumentException(
                $"{name} {Format(x)} has {TensorShape.Product(numExperts, capacity)} rows (numExperts · capacity), more than {long.MaxValue}.",
                name);
        }

        return (numExperts, capacity, x.Shape[2], numExperts * capacity);
    }

    /// <summary>Half the last dimension of a gate | up tensor, which must be even.</summary>
    internal static long GatedHidden(DeviceTensor gateUp, string name)
    {
        long width = gateUp.Shape[^1];
        if (width % 2 != 0)
            throw new ArgumentException($"{name} is {Format(gateUp)}; its last dimension (gate | up) must be even.", name);
        return width / 2;
    }

    /// <summary>A defined <see cref="Activation"/>.</summary>
    internal static void RequireActivation(Activation activation)
    {
        if (!Enum.IsDefined(activation))
            throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown activation.");
    }
}
