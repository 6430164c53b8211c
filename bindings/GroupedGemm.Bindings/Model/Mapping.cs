using System.Text.Json;
using System.Text.Json.Serialization;

namespace GroupedGemm.Bindings.Model;

/// <summary>
/// The naming and shape rules of bindings/mapping.json. Every entry must name something that exists in the
/// header (a stale entry fails the run), and every enum and struct of the header must have a .NET name here.
/// </summary>
internal sealed class Mapping
{
    /// <summary>Namespace of the generated file.</summary>
    public required string Namespace { get; init; }

    /// <summary>Class holding the functions and constants.</summary>
    public required string ClassName { get; init; }

    /// <summary>Library name given to LibraryImport.</summary>
    public required string LibraryName { get; init; }

    /// <summary>Object-like macros with this prefix and an integer value become constants.</summary>
    public required string ConstantMacroPrefix { get; init; }

    /// <summary>Macros the bindings skip (include guard, export attribute).</summary>
    public List<string> IgnoredMacros { get; init; } = [];

    /// <summary>.NET names of the header's enums and structs, by C tag name.</summary>
    public Dictionary<string, string> Types { get; init; } = [];

    /// <summary>Enum member rules, by C enum name; without an entry the prefix is the enum's name upper-cased plus '_'.</summary>
    public Dictionary<string, EnumRule> Enums { get; init; } = [];

    /// <summary>Field name overrides, keyed "struct.field"; without one a field is PascalCased.</summary>
    public Dictionary<string, string> Fields { get; init; } = [];

    /// <summary>Opaque handle typedefs and the .NET type that carries them (nint).</summary>
    public Dictionary<string, string> Handles { get; init; } = [];

    /// <summary>Pointer parameters that become <c>out T</c>, by function name.</summary>
    public Dictionary<string, List<string>> OutParameters { get; init; } = [];

    /// <summary>Header functions deliberately left without a binding (verify lists them).</summary>
    public List<string> IgnoredFunctions { get; init; } = [];

    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>Reads a mapping file.</summary>
    /// <param name="path">The JSON file.</param>
    /// <returns>The rules.</returns>
    public static Mapping Load(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<Mapping>(File.ReadAllText(path), Options)
                ?? throw new GeneratorException($"{path} is empty.");
        }
        catch (JsonException e)
        {
            throw new GeneratorException($"{path}: {e.Message}", e);
        }
    }
}

/// <summary>How the members of one enum are named.</summary>
internal sealed class EnumRule
{
    /// <summary>Prefix stripped from every member (GG_COUNTS_ for gg_counts_location).</summary>
    public string? MemberPrefix { get; init; }

    /// <summary>Member names that PascalCasing gets wrong (GG_DTYPE_BFLOAT16 -> BFloat16), by C name.</summary>
    public Dictionary<string, string> Members { get; init; } = [];
}
