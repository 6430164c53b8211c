using System.CommandLine;
using System.Globalization;
using GroupedGemm.Bench.Model;
using GroupedGemm.Bench.Running;
using GroupedGemm.Bench.Sweep;
using Spectre.Console;

namespace GroupedGemm.Bench.Cli;

/// <summary>
/// <c>sweep</c>: the real-model sweep (bench/sweep/README.md). <c>list-parts</c> and <c>plan</c> need no GPU and write
/// what bench/sweep/sweep_part.py times; <c>verify</c> runs the float64 sample on a GPU; <c>report</c> merges the
/// parts into sweep.md, sweep-results.json and the distribution plot (no GPU).
/// </summary>
internal static class SweepCommand
{
    /// <summary>The merged JSON, as named in docs/.</summary>
    public const string ResultsName = "sweep-results.json";

    /// <summary>The page.</summary>
    public const string MarkdownName = "sweep.md";

    /// <summary>The plot.</summary>
    public const string PlotName = "sweep-distribution.png";

    /// <summary>Builds the command and its subcommands.</summary>
    public static Command Create()
    {
        var command = new Command("sweep", "The real-model sweep: plan its parts, check a float64 sample, merge the parts into a report.");
        command.Subcommands.Add(ListParts());
        command.Subcommands.Add(Plan());
        command.Subcommands.Add(Verify());
        command.Subcommands.Add(Report());
        return command;
    }

