using CsCheck;
using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Cpu;

/// <summary>The randomized tests' default run must draw the same values every time, so that a failure in CI replays.</summary>
[TestFixture]
public class StressSettingsTests
{
    [Test]
    public void The_default_run_draws_the_same_values_every_time()
    {
        Assume.That(Environment.GetEnvironmentVariable("GG_STRESS_ITERATIONS"), Is.Null, "a longer run is random by design");
        Assume.That(Environment.GetEnvironmentVariable("GG_STRESS_SEED"), Is.Null, "a replay runs the seed given");
        List<int> Draw()
        {
            var drawn = new List<int>();
            StressSettings.Sample(Gen.Int, drawn.Add, 50);
            return drawn;
        }

        List<int> first = Draw(), second = Draw();
        Assert.That(first, Has.Count.EqualTo(50));
        Assert.That(second, Is.EqualTo(first), "two default runs drew different values");
    }

    [Test]
    public void A_failure_of_the_default_run_names_a_seed_that_replays_it()
    {
        Assume.That(Environment.GetEnvironmentVariable("GG_STRESS_ITERATIONS"), Is.Null, "a longer run is random by design");
        Assume.That(Environment.GetEnvironmentVariable("GG_STRESS_SEED"), Is.Null, "a replay runs the seed given");
        int failing = 0;
        int seen = 0;
        // The third value drawn fails: the message must give a seed whose single run draws that value again.
        var e = Assert.Catch(() => StressSettings.Sample(Gen.Int, v =>
        {
            if (++seen == 3)
            {
                failing = v;
                throw new InvalidOperationException("fails");
            }
        }, 50));
        System.Text.RegularExpressions.Match seed = System.Text.RegularExpressions.Regex.Match(e!.Message, "CsCheck_Seed=(\\S+)");
        Assert.That(seed.Success, Is.True, e.Message);
        int replayed = 0;
        Gen.Int.Sample(v => { replayed = v; }, iter: 1, threads: 1, seed: seed.Groups[1].Value);
        Assert.That(replayed, Is.EqualTo(failing));
    }
}
