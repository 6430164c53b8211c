using GroupedGemm.Interop;

namespace GroupedGemm.Tests.Cpu;

/// <summary>
/// Tensors over made-up device addresses with an explicit device: validation only looks at shapes, dtypes and
/// devices, so these never reach native code and the tests run without a GPU or the native library.
/// </summary>
internal static class FakeTensors
{
    private static long s_next = 0x7000_0000_0000;

    /// <summary>A non-owning tensor at a fresh, non-overlapping fake address.</summary>
    /// <param name="dtype">The element type.</param>
    /// <param name="shape">The extents.</param>
    /// <returns>The tensor (device 0 unless told otherwise).</returns>
    internal static DeviceTensor Make(DType dtype, params long[] shape) => On(0, dtype, shape);

    /// <summary>A non-owning tensor on <paramref name="device"/> at a fresh fake address.</summary>
    /// <param name="device">The device it claims to live on.</param>
    /// <param name="dtype">The element type.</param>
    /// <param name="shape">The extents.</param>
    /// <returns>The tensor.</returns>
    internal static DeviceTensor On(int device, DType dtype, params long[] shape)
    {
        nint address = (nint)Interlocked.Add(ref s_next, 1L << 36);
        return DeviceTensor.Wrap(address, dtype, shape, device);
    }

    /// <summary>
    /// A tensor that owns a handle which releases nothing, at a fresh fake address:
    /// <c>memory.IsReleased</c> says when the tensor's memory would have been freed.
    /// </summary>
    /// <param name="dtype">The element type.</param>
    /// <param name="shape">The extents.</param>
    /// <returns>The tensor and its memory handle.</returns>
    internal static (DeviceTensor Tensor, NativeHandle Memory) Owned(DType dtype, params long[] shape)
    {
        var memory = new NativeHandle((nint)Interlocked.Add(ref s_next, 1L << 36), NativeHandleKind.None, device: -1);
        return (DeviceTensor.Adopt(memory, dtype, shape), memory);
    }
}