    private static Command ListParts()
    {
        var names = new Option<bool>("--names") { Description = "print the part names only, one a line" };
        var command = new Command("list-parts", "List the parts with their problems, iterations and estimated H100 time.") { names };
        command.SetAction(parse =>
        {
            List<SweepPart> parts = SweepPlanner.Parts(SweepModelFile.LoadEmbedded());
            if (parse.GetValue(names))
            {
                foreach (SweepPart p in parts) Console.WriteLine(p.Name);
                return 0;
            }

            var table = new Table().Border(TableBorder.Rounded).AddColumns("#", "part", "problems", "groups", "skipped", "iters (warm-up)", "est. min");
            foreach (SweepPart p in parts)
            {
                table.AddRow(p.Index.ToString(CultureInfo.InvariantCulture), Markup.Escape(p.Name), p.Problems.Count.ToString(CultureInfo.InvariantCulture),
                    p.Runs.Count.ToString(CultureInfo.InvariantCulture), p.Skipped.Count.ToString(CultureInfo.InvariantCulture),
                    $"{p.Iters} ({p.Warmup})", (p.EstimatedSeconds / 60).ToString("F1", CultureInfo.InvariantCulture));
            }

            AnsiConsole.Write(table);
            int problems = parts.Select(p => p.Model).Distinct().Sum(m => parts.First(p => p.Model == m).Problems.Count);
            AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                $"{parts.Count} parts, {problems} problems, {parts.Sum(p => p.Runs.Count)} groups timed, {parts.Sum(p => p.Skipped.Count)} skipped; estimated {parts.Sum(p => p.EstimatedSeconds) / 60:F0} min in all on one H100 ({SweepPlanner.CostModelText})");
            return 0;
        });
        return command;
    }

    private static Command Plan()
    {
        var part = new Option<string>("--part") { Description = "part name or index (list-parts)", Required = true };
        var output = new Option<DirectoryInfo>("--out") { Description = "folder for problems.json and plan.json", Required = true };
        var command = new Command("plan", "Write one part's problem file and plan (what sweep_part.py times).") { part, output };
        command.SetAction(parse =>
        {
            SweepPart p;
            try
            {
                p = SweepPlanner.Find(SweepPlanner.Parts(SweepModelFile.LoadEmbedded()), parse.GetValue(part)!);
            }
            catch (ArgumentException e)
            {
                AnsiConsole.MarkupLine($"[red]sweep plan: {Markup.Escape(e.Message)}[/]");
                return 2;
            }

            DirectoryInfo dir = parse.GetValue(output)!;
            dir.Create();
            var file = new ProblemFile(ProblemFile.SchemaName, SweepProblems.Seed, new RotationRule(2, 1L << 30), p.Problems);
            BenchJson.Write(Path.Combine(dir.FullName, "problems.json"), file, BenchJson.Default.ProblemFile);
            BenchJson.Write(Path.Combine(dir.FullName, "plan.json"), SweepPlanFile.From(p), BenchJson.Default.SweepPlanFile);
            AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                $"part {p.Index} {p.Name}: {p.Problems.Count} problems, {p.Runs.Count} groups, {p.Skipped.Count} skipped, iters {p.Iters} (warm-up {p.Warmup}), estimated {p.EstimatedSeconds / 60:F1} min -> {dir.FullName}");
            return 0;
        });
        return command;
    }

    private static Command Verify()
    {
        var dir = new Option<DirectoryInfo>("--dir") { Description = "the part's folder (plan.json, problems.json); verify.json is written there", Required = true };
        var device = new Option<int>("--device") { Description = "CUDA device ordinal", DefaultValueFactory = _ => 0 };
        var seed = new Option<int>("--seed") { Description = "seed of the random operands", DefaultValueFactory = _ => 1 };
        var command = new Command("verify", "Check the part's sample against the float64 CPU reference (needs a GPU).") { dir, device, seed };
        command.SetAction(parse =>
        {
            string folder = parse.GetValue(dir)!.FullName;
            try
            {
                using FileStream planStream = File.OpenRead(Path.Combine(folder, "plan.json"));
                SweepPlanFile plan = System.Text.Json.JsonSerializer.Deserialize(planStream, BenchJson.Default.SweepPlanFile)
                                     ?? throw new InvalidDataException("plan.json holds JSON null.");
                ProblemFile problems = BenchJson.ReadProblems(Path.Combine(folder, "problems.json"));
                if (CudaDevice.UnavailableReason is string why)
                {
                    AnsiConsole.MarkupLine($"[red]sweep verify: CUDA is not usable here: {Markup.Escape(why)}[/]");
                    return 3;
                }

                int ordinal = parse.GetValue(device);
                CudaDevice.Current = ordinal;
                Dictionary<string, string> environment = EnvironmentProbe.Describe(ordinal);
                List<VerifyResult> checks = SweepVerifier.Run(plan, problems, ordinal, parse.GetValue(seed),
                    text => AnsiConsole.MarkupLine($"[red]{Markup.Escape(text)}[/]"));
                var results = new ResultsFile(ResultsFile.SchemaName, "GroupedGemm.Bench sweep verify", environment,
                    new RunSettings(0, 1, SweepProblems.Seed, "float64 sample check, not timed"), []) { Verification = checks };
                BenchJson.Write(Path.Combine(folder, "verify.json"), results, BenchJson.Default.ResultsFile);
                AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"verify: {checks.Count(c => c.Passed)} of {checks.Count} outputs within bounds");
                return checks.All(c => c.Passed) ? 0 : 4;
            }
            catch (Exception e) when (e is IOException or InvalidDataException or System.Text.Json.JsonException or UnauthorizedAccessException)
            {
                AnsiConsole.MarkupLine($"[red]sweep verify: {Markup.Escape(e.Message)}[/]");
                return 2;
            }
        });
        return command;
    }

    private static Command Report()
    {
        var inputs = new Option<string[]>("--in") { Description = "part folders, or folders above them (repeatable)", Required = true, AllowMultipleArgumentsPerToken = true };
        var output = new Option<DirectoryInfo>("--out") { Description = "folder for sweep.md, sweep-results.json, sweep-distribution.png", Required = true };
        var font = new Option<FileInfo?>("--font") { Description = "TrueType font for the plot (hosts without system fonts)" };
        var command = new Command("report", "Merge the parts into sweep.md, sweep-results.json and the distribution plot (no GPU).") { inputs, output, font };
        command.SetAction(parse =>
        {
            try
            {
                List<string> parts = SweepMerge.FindParts(parse.GetValue(inputs)!);
                if (parts.Count == 0)
                {
                    AnsiConsole.MarkupLine("[red]sweep report: no plan.json under --in.[/]");
                    return 2;
                }

                if (parse.GetValue(font) is FileInfo f) Reporting.PlotReport.UseFont(f.FullName);
                DirectoryInfo dir = parse.GetValue(output)!;
                SweepResultsFile results = Write(parts, dir.FullName);
                foreach (SweepCardSummary c in results.Cards)
                {
                    AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                        $"{c.Card}: {c.Compared} rows compared, {c.AtLeastTorch} >= 1.0x, {c.BelowNinety} below 0.9x, geometric mean {c.GeometricMean}, bars {(c.MeetsBars ? "pass" : "FAIL")}");
                }

                AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"wrote {MarkdownName}, {ResultsName}, {PlotName} to {dir.FullName} from {parts.Count} parts");
                return 0;
            }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                AnsiConsole.MarkupLine($"[red]sweep report: {Markup.Escape(e.Message)}[/]");
                return 2;
            }
        });
        return command;
    }

    /// <summary>Merges <paramref name="partFolders"/> and writes the three files into <paramref name="output"/>.</summary>
    public static SweepResultsFile Write(IReadOnlyList<string> partFolders, string output)
    {
        SweepResultsFile results = SweepMerge.Merge(partFolders);
        Directory.CreateDirectory(output);
        SweepPlot.Save(Path.Combine(output, PlotName), results);
        File.WriteAllText(Path.Combine(output, MarkdownName), SweepMarkdown.Render(results, PlotName));
        BenchJson.Write(Path.Combine(output, ResultsName), results, BenchJson.Default.SweepResultsFile);
        return results;
    }
}
