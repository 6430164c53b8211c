using NUnit.Framework;

namespace GroupedGemm.Tests.Cpu;

/// <summary>
/// The public shape rules a framework adapter checks its own tensors with (<see cref="GmmShapeRules"/>): the three
/// forms' sizes, and the same messages the package's calls give for the same mistakes (the calls check through it).
/// </summary>
[TestFixture]
public class GmmShapeRulesTests
{
    [Test]
    public void The_three_forms_give_their_sizes_and_output_shapes()
    {
        GmmShape forward = GmmShapeRules.Check([1024, 64], [4, 64, 128], 4);
        Assert.That(forward, Is.EqualTo(new GmmShape(1024, 64, 128, 4)));
        Assert.That(forward.OutputShape(transA: false), Is.EqualTo(new long[] { 1024, 128 }));
        Assert.That(GmmShapeRules.Check([1024, 64], [4, 96, 64], 4, transB: true).N, Is.EqualTo(96));
        GmmShape wgrad = GmmShapeRules.Check([1024, 64], [1024, 32], 4, transA: true);
        Assert.That(wgrad.OutputShape(transA: true), Is.EqualTo(new long[] { 4, 64, 32 }));
    }

    [Test]
    public void Mistakes_name_the_argument_and_the_sizes_as_a_call_does()
    {
        var a = FakeTensors.Make(DType.BFloat16, 1024, 64);
        var b = FakeTensors.Make(DType.BFloat16, 4, 32, 128); // K = 32, a has 64
        ArgumentException rules = Assert.Throws<ArgumentException>(() => GmmShapeRules.Check(a.Shape, b.Shape, 4))!;
        ArgumentException call = Assert.Throws<ArgumentException>(
            () => GmmValidation.ValidateHostCounts(a, b, null, [256, 256, 256, 256], false, false, 0, GmmNames.Context))!;
        Assert.That(rules.Message, Is.EqualTo(call.Message));
        Assert.That(rules.ParamName, Is.EqualTo("b"));
        Assert.That(rules.Message, Does.Contain("K = 64").And.Contain("K = 32"));

        Assert.That(Assert.Throws<ArgumentException>(() => GmmShapeRules.Check([1024, 64], [4, 64, 128], 0))!.ParamName,
            Is.EqualTo("batchSizes"));
        Assert.That(Assert.Throws<ArgumentException>(() => GmmShapeRules.Check([1024, 64], [3, 64, 128], 4))!.Message,
            Does.Contain("b has 3 experts").And.Contain("batchSizes has 4 entries"));
        Assert.That(Assert.Throws<ArgumentException>(() => GmmShapeRules.Check([1024, 64, 1], [4, 64, 128], 4))!.Message,
            Does.StartWith("a must be 2-D [M, K] but has shape [1024, 64, 1]"));
        Assert.That(Assert.Throws<ArgumentException>(() => GmmShapeRules.Check([1024, 64], [1000, 32], 4, transA: true))!.Message,
            Does.Contain("a has 1024 rows but b has 1000 rows"));
        Assert.That(Assert.Throws<ArgumentException>(() => GmmShapeRules.Check([1024, 64], [1024, 32], 4, true, true))!.ParamName,
            Is.EqualTo("transB"));
        Assert.Throws<ArgumentNullException>(() => GmmShapeRules.Check(null!, [4, 64, 128], 4));
    }

    [Test]
    public void Batch_sizes_must_be_non_negative_and_sum_to_m()
    {
        GmmShapeRules.CheckBatchSizes([0, 1024, 0], 1024);
        ArgumentOutOfRangeException negative = Assert.Throws<ArgumentOutOfRangeException>(() => GmmShapeRules.CheckBatchSizes([5, -5, 1024], 1024))!;
        Assert.That(negative.Message, Does.Contain("batchSizes[1] is -5"));
        ArgumentException sum = Assert.Throws<ArgumentException>(() => GmmShapeRules.CheckBatchSizes([long.MaxValue, long.MaxValue, 2], 0))!;
        Assert.That(sum.Message, Does.Contain("sums to 18446744073709551616 but a has 0 rows"), "the sum does not wrap around");
    }
}
