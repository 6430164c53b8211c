using System.Globalization;
using System.Numerics;
using System.Reflection;
using System.Text.RegularExpressions;
using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Cpu;

/// <summary>
/// A seeded fuzz of the public CPU helpers that take sizes (<see cref="CpuReference"/>, <see cref="Fp8Reference"/>,
/// <see cref="GmmShapeRules"/>, host <see cref="BatchSizes"/>), the managed counterpart of the native size fuzz: sizes
/// drawn from 0, 1, small values, the edges of int and long and negatives, spans whose lengths fit the sizes or not,
/// enum values out of range, non-finite floats. Each call must either return a result of the documented length or
/// throw an <see cref="ArgumentException"/> (or a subclass) that names one of the method's parameters and whose message
/// holds that argument's value; never an overflow, an index or allocation failure or another type, never a hang, and
/// never more than <see cref="MaxAllocatedBytes"/> allocated. Sizes whose result would be valid but large (above
/// <see cref="MaxValidElements"/>) are not drawn: this test must not allocate gigabytes. Fixed seed by default;
/// <c>GG_STRESS_ITERATIONS</c> and <c>GG_STRESS_SEED</c> lengthen or replay a run (see <see cref="StressSettings"/>).
/// </summary>
[TestFixture]
public class ReferenceArgumentFuzzTests
{
    /// <summary>Results above this many elements are refused by the helpers or skipped by the draw.</summary>
    private const long MaxValidElements = 1 << 16;

    /// <summary>
    /// What one call may allocate on its thread: a few copies of the largest valid draw (8-byte elements). A helper
    /// that allocates a huge result before it checks the sizes goes far past it, or fails with an OutOfMemoryException.
    /// </summary>
    private const long MaxAllocatedBytes = 16L << 20;

    private static readonly long[] Edges =
    [
        0, 1, 2, 3, 5, 127, 128, 129, 255, 1000,
        int.MaxValue - 1L, int.MaxValue, int.MaxValue + 1L, uint.MaxValue, 1L << 40, long.MaxValue / 2,
        long.MaxValue - 1, long.MaxValue,
        -1, -2, int.MinValue, int.MinValue - 1L, long.MinValue + 1, long.MinValue,
    ];

    private static readonly double[] DoubleEdges =
    [
        0.0, -0.0, 1.0, -1.0, 0.5, 448.0, 464.0, 57344.0, 61440.0, 1e-10, double.Epsilon, -double.Epsilon,
        double.MaxValue, double.MinValue, double.NaN, -double.NaN, double.PositiveInfinity, double.NegativeInfinity,
        float.MaxValue, float.Epsilon,
    ];

    /// <summary>DType values an FP8 helper must refuse: defined but not FP8, and undefined ones.</summary>
    private static readonly DType[] NotFp8 = [DType.Float32, DType.BFloat16, DType.Int64, (DType)7, (DType)99, (DType)(-1)];

    /// <summary>Public methods with a size, length, shape or enum argument that this fuzz does not call, and why.</summary>
    private static readonly Dictionary<string, string> Exempt = new();

    /// <summary>How long one call may take; the largest valid draw takes milliseconds.</summary>
    private static readonly TimeSpan CallLimit = TimeSpan.FromSeconds(5);

    /// <summary>The argument names <see cref="GmmShapeRules"/> documents for its messages: the grouped GEMM's own.</summary>
    private static readonly string[] ShapeRuleNames = ["a", "b", "batchSizes", "transB"];

    /// <summary>The public methods of the fuzzed types, by <see cref="Signature"/>.</summary>
    private static readonly Dictionary<string, MethodInfo> Methods = FuzzedTypes()
        .SelectMany(PublicMethods).ToDictionary(Signature);

    private static Type[] FuzzedTypes() => [typeof(CpuReference), typeof(Fp8Reference), typeof(GmmShapeRules), typeof(BatchSizes)];

