using System.Globalization;

namespace GroupedGemm;

/// <summary>The argument names a validation message uses (the public API's, or <see cref="Ops"/>' PyTorch-style ones).</summary>
/// <param name="A">The left operand (a, x, dy).</param>
/// <param name="B">The right operand (b, w, dy).</param>
/// <param name="Counts">The batch sizes (batchSizes).</param>
/// <param name="C">The output.</param>
internal readonly record struct GmmNames(string A, string B, string Counts, string C)
{
    /// <summary>Names of <see cref="GroupedGemmContext"/>'s methods.</summary>
    internal static GmmNames Context { get; } = new("a", "b", "batchSizes", "c");
}

/// <summary>The sizes of one validated grouped GEMM.</summary>
/// <param name="M">Rows of a (the sum of the batch sizes).</param>
/// <param name="K">Inner dimension (forward), or columns of a (trans_a).</param>
/// <param name="N">Columns of the output (forward), or columns of b (trans_a).</param>
/// <param name="Experts">Number of experts, E.</param>
/// <param name="DType">The common element type.</param>
internal readonly record struct GmmDims(long M, long K, long N, long Experts, DType DType)
{
    /// <summary>The output shape: [M, N], or [E, K, N] for trans_a.</summary>
    /// <param name="transA">Whether the call is the weight-gradient form.</param>
    /// <returns>The extents.</returns>
    internal long[] OutputShape(bool transA) => transA ? [Experts, K, N] : [M, N];
}

/// <summary>
/// Every check a grouped GEMM call makes before it reaches native code. Pure (shapes, dtypes, devices and
/// host counts only), so it runs, and is tested, on machines without a GPU.
/// </summary>
internal static class GmmValidation
{
    /// <summary>Validates a call with host or device batch sizes (missing ones throw <see cref="ArgumentNullException"/>).</summary>
    /// <param name="a">Left operand.</param>
    /// <param name="b">Right operand.</param>
    /// <param name="c">Output, or null when the method allocates it.</param>
    /// <param name="counts">Batch sizes.</param>
    /// <param name="transA">Weight-gradient form.</param>
    /// <param name="transB">Right operand stored transposed.</param>
    /// <param name="device">The device the call runs on.</param>
    /// <param name="names">Argument names for messages.</param>
    /// <param name="options">The call's options, whose backend is checked last (a value cast from another int would
    /// reach native code as it is); null for none.</param>
    /// <returns>The sizes of the call.</returns>
    internal static GmmDims Validate(
        DeviceTensor? a, DeviceTensor? b, DeviceTensor? c, BatchSizes counts,
        bool transA, bool transB, int device, GmmNames names, GmmOptions? options = null)
    {
        if (counts.IsMissing) throw new ArgumentNullException(names.Counts);
        GmmDims dims = counts.IsOnDevice
            ? ValidateDeviceCounts(a, b, c, counts.DeviceCounts, transA, transB, device, names)
            : ValidateHostCounts(a, b, c, counts.HostCounts.Span, transA, transB, device, names);
        CheckBackend(options?.Backend ?? GemmBackend.Auto, nameof(options));
        return dims;
    }

    /// <summary>Validates a call with host batch sizes.</summary>
    /// <param name="a">Left operand.</param>
    /// <param name="b">Right operand.</param>
    /// <param name="c">Output, or null when the method allocates it.</param>
    /// <param name="counts">Batch sizes.</param>
    /// <param name="transA">Weight-gradient form.</param>
    /// <param name="transB">Right operand stored transposed.</param>
    /// <param name="device">The device the call runs on.</param>
    /// <param name="names">Argument names for messages.</param>
    /// <returns>The sizes of the call.</returns>
    internal static GmmDims ValidateHostCounts(
        DeviceTensor? a, DeviceTensor? b, DeviceTensor? c, ReadOnlySpan<long> counts,
        bool transA, bool transB, int device, GmmNames names)
    {
        GmmDims dims = ValidateOperands(a, b, counts.Length, transA, transB, names);
        GmmShapeRules.CheckBatchSizes(counts, dims.M, names);
        ValidateOutputAndDevices(a!, b!, c, dims, transA, device, names);
        return dims;
    }

