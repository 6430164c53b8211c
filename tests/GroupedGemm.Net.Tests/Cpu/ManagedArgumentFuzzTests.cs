using System.Globalization;
using System.Numerics;
using System.Reflection;
using System.Runtime.CompilerServices;
using CsCheck;
using GroupedGemm.Interop;
using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Cpu;

/// <summary>
/// A seeded argument fuzz of the managed validation paths, the managed counterpart of the native size fuzz: tensors
/// (<see cref="DeviceTensor.Wrap(nint, DType, long[], int?, object?)"/>, the strided Wrap, Adopt, Reshape, Slice), the
/// grouped GEMM entry points of <see cref="GroupedGemmContext"/> and <see cref="Ops"/>, and every <see cref="MoeKernels"/>
/// method, with extents 0, 1, huge and negative, products and byte sizes beyond int64, mismatched shapes, dtypes and
/// devices, batch sizes that are negative or sum beyond int64, and enum values out of range. Each call must return,
/// reach native code, or throw an <see cref="ArgumentException"/> (or a subclass) whose ParamName is one of the method's
/// parameters and whose message shows an offending value; and a call that reaches native code must satisfy a model of
/// the documented rules, so that a missing check fails here. No native code runs: tensors live at made-up addresses,
/// the lease's test hook stops each call just before its native call, and a hook before each device allocation stops
/// it there (an allocation is the first native call of the methods that return a new tensor, also from the pooled
/// contexts of <see cref="Ops"/>, which are real ones on a GPU host).
/// Contexts cannot be created without a GPU (the constructor creates a native handle), so the context's methods run
/// on an instance made without its constructor: every check the public methods make comes before the handle is used.
/// Short and fixed-seed by default; <c>GG_STRESS_ITERATIONS</c> and <c>GG_STRESS_SEED</c> lengthen or replay a run.
/// </summary>
[TestFixture]
[NonParallelizable]
public class ManagedArgumentFuzzTests
{
    private static readonly long[] Edges =
    [
        0, 1, 2, 3, 7, 128, 129, int.MaxValue, int.MaxValue + 1L, 1L << 33, 1L << 40, 1L << 62, long.MaxValue / 2,
        long.MaxValue - 1, long.MaxValue, -1, -2, int.MinValue, long.MinValue,
    ];

    private const long FirstAddress = 0x3000_0000_0000;

    private static long s_next = FirstAddress;

    /// <summary>Each test's made-up addresses start at the same place, so a fixed-seed test repeats whatever ran before it.</summary>
    [SetUp]
    public void ResetAddresses() => s_next = FirstAddress;

    [TearDown]
    public void ClearHook() => NativeCallStop.Clear();

    private sealed class Draw(Random random)
    {
        public Random Random { get; } = random;

        public bool OneIn(int n) => Random.Next(n) == 0;

        public long Extent() => OneIn(4) ? Edges[Random.Next(Edges.Length)] : Random.Next(0, 6);

        public T Pick<T>(params T[] values) => values[Random.Next(values.Length)];

        public long[] Shape(int rank)
        {
            var shape = new long[rank];
            for (int i = 0; i < rank; i++) shape[i] = Extent();
            return shape;
        }

        public DType FloatType() => OneIn(8) ? Pick(DType.Int32, DType.Int64, DType.Float8E4M3) : Pick(DType.Float32, DType.BFloat16);

        /// <summary>A tensor at <paramref name="at"/> or a fresh fake address; extents that make it unwrappable (negative, beyond int64 bytes) become 2, or 1 where that is still too many.</summary>
        public static DeviceTensor Tensor(DType dtype, long[] shape, int device = 0, nint at = 0)
        {
            nint address = at != 0 ? at : (nint)Interlocked.Add(ref s_next, 1L << 36);
            try
            {
                return DeviceTensor.Wrap(address, dtype, shape, device);
            }
            catch (ArgumentException)
            {
                try
                {
                    return DeviceTensor.Wrap(address, dtype, shape.Select(e => e is >= 0 and <= 1 << 20 ? e : 2).ToArray(), device);
                }
                catch (ArgumentException)
                {
                    // Many small extents can still multiply past int64 (a 40-D shape): keep the rank, drop the size.
                    return DeviceTensor.Wrap(address, dtype, shape.Select(e => Math.Clamp(e, 0, 1)).ToArray(), device);
                }
            }
        }
    }

    /// <summary>Runs <paramref name="fuzz"/> on <paramref name="fallback"/> (or <c>GG_STRESS_ITERATIONS</c>) seeded cases; fails listing what broke the property.</summary>
    private static void Run(long fallback, Action<Draw, List<string>> fuzz)
    {
        var failures = new List<string>();
        StressSettings.Sample(Gen.Int, seed => fuzz(new Draw(new Random(seed)), failures), fallback);
        Assert.That(failures, Is.Empty,
            $"{failures.Count} calls failed the property; the first 30 distinct:\n" + string.Join("\n", failures.Distinct().Take(30)));
    }

