using System.Globalization;
using System.Text;
using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Interop;

/// <summary>
/// What the system C compiler says about the header: a small C program, written from the list of generated
/// types, prints sizeof/offsetof of every struct and field and the value of every enumerator and constant.
/// </summary>
internal sealed class NativeAbiProbe
{
    private readonly Dictionary<string, long> facts;

    private NativeAbiProbe(Dictionary<string, long> facts) => this.facts = facts;

    /// <summary>Why the probe could not run (no C compiler, no header), or null when it ran.</summary>
    internal string? SkipReason { get; private init; }

    /// <summary>A fact the C program printed, such as <c>sizeof gg_gmm_args</c>.</summary>
    /// <param name="key">The fact's key.</param>
    /// <returns>Its value.</returns>
    internal long this[string key] => facts.TryGetValue(key, out long value)
        ? value
        : throw new KeyNotFoundException($"the C program printed no '{key}'.");

    /// <summary>Key of a struct size.</summary>
    internal static string SizeKey(string cStruct) => $"sizeof {cStruct}";

    /// <summary>Key of a field offset.</summary>
    internal static string OffsetKey(string cStruct, string cField) => $"offsetof {cStruct}.{cField}";

    /// <summary>Key of an enum's size.</summary>
    internal static string EnumSizeKey(string cEnum) => $"sizeof enum {cEnum}";

    /// <summary>Key of an enumerator's or a macro's value.</summary>
    internal static string ValueKey(string cName) => $"value {cName}";

    /// <summary>Writes, compiles and runs the probe program against native/include of the repository.</summary>
    /// <returns>The facts, or a probe with <see cref="SkipReason"/> set.</returns>
    internal static NativeAbiProbe Run()
    {
        string? root = Checkout.Root();
        string? includeDir = root is null ? null : Path.Combine(root, "native", "include");
        if (includeDir is null || !File.Exists(Path.Combine(includeDir, "groupedgemm", "groupedgemm.h")))
        {
            return new NativeAbiProbe([]) { SkipReason = "native/include/groupedgemm/groupedgemm.h not found above " + TestContext.CurrentContext.TestDirectory };
        }

        string? compiler = new[] { "cc", "gcc", "clang" }.FirstOrDefault(c => FindOnPath(c) is not null);
        if (compiler is null)
        {
            return new NativeAbiProbe([]) { SkipReason = "no C compiler (cc, gcc or clang) on PATH" };
        }

        string work = Directory.CreateTempSubdirectory("gg-abi-").FullName;
        try
        {
            string source = Path.Combine(work, "abi_probe.c");
            string program = Path.Combine(work, OperatingSystem.IsWindows() ? "abi_probe.exe" : "abi_probe");
            File.WriteAllText(source, ProgramText());
            ChildProcess.Run(compiler, ["-std=c11", "-Wall", "-Werror", "-I", includeDir, "-o", program, source], "compiling the ABI probe");
            return new NativeAbiProbe(Parse(ChildProcess.Run(program, [], "running the ABI probe")));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static string ProgramText()
    {
        var c = new StringBuilder();
        c.Append("#include <stddef.h>\n#include <stdio.h>\n#include \"groupedgemm/groupedgemm.h\"\n\nint main(void)\n{\n");
        foreach ((Type type, string cStruct) in GeneratedInterop.Structs)
        {
            c.Append(CultureInfo.InvariantCulture, $"    printf(\"%s %zu\\n\", \"{SizeKey(cStruct)}\", sizeof(struct {cStruct}));\n");
            foreach ((_, string cField) in GeneratedInterop.Fields(type))
            {
                c.Append(CultureInfo.InvariantCulture, $"    printf(\"%s %zu\\n\", \"{OffsetKey(cStruct, cField)}\", offsetof(struct {cStruct}, {cField}));\n");
            }
        }

        foreach ((Type type, string cEnum) in GeneratedInterop.Enums)
        {
            c.Append(CultureInfo.InvariantCulture, $"    printf(\"%s %zu\\n\", \"{EnumSizeKey(cEnum)}\", sizeof(enum {cEnum}));\n");
            foreach ((_, string cMember, _) in GeneratedInterop.Members(type))
            {
                c.Append(CultureInfo.InvariantCulture, $"    printf(\"%s %lld\\n\", \"{ValueKey(cMember)}\", (long long)({cMember}));\n");
            }
        }

        foreach ((string cMacro, _) in GeneratedInterop.Constants)
        {
            c.Append(CultureInfo.InvariantCulture, $"    printf(\"%s %lld\\n\", \"{ValueKey(cMacro)}\", (long long)({cMacro}));\n");
        }

        c.Append("    return 0;\n}\n");
        return c.ToString();
    }

    private static Dictionary<string, long> Parse(string output)
    {
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (string line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int split = line.LastIndexOf(' ');
            result[line[..split]] = long.Parse(line[(split + 1)..], CultureInfo.InvariantCulture);
        }

        return result;
    }

    private static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .SelectMany(dir => new[] { Path.Combine(dir, program), Path.Combine(dir, program + ".exe") })
            .FirstOrDefault(File.Exists);
}
