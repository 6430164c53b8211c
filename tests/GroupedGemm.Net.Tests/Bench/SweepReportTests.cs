using System.Text.Json;
using GroupedGemm.Bench.Cli;
using GroupedGemm.Bench.Model;
using GroupedGemm.Bench.Reporting;
using GroupedGemm.Bench.Sweep;
using NUnit.Framework;

namespace GroupedGemm.Tests.Bench;

/// <summary>The sweep's merge and report on SYNTHETIC part folders (no GPU; nothing is written to docs/).</summary>
[TestFixture]
public class SweepReportTests
{
    private string _root = "";
    private List<SweepPart> _parts = [];
    private SweepResultsFile _results = null!;
    private PlannedRun _dropped = null!;
    private PlannedRun _failed = null!;

    [OneTimeSetUp]
    public void WriteAndReport()
    {
        _root = Path.Combine(Path.GetTempPath(), "gg-sweep-test-" + Guid.NewGuid().ToString("N"));
        var all = SweepPlanner.Parts(SweepModelFile.LoadEmbedded());
        _parts = [all.First(p => p.Model == "qwen3-30b-a3b"), all.First(p => p.Model == "gpt-oss-20b")];
        _dropped = _parts[0].Runs[5];
        _failed = _parts[1].Runs[7];
        SyntheticSweep.Write(_parts[0], Path.Combine(_root, "parts", "a"), 1, dropGroup: _dropped, graphTimedDecode: true);
        SyntheticSweep.Write(_parts[1], Path.Combine(_root, "parts", "b"), 2, failGroup: _failed, failCheck: true);
        _results = SweepCommand.Write(SweepMerge.FindParts([Path.Combine(_root, "parts")]), Path.Combine(_root, "out"));
    }

    [OneTimeTearDown]
    public void Clean()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    [Test]
    public void One_row_per_problem_form_and_dtype_of_every_part()
    {
        int expected = _parts.Sum(p => p.Runs.Count + p.Skipped.Count);
        Assert.That(_results.Rows, Has.Count.EqualTo(expected));
        Assert.That(_results.Rows.Select(r => (r.Problem, r.Form, r.Dtype)).Distinct().Count(), Is.EqualTo(expected));
        Assert.That(_results.Rows.All(r => r.Card == SyntheticSweep.Card));
    }

    [Test]
    public void Ratios_are_the_other_sides_median_over_ours_and_missing_groups_say_so()
    {
        SweepRow dropped = _results.Rows.Single(r => r.Problem == _dropped.Problem && r.Form == _dropped.Form && r.Dtype == _dropped.Dtype);
        Assert.That(dropped.Status, Is.EqualTo("missing"));
        Assert.That(dropped.OursOverTorch, Is.Null);
        SweepRow failed = _results.Rows.Single(r => r.Problem == _failed.Problem && r.Form == _failed.Form && r.Dtype == _failed.Dtype);
        Assert.That(failed.Status, Is.EqualTo("error"));
        Assert.That(failed.Note, Does.Contain("synthetic failure"));
        foreach (SweepRow r in _results.Rows.Where(r => r.OursMs is not null))
        {
            Assert.That(r.OursOverTorch, Is.EqualTo(Math.Round(r.TorchMs!.Value / r.OursMs!.Value, 4)), r.Problem);
            Assert.That(r.OursOverDense, Is.EqualTo(Math.Round(r.DenseMs!.Value / r.OursMs!.Value, 4)), r.Problem);
        }
    }

    [Test]
    public void Rows_and_parts_give_the_timed_calls_that_ran_not_the_plans_iterations()
    {
        // The synthetic series hold three timings, fewer than any plan's iterations: a group whose rounds were capped.
        foreach (SweepRow r in _results.Rows.Where(r => r.OursMs is not null)) Assert.That(r.Iters, Is.EqualTo(3), r.Problem);
        foreach (SweepPartRun p in _results.Parts)
        {
            Assert.That(p.FewestIters, Is.EqualTo(3), p.Part);
            Assert.That(p.Iters, Is.GreaterThan(3), p.Part);
        }

        string md = File.ReadAllText(Path.Combine(_root, "out", "sweep.md"));
        Assert.That(md, Does.Contain($"| 3-{_results.Parts[0].Iters} ({_results.Parts[0].Warmup}) |"));
    }