    /// <summary>Validates a call with device batch sizes.</summary>
    /// <param name="a">Left operand.</param>
    /// <param name="b">Right operand.</param>
    /// <param name="c">Output, or null when the method allocates it.</param>
    /// <param name="counts">Batch sizes: an Int64 device tensor with one element per expert.</param>
    /// <param name="transA">Weight-gradient form.</param>
    /// <param name="transB">Right operand stored transposed.</param>
    /// <param name="device">The device the call runs on.</param>
    /// <param name="names">Argument names for messages.</param>
    /// <returns>The sizes of the call.</returns>
    internal static GmmDims ValidateDeviceCounts(
        DeviceTensor? a, DeviceTensor? b, DeviceTensor? c, DeviceTensor? counts,
        bool transA, bool transB, int device, GmmNames names)
    {
        ArgumentNullException.ThrowIfNull(counts, names.Counts);
        counts.ThrowIfDisposed();
        if (counts.DType != DType.Int64)
        {
            throw new ArgumentException(
                $"{names.Counts} must be an Int64 device tensor but is {counts.DType}.", names.Counts);
        }

        if (counts.Rank != 1)
        {
            throw new ArgumentException(
                $"{names.Counts} must be 1-D with one count per expert but has shape {TensorShape.Format(counts.Shape)}.",
                names.Counts);
        }

        if (counts.ElementCount > int.MaxValue)
            throw new ArgumentException($"{names.Counts} has {counts.ElementCount} experts, too many.", names.Counts);

        GmmDims dims = ValidateOperands(a, b, (int)counts.ElementCount, transA, transB, names);
        CheckDevice(counts, device, names.Counts);
        ValidateOutputAndDevices(a!, b!, c, dims, transA, device, names);
        return dims;
    }

    /// <summary>Checks operand presence, ranks, dtypes and the sizes that must agree; returns the sizes.</summary>
    /// <param name="a">Left operand.</param>
    /// <param name="b">Right operand.</param>
    /// <param name="experts">Number of batch sizes given.</param>
    /// <param name="transA">Weight-gradient form.</param>
    /// <param name="transB">Right operand stored transposed.</param>
    /// <param name="names">Argument names for messages.</param>
    /// <returns>The sizes of the call.</returns>
    internal static GmmDims ValidateOperands(
        DeviceTensor? a, DeviceTensor? b, int experts, bool transA, bool transB, GmmNames names)
    {
        ArgumentNullException.ThrowIfNull(a, names.A);
        ArgumentNullException.ThrowIfNull(b, names.B);
        a.ThrowIfDisposed();
        b.ThrowIfDisposed();
        GmmShapeRules.CheckForm(transA, transB); // before the types, as the shape rules' own order has it

        CheckFloatType(a, names.A);
        CheckFloatType(b, names.B);
        if (a.DType != b.DType)
        {
            throw new ArgumentException(
                $"{names.A} is {a.DType} but {names.B} is {b.DType}; both operands must have the same element type.",
                names.B);
        }

        GmmShape shape = GmmShapeRules.Check(a.Shape, b.Shape, experts, transA, transB, names);
        return new GmmDims(shape.M, shape.K, shape.N, shape.Experts, a.DType);
    }

    /// <summary>
    /// Checks that a backend is one of <see cref="GemmBackend"/>'s values: a value cast from another int would otherwise
    /// reach native code as it is.
    /// </summary>
    /// <param name="backend">The backend.</param>
    /// <param name="name">Its argument name (<c>options</c> for <see cref="GmmOptions.Backend"/>).</param>
    internal static void CheckBackend(GemmBackend backend, string name)
    {
        if (!Enum.IsDefined(backend))
            throw new ArgumentOutOfRangeException(name, backend, $"Backend {(int)backend} is not a GemmBackend value.");
    }

    /// <summary>
    /// Checks that an output the method allocates fits int64 bytes: with an empty inner dimension no operand holds the
    /// output's sizes, and the allocation would otherwise refuse it naming its own parameter.
    /// </summary>
    /// <param name="dtype">The output's element type.</param>
    /// <param name="shape">The output's extents (none negative).</param>
    /// <param name="name">The argument to name: the operand whose extent makes the output too large.</param>
    internal static void CheckOutputSize(DType dtype, long[] shape, string name)
    {
        if (TensorShape.Product(shape) * dtype.ElementSize() > long.MaxValue)
        {
            throw new ArgumentException(
                $"the output {TensorShape.Format(shape)} of {dtype} would have more than {long.MaxValue} bytes.", name);
        }
    }

