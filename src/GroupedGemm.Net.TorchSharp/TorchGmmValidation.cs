using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace GroupedGemm.TorchSharp;

/// <summary>The sizes of one validated call.</summary>
/// <param name="M">Rows of a (the sum of the batch sizes).</param>
/// <param name="K">Columns of a.</param>
/// <param name="N">Columns of the forward output, or of b with transA.</param>
/// <param name="Experts">E, the number of batch sizes.</param>
/// <param name="HostCounts">The batch sizes when they are on the CPU; null when they live on the GPU.</param>
internal readonly record struct TorchGmmDims(long M, long K, long N, long Experts, long[]? HostCounts)
{
    /// <summary>The output shape: [M, N], or [E, K, N] for transA.</summary>
    /// <param name="transA">Whether the call is the weight-gradient form.</param>
    /// <returns>The extents.</returns>
    internal long[] OutputShape(bool transA) => transA ? [Experts, K, N] : [M, N];
}

/// <summary>
/// The checks <see cref="GroupedGemmTorch.gmm"/> makes on torch tensors before any work: liveness, devices, dtypes and
/// contiguity here, then the form, shape and batch-size rules of GroupedGemm.Net itself (<see cref="GmmShapeRules"/>,
/// on torch's extents, so they hold for CPU tensors too); on CUDA the core library checks the wrapped tensors again.
/// </summary>
internal static class TorchGmmValidation
{
    private static readonly ScalarType[] s_cudaTypes = [ScalarType.BFloat16, ScalarType.Float16, ScalarType.Float32];
    private static readonly ScalarType[] s_cpuTypes =
        [ScalarType.BFloat16, ScalarType.Float16, ScalarType.Float32, ScalarType.Float64];

    /// <summary>Validates a call; returns its sizes (and the host batch sizes when they are on the CPU).</summary>
    /// <param name="a">Left operand.</param>
    /// <param name="b">Right operand.</param>
    /// <param name="batchSizes">Batch sizes.</param>
    /// <param name="transA">Weight-gradient form.</param>
    /// <param name="transB">Right operand stored transposed.</param>
    /// <returns>The sizes of the call.</returns>
    internal static TorchGmmDims Validate(Tensor a, Tensor b, Tensor batchSizes, bool transA, bool transB)
    {
        CheckLive(a, nameof(a));
        CheckLive(b, nameof(b));
        CheckLive(batchSizes, nameof(batchSizes));
        CheckDevices(a, b, batchSizes);
        CheckDTypes(a, b);
        CheckContiguous(a, nameof(a));
        CheckContiguous(b, nameof(b));
        CheckBatchSizesTensor(batchSizes);
        // The form, the shapes and the batch sizes: the core package's own rules and messages (GmmShapeRules).
        GmmShape shape = GmmShapeRules.Check(a.shape, b.shape, batchSizes.shape[0], transA, transB);
        long[]? host = null;
        if (batchSizes.device_type == DeviceType.CPU)
        {
            host = batchSizes.data<long>().ToArray();
            GmmShapeRules.CheckBatchSizes(host, shape.M);
        }

        return new TorchGmmDims(shape.M, shape.K, shape.N, shape.Experts, host);
    }

    private static void CheckLive(Tensor? tensor, string name)
    {
        ArgumentNullException.ThrowIfNull(tensor, name);
        if (tensor.IsInvalid) throw new ArgumentException($"{name} has been disposed.", name);
    }

    private static void CheckDevices(Tensor a, Tensor b, Tensor batchSizes)
    {
        if (a.device_type is not (DeviceType.CPU or DeviceType.CUDA))
        {
            throw new ArgumentException(
                $"a is on {Describe(a)}; grouped GEMM runs on CUDA tensors (or on the CPU, with torch ops).", nameof(a));
        }

        if (b.device_type != a.device_type || (a.device_type == DeviceType.CUDA && b.device_index != a.device_index))
            throw new ArgumentException($"a is on {Describe(a)} but b is on {Describe(b)}; both must be on the same device.", nameof(b));

        bool countsOnCpu = batchSizes.device_type == DeviceType.CPU;
        bool countsWithOperands = batchSizes.device_type == a.device_type && batchSizes.device_index == a.device_index;
        if (!countsOnCpu && !countsWithOperands)
        {
            throw new ArgumentException(
                $"batchSizes is on {Describe(batchSizes)} but a is on {Describe(a)}; batch sizes must be on the CPU " +
                "or on the operands' device.", nameof(batchSizes));
        }
    }

    private static void CheckDTypes(Tensor a, Tensor b)
    {
        ScalarType[] allowed = a.device_type == DeviceType.CUDA ? s_cudaTypes : s_cpuTypes;
        if (Array.IndexOf(allowed, a.dtype) < 0)
        {
            throw new ArgumentException(
                $"a is {a.dtype} on {Describe(a)}; grouped GEMM there needs one of {string.Join(", ", allowed)}.", nameof(a));
        }

        if (b.dtype != a.dtype)
            throw new ArgumentException($"a is {a.dtype} but b is {b.dtype}; both operands must have the same dtype.", nameof(b));
    }

    private static void CheckContiguous(Tensor tensor, string name)
    {
        if (!tensor.is_contiguous())
        {
            throw new ArgumentException(
                $"{name} (shape {Format(tensor.shape)}, strides {Format(tensor.stride())}) is not contiguous; " +
                $"call {name}.contiguous() first (gmm makes no hidden copies).", name);
        }
    }

    private static void CheckBatchSizesTensor(Tensor batchSizes)
    {
        if (batchSizes.dtype != ScalarType.Int64)
            throw new ArgumentException($"batchSizes must be an int64 tensor but is {batchSizes.dtype}.", nameof(batchSizes));
        if (batchSizes.dim() != 1)
        {
            throw new ArgumentException(
                $"batchSizes must be 1-D with one count per expert but has shape {Format(batchSizes.shape)}.", nameof(batchSizes));
        }

        CheckContiguous(batchSizes, nameof(batchSizes));
    }

    private static string Describe(Tensor tensor) =>
        tensor.device_type == DeviceType.CPU ? "cpu" : $"{tensor.device_type.ToString().ToLowerInvariant()}:{tensor.device_index}";

    private static string Format(long[] values) =>
        "[" + string.Join(", ", values.Select(v => v.ToString(CultureInfo.InvariantCulture))) + "]";
}
