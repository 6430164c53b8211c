using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using GroupedGemm.Bindings;
using GroupedGemm.Bindings.Clang;
using GroupedGemm.Bindings.Cli;
using GroupedGemm.Bindings.Emit;
using GroupedGemm.Bindings.Model;

// Generates (or verifies) the C# bindings of the native library from its C header. See Options.Usage.
try
{
    if (args is ["--help"] or ["-h"])
    {
        Console.WriteLine(Options.Usage);
        return 0;
    }

    Options options = Options.Parse(args);
    LibClangResolver.Install(options.LibClang);
    Mapping mapping = Mapping.Load(options.Mapping);
    HeaderModel header = HeaderParser.Parse(options.Header, options.IncludeDirectories, Path.Combine(AppContext.BaseDirectory, "shim"));
    var emitter = new BindingsEmitter(header, mapping, HeaderLabel(options));
    string generated = emitter.Emit();
    return options.Command == "generate" ? Generate(options, generated) : Verify(options, emitter, generated);
}
catch (GeneratorException e)
{
    Console.Error.WriteLine("error: " + e.Message);
    return 2;
}
catch (DllNotFoundException e)
{
    Console.Error.WriteLine("error: " + e.Message);
    return 2;
}

// Only the file name: the banner must not change with where the header (or a copy of it) lives.
static string HeaderLabel(Options options) => Path.GetFileName(options.Header);

static int Generate(Options options, string generated)
{
    string? existing = File.Exists(options.Output) ? File.ReadAllText(options.Output) : null;
    if (existing == generated)
    {
        Console.WriteLine($"{options.Output} is up to date.");
        return 0;
    }

    Directory.CreateDirectory(Path.GetDirectoryName(options.Output)!);
    File.WriteAllText(options.Output, generated, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
    Console.WriteLine($"wrote {options.Output}");
    return 0;
}

static int Verify(Options options, BindingsEmitter emitter, string generated)
{
    string fileName = Path.GetFileName(options.Output);

    // A checkout with CRLF line endings (core.autocrlf) is not stale: the generator writes \n.
    string existing = File.Exists(options.Output) ? File.ReadAllText(options.Output).Replace("\r\n", "\n", StringComparison.Ordinal) : string.Empty;
    var bound = Regex.Matches(existing, @"internal static partial [^(]+?\b(\w+)\(")
        .Select(m => m.Groups[1].Value)
        .ToHashSet(StringComparer.Ordinal);
    var unbound = emitter.BoundFunctions.Where(f => !bound.Contains(f.Name)).ToList();

    if (existing == generated)
    {
        Console.WriteLine($"{fileName} is up to date with {HeaderLabel(options)} ({bound.Count} functions).");
        return 0;
    }

    var report = new StringBuilder();
    report.Append(File.Exists(options.Output) ? $"{fileName} is stale" : $"{fileName} does not exist")
        .Append(": run `dotnet cake --target=Bindings` (or `dotnet run --project bindings/GroupedGemm.Bindings -- generate`) and commit the result.\n");
    if (unbound.Count > 0)
    {
        report.Append(CultureInfo.InvariantCulture, $"Header functions without a binding in {fileName}:\n");
        foreach (FunctionDecl function in unbound)
        {
            report.Append(CultureInfo.InvariantCulture, $"  {function.Name} (line {function.Line})\n");
        }
    }

    report.Append('\n').Append(UnifiedDiff.Create(existing, generated, $"{fileName} (checked in)", $"{fileName} (generated)"));
    Console.Error.Write(report.ToString());
    return 1;
}
