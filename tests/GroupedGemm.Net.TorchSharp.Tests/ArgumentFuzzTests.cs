using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace GroupedGemm.TorchSharp.Tests;

/// <summary>
/// A seeded fuzz of <see cref="GroupedGemmTorch.gmm"/> on CPU tensors: dtypes (the four CPU float types, an integer
/// one, mixed), the three forms and transA with transB, batch sizes that fit or not (negative, wrong sum, int32, 2-D,
/// none), shapes that agree or not, empty experts, K or N of 0, extents up to 2^40 in tensors that hold no element,
/// tensors that are not contiguous or disposed. Each call must either return the product of a model of gmm's rules,
/// matching a float64 per-expert reference within the dtype's bound, or throw an <see cref="ArgumentException"/> that
/// names one of gmm's parameters; a call the model refuses must not return. Fixed seed by default;
/// <c>GG_STRESS_ITERATIONS</c> and <c>GG_STRESS_SEED</c> (an integer) lengthen or replay a run.
/// </summary>
public sealed class ArgumentFuzzTests : TorchFixture
{
    private static readonly string[] Parameters = ["a", "b", "batchSizes", "transA", "transB"];

    /// <summary>Outputs larger than this are not computed (the model says what gmm would allocate; CPU time is the limit).</summary>
    private const long MaxOutput = 1 << 16;

    private sealed record Case(Tensor? A, Tensor? B, Tensor? Counts, bool TransA, bool TransB, string Text);

    [Test]
    public void Every_call_returns_the_modelled_product_or_names_its_argument()
    {
        int seed = int.TryParse(Environment.GetEnvironmentVariable("GG_STRESS_SEED"), out int s) ? s : 20261208;
        long iterations = long.TryParse(Environment.GetEnvironmentVariable("GG_STRESS_ITERATIONS"), out long n) && n > 0 ? n : 1500;
        var random = new Random(seed);
        var failures = new List<string>();
        int returned = 0, refused = 0;
        for (long i = 0; i < iterations; i++)
        {
            using DisposeScope scope = NewDisposeScope();
            Case c = Draw(random);
            string? broken = Model(c, out long[] shape);
            if (broken is null && shape.Aggregate(1L, (p, e) => p * e) > MaxOutput) continue;
            Tensor result;
            try
            {
                result = GroupedGemmTorch.gmm(c.A!, c.B!, c.Counts!, c.TransA, c.TransB);
            }
            catch (ArgumentException e)
            {
                refused++;
                if (!Parameters.Contains(e.ParamName))
                    failures.Add($"{c.Text}: {e.GetType().Name} names '{e.ParamName}', not a parameter of gmm: {e.Message}");
                else if (broken is null)
                    failures.Add($"{c.Text}: refused ({e.Message}) although the model takes it");
                continue;
            }
            catch (Exception e)
            {
                failures.Add($"{c.Text}: {e.GetType().Name}: {e.Message}");
                continue;
            }

            returned++;
            if (broken is not null)
                failures.Add($"{c.Text}: returned although {broken}");
            else if (!result.shape.SequenceEqual(shape))
                failures.Add($"{c.Text}: returned {Format(result.shape)}, the model says {Format(shape)}");
            else if (Mismatch(c, result) is string wrong)
                failures.Add($"{c.Text}: {wrong}");
        }

        Assert.That(failures, Is.Empty,
            $"seed {seed}: {failures.Count} calls failed the property; the first 30:\n" + string.Join("\n", failures.Take(30)));
        // The draws reach both outcomes, so the property is not vacuous.
        Assert.That(returned, Is.GreaterThan(iterations / 10), "calls that returned");
        Assert.That(refused, Is.GreaterThan(iterations / 10), "calls that were refused");
    }

