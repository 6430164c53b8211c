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
/// The checks <see cref="GroupedGemmTorch.gmm"/> makes on torch tensors before any work. The shape and count rules
/// are those of GroupedGemm.Net's own validation (GmmValidation, internal to that assembly), stated on torch shapes
/// so they also hold for CPU tensors; on CUDA the core library checks the wrapped tensors again.
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
        if (transA && transB)
        {
            throw new ArgumentException(
                "transA and transB cannot both be set: the weight-gradient form (transA) takes b as [M, N] rows.",
                nameof(transB));
        }

        CheckDevices(a, b, batchSizes);
        CheckDTypes(a, b);
        CheckContiguous(a, nameof(a));
        CheckContiguous(b, nameof(b));
        long experts = CheckBatchSizesTensor(batchSizes);
        (long m, long k, long n) = CheckShapes(a, b, batchSizes, transA, transB);
        long[]? host = null;
        if (batchSizes.device_type == DeviceType.CPU)
        {
            host = batchSizes.data<long>().ToArray();
            CheckCountValues(host, m);
        }

        return new TorchGmmDims(m, k, n, experts, host);
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

    private static long CheckBatchSizesTensor(Tensor batchSizes)
    {
        if (batchSizes.dtype != ScalarType.Int64)
            throw new ArgumentException($"batchSizes must be an int64 tensor but is {batchSizes.dtype}.", nameof(batchSizes));
        if (batchSizes.dim() != 1)
        {
            throw new ArgumentException(
                $"batchSizes must be 1-D with one count per expert but has shape {Format(batchSizes.shape)}.", nameof(batchSizes));
        }

        CheckContiguous(batchSizes, nameof(batchSizes));
        long experts = batchSizes.shape[0];
        if (experts < 1)
            throw new ArgumentException("batchSizes is empty; a grouped GEMM needs at least one expert.", nameof(batchSizes));
        return experts;
    }

    private static (long M, long K, long N) CheckShapes(Tensor a, Tensor b, Tensor batchSizes, bool transA, bool transB)
    {
        long experts = batchSizes.shape[0];
        CheckRank(a, 2, "[M, K]", nameof(a));
        long m = a.shape[0];
        long k = a.shape[1];
        if (transA)
        {
            CheckRank(b, 2, "[M, N] (transA: one row per row of a)", nameof(b));
            if (b.shape[0] != m)
            {
                throw new ArgumentException(
                    $"a has {m} rows but b has {b.shape[0]} rows; with transA both hold the same M rows.", nameof(b));
            }

            return (m, k, b.shape[1]);
        }

        CheckRank(b, 3, transB ? "[E, N, K] (transB)" : "[E, K, N]", nameof(b));
        if (b.shape[0] != experts)
        {
            throw new ArgumentException(
                $"b has {b.shape[0]} experts (b.shape[0]) but batchSizes has {experts} entries.", nameof(batchSizes));
        }

        long bk = transB ? b.shape[2] : b.shape[1];
        if (bk != k)
        {
            string layout = transB ? "[E, N, K] = " : "[E, K, N] = ";
            throw new ArgumentException($"a has K = {k} columns but b {layout}{Format(b.shape)} has K = {bk}.", nameof(b));
        }

        return (m, k, transB ? b.shape[1] : b.shape[2]);
    }

    private static void CheckRank(Tensor tensor, int rank, string layout, string name)
    {
        if (tensor.dim() != rank)
            throw new ArgumentException($"{name} must be {rank}-D {layout} but has shape {Format(tensor.shape)}.", name);
    }

    private static void CheckCountValues(long[] batchSizes, long m)
    {
        Int128 sum = 0;
        for (int e = 0; e < batchSizes.Length; e++)
        {
            if (batchSizes[e] < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(batchSizes), batchSizes[e],
                    $"batchSizes[{e}] is {batchSizes[e]}; batch sizes must be non-negative.");
            }

            sum += batchSizes[e];
        }

        if (sum != m)
        {
            throw new ArgumentException(
                $"batchSizes sums to {sum.ToString(CultureInfo.InvariantCulture)} but a has {m} rows.", nameof(batchSizes));
        }
    }

    private static string Describe(Tensor tensor) =>
        tensor.device_type == DeviceType.CPU ? "cpu" : $"{tensor.device_type.ToString().ToLowerInvariant()}:{tensor.device_index}";

    private static string Format(long[] values) =>
        "[" + string.Join(", ", values.Select(v => v.ToString(CultureInfo.InvariantCulture))) + "]";
}
