using GroupedGemm.Bench.Model;
using GroupedGemm.Bench.Reporting;

namespace GroupedGemm.Bench.Running;

/// <summary>
/// The device operands of one (problem, dtype, form) and the calls the bench times on them: our grouped GEMM on
/// any backend with host or device counts, and the dense GEMM of equal FLOPs in the same layout.
/// </summary>
/// <remarks>
/// Inputs come in <see cref="Sets"/> rotated sets (see <see cref="RotationRule"/>); outputs are written in place
/// with <c>GmmInto</c>/<c>GemmInto</c>, so nothing is allocated inside the timed loop.
/// </remarks>
internal sealed class GroupWorkload : IDisposable
{
    private readonly GroupedGemmContext _context;
    private readonly CudaStream _stream;
    private readonly List<DeviceTensor> _owned = [];
    private readonly DeviceTensor[] _a;
    private readonly DeviceTensor[] _b;
    private readonly DeviceTensor? _denseB;
    private readonly DeviceTensor _denseC;

    private GroupWorkload(GroupedGemmContext context, CudaStream stream, Problem problem, DType dtype, string form, int sets)
    {
        _context = context;
        _stream = stream;
        Problem = problem;
        DType = dtype;
        Form = form;
        Sets = sets;
        TransA = form == Forms.WeightGrad;
        TransB = form == Forms.ForwardTransB;
        long m = problem.M, k = problem.K, n = problem.N, e = problem.Experts;
        HostCounts = problem.Counts;
        DeviceCounts = Own(DeviceTensor.FromArray(problem.Counts));
        _a = new DeviceTensor[sets];
        _b = new DeviceTensor[sets];
        for (int s = 0; s < sets; s++)
        {
            _a[s] = Own(DeviceTensor.Allocate(context.Device, dtype, m, k));
            _b[s] = Own(form switch
            {
                Forms.Forward => DeviceTensor.Allocate(context.Device, dtype, e, k, n),
                Forms.ForwardTransB => DeviceTensor.Allocate(context.Device, dtype, e, n, k),
                _ => DeviceTensor.Allocate(context.Device, dtype, m, n),
            });
        }

        Output = Own(TransA ? DeviceTensor.Allocate(context.Device, dtype, e, k, n) : DeviceTensor.Allocate(context.Device, dtype, m, n));
        if (TransA)
        {
            // x[M,K]ᵀ · dy[M,N] → [K,N]: written into the first expert's slot of the grouped output.
            using DeviceTensor firstExpert = Output.Slice(0, 1);
            _denseC = Own(firstExpert.Reshape(k, n));
        }
        else
        {
            _denseB = Own(TransB ? DeviceTensor.Allocate(context.Device, dtype, n, k) : DeviceTensor.Allocate(context.Device, dtype, k, n));
            _denseC = Output;
        }
    }

    /// <summary>The problem.</summary>
    public Problem Problem { get; }

    /// <summary>The element type.</summary>
    public DType DType { get; }

    /// <summary>One of <see cref="Forms"/>.</summary>
    public string Form { get; }

    /// <summary>Number of rotated input sets.</summary>
    public int Sets { get; }

    /// <summary>Weight-gradient form.</summary>
    public bool TransA { get; }

    /// <summary>Weights stored transposed.</summary>
    public bool TransB { get; }

    /// <summary>The counts in host memory.</summary>
    public long[] HostCounts { get; }

    /// <summary>The counts in device memory (Int64).</summary>
    public DeviceTensor DeviceCounts { get; }

    /// <summary>The grouped output: [M, N], or [E, K, N] for the weight gradient.</summary>
    public DeviceTensor Output { get; }

    /// <summary>Input set <paramref name="set"/>: a [M, K] and b ([E,K,N], [E,N,K] or [M,N]).</summary>
    public (DeviceTensor A, DeviceTensor B) Inputs(int set) => (_a[set], _b[set]);