    [Test]
    public void The_report_names_the_sweeps_parts_that_did_not_run()
    {
        int total = SweepPlanner.Parts(SweepModelFile.LoadEmbedded()).Count;
        SweepCardSummary c = _results.Cards.Single();
        Assert.That(c.PartsNotRun, Has.Count.EqualTo(total - _parts.Count));
        Assert.That(c.PartsNotRun, Does.Not.Contain(_parts[0].Name).And.Not.Contain(_parts[1].Name));
        string md = File.ReadAllText(Path.Combine(_root, "out", "sweep.md"));
        Assert.That(md, Does.Contain($"{total - _parts.Count} of the sweep's parts not run"));
    }

    [Test]
    public void Decode_rows_carry_bytes_moved_and_the_fraction_of_the_hbm_floor()
    {
        var decode = _results.Rows.Where(r => r.Decode && r.OursMs is not null).ToList();
        Assert.That(decode, Is.Not.Empty);
        foreach (SweepRow r in decode)
        {
            Assert.That(r.BytesMoved, Is.GreaterThan(0), r.Problem);
            double expected = r.BytesMoved!.Value / (SyntheticSweep.CopyBandwidthGbs * 1e9) / (r.OursMs!.Value * 1e-3);
            Assert.That(r.HbmFloorFraction, Is.EqualTo(expected).Within(1e-4), r.Problem);
        }

        Assert.That(_results.Rows.Where(r => !r.Decode).All(r => r.HbmFloorFraction is null && r.BytesMoved is null));
    }

    [Test]
    public void The_card_summary_counts_what_the_rows_say()
    {
        SweepCardSummary c = _results.Cards.Single();
        var ratios = _results.Rows.Where(r => r.OursOverTorch is not null).Select(r => r.OursOverTorch!.Value).ToList();
        Assert.That(c.Compared, Is.EqualTo(ratios.Count));
        Assert.That(c.AtLeastTorch, Is.EqualTo(ratios.Count(x => x >= 1.0)));
        Assert.That(c.BelowNinety, Is.EqualTo(ratios.Count(x => x < 0.9)));
        Assert.That(c.GeometricMean, Is.EqualTo(Math.Exp(ratios.Average(Math.Log))).Within(1e-4));
        Assert.That(c.WithoutFigure, Is.EqualTo(2), "the dropped group and the failed one");
        Assert.That(c.VerifyFailed, Is.EqualTo(1));
        Assert.That(c.MeetsBars, Is.False);
    }

    [Test]
    public void The_report_breaks_the_rows_down_by_element_type_size_and_form()
    {
        string md = File.ReadAllText(Path.Combine(_root, "out", "sweep.md"));
        var compared = _results.Rows.Where(r => r.OursOverTorch is not null).ToList();
        var classes = compared.GroupBy(r => (r.Dtype, Size: SweepMarkdown.SizeClass(r), r.Form)).ToList();
        Assert.That(classes.Select(g => g.Key.Size).Distinct(), Is.EquivalentTo(new[] { "decode", "training" }));
        foreach (var g in classes)
        {
            var ratios = g.Select(r => r.OursOverTorch!.Value).ToList();
            string row = string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"| {g.Key.Dtype} | {g.Key.Size} | {g.Key.Form} | {ratios.Count} | {ratios.Count(x => x >= 1.0)} | " +
                $"{ratios.Count(x => x < 0.9)} | {Format.Ratio(Math.Exp(ratios.Average(Math.Log)))} | {Format.Ratio(ratios.Min())} |");
            Assert.That(md, Does.Contain(row), g.Key.ToString());
        }

