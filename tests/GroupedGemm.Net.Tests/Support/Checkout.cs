using NUnit.Framework;

namespace GroupedGemm.Tests.Support;

/// <summary>The source checkout the tests run in, for tests that compare files of the repository.</summary>
internal static class Checkout
{
    /// <summary>The checkout's root (the folder holding GroupedGemm.Net.sln), found upwards from the test binaries;
    /// null where the tests run outside a checkout (a published test runner).</summary>
    internal static string? Root()
    {
        for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "GroupedGemm.Net.sln"))) return dir.FullName;
        }
        return null;
    }

    /// <summary>A file of the checkout, by its path from the root; ignores the test outside a checkout.</summary>
    /// <param name="relative">Path from the root, with '/' separators.</param>
    /// <returns>The full path.</returns>
    internal static string PathOf(string relative)
    {
        string? root = Root();
        if (root is null) Assert.Ignore("not running inside the repository (published bundle): this comparison runs in the source tree");
        return Path.Combine(root!, relative);
    }
}
