using GroupedGemm.Bench.Model;
using GroupedGemm.Bench.Running;
using GroupedGemm.Bench.Sweep;
using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Bench;

/// <summary>The sweep's problem file: the models and their citations, the shapes, the counts (no GPU).</summary>
[TestFixture]
public class SweepProblemsTests
{
    private static readonly SweepModelFile Models = SweepModelFile.LoadEmbedded();
    private static readonly List<Problem> Problems = SweepProblems.All(Models);

    [Test]
    public void The_sweep_has_at_least_150_problems_from_at_least_12_models()
    {
        Assert.That(Problems, Has.Count.GreaterThanOrEqualTo(150));
        Assert.That(Models.Models, Has.Count.GreaterThanOrEqualTo(12));
        Assert.That(Problems.Select(p => p.Id).Distinct().Count(), Is.EqualTo(Problems.Count), "problem ids are unique");
        Assert.That(Problems.Select(p => p.Model).Distinct().Count(), Is.EqualTo(Models.Models.Count), "every model has problems");
    }

    [Test]
    public void The_embedded_models_file_is_the_one_in_bench_sweep()
    {
        string? root = Checkout.Root();
        if (root is null) Assert.Ignore("no checkout above the test binaries (a published test runner): nothing to compare with");
        string path = Path.Combine(root!, "bench", "sweep", "models.json");
        using FileStream stream = File.OpenRead(path);
        SweepModelFile onDisk = SweepModelFile.Parse(stream, path);
        Assert.That(onDisk.Models, Is.EqualTo(Models.Models));
    }

    [Test]
    public void Every_model_cites_its_config_and_the_cited_values_are_the_ones_used()
    {
        foreach (SweepModel m in Models.Models)
        {
            Assert.That(m.Source, Does.Contain("config.json"), m.Name);
            foreach (int value in new[] { m.Hidden, m.Expert, m.Experts, m.TopK })
                Assert.That(m.ConfigKeys, Does.Contain(value.ToString(System.Globalization.CultureInfo.InvariantCulture)), $"{m.Name}: {value} cited");
            Assert.That(m.Verified, Is.AnyOf("search", "memory"), m.Name);
        }
    }

    [Test]
    public void The_models_named_by_the_issue_are_present()
    {
        string[] named =
        [
            "mixtral-8x7b", "mixtral-8x22b", "deepseek-v2-lite", "deepseek-v3", "qwen1.5-moe-a2.7b", "qwen2-57b-a14b",
            "qwen3-30b-a3b", "qwen3-235b-a22b", "gpt-oss-20b", "gpt-oss-120b", "llama-4-scout", "llama-4-maverick",
            "dbrx", "olmoe-1b-7b", "phi-3.5-moe", "grok-1", "granite-3.0-3b-a800m", "jetmoe-8b", "snowflake-arctic",
        ];
        Assert.That(Models.Models.Select(m => m.Name), Is.SupersetOf(named));
    }

    [Test]
    public void Shapes_follow_the_model_gated_up_projection_is_two_h_and_down_projection_is_h_to_d()
    {
        var byName = Models.Models.ToDictionary(m => m.Name);
        foreach (Problem p in Problems)
        {
            SweepModel m = byName[p.Model!];
            (long k, long n) = p.Projection == "up" ? (m.Hidden, 2L * m.Expert) : (m.Expert, m.Hidden);
            Assert.That((p.K, p.N), Is.EqualTo((k, n)), p.Id);
            Assert.That(p.Experts, Is.EqualTo(m.Experts), p.Id);
            Assert.That(p.TopK, Is.EqualTo(m.TopK), p.Id);
            Assert.That(p.K % 64, Is.Zero, $"{p.Id}: every published size is a multiple of 64");
            Assert.That(p.N % 64, Is.Zero, p.Id);
        }
    }

    [Test]
    public void Rows_sum_to_tokens_times_top_k_and_the_problem_validates()
    {
        foreach (Problem p in Problems)
        {
            Assert.That(p.M, Is.EqualTo(p.Tokens * p.TopK), p.Id);
            Assert.That(p.Counts.Sum(), Is.EqualTo(p.M), p.Id);
            Assert.That(p.Counts, Has.Length.EqualTo(p.Experts), p.Id);
            Assert.That(p.Counts.All(c => c >= 0), p.Id);
            Assert.That(p.MaxCount, Is.EqualTo(p.Counts.Max()), p.Id);
            Assert.That(p.EmptyExperts, Is.EqualTo(p.Counts.Count(c => c == 0)), p.Id);
            Assert.DoesNotThrow(() => p.Validate("sweep"));
        }
    }

