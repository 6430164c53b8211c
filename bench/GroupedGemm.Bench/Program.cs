using System.CommandLine;
using GroupedGemm.Bench.Cli;
using Spectre.Console;

// GroupedGemm.Bench: times our grouped GEMM on the problems of bench/torch_baseline.py (`run`) and merges both
// halves into the benchmark page (`report`). bench/README.md describes the whole procedure.
if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 160);
var root = new RootCommand("GroupedGemm.Net benchmark: grouped GEMM against torch._grouped_mm, dense GEMM and padded bmm.");
root.Subcommands.Add(RunCommand.Create());
root.Subcommands.Add(ReportCommand.Create());
root.Subcommands.Add(SweepCommand.Create());
return root.Parse(args).Invoke();