    /// <summary>Device bytes the workload will take, to refuse early instead of failing halfway.</summary>
    public static long Bytes(Problem p, DType dtype, string form, int sets)
    {
        long size = dtype.ElementSize();
        long a = p.M * p.K;
        long b = form == Forms.WeightGrad ? p.M * p.N : p.Experts * p.K * p.N;
        long c = form == Forms.WeightGrad ? p.Experts * p.K * p.N : p.M * p.N;
        long dense = form == Forms.WeightGrad ? 0 : p.K * p.N;
        return (sets * (a + b) + c + dense) * size;
    }

    /// <summary>Bytes of one input set (the quantity <see cref="RotationRule"/> is keyed on, as in Python).</summary>
    public static long SetBytes(Problem p, DType dtype, string form) =>
        ((p.M * p.K) + (form == Forms.WeightGrad ? p.M * p.N : p.Experts * p.K * p.N)) * dtype.ElementSize();

    /// <summary>Allocates and fills the operands with fresh random values.</summary>
    public static GroupWorkload Create(GroupedGemmContext context, CudaStream stream, Problem problem, DType dtype,
        string form, int sets, Random rng)
    {
        var workload = new GroupWorkload(context, stream, problem, dtype, form, sets);
        try
        {
            foreach (DeviceTensor t in workload._a.Concat(workload._b)) DeviceFill.Normal(t, rng, stream);
            if (workload._denseB is not null) DeviceFill.Normal(workload._denseB, rng, stream);
            stream.Synchronize();
            return workload;
        }
        catch
        {
            workload.Dispose();
            throw;
        }
    }

    /// <summary>Options for a backend on the bench stream.</summary>
    public GmmOptions Options(GemmBackend backend) => new() { Backend = backend, Stream = _stream };

    /// <summary>Our grouped GEMM on input set <paramref name="iteration"/> mod <see cref="Sets"/>.</summary>
    public void RunGrouped(int iteration, GmmOptions options, bool deviceCounts)
    {
        int s = iteration % Sets;
        if (deviceCounts)
            _context.GmmInto(_a[s], _b[s], DeviceCounts, Output, TransA, TransB, accumulate: false, options);
        else
            _context.GmmInto(_a[s], _b[s], HostCounts, Output, TransA, TransB, accumulate: false, options);
    }

    /// <summary>The dense GEMM of equal FLOPs in the same layout, cuBLAS through the library.</summary>
    public void RunDense(int iteration)
    {
        int s = iteration % Sets;
        if (TransA)
            _context.GemmInto(_a[s], _b[s], _denseC, transA: true, stream: _stream);
        else
            _context.GemmInto(_a[s], _denseB!, _denseC, transB: TransB, stream: _stream);
    }

    /// <summary>Whether <paramref name="backend"/> takes this call, and the concrete backend it would run.</summary>
    public (bool Supported, string Reason, GemmBackend Resolved) Support(GemmBackend backend, bool deviceCounts)
    {
        var (a, b) = Inputs(0);
        bool ok = deviceCounts
            ? _context.IsBackendSupported(backend, a, b, DeviceCounts, Output, TransA, TransB, out string reason)
            : _context.IsBackendSupported(backend, a, b, HostCounts, Output, TransA, TransB, out reason);
        if (!ok) return (false, reason, backend);
        GemmBackend resolved = backend;
        if (backend == GemmBackend.Auto)
        {
            resolved = deviceCounts
                ? _context.SelectBackend(a, b, DeviceCounts, Output, TransA, TransB, Options(backend))
                : _context.SelectBackend(a, b, HostCounts, Output, TransA, TransB, Options(backend));
        }

        return (true, "", resolved);
    }

    private DeviceTensor Own(DeviceTensor tensor)
    {
        _owned.Add(tensor);
        return tensor;
    }

    public void Dispose()
    {
        // Views first (they only reference), then the memory; the stream must be idle, which the caller ensures.
        for (int i = _owned.Count - 1; i >= 0; i--) _owned[i].Dispose();
        _owned.Clear();
    }
}