    [Test]
    public void Token_counts_span_decode_and_training_and_every_routing_and_projection_appears_per_model()
    {
        Assert.That(SweepProblems.Tokens.Where(t => t <= 256), Is.Not.Empty.And.Contains(1L));
        Assert.That(SweepProblems.Tokens.Where(t => t >= 4096 && t <= 65536).ToList(), Has.Count.GreaterThanOrEqualTo(2).And.Contains(65536L).And.Contains(4096L));
        foreach (var g in Problems.GroupBy(p => p.Model))
        {
            Assert.That(g.Select(p => p.Routing).Distinct(), Is.EquivalentTo(SweepProblems.Routings), g.Key);
            Assert.That(g.Select(p => p.Projection).Distinct(), Is.EquivalentTo(new[] { "up", "down" }), g.Key);
        }
    }

    [Test]
    public void A_router_picks_distinct_experts_so_one_token_fills_top_k_experts_with_one_row()
    {
        foreach (SweepModel m in Models.Models)
        {
            foreach (string routing in new[] { SweepProblems.Uniform, SweepProblems.Zipf, SweepProblems.Empty })
            {
                Problem p = SweepProblems.Make(m, "up", 1, routing);
                Assert.That(p.Counts.Count(c => c == 1), Is.EqualTo(m.TopK), p.Id);
                Assert.That(p.MaxCount, Is.EqualTo(1), p.Id);
            }
        }
    }

    [Test]
    public void Dominant_routing_puts_ninety_percent_of_rows_on_one_expert_and_empty_routing_leaves_most_experts_empty()
    {
        foreach (Problem p in Problems.Where(p => p.Tokens >= 4096))
        {
            if (p.Routing == SweepProblems.Dominant)
                Assert.That(p.MaxCount, Is.EqualTo((long)Math.Round(0.9 * p.M, MidpointRounding.AwayFromZero)), p.Id);
            if (p.Routing == SweepProblems.Empty)
                Assert.That(SweepProblems.NonEmptyExperts(p), Is.LessThanOrEqualTo(Math.Max(p.TopK, p.Experts / 4)), p.Id);
            if (p.Routing == SweepProblems.Uniform)
                Assert.That(p.EmptyExperts, Is.Zero, $"{p.Id}: thousands of tokens reach every expert");
        }
    }

    [Test]
    public void Counts_are_the_same_on_every_run()
    {
        List<Problem> again = SweepProblems.All(SweepModelFile.LoadEmbedded());
        Assert.That(again.Select(p => p.Counts), Is.EqualTo(Problems.Select(p => p.Counts)));
        // FNV-1a, not string.GetHashCode (randomised per process): the empty string hashes to the offset basis.
        Assert.That(SweepProblems.StableSeed(""), Is.EqualTo((int)((2166136261u ^ (uint)SweepProblems.Seed) & int.MaxValue)));
    }

    [Test]
    public void Bytes_moved_counts_x_the_weights_of_experts_with_rows_and_y()
    {
        // 4 experts, K 64, N 128, rows 3, 0, 1, 0: x 4·64, w of 2 experts 2·64·128, y 4·128, two bytes each.
        var p = new Problem("t", "t", "uniform", 4, 1, 4, 4, 64, 128, 3, 2, [3, 0, 1, 0]);
        Assert.That(SweepProblems.BytesMoved(p, "forward", 2), Is.EqualTo(2 * ((4 * 64) + (2 * 64 * 128) + (4 * 128))));
        Assert.That(SweepProblems.BytesMoved(p, "weight-grad", 2), Is.EqualTo(2 * ((4 * 64) + (4 * 128) + (4 * 64 * 128))));
    }

    [Test]
    public void The_float64_shrink_keeps_k_and_n_modulo_256()
    {
        var p = new Problem("gpt-oss", "c", "zipf", 4096, 4, 4, 16384, 2880, 5760, 8000, 0, [8000, 4000, 3000, 1384]);
        Problem s = Verifier.ShrinkKeepingTails(p);
        Assert.That((s.K, s.N), Is.EqualTo((320L, 384L)));
        Assert.That(s.K % 256, Is.EqualTo(p.K % 256));
        Assert.That(s.M, Is.LessThanOrEqualTo(2048));
        Assert.That(s.Counts.Sum(), Is.EqualTo(s.M));
        Assert.That(Verifier.ShrinkKeepingTails(p with { K = 384, N = 7168 }).K, Is.EqualTo(384));
        Assert.That(Verifier.ShrinkKeepingTails(p with { K = 384, N = 7168 }).N, Is.EqualTo(256));
    }
}
