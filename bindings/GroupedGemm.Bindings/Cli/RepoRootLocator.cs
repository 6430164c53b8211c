namespace GroupedGemm.Bindings.Cli;

/// <summary>Finds the repository root: the nearest folder upwards that holds GroupedGemm.Net.sln.</summary>
internal static class RepoRootLocator
{
    private const string Marker = "GroupedGemm.Net.sln";

    /// <summary>Searches from the current directory, then from the generator's own folder.</summary>
    /// <returns>The root folder.</returns>
    /// <exception cref="GeneratorException">Neither is inside the repository.</exception>
    public static string Find() =>
        SearchUp(Directory.GetCurrentDirectory())
        ?? SearchUp(AppContext.BaseDirectory)
        ?? throw new GeneratorException($"cannot find the repository root ({Marker}) above {Directory.GetCurrentDirectory()}; pass --repo-root.");

    private static string? SearchUp(string start)
    {
        for (DirectoryInfo? dir = new(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, Marker)))
            {
                return dir.FullName;
            }
        }

        return null;
    }
}