    private static Case Draw(Random r)
    {
        bool OneIn(int k) => r.Next(k) == 0;
        T Pick<T>(params T[] values) => values[r.Next(values.Length)];
        long Size() => OneIn(10) ? Pick(0L, 1L << 40) : r.Next(0, 5);

        ScalarType dtype = OneIn(12) ? ScalarType.Int32 : Pick(ScalarType.Float64, ScalarType.Float32, ScalarType.BFloat16, ScalarType.Float16);
        ScalarType Other() => OneIn(12) ? Pick(ScalarType.Float64, ScalarType.Float32, ScalarType.BFloat16, ScalarType.Float16) : dtype;
        int experts = OneIn(15) ? 0 : r.Next(1, 5);
        var counts = new long[experts];
        for (int e = 0; e < experts; e++) counts[e] = OneIn(8) ? 0 : r.Next(0, 4);
        if (experts > 0 && OneIn(15)) counts[r.Next(experts)] = -1;
        long m = Math.Max(0, counts.Sum()) + (OneIn(12) ? 1 : 0);
        long k = Size(), n = Size();
        bool transA = OneIn(3), transB = transA ? OneIn(10) : OneIn(2);
        long Maybe(long size) => OneIn(15) ? size + 1 : size;

        Tensor a = Make(dtype, [m, k], OneIn(15));
        long[] bShape = transA ? [Maybe(m), n] : transB ? [Maybe(experts), n, Maybe(k)] : [Maybe(experts), Maybe(k), n];
        if (OneIn(20)) bShape = bShape.Take(bShape.Length - 1).ToArray();
        Tensor b = Make(Other(), bShape, OneIn(15));
        Tensor batchSizes = OneIn(12) ? tensor(counts.Select(v => (int)v).ToArray(), ScalarType.Int32)
            : OneIn(20) ? tensor(counts, ScalarType.Int64).reshape(1, experts)
            : tensor(counts, ScalarType.Int64);
        if (OneIn(40)) a.Dispose();
        if (OneIn(40)) batchSizes.Dispose();
        string text = $"gmm(a {Describe(a)}, b {Describe(b)}, batchSizes {Describe(batchSizes)} = [{string.Join(", ", counts)}], " +
            $"transA: {transA}, transB: {transB})";
        return new Case(a, b, batchSizes, transA, transB, text);

        // A tensor of the shape (random values where it holds any; extents of 2^40 only come with an empty one), or,
        // when asked, the same values through a transposed view that is not contiguous.
        Tensor Make(ScalarType type, long[] shape, bool strided)
        {
            // torch refuses an empty shape whose strides pass int64 ([0, 2^40, 2^40]): then the small one.
            bool empty = shape.Contains(0L) && shape.Aggregate(System.Numerics.BigInteger.One, (p, e) => p * Math.Max(e, 1)) <= long.MaxValue;
            long[] real = empty ? shape : shape.Select(e => Math.Min(e, 4L)).ToArray();
            Tensor t = type == ScalarType.Int32 ? randint(0, 5, real, ScalarType.Int32) : randn(real, ScalarType.Float64).to_type(type);
            if (!strided || real.Length < 2 || real[^1] < 2 || real[^2] < 2) return t;
            long[] swapped = [.. real[..^2], real[^1], real[^2]];
            return (type == ScalarType.Int32 ? randint(0, 5, swapped, ScalarType.Int32) : randn(swapped, ScalarType.Float64).to_type(type))
                .transpose(-1, -2);
        }
    }

    /// <summary>gmm's rules, written out here; null when the call is valid, with the output shape.</summary>
    private static string? Model(Case c, out long[] output)
    {
        output = [];
        Tensor a = c.A!, b = c.B!, counts = c.Counts!;
        if (a.IsInvalid || b.IsInvalid || counts.IsInvalid) return "a tensor is disposed";
        ScalarType[] floats = [ScalarType.Float64, ScalarType.Float32, ScalarType.BFloat16, ScalarType.Float16];
        if (!floats.Contains(a.dtype) || b.dtype != a.dtype) return "the dtypes are wrong";
        if (!a.is_contiguous() || !b.is_contiguous()) return "an operand is not contiguous";
        if (counts.dtype != ScalarType.Int64 || counts.dim() != 1) return "the batch sizes are not 1-D int64";
        if (c.TransA && c.TransB) return "transA and transB are both set";
        long experts = counts.shape[0];
        if (experts < 1) return "there is no expert";
        if (a.dim() != 2) return "a is not 2-D";
        long m = a.shape[0], k = a.shape[1];
        long[] sizes = counts.data<long>().ToArray();
        if (c.TransA)
        {
            if (b.dim() != 2 || b.shape[0] != m) return "b is not [M, N]";
            output = [experts, k, b.shape[1]];
        }
        else
        {
            if (b.dim() != 3 || b.shape[0] != experts || (c.TransB ? b.shape[2] : b.shape[1]) != k) return "b is not [E, K, N]";
            output = [m, c.TransB ? b.shape[1] : b.shape[2]];
        }

        if (sizes.Any(v => v < 0)) return "a batch size is negative";
        if (sizes.Sum() != m) return "the batch sizes do not sum to M";
        return output.Aggregate(System.Numerics.BigInteger.One, (p, e) => p * e) > long.MaxValue ? "the output passes int64" : null;
    }

    /// <summary>The result against the per-expert product of the operands in float64, within the dtype's bound.</summary>
    private static string? Mismatch(Case c, Tensor result)
    {
        Tensor a64 = c.A!.to_type(ScalarType.Float64), b64 = c.B!.to_type(ScalarType.Float64);
        Tensor reference = TorchCases.PerExpertReference(a64, b64, c.Counts!.data<long>().ToArray(), c.TransA, c.TransB);
        double bound = c.A!.dtype switch
        {
            ScalarType.Float64 => 1e-12,
            ScalarType.Float32 => 1e-5,
            _ => 2e-2,
        };
        if (reference.numel() == 0) return null;  // nothing to compare (and no data to read)
        double error = CpuReference.RelativeError(TorchCases.Values(result.to_type(ScalarType.Float64)), TorchCases.Values(reference));
        return error <= bound
            ? null
            : $"relative error {error.ToString("G3", CultureInfo.InvariantCulture)} above {bound}";
    }

    private static string Describe(Tensor t) =>
        t.IsInvalid ? "(disposed)" : $"{t.dtype} {Format(t.shape)}{(t.is_contiguous() ? "" : " strided")}";

    private static string Format(long[] shape) => "[" + string.Join(", ", shape) + "]";
}
