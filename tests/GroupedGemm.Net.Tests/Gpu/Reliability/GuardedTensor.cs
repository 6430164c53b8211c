using NUnit.Framework;

namespace GroupedGemm.Tests.Gpu.Reliability;

/// <summary>
/// A device tensor with poisoned guard bands (0xFF bytes) before and after it, in one allocation, so that a test can
/// check that a kernel wrote nothing outside its output (issue 23: out-of-bounds writes kill the CUDA context or,
/// worse, corrupt a neighbour silently).
/// </summary>
internal sealed class GuardedTensor : IDisposable
{
    /// <summary>Bytes of each guard band (a multiple of 256, so the inner tensor keeps the allocation's alignment).</summary>
    internal const long GuardBytes = 1 << 16;

    private readonly DeviceTensor _whole;

    private GuardedTensor(DeviceTensor whole, DeviceTensor inner)
    {
        _whole = whole;
        Inner = inner;
    }

    /// <summary>The tensor between the guard bands; poisoned like them until written.</summary>
    internal DeviceTensor Inner { get; }

    /// <summary>Allocates <paramref name="shape"/> of <paramref name="dtype"/> between two poisoned guard bands.</summary>
    internal static GuardedTensor Allocate(DType dtype, params long[] shape)
    {
        long elements = shape.Aggregate(1L, (x, y) => x * y);
        long innerBytes = (elements * dtype.ElementSize() + 255) / 256 * 256;
        DeviceTensor whole = DeviceTensor.Allocate(DType.Int32, (2 * GuardBytes + innerBytes) / 4);
        whole.Poison();
        DeviceTensor inner = DeviceTensor.Wrap(whole.Pointer + (nint)GuardBytes, dtype, shape, whole.Device);
        return new GuardedTensor(whole, inner);
    }

    /// <summary>Asserts that every byte of both guard bands still holds the poison.</summary>
    internal void AssertGuardsUntouched(string what)
    {
        int[] all = _whole.ToArray<int>();
        long guardInts = GuardBytes / 4;
        long before = all.Take((int)guardInts).Count(v => v != -1);
        long after = all.Skip(all.Length - (int)guardInts).Count(v => v != -1);
        Assert.That((before, after), Is.EqualTo((0L, 0L)),
            $"{what}: words written in the guard band before / after the tensor");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Inner.Dispose();
        _whole.Dispose();
    }
}
