// The release check's consumer: a user's program, restored from the GroupedGemm.Net package and published
// self-contained (tests/package/publish-consumer.sh), run on a GPU host that has only the NVIDIA driver
// (scripts/gpu-host.sh release-check). It loads the native library inside the package, and
//  1. checks Ops.Gmm forward and trans_b and the weight gradient (bf16, device counts) against float64;
//  2. reports the backend Auto chose for each, which must be cutlass-sm90 on a Hopper GPU;
//  3. times the forwards of the problems in --problems (bench/problems.py's file) the way GroupedGemm.Bench does
//     (same counts, CUDA events around each call, medians of --iters calls after --warmup, which the release check
//     passes to both programs), for scripts/release_compare.py.
// Exit status 0 only when every check passed.
using System.Text.Json;
using System.Text.Json.Nodes;
using GroupedGemm;

string? problemsPath = null, jsonPath = null;
int? warmupArg = null, itersArg = null;
for (int i = 0; i + 1 < args.Length; i += 2)
{
    if (args[i] == "--problems") problemsPath = args[i + 1];
    else if (args[i] == "--json") jsonPath = args[i + 1];
    else if (args[i] == "--warmup") warmupArg = int.Parse(args[i + 1]);
    else if (args[i] == "--iters") itersArg = int.Parse(args[i + 1]);
}
if (problemsPath is not null && (warmupArg is not >= 0 || itersArg is not >= 1))
{
    Console.WriteLine($"--problems needs --warmup (>= 0) and --iters (>= 1), the benchmark's: got --warmup {warmupArg?.ToString() ?? "none"}, --iters {itersArg?.ToString() ?? "none"}");
    return 2;
}

var report = new JsonObject();
int failures = 0;
void Check(bool ok, string what)
{
    Console.WriteLine($"{(ok ? "PASS" : "FAIL")} {what}");
    if (!ok) failures++;
}

NativeBuildInfo build = CudaDevice.BuildInfo;
Console.WriteLine($"library: {build}");
report["library"] = build.ToString();
if (!CudaDevice.IsAvailable)
{
    Console.WriteLine($"no usable CUDA device: {CudaDevice.UnavailableReason}");
    return 2;
}
CudaDeviceProperties card = CudaDevice.GetProperties(0);
Console.WriteLine($"card: {card.Name} (cc {card.ComputeCapability}), driver {CudaDevice.DriverVersion}");
report["card"] = card.Name;
report["driver"] = CudaDevice.DriverVersion;
bool hopper = card.Major == 9 && card.Minor == 0;

using var context = new GroupedGemmContext(0);

// ---- 1, 2: correctness and the backend Auto chooses, on a shape with an empty expert and uneven experts ----
{
    const int k = 512, n = 768, experts = 8;
    long[] counts = [300, 0, 517, 64, 1, 200, 640, 326];
    long m = counts.Sum();
    var random = new Random(7);
    double[] Values(long count) => Enumerable.Range(0, (int)count).Select(_ => (double)(float)(BFloat16)(float)(random.NextDouble() - 0.5)).ToArray();
    BFloat16[] ToBf16(double[] v) => Array.ConvertAll(v, x => (BFloat16)(float)x);
    double[] x = Values(m * k), w = Values((long)experts * k * n), wt = Values((long)experts * n * k), dy = Values(m * n);
    using DeviceTensor dx = DeviceTensor.FromArray(ToBf16(x), m, k);
    using DeviceTensor dw = DeviceTensor.FromArray(ToBf16(w), experts, k, n);
    using DeviceTensor dwt = DeviceTensor.FromArray(ToBf16(wt), experts, n, k);
    using DeviceTensor ddy = DeviceTensor.FromArray(ToBf16(dy), m, n);
    using DeviceTensor deviceCounts = DeviceTensor.FromArray(counts);

    var forms = new JsonObject();
    void CheckForm(string name, DeviceTensor result, double[] reference, GemmBackend chosen)
    {
        double[] got = Array.ConvertAll(result.ToArray<BFloat16>(), v => (double)v);
        bool written = got.All(double.IsFinite);
        double error = CpuReference.RelativeError(got, reference);
        Check(written && error < 1.5e-2, $"{name}: every element written, relative error {error:E2} (bound 1.5e-2 for bf16)");
        string backend = CudaDevice.BackendName(chosen);
        Check(!hopper || chosen == GemmBackend.CutlassSm90, $"{name}: Auto chose {backend}{(hopper ? " (cutlass-sm90 expected on Hopper)" : "")}");
        forms[name] = new JsonObject { ["relative_error"] = error, ["backend"] = backend };
    }

    using (DeviceTensor y = Ops.Gmm(dx, dw, deviceCounts))
    {
        CheckForm("forward", y, CpuReference.Gmm(x, w, counts, k, n, false, false),
            context.SelectBackend(dx, dw, deviceCounts, y));
    }
    using (DeviceTensor y = Ops.Gmm(dx, dwt, deviceCounts, transB: true))
    {
        CheckForm("trans_b", y, CpuReference.Gmm(x, wt, counts, k, n, false, true),
            context.SelectBackend(dx, dwt, deviceCounts, y, transB: true));
    }
    using (DeviceTensor g = context.GmmWeightGradient(dx, ddy, deviceCounts))
    {
        CheckForm("weight_gradient", g, CpuReference.Gmm(x, dy, counts, k, n, true, false),
            context.SelectBackend(dx, ddy, deviceCounts, g, transA: true));
    }
    report["forms"] = forms;
}