    /// <summary>Checks that <paramref name="tensor"/> lives on <paramref name="device"/>.</summary>
    /// <param name="tensor">The tensor.</param>
    /// <param name="device">The expected device.</param>
    /// <param name="name">Its argument name.</param>
    internal static void CheckDevice(DeviceTensor tensor, int device, string name)
    {
        if (tensor.Device != device)
        {
            throw new ArgumentException(
                $"{name} is on device {tensor.Device} but the context is on device {device}.", name);
        }
    }

    /// <summary>Checks that a tensor is a floating-point type the GEMMs compute on.</summary>
    /// <param name="tensor">The tensor.</param>
    /// <param name="name">Its argument name.</param>
    internal static void CheckFloatType(DeviceTensor tensor, string name)
    {
        if (!tensor.DType.IsFloatingPoint())
        {
            throw new ArgumentException(
                $"{name} is {tensor.DType}; grouped GEMM needs Float32, Float16 or BFloat16.", name);
        }
    }

    /// <summary>Whether two tensors' byte ranges overlap (empty tensors overlap nothing).</summary>
    /// <param name="x">One tensor.</param>
    /// <param name="y">The other.</param>
    /// <returns>True when they share at least one byte.</returns>
    internal static bool Overlaps(DeviceTensor x, DeviceTensor y)
    {
        if (x.ByteCount == 0 || y.ByteCount == 0) return false;
        ulong x0 = (ulong)x.Pointer, y0 = (ulong)y.Pointer;
        return x0 < y0 + (ulong)y.ByteCount && y0 < x0 + (ulong)x.ByteCount;
    }

    /// <summary>
    /// Refuses <paramref name="tensor"/> where it overlaps <paramref name="other"/> (null: nothing to check), naming
    /// both with element type, shape and address.
    /// </summary>
    /// <param name="tensor">The tensor refused, named in the exception.</param>
    /// <param name="name">Its argument name.</param>
    /// <param name="other">The tensor it must stay apart from, or null.</param>
    /// <param name="otherName">That one's argument name.</param>
    /// <param name="rule">Why they must be apart, the message's last sentence.</param>
    internal static void CheckApart(DeviceTensor tensor, string name, DeviceTensor? other, string otherName, string rule)
    {
        if (other is null || !Overlaps(tensor, other)) return;
        throw new ArgumentException(
            $"{name} ({MoeKernels.Format(tensor)} at 0x{tensor.Pointer:X}) overlaps {otherName} " +
            $"({MoeKernels.Format(other)} at 0x{other.Pointer:X}); {rule}", name);
    }

    private static void ValidateOutputAndDevices(
        DeviceTensor a, DeviceTensor b, DeviceTensor? c, GmmDims dims, bool transA, int device, GmmNames names)
    {
        CheckDevice(a, device, names.A);
        CheckDevice(b, device, names.B);
        if (c is null)
        {
            CheckOutputSize(dims.DType, dims.OutputShape(transA), transA ? names.Counts : names.B);
            return;
        }

        c.ThrowIfDisposed();
        long[] expected = dims.OutputShape(transA);
        if (!c.Shape.SequenceEqual(expected))
        {
            throw new ArgumentException(
                $"{names.C} has shape {TensorShape.Format(c.Shape)} but the product needs {TensorShape.Format(expected)}.",
                names.C);
        }

        if (c.DType != dims.DType)
        {
            throw new ArgumentException(
                $"{names.C} is {c.DType} but {names.A} and {names.B} are {dims.DType}; the output has the operands' type.",
                names.C);
        }

        CheckDevice(c, device, names.C);
        if (Overlaps(c, a) || Overlaps(c, b))
        {
            throw new ArgumentException(
                $"{names.C} overlaps {(Overlaps(c, a) ? names.A : names.B)}; the output must not alias an input.",
                names.C);
        }
    }
}
