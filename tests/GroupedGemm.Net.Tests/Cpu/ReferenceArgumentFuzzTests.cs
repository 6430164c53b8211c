using System.Numerics;
using System.Reflection;
using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Cpu;

/// <summary>
/// A seeded fuzz of the public CPU helpers that take sizes (<see cref="CpuReference"/>, <see cref="Fp8Reference"/>,
/// <see cref="GmmShapeRules"/>), the managed counterpart of the native size fuzz: sizes drawn from 0, 1, small values,
/// the edges of int and long and negatives, spans whose lengths fit the sizes or not, enum values out of range. Each
/// call must either return a result of the documented length or throw an <see cref="ArgumentException"/> (or a
/// subclass) that names one of the method's parameters; never an overflow, an index or allocation failure or another
/// type. Sizes whose result would be valid but large (above <see cref="MaxValidElements"/>) are not drawn: this test
/// must not allocate gigabytes. <c>GG_STRESS_ITERATIONS</c> and <c>GG_STRESS_SEED</c> lengthen or replay a run.
/// </summary>
[TestFixture]
public class ReferenceArgumentFuzzTests
{
    /// <summary>Results above this many elements are refused by the helpers or skipped by the draw.</summary>
    private const long MaxValidElements = 1 << 16;

    private static readonly long[] Edges =
    [
        0, 1, 2, 3, 5, 127, 128, 129, 255, 1000,
        int.MaxValue - 1L, int.MaxValue, int.MaxValue + 1L, 1L << 40, long.MaxValue / 2, long.MaxValue - 1, long.MaxValue,
        -1, -2, int.MinValue, long.MinValue,
    ];

    /// <summary>The methods this fuzz calls, by name; <see cref="Every_public_sized_method_is_fuzzed_or_exempt"/> holds it to the types.</summary>
    private static readonly Dictionary<Type, string[]> Fuzzed = new()
    {
        [typeof(CpuReference)] = ["Gmm", "RelativeError"],
        [typeof(Fp8Reference)] =
        [
            "MaxFinite", "Decode", "Encode", "QuantizeRows", "QuantizeBlocks", "DequantizeRows", "DequantizeBlocks",
            "ScaledGmm", "PowerOfTwoAtLeast",
        ],
        [typeof(GmmShapeRules)] = ["Check", "CheckBatchSizes"],
    };

    /// <summary>Public methods with no size, length or enum to get wrong, and why.</summary>
    private static readonly Dictionary<string, string> Exempt = new()
    {
        ["CpuReference.ToDouble"] = "takes one span and returns its values widened: no size of its own",
    };

    /// <summary>How long one call may take; the largest valid draw takes milliseconds.</summary>
    private static readonly TimeSpan CallLimit = TimeSpan.FromSeconds(5);

    /// <summary>Set by the first call that did not return: the run stops there.</summary>
    private static bool s_hung;

    /// <summary>The argument names <see cref="GmmShapeRules"/> documents for its messages: the grouped GEMM's own.</summary>
    private static readonly string[] ShapeRuleNames = ["a", "b", "batchSizes", "transB"];

    private sealed class Draw(Random random)
    {
        public long Size() => random.Next(3) == 0 ? random.Next(0, 40) : Edges[random.Next(Edges.Length)];

        public int IntSize() => (int)Math.Clamp(Size(), int.MinValue, int.MaxValue);

        public bool Coin() => random.Next(2) == 0;

        /// <summary>A length near <paramref name="wanted"/> when it is small, else a small one; sometimes off by one.</summary>
        public int Length(BigInteger wanted)
        {
            if (wanted >= 0 && wanted <= MaxValidElements && random.Next(4) != 0)
                return (int)wanted + (random.Next(8) == 0 ? 1 : 0);
            return random.Next(0, 9);
        }

        public long[] Counts()
        {
            var counts = new long[random.Next(0, 5)];
            for (int i = 0; i < counts.Length; i++) counts[i] = random.Next(3) == 0 ? Size() : random.Next(0, 6);
            return counts;
        }

