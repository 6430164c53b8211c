using System.Globalization;
using System.Text;

namespace GroupedGemm.Bindings.Emit;

/// <summary>C names to C# identifiers.</summary>
internal static class Naming
{
    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "abstract", "as", "base", "bool", "break", "byte", "case", "catch", "char", "checked", "class", "const",
        "continue", "decimal", "default", "delegate", "do", "double", "else", "enum", "event", "explicit", "extern",
        "false", "finally", "fixed", "float", "for", "foreach", "goto", "if", "implicit", "in", "int", "interface",
        "internal", "is", "lock", "long", "namespace", "new", "null", "object", "operator", "out", "override",
        "params", "private", "protected", "public", "readonly", "ref", "return", "sbyte", "sealed", "short",
        "sizeof", "stackalloc", "static", "string", "struct", "switch", "this", "throw", "true", "try", "typeof",
        "uint", "ulong", "unchecked", "unsafe", "ushort", "using", "virtual", "void", "volatile", "while",
    };

    /// <summary>snake_case or UPPER_SNAKE to PascalCase: each part capitalised, the rest lower-cased (CUBLAS_LOOP -> CublasLoop, l2_cache_size -> L2CacheSize).</summary>
    /// <param name="name">The C name (or the part of it left after a prefix).</param>
    /// <returns>The PascalCase name.</returns>
    public static string PascalCase(string name)
    {
        var builder = new StringBuilder(name.Length);
        foreach (string part in name.Split('_', StringSplitOptions.RemoveEmptyEntries))
        {
            builder.Append(char.ToUpperInvariant(part[0]));
            builder.Append(part[1..].ToLower(CultureInfo.InvariantCulture));
        }

        return builder.ToString();
    }

    /// <summary>A C identifier usable as a C# identifier (@event for event).</summary>
    /// <param name="name">The C identifier.</param>
    /// <returns>The name, escaped when it is a C# keyword.</returns>
    public static string Identifier(string name) => Keywords.Contains(name) ? "@" + name : name;

    /// <summary>Whether a name can stand as a C# identifier (it must not start with a digit).</summary>
    /// <param name="name">The candidate.</param>
    /// <returns>True when valid.</returns>
    public static bool IsValidIdentifier(string name) =>
        name.Length > 0 && (char.IsLetter(name[0]) || name[0] == '_') && name.All(c => char.IsLetterOrDigit(c) || c == '_');
}
