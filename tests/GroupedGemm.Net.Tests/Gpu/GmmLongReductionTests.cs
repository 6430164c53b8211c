using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Gpu;

/// <summary>
/// Weight gradients whose one expert reduces over a few thousand rows, at every row count of a range and with fixed
/// data, so that a backend whose library picks a different kernel per row count (cuBLAS's heuristics) is checked on each
/// of them. Found by the 0.8.0 package run on an H100: the cuBLAS loop's fp16 weight gradient with a 2561-row expert
/// (K = 96, N = 200) measured 1.68e-2 against the 5e-3 bound, in a test whose random row count passed in other runs.
/// </summary>
[TestFixture]
[Category("Gpu")]
public class GmmLongReductionTests : GpuFixture
{
    private const int FirstRows = 2400;
    private const int LastRows = 2700;
    private const int RowStep = 5;

    /// <summary>
    /// One expert, host counts, K = 96 and N = 200 (the shape that missed), rows from 2400 to 2700 in steps of 5, each
    /// with its own fixed data; fails with every row count that misses the bound, not only the first.
    /// </summary>
    [Test]
    public void Weight_gradient_of_one_long_expert_matches_reference_at_every_row_count(
        [Values(GemmBackend.Auto, GemmBackend.CublasLoop, GemmBackend.CublasGrouped, GemmBackend.CutlassSm80,
            GemmBackend.CutlassSm90)] GemmBackend backend,
        [Values(DType.BFloat16, DType.Float16)] DType dtype)
    {
        const int k = 96, n = 200;
        var missed = new List<string>();
        double worst = 0;
        for (int rows = FirstRows; rows <= LastRows; rows += RowStep)
        {
            // Fixed per row count: a failure names data that reproduces it.
            var random = new Random(rows);
            long[] counts = [rows];
            (DeviceTensor a, double[] aRef) = DeviceData.Random(random, dtype, rows, k);
            (DeviceTensor b, double[] bRef) = DeviceData.Random(random, dtype, rows, n);
            using (a)
            using (b)
            using (DeviceTensor c = DeviceTensor.Allocate(dtype, 1, k, n))
            {
                c.Poison();
                if (!Supported(backend, a, b, counts, null, c, GmmForm.TransA, out string reason))
                {
                    Assert.That(backend, Is.Not.EqualTo(GemmBackend.Auto), $"Auto must take every host-count call: {reason}");
                    Assert.Ignore($"{backend} does not take {dtype} weight gradients: {reason}");
                }

                Run(a, b, counts, null, c, GmmForm.TransA, accumulate: false, backend);
                double[] expected = CpuReference.Gmm(aRef, bRef, counts, k, n, transA: true, transB: false);
                double error = CpuReference.RelativeError(DeviceData.Download(c), expected);
                worst = Math.Max(worst, double.IsNaN(error) ? double.PositiveInfinity : error);
                if (!(error <= DeviceData.Tolerance(dtype))) missed.Add($"{rows} rows: {error:E3}");
            }
        }

        TestContext.Out.WriteLine(
            $"{backend} {dtype} K = {k}, N = {n}: worst relative error {worst:E3} over rows {FirstRows}-{LastRows} step {RowStep}");
        Assert.That(missed, Is.Empty,
            $"{backend} {dtype} K = {k}, N = {n}: row counts over the bound {DeviceData.Tolerance(dtype):E1}");
    }
}