    /// <summary>Texts a message may show for <paramref name="args"/>: shapes, element types, numbers, enum values.</summary>
    private static IEnumerable<string> Values(object?[] args)
    {
        foreach (object? arg in args)
        {
            switch (arg)
            {
                case DeviceTensor t:
                    yield return TensorShape.Format(t.Shape);
                    yield return t.DType.ToString();
                    yield return $"device {t.Device}";
                    foreach (long e in t.Shape) yield return e.ToString(CultureInfo.InvariantCulture);
                    break;
                case long[] shape:
                    yield return TensorShape.Format(shape);
                    foreach (long e in shape) yield return e.ToString(CultureInfo.InvariantCulture);
                    yield return shape.Length.ToString(CultureInfo.InvariantCulture);
                    yield return shape.Aggregate(BigInteger.Zero, (sum, e) => sum + e).ToString(CultureInfo.InvariantCulture);
                    break;
                case BatchSizes { IsOnDevice: true } counts:
                    foreach (string s in Values([counts.DeviceCounts])) yield return s;
                    break;
                case BatchSizes counts:
                    foreach (string s in Values([counts.HostCounts.ToArray()])) yield return s;
                    break;
                case GmmOptions o:
                    yield return ((int)o.Backend).ToString(CultureInfo.InvariantCulture);
                    break;
                case ScaledGmmOptions o:
                    yield return ((int)o.ScaleMode).ToString(CultureInfo.InvariantCulture);
                    yield return ((int)o.Kernel).ToString(CultureInfo.InvariantCulture);
                    break;
                case Enum e:
                    yield return Convert.ToInt64(e, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture);
                    yield return e.ToString();
                    break;
                case IFormattable n:
                    yield return n.ToString(null, CultureInfo.InvariantCulture);
                    break;
            }
        }
    }

    /// <summary>
    /// Runs one call: it must return, reach native code (the lease's hook or the allocator), or throw an argument
    /// exception naming one of <paramref name="parameters"/> with a value of <paramref name="args"/> in its message (or,
    /// where the fault is no number, saying what is missing, empty, set together or aliased: <see cref="Stateful"/>). A
    /// call that did not throw must satisfy <paramref name="model"/> (null: the rules hold; else what is broken).
    /// </summary>
    private static void Probe(List<string> failures, string call, string[] parameters, object?[] args, Func<string?> model,
        Action body, params Type[] alsoAllowed)
    {
        string Input() => $"{call}({string.Join(", ", args.Select(Describe))})";
        NativeCallStop.Install();
        try
        {
            body();
        }
        catch (NativeCallStop.Reached)
        {
        }
        catch (Exception e) when (e is NativeLibraryNotFoundException or NativeLibraryLoadException or CudaUnavailableException)
        {
            // The first native call of a method that calls native code before any tensor is taken: it passed validation.
        }
        catch (ArgumentException e)
        {
            if (!parameters.Contains(e.ParamName))
                failures.Add($"{Input()}: {e.GetType().Name} names '{e.ParamName}', not a parameter: {e.Message}");
            else if (e is not ArgumentNullException && !Stateful.Any(w => e.Message.Contains(w, StringComparison.Ordinal)) &&
                     !Values(args).Any(v => e.Message.Contains(v, StringComparison.Ordinal)))
                failures.Add($"{Input()}: {e.GetType().Name} shows none of the values: {e.Message}");
            return;
        }
        catch (Exception e) when (alsoAllowed.Contains(e.GetType()))
        {
            return;
        }
        catch (Exception e)
        {
            failures.Add($"{Input()}: {e.GetType().Name}: {e.Message}");
            return;
        }
        finally
        {
            NativeCallStop.Clear();
        }

        if (model() is string broken) failures.Add($"{Input()}: passed validation although {broken}");
    }

    /// <summary>Words of messages whose offending value is no number: a missing or empty argument, flags set together, an alias.</summary>
    private static readonly string[] Stateful = ["required", "null", "empty", "Neither", "cannot both", "overlaps"];

    private static string Describe(object? arg) => arg switch
    {
        null => "null",
        DeviceTensor t => $"{t.DType} {TensorShape.Format(t.Shape)} dev {t.Device} @0x{t.Pointer:X}",
        long[] s => TensorShape.Format(s),
        BatchSizes { IsMissing: true } => "no counts",
        BatchSizes { IsOnDevice: true } c => "device counts " + Describe(c.DeviceCounts),
        BatchSizes c => "counts " + TensorShape.Format(c.HostCounts.Span),
        _ => Convert.ToString(arg, CultureInfo.InvariantCulture) ?? "?",
    };

