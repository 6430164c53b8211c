using static TorchSharp.torch;

namespace GroupedGemm.TorchSharp.Tests;

/// <summary>gmm's argument checks: the exception type, the argument it names and the values in its message.</summary>
public sealed class ArgumentTests : TorchFixture
{
    private static Tensor A() => TorchCases.Random(1, TorchCases.M, TorchCases.K);

    private static Tensor B() => TorchCases.Random(2, TorchCases.E, TorchCases.K, TorchCases.N);

    [Test]
    public void Null_operands_are_named()
    {
        using Tensor a = A(), b = B(), counts = TorchCases.CountsTensor();
        Assert.That(() => GroupedGemmTorch.gmm(null!, b, counts),
            Throws.TypeOf<ArgumentNullException>().With.Property("ParamName").EqualTo("a"));
        Assert.That(() => GroupedGemmTorch.gmm(a, null!, counts),
            Throws.TypeOf<ArgumentNullException>().With.Property("ParamName").EqualTo("b"));
        Assert.That(() => GroupedGemmTorch.gmm(a, b, null!),
            Throws.TypeOf<ArgumentNullException>().With.Property("ParamName").EqualTo("batchSizes"));
    }

    [Test]
    public void Disposed_operand_is_rejected()
    {
        using Tensor b = B(), counts = TorchCases.CountsTensor();
        Tensor a = A();
        a.Dispose();
        AssertArgument(() => GroupedGemmTorch.gmm(a, b, counts), "a", "disposed");
    }

    [Test]
    public void TransA_with_transB_is_rejected()
    {
        using Tensor a = A(), b = TorchCases.Random(3, TorchCases.M, TorchCases.N), counts = TorchCases.CountsTensor();
        AssertArgument(() => GroupedGemmTorch.gmm(a, b, counts, transA: true, transB: true), "transB", "cannot both");
    }

    [Test]
    public void Integer_operands_are_rejected()
    {
        using Tensor a = A().to_type(ScalarType.Int32), b = B().to_type(ScalarType.Int32), counts = TorchCases.CountsTensor();
        AssertArgument(() => GroupedGemmTorch.gmm(a, b, counts), "a", "Int32");
    }

    [Test]
    public void Mixed_dtypes_are_rejected()
    {
        using Tensor a = A(), b = B().to_type(ScalarType.Float32), counts = TorchCases.CountsTensor();
        AssertArgument(() => GroupedGemmTorch.gmm(a, b, counts), "b", "Float64", "Float32");
    }

    [Test]
    public void Non_contiguous_operand_is_rejected_not_copied()
    {
        using Tensor aT = TorchCases.Random(4, TorchCases.K, TorchCases.M), b = B(), counts = TorchCases.CountsTensor();
        using Tensor a = aT.t();
        AssertArgument(() => GroupedGemmTorch.gmm(a, b, counts), "a", "not contiguous", "strides [1, 10]");
    }

    [Test]
    public void Wrong_rank_of_b_is_rejected()
    {
        using Tensor a = A(), b = TorchCases.Random(5, TorchCases.K, TorchCases.N), counts = TorchCases.CountsTensor();
        AssertArgument(() => GroupedGemmTorch.gmm(a, b, counts), "b", "3-D", "[4, 6]");
    }

    [Test]
    public void Mismatched_K_is_rejected()
    {
        using Tensor a = A(), b = TorchCases.Random(6, TorchCases.E, TorchCases.K + 1, TorchCases.N), counts = TorchCases.CountsTensor();
        AssertArgument(() => GroupedGemmTorch.gmm(a, b, counts), "b", "K = 4", "K = 5");
    }

    [Test]
    public void Mismatched_K_with_transB_is_rejected()
    {
        using Tensor a = A(), b = B(), counts = TorchCases.CountsTensor(); // [E, K, N] read as [E, N, K]: K = 6
        AssertArgument(() => GroupedGemmTorch.gmm(a, b, counts, transB: true), "b", "[E, N, K]", "K = 6");
    }

    [Test]
    public void TransA_rows_must_match()
    {
        using Tensor a = A(), b = TorchCases.Random(7, TorchCases.M + 1, TorchCases.N), counts = TorchCases.CountsTensor();
        AssertArgument(() => GroupedGemmTorch.gmm(a, b, counts, transA: true), "b", "10 rows", "11 rows");
    }

    [Test]
    public void Expert_count_must_match_b()
    {
        using Tensor a = A(), b = B(), counts = TorchCases.CountsTensor([5, 5]);
        AssertArgument(() => GroupedGemmTorch.gmm(a, b, counts), "batchSizes", "4 experts", "2 entries");
    }

    [Test]
    public void Batch_sizes_must_be_int64()
    {
        using Tensor a = A(), b = B(), counts = tensor(new int[] { 3, 0, 5, 2 });
        AssertArgument(() => GroupedGemmTorch.gmm(a, b, counts), "batchSizes", "int64", "Int32");
    }

    [Test]
    public void Batch_sizes_must_be_1D_and_not_empty()
    {
        using Tensor a = A(), b = B();
        using Tensor twoD = tensor(new long[] { 3, 0, 5, 2 }).reshape(2, 2);
        using Tensor empty = zeros(0, ScalarType.Int64);
        AssertArgument(() => GroupedGemmTorch.gmm(a, b, twoD), "batchSizes", "1-D", "[2, 2]");
        AssertArgument(() => GroupedGemmTorch.gmm(a, b, empty), "batchSizes", "empty");
    }

    [Test]
    public void Batch_sizes_must_sum_to_M()
    {
        using Tensor a = A(), b = B(), counts = TorchCases.CountsTensor([3, 0, 5, 3]);
        AssertArgument(() => GroupedGemmTorch.gmm(a, b, counts), "batchSizes", "sums to 11", "10 rows");
    }

    [Test]
    public void Negative_batch_size_is_rejected()
    {
        using Tensor a = A(), b = B(), counts = TorchCases.CountsTensor([3, -1, 6, 2]);
        Assert.That(() => GroupedGemmTorch.gmm(a, b, counts),
            Throws.TypeOf<ArgumentOutOfRangeException>()
                .With.Property("ParamName").EqualTo("batchSizes")
                .And.Message.Contains("batchSizes[1] is -1"));
    }

    [Test]
    public void Checks_also_apply_when_gradients_are_needed()
    {
        using Tensor a = A().requires_grad_(), b = B(), counts = TorchCases.CountsTensor([3, 0, 5, 3]);
        AssertArgument(() => GroupedGemmTorch.gmm(a, b, counts), "batchSizes", "sums to 11");
    }

    private static void AssertArgument(TestDelegate call, string paramName, params string[] fragments)
    {
        ArgumentException? error = Assert.Throws(Is.InstanceOf<ArgumentException>(), call) as ArgumentException;
        Assert.That(error!.ParamName, Is.EqualTo(paramName), error.Message);
        foreach (string fragment in fragments) Assert.That(error.Message, Does.Contain(fragment));
    }
}
