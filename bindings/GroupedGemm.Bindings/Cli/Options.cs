namespace GroupedGemm.Bindings.Cli;

/// <summary>Command line: a command and paths that default to the repository layout.</summary>
internal sealed class Options
{
    /// <summary>generate or verify.</summary>
    public required string Command { get; init; }

    /// <summary>Repository root (the folder holding GroupedGemm.Net.sln).</summary>
    public required string RepoRoot { get; init; }

    /// <summary>The C header to bind.</summary>
    public required string Header { get; init; }

    /// <summary>-I directories for the parse.</summary>
    public required IReadOnlyList<string> IncludeDirectories { get; init; }

    /// <summary>bindings/mapping.json.</summary>
    public required string Mapping { get; init; }

    /// <summary>The generated file (written by generate, compared by verify).</summary>
    public required string Output { get; init; }

    /// <summary>An explicit libclang shared library, or null for the packaged one.</summary>
    public string? LibClang { get; init; }

    /// <summary>The usage text.</summary>
    public const string Usage = """
        Generates src/GroupedGemm.Net/Interop/NativeMethods.g.cs from the C header.

        usage: dotnet run --project bindings/GroupedGemm.Bindings -- <generate|verify> [options]

          generate             write the bindings file
          verify               regenerate in memory and compare with the checked-in file

        options (paths relative to the current directory; defaults relative to the repository root):
          --repo-root <dir>    folder holding GroupedGemm.Net.sln (default: found by walking up)
          --header <file>      C header (default: native/include/groupedgemm/groupedgemm.h)
          --include <dir>      -I directory, repeatable (default: native/include)
          --mapping <file>     naming rules (default: bindings/mapping.json)
          --output <file>      bindings file (default: src/GroupedGemm.Net/Interop/NativeMethods.g.cs)
          --libclang <file>    libclang shared library (default: the one from the libclang NuGet package)

        exit codes: 0 success, 1 verify found the file stale, 2 error (uncovered declaration, clang diagnostic, bad option)
        """;

    /// <summary>Parses the arguments.</summary>
    /// <param name="args">The command line.</param>
    /// <returns>The options.</returns>
    /// <exception cref="GeneratorException">Unknown command or option, or a missing value.</exception>
    public static Options Parse(string[] args)
    {
        if (args.Length == 0 || args[0] is not ("generate" or "verify"))
        {
            throw new GeneratorException("expected a command, generate or verify.\n\n" + Usage);
        }

        var values = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        for (int i = 1; i < args.Length; i++)
        {
            string option = args[i];
            if (option is not ("--repo-root" or "--header" or "--include" or "--mapping" or "--output" or "--libclang"))
            {
                throw new GeneratorException($"unknown option '{option}'.\n\n" + Usage);
            }

            if (i + 1 >= args.Length)
            {
                throw new GeneratorException($"option {option} needs a value.");
            }

            if (!values.TryGetValue(option, out List<string>? list))
            {
                values[option] = list = [];
            }

            list.Add(Path.GetFullPath(args[++i]));
        }

        string root = values.TryGetValue("--repo-root", out List<string>? roots) ? roots[^1] : RepoRootLocator.Find();
        string Single(string option, string defaultRelative) =>
            values.TryGetValue(option, out List<string>? list) ? list[^1] : Path.Combine(root, defaultRelative);

        return new Options
        {
            Command = args[0],
            RepoRoot = root,
            Header = Single("--header", "native/include/groupedgemm/groupedgemm.h"),
            IncludeDirectories = values.TryGetValue("--include", out List<string>? includes) ? includes : [Path.Combine(root, "native/include")],
            Mapping = Single("--mapping", "bindings/mapping.json"),
            Output = Single("--output", "src/GroupedGemm.Net/Interop/NativeMethods.g.cs"),
            LibClang = values.TryGetValue("--libclang", out List<string>? clang) ? clang[^1] : null,
        };
    }
}
