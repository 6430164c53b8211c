using System.CommandLine;
using GroupedGemm.Bench.Reporting;
using GroupedGemm.Bench.Running;
using Spectre.Console;

namespace GroupedGemm.Bench.Cli;

/// <summary><c>run</c>: times our grouped GEMM on the problems of the problem file (needs a CUDA device).</summary>
internal static class RunCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var problems = new Option<FileInfo>("--problems") { Description = "problem file written by torch_baseline.py", Required = true };
        var output = new Option<FileInfo>("--out") { Description = "results JSON to write", Required = true };
        var configs = List("--configs", "all", "configuration names of the problem file, or 'all'");
        var routings = List("--routings", "uniform,zipf", "routings: uniform, zipf");
        var dtype = List("--dtype", "bf16", "element types: bf16, fp16 (fp32 where a backend takes it)");
        var forms = List("--forms", string.Join(",", Forms.All), "forms: " + string.Join(", ", Forms.All));
        var backends = List("--backends", "all",
            "backends by their library names (auto, cublas-loop, ...), or 'all'; explicit ones use device counts where they take them, else host counts");
        var counts = List("--counts", "device,host", "counts locations timed for the auto backend: device, host");
        var iters = new Option<int>("--iters") { Description = "timed calls per series (median reported)", DefaultValueFactory = _ => 25 };
        var warmup = new Option<int>("--warmup") { Description = "untimed rounds before timing", DefaultValueFactory = _ => 5 };
        var verify = new Option<bool>("--verify") { Description = "also check one output per form and backend against the CPU reference, on shrunk problems" };
        var device = new Option<int>("--device") { Description = "CUDA device ordinal", DefaultValueFactory = _ => 0 };
        var seed = new Option<int>("--seed") { Description = "seed of the random operands", DefaultValueFactory = _ => 1 };
        var noDense = new Option<bool>("--no-dense") { Description = "time ours alone, without the dense GEMM of equal FLOPs in the loop (the release check compares a user's program with this)" };
        var command = new Command("run", "Time our grouped GEMM (and a dense GEMM of equal FLOPs) on the problems of the problem file.")
        {
            problems, output, configs, routings, dtype, forms, backends, counts, iters, warmup, verify, device, seed, noDense,
        };
        command.SetAction(parse =>
        {
            BenchOptions options;
            try
            {
                options = new BenchOptions(
                    parse.GetValue(problems)!, parse.GetValue(output)!,
                    Split(parse.GetValue(configs)), Split(parse.GetValue(routings)),
                    Split(parse.GetValue(dtype)).Select(Names.ParseDType).ToList(),
                    Split(parse.GetValue(forms)).Select(CheckForm).ToList(),
                    Split(parse.GetValue(backends)).SelectMany(Names.ParseBackends).Distinct().ToList(),
                    Split(parse.GetValue(counts)).Select(ParseCounts).ToList(),
                    parse.GetValue(iters), parse.GetValue(warmup), parse.GetValue(verify), parse.GetValue(device), parse.GetValue(seed))
                {
                    Dense = !parse.GetValue(noDense),
                };
                if (options.Iters < 1 || options.Warmup < 0) throw new ArgumentException("--iters must be at least 1 and --warmup at least 0.");
            }
            catch (ArgumentException e)
            {
                AnsiConsole.MarkupLine($"[red]run: {Markup.Escape(e.Message)}[/]");
                return 2;
            }

            try
            {
                return BenchRunner.Run(options);
            }
            catch (Exception e) when (e is InvalidDataException or IOException)
            {
                AnsiConsole.MarkupLine($"[red]run: {Markup.Escape(e.Message)}[/]");
                return 2;
            }
        });
        return command;
    }

    private static Option<string> List(string name, string defaultValue, string description) =>
        new(name) { Description = $"comma list of {description} (default {defaultValue})", DefaultValueFactory = _ => defaultValue };

    private static List<string> Split(string? text) =>
        (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    private static string CheckForm(string form) =>
        Forms.All.Contains(form) ? form : throw new ArgumentException($"--forms: unknown '{form}' (known: {string.Join(", ", Forms.All)}).");

    private static bool ParseCounts(string text) => text switch
    {
        "device" => true,
        "host" => false,
        _ => throw new ArgumentException($"--counts: unknown '{text}' (known: device, host)."),
    };
}