// ---- 3: forward timings, as GroupedGemm.Bench takes them ----
var timings = new JsonArray();
if (problemsPath is not null)
{
    JsonNode problems = JsonNode.Parse(File.ReadAllText(problemsPath))!;
    int warmup = warmupArg!.Value, iters = itersArg!.Value;
    foreach (JsonNode? problem in problems["problems"]!.AsArray())
    {
        string id = problem!["id"]!.GetValue<string>();
        long m = problem["m"]!.GetValue<long>(), k = problem["k"]!.GetValue<long>(), n = problem["n"]!.GetValue<long>();
        long[] counts = problem["counts"]!.AsArray().Select(c => c!.GetValue<long>()).ToArray();
        long experts = counts.Length;
        // The bench's rotation rule (bench/problems.py buffer_sets): two input sets unless one set exceeds 1 GiB.
        long setBytes = (m * k + experts * k * n) * 2;
        int sets = setBytes > (1L << 30) ? 1 : 2;
        var inputs = new List<(DeviceTensor X, DeviceTensor W)>();
        for (int s = 0; s < sets; s++) inputs.Add((RandomBf16(11 + s, m, k), RandomBf16(21 + s, experts, k, n)));
        using DeviceTensor deviceCounts = DeviceTensor.FromArray(counts);
        using DeviceTensor y = DeviceTensor.Allocate(DType.BFloat16, m, n);
        using CudaStream stream = CudaStream.Create();
        var options = new GmmOptions { Stream = stream };
        // As GroupedGemm.Bench times (RoundRobinTimer): a pair of events around each call, every call enqueued without
        // waiting, so that the device runs them back to back and no host-side gap lands between a pair of events.
        for (int i = 0; i < warmup; i++) context.GmmInto(inputs[i % sets].X, inputs[i % sets].W, deviceCounts, y, options: options);
        stream.Synchronize();
        var events = Enumerable.Range(0, 2 * iters).Select(_ => CudaEvent.Create()).ToArray();
        for (int i = 0; i < iters; i++)
        {
            (DeviceTensor X, DeviceTensor W) input = inputs[i % sets];
            events[2 * i].Record(stream);
            context.GmmInto(input.X, input.W, deviceCounts, y, options: options);
            events[2 * i + 1].Record(stream);
        }
        stream.Synchronize();
        var times = Enumerable.Range(0, iters).Select(i => (double)CudaEvent.ElapsedMilliseconds(events[2 * i], events[2 * i + 1])).ToList();
        foreach (CudaEvent e in events) e.Dispose();
        times.Sort();
        double median = times.Count % 2 == 1 ? times[times.Count / 2] : (times[times.Count / 2 - 1] + times[times.Count / 2]) / 2;
        double tflops = 2.0 * m * k * n / (median * 1e-3) / 1e12;
        Console.WriteLine($"time {id} forward bf16 device counts: median {median:F4} ms over {iters} calls, {tflops:F0} TFLOP/s, {sets} input set(s)");
        timings.Add(new JsonObject { ["problem"] = id, ["form"] = "forward", ["dtype"] = "bf16", ["median_ms"] = median, ["tflops"] = tflops, ["iters"] = iters });
        foreach ((DeviceTensor X, DeviceTensor W) input in inputs)
        {
            input.X.Dispose();
            input.W.Dispose();
        }
    }
}
report["timings"] = timings;
report["failures"] = failures;
if (jsonPath is not null) File.WriteAllText(jsonPath, report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
Console.WriteLine(failures == 0 ? "release consumer: all checks passed" : $"release consumer: {failures} check(s) failed");
return failures == 0 ? 0 : 1;

// Uniform values in [-0.5, 0.5) as bf16, drawn in parallel from a per-chunk generator (the timed inputs are large).
static DeviceTensor RandomBf16(int seed, params long[] shape)
{
    long count = shape.Aggregate(1L, (a, b) => a * b);
    var values = new BFloat16[count];
    const long chunk = 1 << 20;
    Parallel.For(0, (count + chunk - 1) / chunk, c =>
    {
        ulong state = (ulong)(seed * 7919 + c + 1) * 0x9E3779B97F4A7C15UL;
        long end = Math.Min(count, (c + 1) * chunk);
        for (long i = c * chunk; i < end; i++)
        {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            values[i] = (BFloat16)((float)(state >> 40) / (1 << 24) - 0.5f);
        }
    });
    return DeviceTensor.FromArray(values, shape);
}
