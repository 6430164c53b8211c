namespace GroupedGemm;

/// <summary>
/// Host-side argument checks of the MoE backward kernels (<c>MoeKernels.Backward.cs</c>) that the forward kernels'
/// checks (<c>MoeKernels.Checks.cs</c>) do not have; every failure is an <see cref="ArgumentException"/> naming the
/// argument and its values. The call plumbing (device, lifetimes, pointers) is <c>MoeKernels.EnterSharedDevice</c>.
/// </summary>
internal static class BackwardChecks
{
    /// <summary>When <paramref name="tensor"/> is not null: of <paramref name="dtype"/> and exactly <paramref name="shape"/>.</summary>
    internal static void Shape(DeviceTensor? tensor, DType dtype, string name, params long[] shape)
    {
        if (tensor is null) return;
        MoeKernels.RequireLive(tensor, name);
        if (tensor.DType != dtype || !tensor.Shape.SequenceEqual(shape))
            throw new ArgumentException($"{name} is {MoeKernels.Format(tensor)} but must be {dtype} {TensorShape.Format(shape)}.", name);
    }

    /// <summary><paramref name="tensor"/> has the element type and shape of <paramref name="like"/>.</summary>
    internal static void SameShape(DeviceTensor tensor, DeviceTensor like, string name, string likeName)
    {
        MoeKernels.RequireLive(tensor, name);
        if (tensor.DType != like.DType || !tensor.Shape.SequenceEqual(like.Shape))
            throw new ArgumentException($"{name} is {MoeKernels.Format(tensor)} but must match {likeName} ({MoeKernels.Format(like)}).", name);
    }

    /// <summary>A tensor of <paramref name="dtype"/> with <paramref name="count"/> elements (any shape).</summary>
    internal static void Elements(DeviceTensor tensor, DType dtype, long count, string name)
    {
        MoeKernels.RequireLive(tensor, name);
        if (tensor.DType != dtype || tensor.ElementCount != count)
            throw new ArgumentException(
                $"{name} is {MoeKernels.Format(tensor)} ({tensor.ElementCount} elements) but must be {dtype} with {count} elements.", name);
    }

    /// <summary>
    /// topK (the columns of <paramref name="routing"/>) in [1, <paramref name="max"/>], and never above int32's range:
    /// the native calls take top-k as an int32, and a bound such as the expert count can pass it (no tokens).
    /// </summary>
    internal static void TopK(long topK, DeviceTensor routing, string name, long max = int.MaxValue)
    {
        max = Math.Min(max, int.MaxValue);
        if (topK < 1 || topK > max)
            throw new ArgumentException($"{name} is {MoeKernels.Format(routing)}: its {topK} columns (top-k) must be in [1, {max}].", name);
    }
}