    private static string[] ParametersOf(Type type, string method) =>
        type.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.Instance)
            .Where(m => m.Name == method).SelectMany(m => m.GetParameters()).Select(p => p.Name!).Distinct().ToArray();

    private static BigInteger Product(IEnumerable<long> extents) => extents.Aggregate(BigInteger.One, (p, e) => p * e);

    /// <summary>Null when a tensor of <paramref name="shape"/> of <paramref name="dtype"/> can exist (extents non-negative, bytes within int64).</summary>
    private static string? Fits(string name, DType dtype, params long[] shape) =>
        shape.Any(e => e < 0) ? $"{name} {TensorShape.Format(shape)} has a negative extent"
        : !Enum.IsDefined(dtype) ? $"{name} has element type {(int)dtype}"
        : Product(shape) * dtype.ElementSize() > long.MaxValue ? $"{name} {TensorShape.Format(shape)} of {dtype} is beyond int64 bytes"
        : null;

    // ---------------------------------------------------------------- tensors

    [Test]
    public void Tensor_construction_views_and_reshapes_return_a_consistent_tensor_or_name_their_argument()
    {
        string[] wrap = ParametersOf(typeof(DeviceTensor), nameof(DeviceTensor.Wrap));
        string[] adopt = ["memory", "dtype", "shape"];
        Run(3000, (d, failures) =>
        {
            int rank = d.Pick(0, 1, 2, 3, 4, 9, 40);
            long[]? shape = d.OneIn(30) ? null : d.Shape(rank);
            DType dtype = d.OneIn(6) ? (DType)d.Pick(-1, 7, 99, int.MaxValue) : (DType)d.Random.Next(7);
            int? device = d.OneIn(8) ? null : d.OneIn(4) ? d.Pick(-1, 1, int.MaxValue, int.MinValue) : 0;
            nint pointer = (nint)Interlocked.Add(ref s_next, 1L << 36) + (d.OneIn(6) ? d.Random.Next(1, 8) : 0);
            if (device is null) pointer = 0; // a null device asks CUDA where a non-null pointer lives

            Probe(failures, "Wrap", wrap, [pointer, dtype, shape, device], () =>
                    shape is null ? "shape is null" : Fits("shape", dtype, shape) ?? (device < 0 ? $"device {device} is negative" : null),
                () => CheckTensor(DeviceTensor.Wrap(pointer, dtype, shape!, device), dtype, shape!), typeof(NativeCallStop.Reached));

            long[]? strides = shape is null ? [] : TensorStrides.Contiguous(shape.Select(e => Math.Max(e, 0)).ToArray());
            if (strides.Length > 0 && d.OneIn(2)) strides[d.Random.Next(strides.Length)] = d.Extent();
            if (d.OneIn(10)) strides = d.OneIn(2) ? null : [.. strides, 1];
            Probe(failures, "Wrap(strides)", wrap, [pointer, dtype, shape, strides, device], () =>
                    shape is null || strides is null ? "shape or strides is null"
                    : Fits("shape", dtype, shape) ?? (strides.Length != shape.Length ? "strides do not match the rank" : null),
                () => CheckTensor(DeviceTensor.Wrap(pointer, dtype, shape!, strides!, device), dtype, shape!));

            var memory = new NativeHandle(pointer == 0 ? 0x10 : pointer, NativeHandleKind.None, device: -1);
            Probe(failures, "Adopt", adopt, [dtype, shape], () => shape is null ? "shape is null" : Fits("shape", dtype, shape),
                () => CheckTensor(DeviceTensor.Adopt(memory, dtype, shape!), dtype, shape!));

            DeviceTensor t = Draw.Tensor(Enum.IsDefined(dtype) ? dtype : DType.Float32, shape ?? [3, 4], 0);
            long[] to = d.Shape(d.Pick(0, 1, 2, 3, 9));
            if (to.Length > 0 && d.OneIn(2)) to[d.Random.Next(to.Length)] = -1;
            Probe(failures, "Reshape", ["shape"], [t, to], () => null, () =>
            {
                DeviceTensor view = t.Reshape(to);
                Assert.That(view.ElementCount, Is.EqualTo(t.ElementCount));
                Assert.That(view.Shape.Where((e, i) => e != to[i] && to[i] != -1), Is.Empty, "reshape kept the given extents");
                CheckTensor(view, t.DType, [.. view.Shape]);
            });

            long start = d.Extent(), length = d.Extent();
            Probe(failures, "Slice", ["start", "length"], [t, start, length], () =>
                    t.Rank == 0 || start < 0 || length < 0 || (BigInteger)start + length > t.Shape[0] ? "the slice is outside dimension 0" : null,
                () =>
                {
                    DeviceTensor view = t.Slice(start, length);
                    Assert.That(view.Shape[0], Is.EqualTo(length));
                    Assert.That((BigInteger)(long)view.Pointer,
                        Is.EqualTo((BigInteger)(long)t.Pointer + (start * Product(t.Shape.Skip(1)) * t.DType.ElementSize())));
                    CheckTensor(view, t.DType, [.. view.Shape]);
                },
                typeof(InvalidOperationException)); // a scalar has no dimension to slice: the tensor is wrong, not an argument
        });
    }

    /// <summary>The returned tensor must be what its arguments describe: a copy of the shape, its true element and byte counts.</summary>
    private static void CheckTensor(DeviceTensor t, DType dtype, long[] shape)
    {
        Assert.That(t.Shape, Is.EqualTo(shape));
        Assert.That(t.DType, Is.EqualTo(dtype));
        Assert.That((BigInteger)t.ElementCount, Is.EqualTo(Product(shape)));
        Assert.That((BigInteger)t.ByteCount, Is.EqualTo(Product(shape) * dtype.ElementSize()));
        Assert.That(t.Device, Is.GreaterThanOrEqualTo(0));
    }

    // ---------------------------------------------------------------- grouped GEMM

    /// <summary>A context made without its constructor (which needs a GPU), on device 0.</summary>
    private static GroupedGemmContext FakeContext()
    {
        var context = (GroupedGemmContext)RuntimeHelpers.GetUninitializedObject(typeof(GroupedGemmContext));
        return context;
    }

    /// <summary>One drawn grouped GEMM: mostly consistent operands, with one or two things made wrong.</summary>
    private sealed class GmmCase
    {
        public required DeviceTensor A, B, Dy, C, Dx, Dw;
        public required BatchSizes Counts;
        public required bool TransA, TransB;
        public required GmmOptions? Options;
        public required GemmBackend Backend;
    }

    private static GmmCase DrawGmm(Draw d)
    {
        int experts = d.OneIn(10) ? 0 : d.Random.Next(1, 4);
        var counts = new long[experts];
        for (int e = 0; e < experts; e++) counts[e] = d.OneIn(6) ? d.Extent() : d.Random.Next(0, 5);
        BigInteger sum = counts.Aggregate(BigInteger.Zero, (s, c) => s + c);
        long m = sum >= 0 && sum <= long.MaxValue && !d.OneIn(10) ? (long)sum : d.Extent();
        long k = d.OneIn(3) ? d.Pick(0L, 1L << 33, long.MaxValue / 2, long.MaxValue) : d.Random.Next(0, 5);
        long n = d.OneIn(3) ? d.Pick(0L, 1L << 33, long.MaxValue / 2, long.MaxValue) : d.Random.Next(0, 5);
        bool transA = d.OneIn(3), transB = !transA ? d.OneIn(2) : d.OneIn(8);
        DType dtype = d.FloatType();
        DType Other() => d.OneIn(10) ? d.FloatType() : dtype;
        int Dev() => d.OneIn(12) ? 1 : 0;
        long E() => d.OneIn(12) ? d.Extent() : experts;

        DeviceTensor a = Draw.Tensor(dtype, [m, k], Dev());
        DeviceTensor b = transA ? Draw.Tensor(Other(), [d.OneIn(12) ? d.Extent() : m, n], Dev())
            : Draw.Tensor(Other(), transB ? [E(), n, d.OneIn(12) ? d.Extent() : k] : [E(), d.OneIn(12) ? d.Extent() : k, n], Dev());
        long[] cShape = transA ? [experts, k, n] : [m, n];
        if (d.OneIn(10)) cShape[d.Random.Next(cShape.Length)] = d.Extent();
        DeviceTensor c = d.OneIn(12) ? Draw.Tensor(Other(), cShape, Dev(), a.Pointer) : Draw.Tensor(Other(), cShape, Dev());
        DeviceTensor dy = Draw.Tensor(Other(), d.OneIn(10) ? [m, d.Extent()] : [m, n], Dev());
        DeviceTensor dx = d.OneIn(12) ? Draw.Tensor(Other(), [m, k], Dev(), d.Pick(a, dy).Pointer) : Draw.Tensor(Other(), [m, k], Dev());
        DeviceTensor dw = d.OneIn(12) ? Draw.Tensor(Other(), [.. b.Shape], Dev(), d.Pick(a, dy, dx).Pointer)
            : Draw.Tensor(Other(), [.. b.Shape], Dev());

        BatchSizes batchSizes = d.Random.Next(12) switch
        {
            0 => default,
            1 or 2 => Draw.Tensor(d.OneIn(4) ? DType.Int32 : DType.Int64, d.OneIn(4) ? [E(), 1] : [E()], Dev()),
            _ => counts,
        };
        GmmOptions? options = d.OneIn(3) ? null : new GmmOptions
        {
            Backend = (GemmBackend)(d.OneIn(4) ? d.Pick(-1, 5, 99, int.MinValue) : d.Random.Next(5)),
            CheckCounts = d.OneIn(2),
        };
        return new GmmCase
        {
            A = a, B = b, C = c, Dy = dy, Dx = dx, Dw = dw, Counts = batchSizes, TransA = transA, TransB = transB, Options = options,
            Backend = (GemmBackend)(d.OneIn(4) ? d.Pick(-1, 5, 99) : d.Random.Next(5)),
        };
    }

    /// <summary>
    /// The documented rules of one grouped GEMM (a · b into c, or the weight gradient with transA) on <paramref name="device"/>;
    /// null when they hold. <paramref name="c"/> null: the method allocates the output, whose bytes must then fit int64.
    /// </summary>
    private static string? GmmRules(DeviceTensor a, DeviceTensor b, DeviceTensor? c, BatchSizes counts, bool transA, bool transB,
        int device, DType? cType = null, bool fp8Operands = false)
    {
        if (transA && transB) return "transA and transB are both set";
        if (fp8Operands ? !a.DType.IsFloat8() || !b.DType.IsFloat8() : !a.DType.IsFloatingPoint() || a.DType != b.DType)
            return "the operands' element types are wrong";
        if (counts.IsMissing) return "there are no batch sizes";
        long experts;
        if (counts.IsOnDevice)
        {
            DeviceTensor t = counts.DeviceCounts!;
            if (t.DType != DType.Int64 || t.Rank != 1 || t.Device != device) return "the device counts are not 1-D Int64 on the device";
            experts = t.Shape[0];
        }
        else
        {
            ReadOnlySpan<long> host = counts.HostCounts.Span;
            experts = host.Length;
            BigInteger sum = 0;
            foreach (long n in host)
            {
                if (n < 0) return "a batch size is negative";
                sum += n;
            }

            if (a.Rank == 2 && sum != a.Shape[0]) return "the batch sizes do not sum to M";
        }

        if (experts < 1 || a.Rank != 2) return "no expert, or a is not 2-D";
        long m = a.Shape[0], k = a.Shape[1];
        long[] output;
        if (transA)
        {
            if (b.Rank != 2 || b.Shape[0] != m) return "b is not [M, N]";
            output = [experts, k, b.Shape[1]];
        }
        else
        {
            if (b.Rank != 3 || b.Shape[0] != experts || (transB ? b.Shape[2] : b.Shape[1]) != k) return "b is not [E, K, N]";
            output = [m, transB ? b.Shape[1] : b.Shape[2]];
        }

        if (Fits("the output", cType ?? a.DType, output) is string big) return big;
        if (a.Device != device || b.Device != device) return "an operand is on another device";
        if (c is null) return null;
        if (!c.Shape.SequenceEqual(output) || c.DType != (cType ?? a.DType) || c.Device != device) return "c does not fit the product";
        return GmmValidation.Overlaps(c, a) || GmmValidation.Overlaps(c, b) ? "c overlaps an operand" : null;
    }

    private static string? OptionRules(GmmOptions? options) =>
        options is not null && !Enum.IsDefined(options.Backend) ? $"options.Backend is {(int)options.Backend}" : null;

    [Test]
    public void Grouped_gemm_calls_pass_only_what_the_rules_allow_and_name_the_argument_otherwise()
    {
        GroupedGemmContext context = FakeContext();
        Type ctx = typeof(GroupedGemmContext);
        Run(3000, (d, failures) =>
        {
            GmmCase g = DrawGmm(d);
            (DeviceTensor a, DeviceTensor b, BatchSizes counts, GmmOptions? options) = (g.A, g.B, g.Counts, g.Options);
            bool transA = g.TransA, transB = g.TransB;
            object?[] args = [a, b, counts, g.C, transA, transB, options];
            switch (d.Random.Next(8))
            {
                case 0:
                    Probe(failures, "Gmm", ParametersOf(ctx, "Gmm"), args,
                        () => GmmRules(a, b, null, counts, false, transB, 0) ?? OptionRules(options),
                        () => context.Gmm(a, b, counts, transB, options));
                    break;
                case 1:
                    Probe(failures, "GmmInto", ParametersOf(ctx, "GmmInto"), args,
                        () => GmmRules(a, b, g.C, counts, transA, transB, 0) ?? OptionRules(options),
                        () => context.GmmInto(a, b, counts, g.C, transA, transB, d.OneIn(2), options));
                    break;
                case 2:
                    Probe(failures, "GmmWeightGradient", ParametersOf(ctx, "GmmWeightGradient"), args,
                        () => GmmRules(a, b, null, counts, true, false, 0) ?? OptionRules(options),
                        () => context.GmmWeightGradient(a, b, counts, options));
                    break;
                case 3:
                    Probe(failures, "SelectBackend", ParametersOf(ctx, "SelectBackend"), args,
                        () => GmmRules(a, b, g.C, counts, transA, transB, 0) ?? OptionRules(options),
                        () => context.SelectBackend(a, b, counts, g.C, transA, transB, options));
                    break;
                case 4:
                    Probe(failures, "IsBackendSupported", ParametersOf(ctx, "IsBackendSupported"), [g.Backend, .. args],
                        () => GmmRules(a, b, g.C, counts, transA, transB, 0) ??
                              (Enum.IsDefined(g.Backend) ? null : $"backend is {(int)g.Backend}"),
                        () => context.IsBackendSupported(g.Backend, a, b, counts, g.C, transA, transB, out _));
                    break;
                case 5:
                    Probe(failures, "Ops.Gmm", ParametersOf(typeof(Ops), "Gmm"), args,
                        () => GmmRules(a, b, null, counts, false, transB, a.Device) ?? OptionRules(options),
                        () => Ops.Gmm(a, b, counts, transB, options));
                    break;
                case 6:
                    Probe(failures, "GmmBackward", ParametersOf(ctx, "GmmBackward"), [a, b, g.Dy, counts, transB, options],
                        () => BackwardRules(a, b, g.Dy, null, null, counts, transB) ?? OptionRules(options),
                        () => context.GmmBackward(a, b, g.Dy, counts, transB, options));
                    break;
                default:
                    DeviceTensor? dx = d.OneIn(4) ? null : g.Dx, dw = d.OneIn(4) ? null : g.Dw;
                    Probe(failures, "GmmBackwardInto", ParametersOf(ctx, "GmmBackwardInto"), [a, b, g.Dy, counts, dx, dw, transB, options],
                        () => (dx is null && dw is null ? "neither output is given" : BackwardRules(a, b, g.Dy, dx, dw, counts, transB)) ??
                              OptionRules(options),
                        () => context.GmmBackwardInto(a, b, g.Dy, counts, dx, dw, transB, d.OneIn(2), options));
                    break;
            }
        });
    }

    /// <summary>
    /// The rules of the backward pass of y = x · w: the forward's, dy [M, N] of their type, dx [M, K] and dw w's shape
    /// on the device, and no output over an input it is computed from or over the other output (the outputs are computed
    /// one after the other: an overlap would change what the second one reads or where it writes).
    /// </summary>
    private static string? BackwardRules(DeviceTensor x, DeviceTensor w, DeviceTensor dy, DeviceTensor? dx, DeviceTensor? dw,
        BatchSizes counts, bool transB)
    {
        if (GmmRules(x, w, null, counts, false, transB, 0) is string forward) return forward;
        long n = transB ? w.Shape[1] : w.Shape[2];
        if (dy.DType != x.DType || !dy.Shape.SequenceEqual([x.Shape[0], n]) || dy.Device != 0) return "dy is not the forward output's";
        foreach ((DeviceTensor? grad, long[] shape) in new[] { (dx, x.Shape.ToArray()), (dw, w.Shape.ToArray()) })
        {
            if (grad is null) continue;
            if (grad.DType != x.DType || !grad.Shape.SequenceEqual(shape) || grad.Device != 0) return $"a gradient is not {TensorShape.Format(shape)}";
            if (new[] { x, w, dy }.Any(input => GmmValidation.Overlaps(grad, input))) return "a gradient overlaps an input";
        }

        return dx is not null && dw is not null && GmmValidation.Overlaps(dx, dw) ? "dx overlaps dw" : null;
    }

    [Test]
    public void Scaled_grouped_gemm_calls_pass_only_what_the_rules_allow_and_name_the_argument_otherwise()
    {
        GroupedGemmContext context = FakeContext();
        string[] parameters = ParametersOf(typeof(GroupedGemmContext), "GmmScaledInto");
        Run(2000, (d, failures) =>
        {
            GmmCase g = DrawGmm(d);
            long m = g.A.Shape[0], k = g.A.Shape[1], experts = g.Counts.IsMissing ? 1 : g.Counts.IsOnDevice ? g.Counts.DeviceCounts!.Shape[0] : g.Counts.HostCounts.Length;
            long n = g.B.Rank == 3 ? (g.TransB ? g.B.Shape[1] : g.B.Shape[2]) : d.Extent();
            DType Fp8() => d.OneIn(10) ? d.FloatType() : d.Pick(DType.Float8E4M3, DType.Float8E5M2);
            ScaleMode mode = d.OneIn(6) ? (ScaleMode)d.Pick(-1, 2, 99) : (ScaleMode)d.Random.Next(2);
            var options = new ScaledGmmOptions { ScaleMode = mode, Kernel = (ScaledGemmKernel)(d.OneIn(6) ? d.Pick(-1, 4, 99) : d.Random.Next(4)) };
            DeviceTensor x = Draw.Tensor(Fp8(), [m, k], g.A.Device);
            DeviceTensor w = Draw.Tensor(Fp8(), [.. g.B.Shape], g.B.Device);
            (Int128 xs, Int128 ws) = ScaledGmmValidation.ScaleCounts(mode == ScaleMode.Blockwise ? mode : ScaleMode.Rowwise, m, k, n, experts);
            long Clamp(Int128 v) => v < 0 || v > int.MaxValue || d.OneIn(10) ? d.Extent() : (long)v;
            DeviceTensor xScale = Draw.Tensor(d.OneIn(10) ? DType.BFloat16 : DType.Float32, [Clamp(xs)]);
            DeviceTensor wScale = Draw.Tensor(d.OneIn(10) ? DType.BFloat16 : DType.Float32, [Clamp(ws)]);
            DeviceTensor output = d.OneIn(10) ? Draw.Tensor(DType.BFloat16, [m, n], 0, x.Pointer)
                : Draw.Tensor(d.OneIn(10) ? DType.Float32 : DType.BFloat16, d.OneIn(10) ? [m, d.Extent()] : [m, n], g.C.Device);
            bool into = d.OneIn(2);
            Probe(failures, into ? "GmmScaledInto" : "GmmScaled", parameters, [x, xScale, w, wScale, g.Counts, output, mode, options],
                () => ScaledRules(x, xScale, w, wScale, g.Counts, into ? output : null, g.TransB, options),
                () =>
                {
                    if (into) context.GmmScaledInto(x, xScale, w, wScale, g.Counts, output, g.TransB, options);
                    else context.GmmScaled(x, xScale, w, wScale, g.Counts, g.TransB, options);
                });
        });
    }

    /// <summary>The rules of the scaled grouped GEMM: FP8 operands, Float32 scales of the mode's counts, a BFloat16 [M, N] output, defined options.</summary>
    private static string? ScaledRules(DeviceTensor x, DeviceTensor xScale, DeviceTensor w, DeviceTensor wScale, BatchSizes counts,
        DeviceTensor? output, bool transB, ScaledGmmOptions options)
    {
        if (!Enum.IsDefined(options.ScaleMode) || !Enum.IsDefined(options.Kernel)) return "an option is out of range";
        if (!x.DType.IsFloat8() || !w.DType.IsFloat8()) return "an operand is not FP8";
        if (GmmRules(x, w, output, counts, false, transB, 0, DType.BFloat16, fp8Operands: true) is string broken) return broken;
        long m = x.Shape[0], k = x.Shape[1], n = transB ? w.Shape[1] : w.Shape[2];
        (Int128 xs, Int128 ws) = ScaledGmmValidation.ScaleCounts(options.ScaleMode, m, k, n, w.Shape[0]);
        if (xScale.DType != DType.Float32 || wScale.DType != DType.Float32 || xScale.ElementCount != xs || wScale.ElementCount != ws)
            return "a scale tensor is wrong";
        if (xScale.Device != 0 || wScale.Device != 0) return "a scale tensor is on another device";
        return output is not null && (GmmValidation.Overlaps(output, xScale) || GmmValidation.Overlaps(output, wScale)) ? "output overlaps a scale" : null;
    }

    // ---------------------------------------------------------------- dense GEMM

    /// <summary>The rules of the dense GEMM: a and b 2-D or 3-D of one float type, K and batch agree, an output that fits int64 bytes.</summary>
    private static string? DenseRules(DeviceTensor a, DeviceTensor b, DeviceTensor? c, bool transA, bool transB)
    {
        if (!a.DType.IsFloatingPoint() || a.DType != b.DType) return "the operands' element types are wrong";
        if (a.Rank is not (2 or 3) || b.Rank is not (2 or 3)) return "an operand is neither 2-D nor 3-D";
        int ao = a.Rank - 2, bo = b.Rank - 2;
        long m = a.Shape[ao + (transA ? 1 : 0)], k = a.Shape[ao + (transA ? 0 : 1)];
        long bk = b.Shape[bo + (transB ? 1 : 0)], n = b.Shape[bo + (transB ? 0 : 1)];
        if (bk != k) return "K differs";
        if (a.Rank == 3 && b.Rank == 3 && a.Shape[0] != b.Shape[0]) return "the batches differ";
        long batch = a.Rank == 3 ? a.Shape[0] : b.Rank == 3 ? b.Shape[0] : 1;
        long[] output = a.Rank == 3 || b.Rank == 3 ? [batch, m, n] : [m, n];
        if (Fits("the output", a.DType, output) is string big) return big;
        if (a.Device != 0 || b.Device != 0) return "an operand is on another device";
        if (c is null) return null;
        if (!c.Shape.SequenceEqual(output) || c.DType != a.DType || c.Device != 0) return "c does not fit the product";
        return GmmValidation.Overlaps(c, a) || GmmValidation.Overlaps(c, b) ? "c overlaps an operand" : null;
    }

    [Test]
    public void Dense_gemm_calls_pass_only_what_the_rules_allow_and_name_the_argument_otherwise()
    {
        GroupedGemmContext context = FakeContext();
        Type ctx = typeof(GroupedGemmContext);
        Run(3000, (d, failures) =>
        {
            // Shared sizes, so that the shapes agree often enough to pass validation; huge ones and 0 among them.
            long Size() => d.OneIn(3) ? d.Pick(0L, 1L << 33, long.MaxValue / 2, long.MaxValue) : d.Random.Next(0, 5);
            long batch = Size(), m = Size(), k = Size(), n = Size();
            long Maybe(long size) => d.OneIn(12) ? d.Extent() : size;
            bool transA = d.OneIn(2), transB = d.OneIn(2);
            DType dtype = d.FloatType();
            DType Other() => d.OneIn(10) ? d.FloatType() : dtype;
            int Dev() => d.OneIn(12) ? 1 : 0;
            long[] Matrix(long rows, long cols, bool trans, bool batched) =>
                (trans ? new[] { cols, rows } : [rows, cols]) is var mat && batched ? [Maybe(batch), .. mat] : mat;
            bool aBatched = d.OneIn(2), bBatched = d.OneIn(2);
            DeviceTensor a = Draw.Tensor(dtype, Matrix(m, k, transA, aBatched), Dev());
            DeviceTensor b = Draw.Tensor(Other(), Matrix(Maybe(k), n, transB, bBatched), Dev());
            long[] cShape = aBatched || bBatched ? [batch, m, n] : [m, n];
            if (d.OneIn(10)) cShape[d.Random.Next(cShape.Length)] = d.Extent();
            DeviceTensor c = d.OneIn(12) ? Draw.Tensor(Other(), cShape, Dev(), a.Pointer) : Draw.Tensor(Other(), cShape, Dev());
            if (d.OneIn(2))
            {
                Probe(failures, "Gemm", ParametersOf(ctx, "Gemm"), [a, b, transA, transB],
                    () => DenseRules(a, b, null, transA, transB), () => context.Gemm(a, b, transA, transB));
            }
            else
            {
                Probe(failures, "GemmInto", ParametersOf(ctx, "GemmInto"), [a, b, c, transA, transB],
                    () => DenseRules(a, b, c, transA, transB), () => context.GemmInto(a, b, c, transA, transB, d.OneIn(2)));
            }
        });
    }

    // ---------------------------------------------------------------- MoE kernels

    /// <summary>
    /// Rules a call that reaches native code must satisfy, per kernel, where the kernel passes sizes it derives from
    /// the tensors (products, narrowings to int): every derived size must be the true one.
    /// </summary>
    private static readonly Dictionary<string, Func<Dictionary<string, object?>, string?>> MoeRules = new()
    {
        ["TopKSoftmax"] = p => TopKFitsInt((DeviceTensor)p["weights"]!),
        ["TopKSoftmaxBackward"] = p => TopKFitsInt((DeviceTensor)p["weights"]!),
        ["Combine"] = p => TopKFitsInt((DeviceTensor)p["weights"]!),
        ["BiasActivationPadded"] = p => PaddedRowsFit((DeviceTensor)p["x"]!),
        ["BiasActivationBackwardPadded"] = p => PaddedRowsFit((DeviceTensor)p["x"]!),
        ["GatedActivationPadded"] = p => PaddedRowsFit((DeviceTensor)p["gateUp"]!),
        ["GatedActivationBackwardPadded"] = p => PaddedRowsFit((DeviceTensor)p["gateUp"]!),
        ["BiasGradientPadded"] = p => PaddedRowsFit((DeviceTensor)p["outputGradient"]!),
        ["Step"] = AdamWRules,
        ["StepWithDeviceCorrections"] = AdamWRules,
        ["GatherRowsBackward"] = p =>
            (BigInteger)((DeviceTensor)p["sourceGradient"]!).Shape[0] * (int)p["topK"]! != ((DeviceTensor)p["slotRows"]!).ElementCount
                ? "slotRows does not hold tokens * topK slots" : null,
    };

    /// <summary>
    /// AdamW's documented rules: Float32 master weights and moments, a float gradient and copy, all of the weights'
    /// count, no two sharing memory, all on one device, scalars in range, step 1 or more, two Float32 corrections.
    /// </summary>
    private static string? AdamWRules(Dictionary<string, object?> p)
    {
        var parameter = (DeviceTensor)p["parameter"]!;
        long n = parameter.ElementCount;
        DType[] floats = [DType.Float32, DType.Float16, DType.BFloat16];
        if (parameter.DType != DType.Float32) return "the master weights are not Float32";
        foreach (string moment in new[] { "expAvg", "expAvgSq" })
        {
            if (p[moment] is not DeviceTensor t || t.DType != DType.Float32 || t.ElementCount != n) return $"{moment} does not fit";
        }

        if (p["gradient"] is not DeviceTensor g || !floats.Contains(g.DType) || g.ElementCount != n) return "the gradient does not fit";
        if (p["parameterCopy"] is DeviceTensor copy && (!floats.Contains(copy.DType) || copy.ElementCount != n)) return "the copy does not fit";
        if (p.TryGetValue("biasCorrections", out object? bc) &&
            (bc is not DeviceTensor corrections || corrections.DType != DType.Float32 || corrections.ElementCount != 2))
            return "the corrections are not two Float32";
        if (p.TryGetValue("step", out object? step) && (long)step! < 1) return "the step is below 1";
        var lr = (float)p["learningRate"]!;
        var beta1 = (float)p["beta1"]!;
        var beta2 = (float)p["beta2"]!;
        var eps = (float)p["epsilon"]!;
        var wd = (float)p["weightDecay"]!;
        if (!float.IsFinite(lr) || lr < 0 || !float.IsFinite(eps) || eps < 0 || !float.IsFinite(wd) || wd < 0 ||
            beta1 is not (>= 0 and < 1) || beta2 is not (>= 0 and < 1))
            return "a scalar is out of range";
        DeviceTensor[] tensors = p.Values.OfType<DeviceTensor>().ToArray();
        if (tensors.Any(t => t.Device != tensors[0].Device)) return "the tensors are on different devices";
        for (int i = 0; i < tensors.Length; i++)
        {
            for (int j = i + 1; j < tensors.Length; j++)
            {
                if (ReferenceEquals(tensors[i], tensors[j]) || GmmValidation.Overlaps(tensors[i], tensors[j])) return "two tensors share memory";
            }
        }

        return null;
    }

    private static string? TopKFitsInt(DeviceTensor weights) =>
        weights.Shape[1] > int.MaxValue ? $"top-k {weights.Shape[1]} does not fit the native int" : null;

    private static string? PaddedRowsFit(DeviceTensor padded) =>
        (BigInteger)padded.Shape[0] * padded.Shape[1] > long.MaxValue ? $"{TensorShape.Format(padded.Shape)} has more than int64 rows" : null;

    [Test]
    public void Every_moe_kernel_passes_only_what_the_rules_allow_and_names_the_argument_otherwise()
    {
        // In a fixed order: reflection does not promise one, and the fixed-seed run must repeat.
        // The MoE kernels and the optimiser's steps: every public static method that takes device tensors.
        MethodInfo[] kernels = new[] { typeof(MoeKernels), typeof(GroupedGemm.Optim.AdamW) }
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .OrderBy(m => m.ToString(), StringComparer.Ordinal).ToArray();
        Run(4000, (d, failures) =>
        {
            MethodInfo kernel = kernels[d.Random.Next(kernels.Length)];
            // A few sizes shared by every tensor of the call, so that shapes agree often enough to pass validation.
            long[] dims = [d.Random.Next(1, 4), d.OneIn(2) ? d.Extent() : d.Pick(1L << 33, 1L << 40), d.Pick(0L, 2L, 4L)];
            long Dim() => d.OneIn(8) ? dims[d.Random.Next(dims.Length)] * 2 : dims[d.Random.Next(dims.Length)];
            long[] Shape() => Enumerable.Range(0, d.Pick(1, 2, 2, 3, 3, 0)).Select(_ => Dim()).ToArray();
            // Elementwise calls (the optimiser's) take tensors of one shape and mostly Float32: often draw them so, or
            // every other check would refuse the call before the one that is missing.
            long[]? common = d.OneIn(2) ? Shape() : null;
            ParameterInfo[] ps = kernel.GetParameters();
            var args = new object?[ps.Length];
            for (int i = 0; i < ps.Length; i++)
            {
                Type t = ps[i].ParameterType;
                args[i] = t == typeof(DeviceTensor)
                    ? (d.OneIn(12) && (ps[i].IsOptional || Nullable(ps[i]) || d.OneIn(3))
                        ? null
                        : Draw.Tensor(common is not null && !d.OneIn(6) ? DType.Float32
                                : d.Pick(DType.Float32, DType.BFloat16, DType.Int32, DType.Int64, DType.Float8E4M3),
                            common is not null && !d.OneIn(8) ? [.. common] : Shape(), d.OneIn(20) ? 1 : 0))
                    : t == typeof(int) ? (int)Math.Clamp(d.OneIn(2) ? Dim() : d.Extent(), int.MinValue, int.MaxValue)
                    : t == typeof(long) ? (d.OneIn(2) ? Dim() : d.Extent())
                    : t == typeof(bool) ? d.OneIn(2)
                    : t == typeof(float) ? (d.OneIn(4) ? d.Pick(0f, -1f, 1f, float.NaN, float.PositiveInfinity) : 0.01f)
                    : t == typeof(Activation) ? (Activation)(d.OneIn(5) ? d.Pick(-1, 4, 99) : d.Random.Next(4))
                    : null;
            }

            var named = ps.Select((p, i) => (p.Name!, args[i])).ToDictionary(x => x.Item1, x => x.Item2);
            Probe(failures, kernel.Name, ps.Select(p => p.Name!).ToArray(), args,
                () => MoeRules.TryGetValue(kernel.Name, out var rule) ? rule(named) : null,
                () =>
                {
                    try
                    {
                        object? result = kernel.Invoke(null, args);
                        (result as IDisposable)?.Dispose();
                    }
                    catch (TargetInvocationException e) when (e.InnerException is not null)
                    {
                        System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
                    }
                });
        });
    }

    private static bool Nullable(ParameterInfo p) =>
        new NullabilityInfoContext().Create(p).WriteState == NullabilityState.Nullable;
}