        public DType Fp8Type() => random.Next(6) switch
        {
            0 => DType.BFloat16,
            1 => (DType)99,
            2 or 3 => DType.Float8E4M3,
            _ => DType.Float8E5M2,
        };

        public ScaleMode Mode() => random.Next(5) == 0 ? (ScaleMode)7 : (Coin() ? ScaleMode.Rowwise : ScaleMode.Blockwise);

        public float Float() => random.Next(6) switch
        {
            0 => float.NaN,
            1 => float.PositiveInfinity,
            2 => -1f,
            3 => 0f,
            4 => float.Epsilon,
            _ => (float)(random.NextDouble() * 1000),
        };
    }

    private static BigInteger Sum(long[] counts)
    {
        BigInteger sum = 0;
        foreach (long c in counts) sum += c;
        return sum;
    }

    private static bool AnyNegative(params long[] values) => values.Any(v => v < 0);

    private static BigInteger Blocks(long extent, long block) => block <= 0 ? 0 : ((BigInteger)extent + block - 1) / block;

    /// <summary>
    /// Runs one call: it must return or throw an argument exception naming one of <paramref name="method"/>'s
    /// parameters (or of <paramref name="alsoNamed"/>, the names a method documents for its messages instead).
    /// </summary>
    private static void Probe(List<string> failures, string method, string input, Func<int> call, params string[] alsoNamed)
    {
        if (s_hung) return;
        // On a task, so that a call that never returns fails the test instead of hanging it (the first one stops the
        // run: its thread keeps a core).
        var task = Task.Run(call);
        if (!((IAsyncResult)task).AsyncWaitHandle.WaitOne(CallLimit))
        {
            failures.Add($"{method}({input}): did not return within {CallLimit.TotalSeconds} s");
            s_hung = true;
            return;
        }

        try
        {
            task.GetAwaiter().GetResult();
        }
        catch (ArgumentException e)
        {
            MethodInfo[] overloads = typeof(CpuReference).Assembly.GetExportedTypes()
                .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static))
                .Where(m => $"{m.DeclaringType!.Name}.{m.Name}" == method).ToArray();
            bool named = alsoNamed.Contains(e.ParamName) || overloads.Any(m => m.GetParameters().Any(p => p.Name == e.ParamName));
            if (!named)
                failures.Add($"{method}({input}): {e.GetType().Name} names '{e.ParamName}', not a parameter: {e.Message}");
        }
        catch (Exception e)
        {
            failures.Add($"{method}({input}): {e.GetType().Name}: {e.Message}");
        }
    }

    private static void FuzzGmm(Draw d, List<string> failures)
    {
        long[] counts = d.Counts();
        long k = d.Size(), n = d.Size();
        bool transA = d.Coin(), transB = !transA && d.Coin();
        BigInteger m = Sum(counts), e = counts.Length;
        BigInteger output = transA ? e * k * n : m * n;
        if (!AnyNegative([.. counts, k, n]) && output > MaxValidElements && output <= Array.MaxLength) return;
        var a = new double[d.Length(m * k)];
        var b = new double[d.Length(transA ? m * n : e * k * n)];
        Probe(failures, "CpuReference.Gmm", $"counts=[{string.Join(",", counts)}], k={k}, n={n}, transA={transA}, transB={transB}",
            () =>
            {
                double[] c = CpuReference.Gmm(a, b, counts, k, n, transA, transB);
                if (c.Length != output) throw new InvalidOperationException($"returned {c.Length} values, not {output}");
                return 0;
            });
    }

    private static void FuzzFp8Rows(Draw d, List<string> failures)
    {
        int rows = d.IntSize(), cols = d.IntSize(), blockCols = d.Coin() ? 0 : d.IntSize();
        DType dtype = d.Fp8Type();
        BigInteger values = (BigInteger)rows * cols;
        BigInteger blocks = blockCols == 0 ? 1 : Blocks(cols, blockCols);
        if (!AnyNegative(rows, cols, blockCols) && values > MaxValidElements && values <= Array.MaxLength) return;
        var x = new float[d.Length(values)];
        var q = new byte[d.Length(values)];
        var scales = new float[d.Length(rows * blocks)];
        string input = $"rows={rows}, cols={cols}, blockCols={blockCols}, dtype={dtype}";
        Probe(failures, "Fp8Reference.QuantizeRows", input, () =>
        {
            Fp8Reference.QuantizeRows(x, rows, cols, blockCols, dtype, q, scales, d.Coin());
            return 0;
        });
        Probe(failures, "Fp8Reference.DequantizeRows", input, () =>
        {
            double[] r = Fp8Reference.DequantizeRows(q, scales, rows, cols, blockCols, dtype);
            if (r.Length != values) throw new InvalidOperationException($"returned {r.Length} values, not {values}");
            return 0;
        });
    }

    private static void FuzzFp8Blocks(Draw d, List<string> failures)
    {
        int batch = d.IntSize(), rows = d.IntSize(), cols = d.IntSize(), block = d.Coin() ? 128 : d.IntSize();
        DType dtype = d.Fp8Type();
        BigInteger values = (BigInteger)batch * rows * cols;
        if (!AnyNegative(batch, rows, cols) && block > 0 && values > MaxValidElements && values <= Array.MaxLength) return;
        var w = new float[d.Length(values)];
        var q = new byte[d.Length(values)];
        var scales = new float[d.Length(batch * Blocks(rows, block) * Blocks(cols, block))];
        string input = $"batch={batch}, rows={rows}, cols={cols}, block={block}, dtype={dtype}";
        Probe(failures, "Fp8Reference.QuantizeBlocks", input, () =>
        {
            Fp8Reference.QuantizeBlocks(w, batch, rows, cols, block, dtype, q, scales, d.Coin());
            return 0;
        });
        Probe(failures, "Fp8Reference.DequantizeBlocks", input, () =>
        {
            double[] r = Fp8Reference.DequantizeBlocks(q, scales, batch, rows, cols, block, dtype);
            if (r.Length != values) throw new InvalidOperationException($"returned {r.Length} values, not {values}");
            return 0;
        });
    }

    private static void FuzzScaledGmm(Draw d, List<string> failures)
    {
        long[] counts = d.Counts();
        int k = d.IntSize(), n = d.IntSize();
        bool transB = d.Coin();
        ScaleMode mode = d.Mode();
        BigInteger m = Sum(counts), e = counts.Length, output = m * n;
        if (!AnyNegative([.. counts, k, n]) && (output > MaxValidElements || m * k > MaxValidElements || e * k * n > MaxValidElements)
            && output <= Array.MaxLength && m * k <= Array.MaxLength && e * k * n <= Array.MaxLength) return;
        bool rowwise = mode == ScaleMode.Rowwise;
        var x = new byte[d.Length(m * k)];
        var w = new byte[d.Length(e * k * n)];
        var xScale = new float[d.Length(rowwise ? m : m * Blocks(k, 128))];
        var wScale = new float[d.Length(rowwise ? e * n : e * Blocks(n, 128) * Blocks(k, 128))];
        DType xType = d.Fp8Type(), wType = d.Fp8Type();
        Probe(failures, "Fp8Reference.ScaledGmm",
            $"counts=[{string.Join(",", counts)}], k={k}, n={n}, transB={transB}, mode={mode}, {xType}, {wType}", () =>
            {
                double[] r = Fp8Reference.ScaledGmm(x, xScale, w, wScale, counts, k, n, transB, mode, xType, wType);
                if (r.Length != output) throw new InvalidOperationException($"returned {r.Length} values, not {output}");
                return 0;
            });
    }

    private static void FuzzScalars(Draw d, List<string> failures)
    {
        DType dtype = d.Fp8Type();
        float value = d.Float();
        Probe(failures, "Fp8Reference.MaxFinite", $"{dtype}", () => (int)Fp8Reference.MaxFinite(dtype));
        Probe(failures, "Fp8Reference.Decode", $"{dtype}", () => double.IsNaN(Fp8Reference.Decode(0x7F, dtype)) ? 1 : 0);
        Probe(failures, "Fp8Reference.Encode", $"{value}, {dtype}", () => Fp8Reference.Encode(value, dtype));
        Probe(failures, "Fp8Reference.PowerOfTwoAtLeast", $"{value}", () => (int)Fp8Reference.PowerOfTwoAtLeast(value));
        var actual = new double[d.Length(3)];
        var reference = new double[d.Length(3)];
        Probe(failures, "CpuReference.RelativeError", $"{actual.Length} and {reference.Length} values",
            () => (int)CpuReference.RelativeError(actual, reference));
    }

    private static void FuzzShapeRules(Draw d, List<string> failures)
    {
        long[] aShape = d.Coin() ? [d.Size(), d.Size()] : [d.Size()];
        long[] bShape = d.Coin() ? [d.Size(), d.Size(), d.Size()] : [d.Size(), d.Size()];
        long experts = d.Coin() ? d.Size() : 1 + (d.Coin() ? 0 : 7);
        bool transA = d.Coin(), transB = d.Coin();
        string input = $"a={TensorShape.Format(aShape)}, b={TensorShape.Format(bShape)}, experts={experts}, transA={transA}, transB={transB}";
        Probe(failures, "GmmShapeRules.Check", input, () =>
        {
            GmmShape shape = GmmShapeRules.Check(aShape, bShape, experts, transA, transB);
            long[] output = shape.OutputShape(transA);
            BigInteger elements = output.Aggregate(BigInteger.One, (p, x) => p * x);
            if (output.Any(x => x < 0) || elements > long.MaxValue)
                throw new InvalidOperationException($"accepted: output {TensorShape.Format(output)}");
            return 0;
        }, ShapeRuleNames);
        long[] counts = d.Counts();
        long m = d.Coin() ? (long)BigInteger.Clamp(Sum(counts), long.MinValue, long.MaxValue) : d.Size();
        Probe(failures, "GmmShapeRules.CheckBatchSizes", $"counts=[{string.Join(",", counts)}], m={m}",
            () => { GmmShapeRules.CheckBatchSizes(counts, m); return 0; }, ShapeRuleNames);
    }

    /// <summary>FNV-1a of the seed text: string.GetHashCode differs between processes, and a seed must replay.</summary>
    private static int StableHash(string text)
    {
        uint hash = 2166136261;
        foreach (char c in text) hash = (hash ^ c) * 16777619;
        return (int)hash;
    }

    [Test]
    public void Every_call_returns_or_names_its_argument()
    {
        string seed = StressSettings.Seed() ?? Environment.TickCount.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var random = new Random(StableHash(seed));
        var d = new Draw(random);
        var failures = new List<string>();
        long iterations = StressSettings.Iterations(3000);
        s_hung = false;
        for (long i = 0; i < iterations && !s_hung; i++)
        {
            FuzzGmm(d, failures);
            FuzzFp8Rows(d, failures);
            FuzzFp8Blocks(d, failures);
            FuzzScaledGmm(d, failures);
            FuzzScalars(d, failures);
            FuzzShapeRules(d, failures);
        }

        Assert.That(failures, Is.Empty,
            $"seed {seed}: {failures.Count} calls failed the property; the first 30 distinct:\n" +
            string.Join("\n", failures.Distinct().Take(30)));
    }

    [Test]
    public void Every_public_sized_method_is_fuzzed_or_exempt()
    {
        var missing = new List<string>();
        foreach (Type type in Fuzzed.Keys)
        {
            foreach (MethodInfo method in type.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly))
            {
                string name = $"{type.Name}.{method.Name}";
                if (!Fuzzed[type].Contains(method.Name) && !Exempt.ContainsKey(name)) missing.Add(name);
            }
        }

        Assert.That(missing.Distinct(), Is.Empty, "public methods neither fuzzed here nor exempt with a reason");
    }
}