        Assert.That(classes.Sum(g => g.Count()), Is.EqualTo(compared.Count));
    }

    [Test]
    public void Rows_say_how_they_were_timed_and_the_report_counts_the_graph_timed_decode_rows()
    {
        var timed = _results.Rows.Where(r => r.OursOverTorch is not null).ToList();
        // Part a wrote a timing per group (decode groups from graphs); part b wrote none, as files before graph timing.
        Assert.That(timed.Where(r => r.Part == _parts[0].Name && r.Decode).All(r => r.Timing == "graph x10" && r.GraphTimed));
        Assert.That(timed.Where(r => r.Part == _parts[0].Name && !r.Decode).All(r => r.Timing == "eager" && !r.GraphTimed));
        Assert.That(timed.Where(r => r.Part == _parts[1].Name).All(r => r.Timing == "eager" && !r.GraphTimed));
        var decode = timed.Where(r => r.Decode).ToList();
        int graph = decode.Count(r => r.Part == _parts[0].Name);
        Assert.That(graph, Is.GreaterThan(0).And.LessThan(decode.Count));
        string md = File.ReadAllText(Path.Combine(_root, "out", "sweep.md"));
        Assert.That(md, Does.Contain($"{graph} of {decode.Count} decode rows timed from CUDA graph replays"));
        string json = File.ReadAllText(Path.Combine(_root, "out", "sweep-results.json"));
        Assert.That(json, Does.Contain("\"timing\": \"graph x10\""));
    }

    [Test]
    public void Rows_timed_eagerly_because_a_capture_failed_take_the_hbm_floor_from_ours_alone_from_a_graph()
    {
        string root = Path.Combine(_root, "capture-fails");
        SyntheticSweep.Write(_parts[0], Path.Combine(root, "parts", "a"), 3, graphTimedDecode: true, fp16CaptureFails: true);
        SweepResultsFile results = SweepCommand.Write(SweepMerge.FindParts([Path.Combine(root, "parts")]), Path.Combine(root, "out"));
        var fp16Decode = results.Rows.Where(r => r.Decode && r.Dtype == "fp16" && r.OursMs is not null).ToList();
        Assert.That(fp16Decode, Is.Not.Empty);
        foreach (SweepRow r in fp16Decode)
        {
            Assert.That(r.Timing, Does.StartWith("eager (capture failed"), r.Problem);
            Assert.That(r.HbmFloorTiming, Is.EqualTo("graph (ours alone)"), r.Problem);
            // The floor from the graph time (0.8 of the eager median); the ratio to torch from the same loop's eager times.
            double expected = r.BytesMoved!.Value / (SyntheticSweep.CopyBandwidthGbs * 1e9) / (r.OursMs!.Value * 0.8 * 1e-3);
            Assert.That(r.HbmFloorFraction, Is.EqualTo(expected).Within(1e-4), r.Problem);
            Assert.That(r.OursOverTorch, Is.EqualTo(r.TorchMs!.Value / r.OursMs.Value).Within(1e-3), r.Problem);
        }

        Assert.That(results.Rows.Where(r => r.Decode && r.Dtype == "bf16" && r.HbmFloorFraction is not null)
            .All(r => r.HbmFloorTiming == "graph x10"));
        Assert.That(File.ReadAllText(Path.Combine(root, "out", "sweep-results.json")),
            Does.Contain("\"hbm_floor_timing\": \"graph (ours alone)\""));
    }

    [Test]
    public void Bars_pass_only_when_every_bar_holds()
    {
        SweepRow Row(double ratio, bool decode = false, double? floor = null) => new(
            "m", "m/up/t1/uniform", "up", 1, "uniform", "forward", "bf16", "card", "m", 8, 64, 64, 8, 8, "ok", "",
            1, ratio, 1, ratio, 1, decode, decode ? 300_000_000 : null, decode ? 3000 : null, floor, "auto", 0, 10);
        var good = Enumerable.Repeat(Row(1.2), 40).Append(Row(1.0, decode: true, floor: 0.9)).ToList();
        Assert.That(SweepMerge.Summarise("card", good, [], []).MeetsBars, Is.True);
        Assert.That(SweepMerge.Summarise("card", good.Append(Row(0.89)).ToList(), [], []).MeetsBars, Is.False, "a row below 0.9");
        Assert.That(SweepMerge.Summarise("card", good.Append(Row(1.1, true, 0.8)).ToList(), [], []).MeetsBars, Is.False, "a large decode row under 85%");
        var slow = Enumerable.Repeat(Row(1.05), 40).ToList();
        Assert.That(SweepMerge.Summarise("card", slow, [], []).MeetsBars, Is.False, "geometric mean under 1.10");
        var check = new VerifyResult("p", "bf16", "forward", "auto", 1, 0.02, false);
        Assert.That(SweepMerge.Summarise("card", good, [check], []).MeetsBars, Is.False, "a failed float64 check");
        var ran = new SweepPartRun("m", "card", 30, 5, 100, 3000, "torch", "ours");
        Assert.That(SweepMerge.Summarise("card", good, [], [ran], ["m"]).MeetsBars, Is.True, "every part ran");
        SweepCardSummary partial = SweepMerge.Summarise("card", good, [], [ran], ["m", "n"]);
        Assert.That(partial.MeetsBars, Is.False, "a part of the sweep did not run");
        Assert.That(partial.PartsNotRun, Is.EqualTo(new[] { "n" }));
        // Parts measured on two releases give no verdict: what users install is one library.
        var other = new SweepPartRun("n", "card", 30, 5, 100, 3000, "torch", "older");
        SweepCardSummary mixed = SweepMerge.Summarise("card", good, [], [ran, other], ["m", "n"]);
        Assert.That(mixed.MeetsBars, Is.False, "parts on two libraries");
        Assert.That(mixed.Libraries, Is.EqualTo(new[] { "ours", "older" }));
        Assert.That(SweepMarkdown.LibraryName("libgroupedgemm.so 0.5.0 (backends auto; sm 80/90a)"), Is.EqualTo("libgroupedgemm.so 0.5.0"));
    }

    [Test]
    public void The_three_files_are_written_and_the_json_rows_hold_the_issue_fields()
    {
        string output = Path.Combine(_root, "out");
        byte[] png = File.ReadAllBytes(Path.Combine(output, SweepCommand.PlotName));
        Assert.That(png.Take(4), Is.EqualTo(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }));
        string md = File.ReadAllText(Path.Combine(output, SweepCommand.MarkdownName));
        Assert.That(md, Does.Contain("the 20 worst rows").And.Contain(SyntheticSweep.Card).And.Contain(SweepCommand.PlotName));
        Assert.That(md, Does.Contain("**FAIL**"));
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, SweepCommand.ResultsName)));
        JsonElement rows = doc.RootElement.GetProperty("rows");
        Assert.That(rows.GetArrayLength(), Is.EqualTo(_results.Rows.Count));
        foreach (JsonElement row in rows.EnumerateArray())
        {
            foreach (string field in new[] { "model", "problem", "form", "dtype", "card", "ours_over_torch", "ours_over_dense", "hbm_floor_fraction", "bytes_moved" })
                Assert.That(row.TryGetProperty(field, out _), Is.True, field);
        }

        Assert.That(doc.RootElement.GetProperty("cards")[0].GetProperty("card").GetString(), Is.EqualTo(SyntheticSweep.Card));
    }

    [Test]
    public void The_worst_rows_table_lists_the_lowest_ratios_first()
    {
        string md = File.ReadAllText(Path.Combine(_root, "out", SweepCommand.MarkdownName));
        SweepRow worst = _results.Rows.Where(r => r.OursOverTorch is not null).MinBy(r => r.OursOverTorch)!;
        int table = md.IndexOf("the 20 worst rows", StringComparison.Ordinal);
        int first = md.IndexOf("| " + worst.Model + " | " + worst.Problem, table, StringComparison.Ordinal);
        Assert.That(first, Is.GreaterThan(table));
    }
}
