using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Cpu;

/// <summary>The float64 reference against the definition, written as plainly as possible.</summary>
[TestFixture]
public class CpuReferenceTests
{
    /// <summary>c[e] or c[rows of e], straight from the definition with explicit indices.</summary>
    private static double[] Naive(double[] a, double[] b, long[] counts, int k, int n, GmmForm form)
    {
        int m = (int)counts.Sum();
        int experts = counts.Length;
        var c = new double[form == GmmForm.TransA ? experts * k * n : m * n];
        int start = 0;
        for (int e = 0; e < experts; e++)
        {
            int rows = (int)counts[e];
            for (int r = start; r < start + rows; r++)
            {
                for (int i = 0; i < k; i++)
                {
                    for (int j = 0; j < n; j++)
                    {
                        switch (form)
                        {
                            case GmmForm.Forward:
                                c[(r * n) + j] += a[(r * k) + i] * b[(e * k * n) + (i * n) + j];
                                break;
                            case GmmForm.TransB:
                                c[(r * n) + j] += a[(r * k) + i] * b[(e * n * k) + (j * k) + i];
                                break;
                            default:
                                c[(e * k * n) + (i * n) + j] += a[(r * k) + i] * b[(r * n) + j];
                                break;
                        }
                    }
                }
            }

            start += rows;
        }

        return c;
    }

    private static void CheckAgainstNaive(Random random, long[] counts, int k, int n, GmmForm form)
    {
        int m = (int)counts.Sum();
        double[] a = TestRandom.Uniform(random, (long)m * k);
        long[] bShape = form.B(m, counts.Length, k, n);
        double[] b = TestRandom.Uniform(random, bShape.Aggregate(1L, (x, y) => x * y));
        double[] actual = CpuReference.Gmm(a, b, counts, k, n, form == GmmForm.TransA, form == GmmForm.TransB);
        double[] expected = Naive(a, b, counts, k, n, form);
        Assert.That(actual, Has.Length.EqualTo(expected.Length));
        Assert.That(actual, Is.EqualTo(expected).Within(1e-12), $"form {form}, counts [{string.Join(", ", counts)}], k {k}, n {n}");
    }

    [Test]
    public void Random_shapes_match_the_definition([Values] GmmForm form)
    {
        Random random = TestRandom.Create();
        for (int trial = 0; trial < 25; trial++)
        {
            int experts = random.Next(1, 9);
            long[] counts = Routing.Uniform(random, random.Next(0, 40), experts);
            CheckAgainstNaive(random, counts, random.Next(0, 12), random.Next(1, 12), form);
        }
    }

    [Test]
    public void Empty_experts_single_expert_and_zero_k([Values] GmmForm form)
    {
        Random random = TestRandom.Create();
        CheckAgainstNaive(random, [0, 5, 0, 0, 3, 0], 4, 3, form);
        CheckAgainstNaive(random, [7], 5, 6, form);
        CheckAgainstNaive(random, [0, 0, 0], 3, 2, form);
        double[] zeroK = CpuReference.Gmm([], form == GmmForm.TransA ? new double[9] : [], [2, 1], 0, 3, form == GmmForm.TransA, form == GmmForm.TransB);
        Assert.That(zeroK, Has.Length.EqualTo(form == GmmForm.TransA ? 0 : 9));
        Assert.That(zeroK, Is.All.EqualTo(0.0));
    }

    [Test]
    public void Large_problem_takes_the_parallel_path_and_still_matches([Values] GmmForm form)
    {
        // 600 · 96 · 80 · ... multiply-adds exceed the parallel threshold.
        Random random = TestRandom.Create();
        CheckAgainstNaive(random, Routing.Zipf(random, 600, 7), 96, 80, form);
    }

    [Test]
    public void Weight_gradient_of_an_empty_expert_is_zero()
    {
        double[] c = CpuReference.Gmm([1, 2, 3, 4], [5, 6], [0, 2], 2, 1, transA: true);
        Assert.That(c, Is.EqualTo(new double[] { 0, 0, 1 * 5 + 3 * 6, 2 * 5 + 4 * 6 }));
    }

    [Test]
    public void Wrong_lengths_and_flags_are_rejected()
    {
        var e1 = Assert.Throws<ArgumentException>(() => CpuReference.Gmm(new double[5], new double[6], [2], 3, 1));
        Assert.That(e1!.ParamName, Is.EqualTo("a"));
        Assert.That(e1.Message, Does.Contain("a has 5 values but [M, K] needs 6"));
        var e2 = Assert.Throws<ArgumentException>(() => CpuReference.Gmm(new double[6], new double[5], [2], 3, 2));
        Assert.That(e2!.ParamName, Is.EqualTo("b"));
        Assert.Throws<ArgumentOutOfRangeException>(() => CpuReference.Gmm(new double[6], new double[6], [-1, 3], 3, 1));
        Assert.Throws<ArgumentException>(() => CpuReference.Gmm(new double[6], new double[6], [2], 3, 1, transA: true, transB: true));
    }

    [Test]
    public void Relative_error_is_the_norm_ratio_and_poisoned_values_are_infinite()
    {
        Assert.That(CpuReference.RelativeError([3, 4], [3, 4]), Is.EqualTo(0));
        Assert.That(CpuReference.RelativeError([3, 5], [3, 4]), Is.EqualTo(1.0 / 5.0).Within(1e-15));
        Assert.That(CpuReference.RelativeError([double.NaN, 4], [3, 4]), Is.EqualTo(double.PositiveInfinity));
        Assert.That(CpuReference.RelativeError([double.PositiveInfinity, 4], [3, 4]), Is.EqualTo(double.PositiveInfinity));
        Assert.That(CpuReference.RelativeError([0, 0], [0, 0]), Is.EqualTo(0));
        Assert.That(CpuReference.RelativeError([1e-30, 0], [0, 0]), Is.EqualTo(double.PositiveInfinity));
        Assert.That(CpuReference.RelativeError([], []), Is.EqualTo(0));
        Assert.Throws<ArgumentException>(() => CpuReference.RelativeError([1], [1, 2]));
    }

    [Test]
    public void Conversions_widen_exactly()
    {
        Assert.That(CpuReference.ToDouble(new[] { 1.5f, -0.1f }), Is.EqualTo(new[] { 1.5, (double)-0.1f }));
        Assert.That(CpuReference.ToDouble(new[] { (Half)0.1, Half.NegativeInfinity }), Is.EqualTo(new[] { (double)(Half)0.1, double.NegativeInfinity }));
        Assert.That(CpuReference.ToDouble(new[] { new BFloat16(0x3FC0), BFloat16.NaN }), Is.EqualTo(new[] { 1.5, double.NaN }));
    }
}
