using System.Diagnostics;
using System.Globalization;
using GroupedGemm.Bench.Model;
using GroupedGemm.Bench.Reporting;
using Spectre.Console;

namespace GroupedGemm.Bench.Running;

/// <summary>
/// Our half of the benchmark: for every problem of the problem file, element type and form, times our grouped
/// GEMM on every requested backend and a dense GEMM of equal FLOPs round-robin in one loop, and writes the
/// results file (after every group, so a run cut short still leaves its figures).
/// </summary>
internal sealed class BenchRunner
{
    /// <summary>Free memory kept in reserve when judging whether a group fits.</summary>
    private const double UsableMemoryFraction = 0.9;

    private readonly BenchOptions _options;
    private readonly ProblemFile _file;
    private readonly CudaStream _stream;
    private readonly GroupedGemmContext _context;
    private readonly RoundRobinTimer _timer;
    private readonly Random _rng;

    private BenchRunner(BenchOptions options, ProblemFile file, GroupedGemmContext context, CudaStream stream, RoundRobinTimer timer)
    {
        _options = options;
        _file = file;
        _context = context;
        _stream = stream;
        _timer = timer;
        _rng = new Random(options.Seed);
    }

    /// <summary>Runs the bench; returns the process exit code.</summary>
    public static int Run(BenchOptions options)
    {
        ProblemFile file = BenchJson.ReadProblems(options.Problems.FullName);
        var problems = file.Problems
            .Where(p => (options.Configs.Contains("all") || options.Configs.Contains(p.Config)) && options.Routings.Contains(p.Routing))
            .ToList();
        if (problems.Count == 0)
        {
            Say($"[red]run: no problem of {Markup.Escape(options.Problems.FullName)} matches --configs and --routings.[/]");
            return 2;
        }

        if (CudaDevice.UnavailableReason is string why)
        {
            Say($"[red]run: CUDA is not usable here: {Markup.Escape(why)}[/]");
            return 3;
        }

        CudaDevice.Current = options.Device;
        Dictionary<string, string> environment = EnvironmentProbe.Describe(options.Device);
        Say($"{Markup.Escape(environment["device"])}, driver CUDA {environment["driver_cuda"]}, {Markup.Escape(environment["library"])}");
        using var context = new GroupedGemmContext(options.Device);
        long maxExperts = problems.Max(p => (long)p.Experts);
        context.Reserve(maxExperts);
        using CudaStream stream = CudaStream.Create(options.Device);
        using var timer = new RoundRobinTimer(stream);
        var runner = new BenchRunner(options, file with { Problems = problems }, context, stream, timer);
        return runner.RunAll(environment);
    }

    private int RunAll(Dictionary<string, string> environment)
    {
        var settings = new RunSettings(_options.Warmup, _options.Iters, _file.Seed,
            "CUDA events around each call; series round-robin, a fresh random order every iteration");
        var groups = new List<ResultGroup>();
        var clock = Stopwatch.StartNew();
        ResultsFile Results(IReadOnlyList<VerifyResult>? checks) =>
            new(ResultsFile.SchemaName, "GroupedGemm.Bench", environment, settings, groups) { Verification = checks };

        foreach (Problem problem in _file.Problems)
        {
            foreach (DType dtype in _options.Dtypes)
            {
                foreach (string form in _options.Forms)
                {
                    ResultGroup group = RunGroup(problem, dtype, form);
                    groups.Add(group);
                    BenchJson.Write(_options.Output.FullName, Results(null), BenchJson.Default.ResultsFile);
                    string summary = string.Join(", ", group.Series.Select(s =>
                        $"{s.Name} {(s.HasTiming ? s.Tflops!.Value.ToString("F0", CultureInfo.InvariantCulture) : s.Status)}"));
                    Say($"{Markup.Escape(problem.Id)} {Names.Of(dtype)} {form}: {Markup.Escape(summary)} [grey][[{clock.Elapsed.TotalSeconds:F0} s]][/]");
                }
            }
        }

        List<VerifyResult>? checks = _options.Verify ? VerifyAll() : null;
        BenchJson.Write(_options.Output.FullName, Results(checks), BenchJson.Default.ResultsFile);
        Say($"results: {Markup.Escape(_options.Output.FullName)} ({clock.Elapsed.TotalSeconds:F0} s)");
        if (checks is not null && checks.Any(c => !c.Passed))
        {
            foreach (VerifyResult c in checks.Where(c => !c.Passed))
                Say($"[red]verify FAILED: {Markup.Escape(c.Problem)} {c.Dtype} {c.Form} {c.Backend}: relative error {c.RelativeError:E2} > {c.Bound:E1}[/]");
            return 4;
        }

        return 0;
    }

    private ResultGroup RunGroup(Problem problem, DType dtype, string form)
    {
        int sets = _file.Rotation.SetsFor(GroupWorkload.SetBytes(problem, dtype, form));
        long need = GroupWorkload.Bytes(problem, dtype, form, sets);
        var (free, _) = CudaDevice.GetMemoryInfo(_options.Device);
        List<TimedCase> cases;
        if (need > UsableMemoryFraction * free)
        {
            cases = Placeholders(SeriesStatus.OutOfMemory,
                $"needs {need / (double)(1L << 30):F1} GiB, {free / (double)(1L << 30):F1} GiB free");
        }
        else
        {
            GroupWorkload? workload = null;
            try
            {
                workload = GroupWorkload.Create(_context, _stream, problem, dtype, form, sets, _rng);
                cases = MakeCases(workload);
                _timer.Probe(cases);
                _timer.Run(cases, _options.Warmup, _options.Iters);
            }
            catch (GroupedGemmException e)
            {
                cases = Placeholders(RoundRobinTimer.StatusOf(e), e.Message);
            }
            finally
            {
                SafeSynchronize();
                workload?.Dispose();
            }
        }

        return new ResultGroup(problem.Id, Names.Of(dtype), form, problem.Flops, sets,
            cases.Select(c => c.ToResult(problem.Flops)).ToList());
    }

