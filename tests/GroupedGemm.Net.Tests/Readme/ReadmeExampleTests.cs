using NUnit.Framework;
using System.Text.RegularExpressions;
using GroupedGemm.Tests.Support;

namespace GroupedGemm.Tests.Readme;

/// <summary>The README's usage example compiles (it is ReadmeExample.cs), matches the README, and computes the right thing.</summary>
[TestFixture]
public sealed class ReadmeExampleTests
{
    private static string[] Normalise(IEnumerable<string> lines) =>
        lines.Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();

    [Test]
    public void Readme_usage_block_is_the_compiled_example()
    {
        string readme = File.ReadAllText(Checkout.PathOf("README.md"));
        Match block = Regex.Match(readme, @"## Usage\s+```csharp\n(?<code>.*?)```", RegexOptions.Singleline);
        Assert.That(block.Success, Is.True, "README.md has no ```csharp block under '## Usage'");
        string[] readmeLines = Normalise(block.Groups["code"].Value.Split('\n').Where(l => !Regex.IsMatch(l, @"^using [\w.]+;\s*$")));

        string source = File.ReadAllText(Checkout.PathOf("tests/GroupedGemm.Net.Tests/Readme/ReadmeExample.cs"));
        Match marked = Regex.Match(source, @"// README-BEGIN\n(?<code>.*?)\s*// README-END", RegexOptions.Singleline);
        Assert.That(marked.Success, Is.True, "ReadmeExample.cs lost its README markers");
        string[] exampleLines = Normalise(marked.Groups["code"].Value.Split('\n'));

        Assert.That(readmeLines, Is.EqualTo(exampleLines), "README.md's usage example and ReadmeExample.cs differ: change both");
    }

    [Test]
    [Category("Gpu")]
    public void Readme_example_matches_the_float64_reference()
    {
        GpuGuard.Require();
        var (x, w, counts, result) = ReadmeExample.Run();
        double[] reference = CpuReference.Gmm(
            Array.ConvertAll(x, v => (double)(float)v), Array.ConvertAll(w, v => (double)(float)v), counts, 64, 32, false, false);
        double error = CpuReference.RelativeError(Array.ConvertAll(result, v => (double)(float)v), reference);
        Assert.That(error, Is.LessThan(1.5e-2), "bf16 output rounded once: relative error must stay under 1.5e-2");
    }
}
