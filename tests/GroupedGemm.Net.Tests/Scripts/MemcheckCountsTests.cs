using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Scripts;

/// <summary>scripts/memcheck-counts.sh, the counts of a memcheck part's output that scripts/gpu-host.sh writes into
/// memcheck.txt (no GPU: the outputs are written here).</summary>
[TestFixture]
public class MemcheckCountsTests
{
    private static string Counts(string output)
    {
        string script = Checkout.PathOf("scripts/memcheck-counts.sh");
        string file = Path.Combine(TestContext.CurrentContext.WorkDirectory, $"memcheck-{Guid.NewGuid():N}.out");
        File.WriteAllText(file, output);
        try
        {
            return ChildProcess.Run("bash", ["-c", "source \"$1\" && memcheck_counts \"$2\"", "bash", script, file],
                "memcheck_counts");
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Test]
    public void The_suites_counts_are_kept_and_the_librarys_messages_are_not()
    {
        // The shape of the 0.14.0 release's "rest" part: bad-input tests print the native message, whose "failed:"
        // was taken for a count.
        const string output = """
            GroupedGemm native call failed: InvalidCounts: device batch_sizes sum to 1024 but m = 256
              Passed Rejects_counts_that_do_not_sum_to_m [12 ms]
            Test run summary: Passed!
              total: 608
              failed: 0
              succeeded: 599
              skipped: 9
              duration: 2m 28s 334ms
            """;
        Assert.That(Counts(output), Is.EqualTo("total: 608 failed: 0 succeeded: 599 skipped: 9"));
    }

    [Test]
    public void The_parity_scripts_lines_are_kept()
    {
        const string output = """
            device: NVIDIA H100 80GB HBM3 torch 2.11.0+cu130
            FAIL forward bf16 cutlass-sm90 m=3 (not compiled) parity: not a count line
            parity: 1018 checks, 0 failures (0 wrong or failed, 0 kernels not compiled)
            memory at the end: 14.9 of 79.2 GiB free, PyTorch holds 0.0 GiB (0.0 GiB reserved)
            332 checked, 0 failed
            """;
        Assert.That(Counts(output), Is.EqualTo(
            "parity: 1018 checks, 0 failures (0 wrong or failed, 0 kernels not compiled) " +
            "memory at the end: 14.9 of 79.2 GiB free, PyTorch holds 0.0 GiB (0.0 GiB reserved) 332 checked, 0 failed"));
    }
}
