using System.CommandLine;
using System.Globalization;
using GroupedGemm.Bench.Model;
using GroupedGemm.Bench.Reporting;
using Spectre.Console;

namespace GroupedGemm.Bench.Cli;

/// <summary>
/// <c>report</c>: merges the problem file, the PyTorch results and ours into the markdown page, one PNG per
/// element type and the results JSON. Needs no GPU.
/// </summary>
internal static class ReportCommand
{
    /// <summary>The file names written into the output folder, as they should be named in docs/.</summary>
    public const string MarkdownName = "BENCHMARKS.md";

    /// <summary>The merged JSON.</summary>
    public const string ResultsName = "benchmarks-results.json";

    /// <summary>The PNG of one element type.</summary>
    public static string PlotName(string dtype) => $"benchmarks-{dtype}.png";

    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var problems = new Option<FileInfo>("--problems") { Description = "problem file written by torch_baseline.py", Required = true };
        var torch = new Option<FileInfo?>("--torch") { Description = "results of torch_baseline.py (omit if that half did not run)" };
        var ours = new Option<FileInfo?>("--ours") { Description = "results of `GroupedGemm.Bench run` (omit if that half did not run)" };
        var output = new Option<DirectoryInfo>("--out") { Description = "folder for BENCHMARKS.md, the PNGs and the results JSON", Required = true };
        var font = new Option<FileInfo?>("--font") { Description = "TrueType font for the plots (hosts without system fonts)" };
        var command = new Command("report", "Merge both halves into BENCHMARKS.md, PNG plots and a results JSON.")
        {
            problems, torch, ours, output, font,
        };
        command.SetAction(parse => Run(
            parse.GetValue(problems)!, parse.GetValue(torch), parse.GetValue(ours), parse.GetValue(output)!, parse.GetValue(font)));
        return command;
    }

    private static int Run(FileInfo problemsFile, FileInfo? torchFile, FileInfo? oursFile, DirectoryInfo output, FileInfo? font)
    {
        if (torchFile is null && oursFile is null)
        {
            AnsiConsole.MarkupLine("[red]report: give --torch, --ours or both.[/]");
            return 2;
        }

        ProblemFile problems;
        ResultsFile? torch, ours;
        try
        {
            problems = BenchJson.ReadProblems(problemsFile.FullName);
            torch = torchFile is null ? null : BenchJson.ReadResults(torchFile.FullName);
            ours = oursFile is null ? null : BenchJson.ReadResults(oursFile.FullName);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"[red]report: {e.Message}[/]");
            return 2;
        }

        if (font is not null) PlotReport.UseFont(font.FullName);
        IReadOnlyList<ReportRow> rows = ReportBuilder.Build(problems, torch, ours);
        if (rows.Count == 0)
        {
            AnsiConsole.MarkupLine("[red]report: no result matches a problem of the problem file.[/]");
            return 2;
        }

        output.Create();
        string device = Format.Env(ours?.Environment, "device", Format.Env(torch?.Environment, "device"));
        var plots = new Dictionary<string, string>();
        foreach (var group in rows.GroupBy(r => r.Dtype))
        {
            string name = PlotName(group.Key);
            PlotReport.Save(Path.Combine(output.FullName, name), group.Key, group.ToList(), device);
            plots[group.Key] = name;
        }

        string markdown = new MarkdownReport(rows, torch, ours, plots).Render();
        File.WriteAllText(Path.Combine(output.FullName, MarkdownName), markdown);
        BenchJson.Write(Path.Combine(output.FullName, ResultsName), MergedResults.Create(rows, problems, torch, ours),
            BenchJson.Default.MergedResults);
        PrintSummary(rows);
        AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"wrote {MarkdownName}, {string.Join(", ", plots.Values)}, {ResultsName} to {output.FullName}");
        return 0;
    }

    private static void PrintSummary(IReadOnlyList<ReportRow> rows)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumns("problem", "dtype", "form", "ours", "torch", "ours÷torch", "same loop", "ours÷dense", "bars");
        foreach (ReportRow r in rows)
        {
            table.AddRow(
                Markup.Escape(r.Problem.Id), r.Dtype, r.Form, Format.Tflops(r.Ours), Format.Tflops(r.Torch),
                Format.Ratio(r.OursOverTorch), Format.Ratio(r.OursSameLoopOverTorch), Format.Ratio(r.OursOverDense),
                r.Passes ? "[green]pass[/]" : "[red]FAIL[/]");
        }

        AnsiConsole.Write(table);
        AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"{rows.Count(r => r.Passes)} of {rows.Count} rows meet every bar.");
    }
}
