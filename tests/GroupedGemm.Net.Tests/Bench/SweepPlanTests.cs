using GroupedGemm.Bench.Model;
using GroupedGemm.Bench.Reporting;
using GroupedGemm.Bench.Sweep;
using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Bench;

/// <summary>The split of the sweep into parts (no GPU).</summary>
[TestFixture]
public class SweepPlanTests
{
    private static readonly SweepModelFile Models = SweepModelFile.LoadEmbedded();
    private static readonly List<SweepPart> Parts = SweepPlanner.Parts(Models);

    [Test]
    public void Every_problem_form_and_dtype_is_in_exactly_one_part_timed_or_listed_as_skipped()
    {
        var expected = SweepProblems.All(Models)
            .SelectMany(p => SweepPlanner.Dtypes.SelectMany(d => Forms.All.Select(f => (p.Id, d, f))))
            .ToList();
        var planned = Parts.SelectMany(p => p.Runs.Select(r => (r.Problem, r.Dtype, r.Form))
            .Concat(p.Skipped.Select(s => (s.Problem, s.Dtype, s.Form)))).ToList();
        Assert.That(planned, Has.Count.EqualTo(expected.Count), "no group twice");
        Assert.That(planned, Is.EquivalentTo(expected));
    }

    [Test]
    public void Parts_fit_the_ten_minute_budget_by_the_cost_model_with_at_least_five_iterations()
    {
        foreach (SweepPart p in Parts)
        {
            Assert.That(p.EstimatedSeconds, Is.LessThanOrEqualTo(SweepPlanner.PartBudgetSeconds), p.Name);
            Assert.That(p.Iters, Is.GreaterThanOrEqualTo(5), p.Name);
            Assert.That(p.Warmup, Is.GreaterThanOrEqualTo(1), p.Name);
        }

        Assert.That(SweepPlanner.PartBudgetSeconds, Is.LessThan(600));
    }

    [Test]
    public void Part_names_are_unique_and_found_by_name_or_index()
    {
        Assert.That(Parts.Select(p => p.Name).Distinct().Count(), Is.EqualTo(Parts.Count));
        for (int i = 0; i < Parts.Count; i++)
        {
            Assert.That(Parts[i].Index, Is.EqualTo(i));
            Assert.That(SweepPlanner.Find(Parts, i.ToString(System.Globalization.CultureInfo.InvariantCulture)).Name, Is.EqualTo(Parts[i].Name));
            Assert.That(SweepPlanner.Find(Parts, Parts[i].Name).Index, Is.EqualTo(i));
        }

        Assert.Throws<ArgumentException>(() => SweepPlanner.Find(Parts, "no-such-part"));
        Assert.Throws<ArgumentException>(() => SweepPlanner.Find(Parts, Parts.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Test]
    public void Each_part_verifies_a_sample_of_its_own_problems_in_every_routing()
    {
        foreach (SweepPart p in Parts)
        {
            var ids = p.Problems.Select(q => q.Id).ToHashSet();
            Assert.That(p.VerifySample, Is.Not.Empty, p.Name);
            Assert.That(p.VerifySample.All(ids.Contains), p.Name);
            var routings = p.Problems.Where(q => p.VerifySample.Contains(q.Id)).Select(q => q.Routing).Distinct();
            Assert.That(routings, Is.EquivalentTo(SweepProblems.Routings), p.Name);
        }
    }

    [Test]
    public void A_group_over_the_memory_bound_is_skipped_with_its_reason_not_dropped()
    {
        // 8 experts of 65536 x 65536: the weights alone are 64 GiB in bf16.
        var huge = new Problem("huge/up/t65536/uniform", "huge/up/t65536", "uniform", 65536, 2, 8, 131072, 65536, 65536, 16384, 0,
            Enumerable.Repeat(16384L, 8).ToArray());
        Assert.That(SweepPlanner.MemoryBytes(huge, Forms.Forward) / (double)(1L << 30), Is.GreaterThan(SweepPlanner.CardGib));
        var model = new SweepModel("huge", "Huge", "x config.json", "hidden_size 65536", 65536, 32768, 8, 2, 0, "memory", "test");
        SweepPart part = SweepPlanner.Parts(Models with { Models = [model] }).First();
        Assert.That(part.Skipped, Is.Not.Empty);
        Assert.That(part.Skipped.All(s => s.Reason.Contains("GiB", StringComparison.Ordinal) && s.EstimatedGib >= SweepPlanner.CardGib - SweepPlanner.ReserveGib));
        Assert.That(part.Runs.Count + part.Skipped.Count, Is.EqualTo(part.Problems.Count * part.Forms.Count * part.Dtypes.Count));
    }

    [Test]
    public void The_published_models_fit_the_card_so_nothing_is_skipped_today()
    {
        // If a model is added that does not fit, this test names it: the skip must then be listed in the report.
        Assert.That(Parts.SelectMany(p => p.Skipped).Select(s => $"{s.Problem} {s.Form} {s.Dtype}"), Is.Empty);
    }

    [Test]
    public void Part_seconds_table_has_one_measured_line_for_every_part()
    {
        // scripts/gpu-host.sh sweep starts a part by its line here: a renamed part would silently fall back to the
        // default, a part without a line likewise.
        var lines = File.ReadAllLines(Checkout.PathOf("bench/sweep/part-seconds.tsv"))
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .Select(line => line.Split('\t'))
            .ToList();
        Assert.Multiple(() =>
        {
            foreach (string[] fields in lines)
            {
                Assert.That(fields, Has.Length.EqualTo(4), string.Join(" | ", fields));
                Assert.That(int.TryParse(fields[1], out int seconds) && seconds > 0 && seconds < 600, Is.True,
                    $"{fields[0]}: '{fields[1]}' is not a whole number of seconds under ten minutes");
            }
        });
        Assert.That(lines.Select(f => f[0]), Is.EquivalentTo(Parts.Select(p => p.Name)));
    }
}