    /// <summary>The series of a group: each backend (Auto with each counts location asked for), then the dense yardstick.</summary>
    private List<TimedCase> MakeCases(GroupWorkload w)
    {
        var cases = new List<TimedCase>();
        foreach (GemmBackend backend in _options.Backends)
        {
            if (backend == GemmBackend.Auto)
            {
                foreach (bool device in _options.AutoDeviceCounts) cases.Add(MakeCase(w, backend, device));
                continue;
            }

            // Explicit backends: device counts where the backend takes them (the graph-capturable path), else host.
            TimedCase onDevice = MakeCase(w, backend, deviceCounts: true);
            if (onDevice.IsLive)
            {
                cases.Add(onDevice);
                continue;
            }

            TimedCase onHost = MakeCase(w, backend, deviceCounts: false);
            if (onHost.IsLive)
            {
                cases.Add(onHost);
                continue;
            }

            // Neither location works: one entry, under the device-counts name, with both reasons where they differ.
            if (onHost.Note != onDevice.Note)
                onDevice.Fail(onDevice.Status, $"device counts: {onDevice.Note}; host counts: {onHost.Note}");
            cases.Add(onDevice);
        }

        if (_options.Dense) cases.Add(new TimedCase("cuBLAS GEMM (dense, equal FLOPs)", SeriesKinds.Dense, w.RunDense));
        return cases;
    }

    private static TimedCase MakeCase(GroupWorkload w, GemmBackend backend, bool deviceCounts)
    {
        GmmOptions options = w.Options(backend);
        string counts = deviceCounts ? "device" : "host";
        var c = new TimedCase($"{Names.Of(backend)} ({counts} counts)", SeriesKinds.Ours, i => w.RunGrouped(i, options, deviceCounts))
        {
            Backend = Names.Of(backend),
            Counts = counts,
        };
        try
        {
            var (supported, reason, resolved) = w.Support(backend, deviceCounts);
            c.ResolvedBackend = Names.Of(resolved);
            if (!supported)
            {
                c.Fail(reason.StartsWith(nameof(GroupedGemmStatus.BackendNotCompiled), StringComparison.Ordinal)
                    ? SeriesStatus.NotCompiled : SeriesStatus.Unsupported, reason);
            }
        }
        catch (Exception e) when (e is GroupedGemmException or ArgumentException)
        {
            c.Fail(e is GroupedGemmException g ? RoundRobinTimer.StatusOf(g) : SeriesStatus.Error, e.Message);
        }

        return c;
    }

    /// <summary>Series that did not run, with one reason, for a group that could not be set up.</summary>
    private List<TimedCase> Placeholders(string status, string note)
    {
        var cases = new List<TimedCase>();
        foreach (GemmBackend backend in _options.Backends)
        {
            IEnumerable<bool> locations = backend == GemmBackend.Auto ? _options.AutoDeviceCounts : [true];
            foreach (bool device in locations)
            {
                string counts = device ? "device" : "host";
                cases.Add(new TimedCase($"{Names.Of(backend)} ({counts} counts)", SeriesKinds.Ours, null)
                {
                    Backend = Names.Of(backend),
                    Counts = counts,
                });
            }
        }

        cases.Add(new TimedCase("cuBLAS GEMM (dense, equal FLOPs)", SeriesKinds.Dense, null));
        foreach (TimedCase c in cases) c.Fail(status, note);
        return cases;
    }

    private List<VerifyResult> VerifyAll()
    {
        var checks = new List<VerifyResult>();
        // One problem per routing: the skew of the counts is what differs between them.
        foreach (Problem original in _file.Problems.GroupBy(p => p.Routing).Select(g => g.First()))
        {
            Problem problem = Verifier.Shrink(original);
            foreach (DType dtype in _options.Dtypes)
            {
                foreach (string form in _options.Forms)
                {
                    using GroupWorkload w = GroupWorkload.Create(_context, _stream, problem, dtype, form, 1, _rng);
                    foreach (TimedCase c in MakeCases(w).Where(c => c.IsLive && c.Kind == SeriesKinds.Ours))
                    {
                        try
                        {
                            checks.Add(Verifier.Check(w, c.Name, () => c.Call!(0), _stream));
                        }
                        catch (GroupedGemmException e)
                        {
                            checks.Add(new VerifyResult(problem.Id, Names.Of(dtype), form, c.Name, double.PositiveInfinity,
                                Verifier.Bound(dtype), false));
                            Say($"[red]verify: {Markup.Escape(c.Name)} failed: {Markup.Escape(e.Message)}[/]");
                        }
                    }
                }
            }
        }

        Say($"verify: {checks.Count(c => c.Passed)} of {checks.Count} outputs within bounds");
        return checks;
    }

    private void SafeSynchronize()
    {
        try
        {
            _stream.Synchronize();
        }
        catch (GroupedGemmException e)
        {
            Say($"[red]stream error: {Markup.Escape(e.Message)}[/]");
        }
    }

    private static void Say(string markup) =>
        AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture,
            $"[grey][[bench {DateTime.Now:HH:mm:ss}]][/] ") + markup);
}