    /// <summary>Declared public methods, static and instance, without property accessors (operators stay).</summary>
    private static IEnumerable<MethodInfo> PublicMethods(Type type) =>
        type.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly)
            .Where(m => !m.IsSpecialName || m.Name.StartsWith("op_", StringComparison.Ordinal));

    /// <summary>"Type.Method(ParamType, ...)", generic arguments spelled out, so that overloads differ.</summary>
    private static string Signature(MethodInfo m) =>
        $"{m.DeclaringType!.Name}.{m.Name}({string.Join(", ", m.GetParameters().Select(p => TypeName(p.ParameterType)))})";

    private static string TypeName(Type t) => t.IsGenericType
        ? $"{t.Name[..t.Name.IndexOf('`', StringComparison.Ordinal)]}<{string.Join(", ", t.GetGenericArguments().Select(TypeName))}>"
        : t.Name;

    /// <summary>The signature of a public method, which must exist (a renamed one fails here, not silently).</summary>
    private static string Sig(Type type, string name, params Type[] parameters) =>
        Signature(type.GetMethod(name, BindingFlags.Public | BindingFlags.Static, parameters)
                  ?? throw new InvalidOperationException($"{type.Name}.{name} with those parameters is gone"));

    /// <summary>Whether a parameter is a size, length, shape or enum: what this fuzz must draw edge values for.</summary>
    private static bool IsSized(Type t) =>
        t.IsEnum || (t.IsPrimitive && t != typeof(bool) && t != typeof(float) && t != typeof(double) && t != typeof(char))
        || t.IsArray || t == typeof(DeviceTensor)
        || (t.IsGenericType && t.GetGenericTypeDefinition() is var g
            && (g == typeof(ReadOnlySpan<>) || g == typeof(Span<>) || g == typeof(ReadOnlyMemory<>) || g == typeof(Memory<>)
                || g == typeof(IReadOnlyList<>)));

    /// <summary>
    /// A span's length, given to a probe as the value its messages must hold, with the sizes its layout needs: a message
    /// refusing the length must hold those too (what the count it wanted came from).
    /// </summary>
    private sealed record Len(int Length, params long[] Sizes);

    private sealed class Draw(Random random)
    {
        public long Size() => random.Next(3) == 0 ? random.Next(0, 40) : Edges[random.Next(Edges.Length)];

        public int IntSize() => (int)Math.Clamp(Size(), int.MinValue, int.MaxValue);

        public bool Coin() => random.Next(2) == 0;

        public int Small(int max) => random.Next(0, max + 1);

        /// <summary>A length near <paramref name="wanted"/> when it is small, else a small one; sometimes off by one.</summary>
        public int Length(BigInteger wanted)
        {
            if (wanted >= 0 && wanted <= MaxValidElements && random.Next(4) != 0)
                return (int)wanted + (random.Next(8) == 0 ? 1 : 0);
            return random.Next(0, 9);
        }

        public long[] Counts()
        {
            // Sometimes only empty experts: M = 0 leaves the operands empty whatever K and N are, so the products of
            // sizes that no span holds (E · K · N) are reached with huge K and N.
            if (random.Next(6) == 0) return new long[random.Next(1, 9)];
            var counts = new long[random.Next(0, 5)];
            for (int i = 0; i < counts.Length; i++) counts[i] = random.Next(3) == 0 ? Size() : random.Next(0, 6);
            return counts;
        }

        public DType Fp8Type() => random.Next(6) switch
        {
            0 => NotFp8[random.Next(NotFp8.Length)],
            1 or 2 => DType.Float8E4M3,
            _ => DType.Float8E5M2,
        };

        public ScaleMode Mode() => random.Next(5) switch
        {
            0 => random.Next(3) switch { 0 => (ScaleMode)7, 1 => (ScaleMode)77, _ => (ScaleMode)(-1) },
            1 or 2 => ScaleMode.Rowwise,
            _ => ScaleMode.Blockwise,
        };

        public double Double() => random.Next(3) == 0 ? (random.NextDouble() - 0.5) * 1e5 : DoubleEdges[random.Next(DoubleEdges.Length)];

        public float Float() => (float)Double();
    }

    /// <summary>One fuzz run: its failures, the methods it called, and whether a call hung (which stops the run).</summary>
    private sealed class Run
    {
        public List<string> Failures { get; } = [];

        public HashSet<string> Probed { get; } = [];

        public bool Hung { get; private set; }

        /// <summary>
        /// Runs one call of the method <paramref name="signature"/>: it must return or throw an argument exception naming
        /// one of the method's parameters (or of <paramref name="alsoNamed"/>, the names a method documents for its
        /// messages instead) whose message holds that argument's value as <paramref name="values"/> gives it.
        /// </summary>
        public void Probe(string signature, string input, Func<int> call, (string Name, object? Value)[] values,
            params string[] alsoNamed)
        {
            if (Hung) return;
            Probed.Add(signature);
            string method = signature[..signature.IndexOf('(', StringComparison.Ordinal)];
            long allocated = 0;
            // On a task, so that a call that never returns fails the test instead of hanging it (the first one stops
            // the run: its thread keeps a core).
            var task = Task.Run(() =>
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                try
                {
                    return call();
                }
                finally
                {
                    allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                }
            });
            if (!((IAsyncResult)task).AsyncWaitHandle.WaitOne(CallLimit))
            {
                Failures.Add($"{method}({input}): did not return within {CallLimit.TotalSeconds} s");
                Hung = true;
                return;
            }

            try
            {
                task.GetAwaiter().GetResult();
            }
            catch (ArgumentException e)
            {
                string? name = e.ParamName;
                bool parameter = Methods[signature].GetParameters().Any(p => p.Name == name);
                if (!parameter && !alsoNamed.Contains(name))
                {
                    Failures.Add($"{method}({input}): {e.GetType().Name} names '{name}', not a parameter: {e.Message}");
                }
                else if (!values.Any(v => v.Name == name))
                {
                    Failures.Add($"{method}({input}): {e.GetType().Name} names '{name}', whose value the probe lacks: {e.Message}");
                }
                else
                {
                    object? value = values.First(v => v.Name == name).Value;
                    string[] texts = Texts(name!, value);
                    if (!texts.Any(t => e.Message.Contains(t, StringComparison.Ordinal))
                        || (value is Len len && !len.Sizes.All(x => e.Message.Contains(Text(x), StringComparison.Ordinal))))
                    {
                        Failures.Add($"{method}({input}): {e.GetType().Name} names '{name}' but its message holds " +
                                     $"none of [{string.Join(" | ", texts)}]" +
                                     (value is Len l ? $" or not each of the sizes [{string.Join(", ", l.Sizes)}]" : "") +
                                     $": {e.Message}");
                    }
                }
            }
            catch (Exception e)
            {
                Failures.Add($"{method}({input}): {e.GetType().Name}: {e.Message}");
            }

            if (allocated > MaxAllocatedBytes)
                Failures.Add($"{method}({input}): allocated {allocated} bytes (at most {MaxAllocatedBytes})");
        }

        private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

        /// <summary>The texts of which a message about the argument <paramref name="name"/> must hold one.</summary>
        private static string[] Texts(string name, object? value) => value switch
        {
            // A null or a flag has no value to quote: the message names it.
            null or bool => [name],
            Len len => [Text(len.Length)],
            // A shape or batch sizes: the list, its length, an element, or (batch sizes) the sum a check judges.
            IReadOnlyList<long> list =>
            [
                TensorShape.Format(list), list.Count.ToString(CultureInfo.InvariantCulture),
                list.Aggregate(BigInteger.Zero, (sum, x) => sum + x).ToString(CultureInfo.InvariantCulture),
                .. list.Select(x => x.ToString(CultureInfo.InvariantCulture)),
            ],
            IFormattable f => [f.ToString(null, CultureInfo.InvariantCulture), f.ToString(null, CultureInfo.CurrentCulture)],
            _ => [value.ToString()!],
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

    private static int Expect(int actual, BigInteger wanted, string what) =>
        actual == wanted ? 0 : throw new InvalidOperationException($"{what} has {actual} values, not {wanted}");

    private static readonly string GmmSig = Sig(typeof(CpuReference), nameof(CpuReference.Gmm),
        typeof(ReadOnlySpan<double>), typeof(ReadOnlySpan<double>), typeof(ReadOnlySpan<long>), typeof(long), typeof(long),
        typeof(bool), typeof(bool));

    private static void FuzzGmm(Draw d, Run run)
    {
        long[] counts = d.Counts();
        long k = d.Size(), n = d.Size();
        bool transA = d.Coin(), transB = !transA ? d.Coin() : d.Small(7) == 0;
        BigInteger m = Sum(counts), e = counts.Length;
        BigInteger output = transA ? e * k * n : m * n;
        if (!AnyNegative([.. counts, k, n]) && output > MaxValidElements && output <= Array.MaxLength) return;
        var a = new double[d.Length(m * k)];
        var b = new double[d.Length(transA ? m * n : e * k * n)];
        run.Probe(GmmSig, $"a: {a.Length}, b: {b.Length}, counts=[{string.Join(",", counts)}], k={k}, n={n}, transA={transA}, transB={transB}",
            () => Expect(CpuReference.Gmm(a, b, counts, k, n, transA, transB).Length, output, "the result"),
            [("a", new Len(a.Length, k)), ("b", new Len(b.Length, transA ? [n] : [k, n])), ("batchSizes", counts), ("k", k), ("n", n),
                ("transA", transA), ("transB", transB)]);
    }

    private static readonly string QuantizeRowsSig = Sig(typeof(Fp8Reference), nameof(Fp8Reference.QuantizeRows),
        typeof(ReadOnlySpan<float>), typeof(int), typeof(int), typeof(int), typeof(DType), typeof(Span<byte>),
        typeof(Span<float>), typeof(bool));

    private static readonly string DequantizeRowsSig = Sig(typeof(Fp8Reference), nameof(Fp8Reference.DequantizeRows),
        typeof(ReadOnlySpan<byte>), typeof(ReadOnlySpan<float>), typeof(int), typeof(int), typeof(int), typeof(DType));

    private static void FuzzFp8Rows(Draw d, Run run)
    {
        int rows = d.IntSize(), cols = d.IntSize(), blockCols = d.Coin() ? 0 : d.IntSize();
        DType dtype = d.Fp8Type();
        bool pow2 = d.Coin();
        BigInteger values = (BigInteger)rows * cols;
        BigInteger blocks = blockCols == 0 ? 1 : Blocks(cols, blockCols);
        if (!AnyNegative(rows, cols, blockCols) && values > MaxValidElements && values <= Array.MaxLength) return;
        var x = new float[d.Length(values)];
        var q = new byte[d.Length(values)];
        var scales = new float[d.Length(rows * blocks)];
        for (int i = 0; i < x.Length; i++) x[i] = d.Float();
        string input = $"x/q: {x.Length}/{q.Length}, scales: {scales.Length}, rows={rows}, cols={cols}, blockCols={blockCols}, dtype={dtype}";
        (string, object?)[] sizes = [("rows", rows), ("cols", cols), ("blockCols", blockCols), ("dtype", dtype),
            ("x", new Len(x.Length, rows, cols)), ("q", new Len(q.Length, rows, cols)),
            ("scales", new Len(scales.Length, rows, cols, blockCols))];
        run.Probe(QuantizeRowsSig, input, () =>
        {
            Fp8Reference.QuantizeRows(x, rows, cols, blockCols, dtype, q, scales, pow2);
            return 0;
        }, sizes);
        run.Probe(DequantizeRowsSig, input,
            () => Expect(Fp8Reference.DequantizeRows(q, scales, rows, cols, blockCols, dtype).Length, values, "the result"), sizes);
    }

    private static readonly string QuantizeBlocksSig = Sig(typeof(Fp8Reference), nameof(Fp8Reference.QuantizeBlocks),
        typeof(ReadOnlySpan<float>), typeof(int), typeof(int), typeof(int), typeof(int), typeof(DType), typeof(Span<byte>),
        typeof(Span<float>), typeof(bool));

    private static readonly string DequantizeBlocksSig = Sig(typeof(Fp8Reference), nameof(Fp8Reference.DequantizeBlocks),
        typeof(ReadOnlySpan<byte>), typeof(ReadOnlySpan<float>), typeof(int), typeof(int), typeof(int), typeof(int), typeof(DType));

    private static void FuzzFp8Blocks(Draw d, Run run)
    {
        int batch = d.IntSize(), rows = d.IntSize(), cols = d.IntSize(), block = d.Coin() ? 128 : d.IntSize();
        DType dtype = d.Fp8Type();
        bool pow2 = d.Coin();
        BigInteger values = (BigInteger)batch * rows * cols;
        if (!AnyNegative(batch, rows, cols) && block > 0 && values > MaxValidElements && values <= Array.MaxLength) return;
        var w = new float[d.Length(values)];
        var q = new byte[d.Length(values)];
        var scales = new float[d.Length(batch * Blocks(rows, block) * Blocks(cols, block))];
        for (int i = 0; i < w.Length; i++) w[i] = d.Float();
        string input = $"w/q: {w.Length}/{q.Length}, scales: {scales.Length}, batch={batch}, rows={rows}, cols={cols}, block={block}, dtype={dtype}";
        (string, object?)[] sizes = [("batch", batch), ("rows", rows), ("cols", cols), ("block", block), ("dtype", dtype),
            ("w", new Len(w.Length, batch, rows, cols)), ("q", new Len(q.Length, batch, rows, cols)),
            ("scales", new Len(scales.Length, batch, rows, cols, block))];
        run.Probe(QuantizeBlocksSig, input, () =>
        {
            Fp8Reference.QuantizeBlocks(w, batch, rows, cols, block, dtype, q, scales, pow2);
            return 0;
        }, sizes);
        run.Probe(DequantizeBlocksSig, input,
            () => Expect(Fp8Reference.DequantizeBlocks(q, scales, batch, rows, cols, block, dtype).Length, values, "the result"),
            sizes);
    }

    private static readonly string ScaledGmmSig = Sig(typeof(Fp8Reference), nameof(Fp8Reference.ScaledGmm),
        typeof(ReadOnlySpan<byte>), typeof(ReadOnlySpan<float>), typeof(ReadOnlySpan<byte>), typeof(ReadOnlySpan<float>),
        typeof(ReadOnlySpan<long>), typeof(int), typeof(int), typeof(bool), typeof(ScaleMode), typeof(DType), typeof(DType));

    private static void FuzzScaledGmm(Draw d, Run run)
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
        run.Probe(ScaledGmmSig,
            $"x: {x.Length}, w: {w.Length}, xScale: {xScale.Length}, wScale: {wScale.Length}, counts=[{string.Join(",", counts)}], " +
            $"k={k}, n={n}, transB={transB}, mode={mode}, {xType}, {wType}",
            () => Expect(Fp8Reference.ScaledGmm(x, xScale, w, wScale, counts, k, n, transB, mode, xType, wType).Length, output, "the result"),
            [("x", new Len(x.Length, k)), ("xScale", new Len(xScale.Length, k)), ("w", new Len(w.Length, counts.Length, k, n)),
                ("wScale", new Len(wScale.Length, counts.Length, k, n)), ("batchSizes", counts), ("k", k), ("n", n), ("transB", transB),
                ("mode", mode), ("xType", xType), ("wType", wType)]);
    }

    private static readonly string MaxFiniteSig = Sig(typeof(Fp8Reference), nameof(Fp8Reference.MaxFinite), typeof(DType));
    private static readonly string DecodeSig = Sig(typeof(Fp8Reference), nameof(Fp8Reference.Decode), typeof(byte), typeof(DType));
    private static readonly string EncodeSig = Sig(typeof(Fp8Reference), nameof(Fp8Reference.Encode), typeof(double), typeof(DType));
    private static readonly string PowerOfTwoSig = Sig(typeof(Fp8Reference), nameof(Fp8Reference.PowerOfTwoAtLeast), typeof(float));

    private static readonly string RelativeErrorSig = Sig(typeof(CpuReference), nameof(CpuReference.RelativeError),
        typeof(ReadOnlySpan<double>), typeof(ReadOnlySpan<double>));

    private static void FuzzScalars(Draw d, Run run)
    {
        DType dtype = d.Fp8Type();
        byte bits = (byte)d.Small(255);
        double value = d.Double();
        float single = d.Float();
        (string, object?)[] type = [("dtype", dtype)];
        run.Probe(MaxFiniteSig, $"{dtype}", () => Fp8Reference.MaxFinite(dtype) is 448.0 or 57344.0 ? 0
            : throw new InvalidOperationException("not an FP8 maximum"), type);
        run.Probe(DecodeSig, $"0x{bits:X2}, {dtype}", () => double.IsNaN(Fp8Reference.Decode(bits, dtype)) ? 1 : 0,
            [("bits", (int)bits), ("dtype", dtype)]);
        run.Probe(EncodeSig, $"{value:R}, {dtype}", () =>
        {
            byte code = Fp8Reference.Encode(value, dtype);
            double back = Fp8Reference.Decode(code, dtype);
            // NaN encodes to NaN; everything else, infinities included, to a finite code of the same sign.
            bool ok = double.IsNaN(value) ? double.IsNaN(back)
                : double.IsFinite(back) && (back == 0 || Math.Sign(back) == Math.Sign(value));
            return ok ? 0 : throw new InvalidOperationException($"Encode gave 0x{code:X2}, which decodes to {back}");
        }, [("value", value), ("dtype", dtype)]);
        run.Probe(PowerOfTwoSig, $"{single:R}", () =>
        {
            float p = Fp8Reference.PowerOfTwoAtLeast(single);
            // NaN and +infinity (the scales of blocks with NaN or infinite values) stay; a positive scale rounds up to
            // a power of two, +infinity above 2^127; zero and negatives, -infinity included, are no scale.
            bool ok = float.IsNaN(single) ? float.IsNaN(p)
                : single > 0 && p >= single
                  && (float.IsPositiveInfinity(p) || (float.IsNormal(p) && (BitConverter.SingleToInt32Bits(p) & 0x7FFFFF) == 0)
                      || (float.IsSubnormal(p) && BitOperations.IsPow2(BitConverter.SingleToInt32Bits(p))));
            return ok ? 0 : throw new InvalidOperationException($"returned {p:R}");
        }, [("value", single)]);
        var actual = new double[d.Length(3)];
        var reference = new double[d.Length(3)];
        run.Probe(RelativeErrorSig, $"{actual.Length} and {reference.Length} values",
            () => (int)Math.Min(CpuReference.RelativeError(actual, reference), 1),
            [("actual", new Len(actual.Length)), ("reference", new Len(reference.Length))]);
    }

    private static readonly string ToDoubleFloatSig = Sig(typeof(CpuReference), nameof(CpuReference.ToDouble), typeof(ReadOnlySpan<float>));
    private static readonly string ToDoubleHalfSig = Sig(typeof(CpuReference), nameof(CpuReference.ToDouble), typeof(ReadOnlySpan<Half>));
    private static readonly string ToDoubleBf16Sig = Sig(typeof(CpuReference), nameof(CpuReference.ToDouble), typeof(ReadOnlySpan<BFloat16>));

    private static void FuzzToDouble(Draw d, Run run)
    {
        var values = new float[d.Small(8)];
        for (int i = 0; i < values.Length; i++) values[i] = d.Float();
        Half[] halves = values.Select(v => (Half)v).ToArray();
        BFloat16[] bf16 = values.Select(v => (BFloat16)v).ToArray();
        (string, object?)[] length = [("values", new Len(values.Length))];
        run.Probe(ToDoubleFloatSig, $"{values.Length} floats", () => Expect(CpuReference.ToDouble(values).Length, values.Length, "the result"), length);
        run.Probe(ToDoubleHalfSig, $"{values.Length} halves", () => Expect(CpuReference.ToDouble(halves).Length, values.Length, "the result"), length);
        run.Probe(ToDoubleBf16Sig, $"{values.Length} bf16", () => Expect(CpuReference.ToDouble(bf16).Length, values.Length, "the result"), length);
    }

    private static readonly string CheckSig = Sig(typeof(GmmShapeRules), nameof(GmmShapeRules.Check),
        typeof(IReadOnlyList<long>), typeof(IReadOnlyList<long>), typeof(long), typeof(bool), typeof(bool));

    private static readonly string CheckBatchSizesSig = Sig(typeof(GmmShapeRules), nameof(GmmShapeRules.CheckBatchSizes),
        typeof(ReadOnlySpan<long>), typeof(long));

    private static void FuzzShapeRules(Draw d, Run run)
    {
        bool transA = d.Coin(), transB = d.Small(3) == 0;
        long[] aShape, bShape;
        long experts;
        if (d.Coin())
        {
            // Shapes that fit each other, so that the checks past rank and agreement are reached.
            long m = d.Size(), k = d.Size(), n = d.Size();
            experts = d.Size();
            aShape = [m, k];
            bShape = transA ? [m, n] : transB ? [experts, n, k] : [experts, k, n];
        }
        else
        {
            aShape = d.Coin() ? [d.Size(), d.Size()] : [d.Size()];
            bShape = d.Coin() ? [d.Size(), d.Size(), d.Size()] : [d.Size(), d.Size()];
            experts = d.Coin() ? d.Size() : 1 + (d.Coin() ? 0 : 7);
        }

        IReadOnlyList<long>? a = d.Small(20) == 0 ? null : aShape, b = d.Small(20) == 0 ? null : bShape;
        string input = $"a={(a is null ? "null" : TensorShape.Format(a))}, b={(b is null ? "null" : TensorShape.Format(b))}, " +
                       $"experts={experts}, transA={transA}, transB={transB}";
        run.Probe(CheckSig, input, () =>
        {
            GmmShape shape = GmmShapeRules.Check(a!, b!, experts, transA, transB);
            long[] output = shape.OutputShape(transA);
            BigInteger elements = output.Aggregate(BigInteger.One, (p, x) => p * x);
            if (output.Any(x => x < 0) || elements > long.MaxValue)
                throw new InvalidOperationException($"accepted: output {TensorShape.Format(output)}");
            return 0;
        }, [("aShape", a), ("bShape", b), ("a", a), ("b", b), ("batchSizes", experts), ("transB", transB)], ShapeRuleNames);
        long[] counts = d.Counts();
        long rows = d.Coin() ? (long)BigInteger.Clamp(Sum(counts), long.MinValue, long.MaxValue) : d.Size();
        run.Probe(CheckBatchSizesSig, $"counts=[{string.Join(",", counts)}], m={rows}",
            () => { GmmShapeRules.CheckBatchSizes(counts, rows); return 0; },
            [("batchSizes", counts), ("m", rows), ("a", rows)], ShapeRuleNames);
    }

    private static readonly string FromHostArraySig = Sig(typeof(BatchSizes), nameof(BatchSizes.FromHost), typeof(long[]));
    private static readonly string FromHostMemorySig = Sig(typeof(BatchSizes), nameof(BatchSizes.FromHost), typeof(ReadOnlyMemory<long>));
    private static readonly string FromDeviceSig = Sig(typeof(BatchSizes), nameof(BatchSizes.FromDevice), typeof(DeviceTensor));
    private static readonly string ImplicitArraySig = Sig(typeof(BatchSizes), "op_Implicit", typeof(long[]));
    private static readonly string ImplicitMemorySig = Sig(typeof(BatchSizes), "op_Implicit", typeof(ReadOnlyMemory<long>));
    private static readonly string ImplicitDeviceSig = Sig(typeof(BatchSizes), "op_Implicit", typeof(DeviceTensor));

    /// <summary>Host batch sizes are taken as given (the calls check them): any counts convert, none is lost.</summary>
    private static void FuzzBatchSizes(Draw d, Run run)
    {
        long[]? counts = d.Small(10) == 0 ? null : d.Counts();
        int start = counts is null ? 0 : d.Small(counts.Length), length = counts is null ? 0 : d.Small(counts.Length - start);
        ReadOnlyMemory<long> slice = counts is null ? default : counts.AsMemory(start, length);
        string input = counts is null ? "null" : $"[{string.Join(",", counts)}], slice {start}+{length}";
        (string, object?)[] value = [("counts", counts)];

        static int Host(BatchSizes s, long[]? counts)
        {
            bool ok = !s.IsOnDevice && s.DeviceCounts is null && s.IsMissing == counts is null
                      && s.HostCounts.Span.SequenceEqual(counts ?? []) && s.ToString().Length > 0;
            return ok ? 0 : throw new InvalidOperationException($"gave {s} holding {s.HostCounts.Length} counts");
        }

        static int Slice(BatchSizes s, ReadOnlyMemory<long> slice)
        {
            bool ok = !s.IsOnDevice && !s.IsMissing && s.HostCounts.Span.SequenceEqual(slice.Span) && s.ToString().Length > 0;
            return ok ? 0 : throw new InvalidOperationException($"gave {s} holding {s.HostCounts.Length} counts");
        }

        run.Probe(FromHostArraySig, input, () => Host(BatchSizes.FromHost(counts), counts), value);
        run.Probe(ImplicitArraySig, input, () => Host(counts, counts), value);
        run.Probe(FromHostMemorySig, input, () => Slice(BatchSizes.FromHost(slice), slice), value);
        run.Probe(ImplicitMemorySig, input, () => Slice(slice, slice), value);

        // Device counts are wrapped as given too (the calls check dtype, shape and device); a made-up address is
        // never read.
        DeviceTensor? tensor = d.Small(4) == 0 ? null
            : FakeTensors.Make(d.Coin() ? DType.Int64 : (DType)d.Small((int)DType.Float8E5M2), d.Coin() ? [d.Small(9)] : [d.Small(3), d.Small(3)]);
        static int Device(BatchSizes s, DeviceTensor? t)
        {
            bool ok = s.IsOnDevice == t is not null && ReferenceEquals(s.DeviceCounts, t) && s.IsMissing == t is null
                      && s.HostCounts.IsEmpty && s.ToString().Length > 0;
            return ok ? 0 : throw new InvalidOperationException($"gave {s}");
        }

        run.Probe(FromDeviceSig, $"{tensor?.ToString() ?? "null"}", () => Device(BatchSizes.FromDevice(tensor), tensor), [("counts", tensor)]);
        run.Probe(ImplicitDeviceSig, $"{tensor?.ToString() ?? "null"}", () => Device(tensor, tensor), [("counts", tensor)]);
    }

    /// <summary>FNV-1a of the seed text: string.GetHashCode differs between processes, and a seed must replay.</summary>
    private static int StableHash(string text)
    {
        uint hash = 2166136261;
        foreach (char c in text) hash = (hash ^ c) * 16777619;
        return (int)hash;
    }

    private static Run Fuzz(string seed, long iterations)
    {
        var d = new Draw(new Random(StableHash(seed)));
        var run = new Run();
        for (long i = 0; i < iterations && !run.Hung; i++)
        {
            FuzzGmm(d, run);
            FuzzFp8Rows(d, run);
            FuzzFp8Blocks(d, run);
            FuzzScaledGmm(d, run);
            FuzzScalars(d, run);
            FuzzToDouble(d, run);
            FuzzShapeRules(d, run);
            FuzzBatchSizes(d, run);
        }

        return run;
    }

    [Test]
    public void Every_call_returns_or_names_its_argument()
    {
        string seed = StressSettings.Seed() ?? Environment.TickCount.ToString(CultureInfo.InvariantCulture);
        Run run = Fuzz(seed, StressSettings.Iterations(3000));
        // One example of each kind of failure (the method and its complaint, numbers aside), so that a rare kind is
        // not hidden behind many of a common one.
        string[] kinds = run.Failures.GroupBy(f => Regex.Replace(f, @"\(.*?\): |-?\d+", "#")).Select(g => g.First()).ToArray();
        Assert.That(run.Failures, Is.Empty,
            $"seed {seed}: {run.Failures.Count} calls failed the property; one of each of {kinds.Length} kinds:\n" +
            string.Join("\n", kinds.Take(40)));
    }

    [Test]
    public void Every_public_sized_method_is_fuzzed_or_exempt()
    {
        // The methods a short run at the fixed seed calls: every probe runs in each iteration.
        HashSet<string> probed = Fuzz(StressSettings.DefaultSeed, 20).Probed;
        string[] sized = Methods.Where(m => m.Value.GetParameters().Any(p => IsSized(p.ParameterType))).Select(m => m.Key).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(sized.Where(s => !probed.Contains(s) && !Exempt.ContainsKey(s)), Is.Empty,
                "public methods with a size, length, shape or enum argument, neither fuzzed here nor exempt with a reason");
            Assert.That(Exempt.Keys.Where(s => !sized.Contains(s) || probed.Contains(s)), Is.Empty,
                "exemptions of methods that are gone, take no size, or are fuzzed after all");
            Assert.That(sized, Has.Length.GreaterThanOrEqualTo(20), "the reflection found the methods");
        });
    }

    // What the fuzz found, each as one call, so that a regression names its case.

    /// <summary>Runs <paramref name="call"/> on a task and fails the test if it does not return within <see cref="CallLimit"/>.</summary>
    private static void Returns(Action call) =>
        Assert.That(Task.Run(call).Wait(CallLimit), Is.True, $"did not return within {CallLimit.TotalSeconds} s");

    [Test]
    public void ScaledGmm_with_no_columns_returns_at_once_for_any_k()
    {
        double[]? c = null;
        Returns(() => c = Fp8Reference.ScaledGmm([], [], [], [], new long[8], int.MaxValue - 1, 0, transB: false,
            ScaleMode.Rowwise));
        Assert.That(c, Is.Empty);
    }

    [TestCase(false)]
    [TestCase(true)]
    public void Quantize_with_power_of_two_scales_takes_a_scale_that_underflows_to_zero_as_one(bool blocks)
    {
        // amax / 448 of the smallest float is 0 in float32: the kernels' frexpf/ldexpf give 2^0 for it.
        float[] x = [float.Epsilon, 0f];
        var q = new byte[2];
        var scales = new float[1];
        if (blocks) Fp8Reference.QuantizeBlocks(x, 1, 1, 2, 128, DType.Float8E4M3, q, scales, powerOfTwoScales: true);
        else Fp8Reference.QuantizeRows(x, 1, 2, 0, DType.Float8E4M3, q, scales, powerOfTwoScales: true);
        Assert.That(scales[0], Is.EqualTo(1f));
        Assert.That(q, Is.EqualTo(new byte[] { 0, 0 }));
    }

    [Test]
    public void PowerOfTwoAtLeast_refuses_negative_infinity_as_every_negative() =>
        ArgumentAssert.Rejects(() => Fp8Reference.PowerOfTwoAtLeast(float.NegativeInfinity), "value",
            float.NegativeInfinity.ToString(CultureInfo.CurrentCulture));

    [TestCase(0L, "is empty (E = 0)")]
    [TestCase(-2L, "E = -2")]
    [TestCase(long.MinValue, "E = -9223372036854775808")]
    public void Check_names_a_count_of_experts_below_one_with_its_value(long experts, string message) =>
        ArgumentAssert.Rejects(() => GmmShapeRules.Check([3, 4], [1, 4, 5], experts), "batchSizes", message);

    [Test]
    public void Check_refuses_a_forward_output_beyond_int64_elements() =>
        // K = 0 leaves both operands empty, so only the output [M, N] is large.
        ArgumentAssert.Rejects(() => GmmShapeRules.Check([long.MaxValue, 0], [1, 0, 2], 1), "b",
            $"[M, N] = [{long.MaxValue}, 2]");

    [Test]
    public void Check_refuses_a_weight_gradient_whose_size_product_is_beyond_int128() =>
        // M = 0 leaves both operands empty; 2^62 · (2^63 - 1) · (2^31 - 1) wraps in 128 bits to a count below int64.
        ArgumentAssert.Rejects(() => GmmShapeRules.Check([0, long.MaxValue], [0, int.MaxValue], 1L << 62, transA: true),
            "batchSizes", $"[{1L << 62}, {long.MaxValue}, {int.MaxValue}]");

    [TestCase(false)]
    [TestCase(true)]
    public void Check_refuses_an_operand_beyond_int64_elements(bool onB)
    {
        long big = long.MaxValue;
        if (onB) ArgumentAssert.Rejects(() => GmmShapeRules.Check([0, 2], [2, 2, big], 2), "b", $"[2, 2, {big}]");
        else ArgumentAssert.Rejects(() => GmmShapeRules.Check([big, 2], [1, 2, 1], 1), "a", $"[{big}, 2]");
    }

    [Test]
    public void Gmm_refuses_a_weight_gradient_whose_size_product_is_beyond_int128() =>
        // 4 · (2^63 - 1)^2 wraps in 128 bits; the result must be refused by name, not allocated at a wrapped length.
        ArgumentAssert.Rejects(() => CpuReference.Gmm([], [], new long[4], long.MaxValue, long.MaxValue, transA: true), "n",
            $"[4, {long.MaxValue}, {long.MaxValue}]");
}
