using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Gpu;

/// <summary>Bad device counts: reported with CheckCounts, and never written outside c without it.</summary>
[TestFixture]
[Category("Gpu")]
public class CountsSafetyTests : GpuFixture
{
    private const int Experts = BadBatchSizes.Experts, M = BadBatchSizes.Rows, K = 64, N = 64, Guard = 32;

    [Test]
    public void CheckCounts_reports_invalid_counts(
        [ValueSource(typeof(BadBatchSizes), nameof(BadBatchSizes.Cases))] long[] bad, [Values] GmmForm form) =>
        AssertCheckCountsReports(bad, M, form, accumulate: false);

    [Test]
    public void Without_CheckCounts_nothing_is_written_outside_c(
        [ValueSource(typeof(BadBatchSizes), nameof(BadBatchSizes.Cases))] long[] bad, [Values] GmmForm form) =>
        AssertNothingWrittenOutsideC(bad, M, form);

    /// <summary>Bad counts of a decode step's weight gradient: 8 rows over 4 experts, the size the cutlass-sm90
    /// backend may write in one kernel that scans the counts itself instead of its fill kernel.</summary>
    /// <returns>Counts that sum to more than 8, hold a negative count, sum to less than 8, or overflow when summed.</returns>
    public static IEnumerable<long[]> DecodeCases()
    {
        yield return [DecodeRows, DecodeRows, DecodeRows, DecodeRows];
        yield return [DecodeRows, -5, 5, 0];
        yield return [1, 1, 1, 1];
        yield return [long.MaxValue / 2, long.MaxValue / 2, 0, 1];
    }

    private const int DecodeRows = 8;

    [Test]
    public void CheckCounts_reports_invalid_counts_of_a_decode_weight_gradient(
        [ValueSource(nameof(DecodeCases))] long[] bad, [Values(false, true)] bool accumulate) =>
        AssertCheckCountsReports(bad, DecodeRows, GmmForm.TransA, accumulate);

    [Test]
    public void Without_CheckCounts_a_decode_weight_gradient_writes_nothing_outside_c(
        [ValueSource(nameof(DecodeCases))] long[] bad) =>
        AssertNothingWrittenOutsideC(bad, DecodeRows, GmmForm.TransA);

    // With CheckCounts, the call with counts `bad` over `rows` rows throws InvalidCounts.
    private void AssertCheckCountsReports(long[] bad, int rows, GmmForm form, bool accumulate)
    {
        Random random = TestRandom.Create();
        (DeviceTensor a, _) = DeviceData.Random(random, DType.BFloat16, rows, K);
        (DeviceTensor b, _) = DeviceData.Random(random, DType.BFloat16, form.B(rows, Experts, K, N));
        using (a)
        using (b)
        using (DeviceTensor counts = DeviceTensor.FromArray(bad))
        using (DeviceTensor c = DeviceTensor.Allocate(DType.BFloat16, form.C(rows, Experts, K, N)))
        {
            if (!Supported(GemmBackend.Auto, a, b, [rows, 0, 0, 0], counts, c, form, out string reason))
                Assert.Ignore($"no compiled backend takes device counts here: {reason}");
            var options = new GmmOptions { CheckCounts = true };
            var e = Assert.Throws<GroupedGemmException>(
                () => Context.GmmInto(a, b, counts, c, form == GmmForm.TransA, form == GmmForm.TransB, accumulate, options));
            Assert.That(e!.Status, Is.EqualTo(GroupedGemmStatus.InvalidCounts), string.Join(", ", bad));
            TestContext.Out.WriteLine(e.Message);
        }
    }

    // Without CheckCounts, the call with counts `bad` over `rows` rows leaves the poison around c untouched.
    private void AssertNothingWrittenOutsideC(long[] bad, int rows, GmmForm form)
    {
        Random random = TestRandom.Create();
        (DeviceTensor a, _) = DeviceData.Random(random, DType.BFloat16, rows, K);
        (DeviceTensor b, _) = DeviceData.Random(random, DType.BFloat16, form.B(rows, Experts, K, N));
        long[] cShape = form.C(rows, Experts, K, N);
        long cElements = cShape.Aggregate(1L, (x, y) => x * y);
        using (a)
        using (b)
        using (DeviceTensor counts = DeviceTensor.FromArray(bad))
        using (DeviceTensor buffer = DeviceTensor.Allocate(DType.BFloat16, Guard + cElements + Guard))
        {
            // c sits between two guard bands of poison inside one allocation.
            DeviceTensor c = buffer.Slice(Guard, cElements).Reshape(cShape);
            buffer.Poison();
            if (!Supported(GemmBackend.Auto, a, b, [rows, 0, 0, 0], counts, c, form, out string reason))
                Assert.Ignore($"no compiled backend takes device counts here: {reason}");

            Context.GmmInto(a, b, counts, c, form == GmmForm.TransA, form == GmmForm.TransB);
            CudaDevice.Synchronize();
            ushort[] all = buffer.ToArray<ushort>();
            Assert.That(all.Take(Guard), Is.All.EqualTo((ushort)0xFFFF), "guard band before c");
            Assert.That(all.Skip(Guard + (int)cElements), Is.All.EqualTo((ushort)0xFFFF), "guard band after c");
        }
    }

    [Test]
    public void Host_pointers_and_wrong_devices_are_refused()
    {
        Random random = TestRandom.Create();
        (DeviceTensor a, _) = DeviceData.Random(random, DType.BFloat16, 64, 32);
        (DeviceTensor b, _) = DeviceData.Random(random, DType.BFloat16, 2, 32, 16);
        using (a)
        using (b)
        using (DeviceTensor c = DeviceTensor.Allocate(DType.BFloat16, 64, 16))
        {
            unsafe
            {
                void* host = System.Runtime.InteropServices.NativeMemory.AllocZeroed(64 * 32 * 2);
                try
                {
                    var e = Assert.Throws<ArgumentException>(() => DeviceTensor.Wrap((nint)host, DType.BFloat16, [64, 32]));
                    Assert.That(e!.Message, Does.Contain("host memory"));
                    DeviceTensor lie = DeviceTensor.Wrap((nint)host, DType.BFloat16, [64, 32], device: 0);
                    var native = Assert.Throws<GroupedGemmException>(() => Context.GmmInto(lie, b, new long[] { 32, 32 }, c));
                    TestContext.Out.WriteLine(native!.Message);
                }
                finally
                {
                    System.Runtime.InteropServices.NativeMemory.Free(host);
                }
            }

            DeviceTensor wrapped = DeviceTensor.Wrap(a.Pointer, DType.BFloat16, [64, 32]);
            Assert.That(wrapped.Device, Is.EqualTo(0), "the device of a wrapped pointer is asked from CUDA");

            if (CudaDevice.Count < 2) return;
            using DeviceTensor other = DeviceTensor.Allocate(1, DType.BFloat16, 64, 32);
            Assert.Throws<ArgumentException>(() => Context.GmmInto(other, b, new long[] { 32, 32 }, c));
            DeviceTensor misdeclared = DeviceTensor.Wrap(other.Pointer, DType.BFloat16, [64, 32], device: 0);
            var wrong = Assert.Throws<GroupedGemmException>(() => Context.GmmInto(misdeclared, b, new long[] { 32, 32 }, c));
            Assert.That(wrong!.Status, Is.EqualTo(GroupedGemmStatus.WrongDevice));
        }
    }
}
