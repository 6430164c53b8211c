using System.Reflection;
using GroupedGemm.Interop;

namespace GroupedGemm.Tests.Interop;

/// <summary>
/// The generated interop types, found by reflection: every struct, enum and constant the generator emits carries
/// <see cref="NativeNameAttribute"/> with its C name, so a struct added to the header is checked without editing the tests.
/// </summary>
internal static class GeneratedInterop
{
    private static Assembly Library => typeof(NativeMethods).Assembly;

    /// <summary>Generated structs with their C tag.</summary>
    internal static IReadOnlyList<(Type Type, string CName)> Structs => Mirrored(t => t.IsValueType && !t.IsEnum);

    /// <summary>Generated enums with their C tag.</summary>
    internal static IReadOnlyList<(Type Type, string CName)> Enums => Mirrored(t => t.IsEnum);

    /// <summary>Fields of a generated struct in declaration order, with their C names.</summary>
    /// <param name="type">A type from <see cref="Structs"/>.</param>
    /// <returns>The instance fields.</returns>
    internal static IReadOnlyList<(FieldInfo Field, string CName)> Fields(Type type) =>
        type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
            .OrderBy(f => f.MetadataToken)
            .Select(f => (f, CNameOf(f) ?? throw new InvalidOperationException($"{type.Name}.{f.Name} has no [NativeName].")))
            .ToList();

    /// <summary>Members of a generated enum with their C names.</summary>
    /// <param name="type">A type from <see cref="Enums"/>.</param>
    /// <returns>The members and their values.</returns>
    internal static IReadOnlyList<(string Name, string CName, long Value)> Members(Type type) =>
        type.GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(f => (f.Name, CNameOf(f) ?? throw new InvalidOperationException($"{type.Name}.{f.Name} has no [NativeName]."), Convert.ToInt64(f.GetRawConstantValue(), System.Globalization.CultureInfo.InvariantCulture)))
            .ToList();

    /// <summary>The <c>#define GG_*</c> integer constants of <see cref="NativeMethods"/>.</summary>
    internal static IReadOnlyList<(string CName, long Value)> Constants =>
        typeof(NativeMethods).GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
            .Where(f => f.IsLiteral && CNameOf(f) is not null)
            .Select(f => (CNameOf(f)!, Convert.ToInt64(f.GetRawConstantValue(), System.Globalization.CultureInfo.InvariantCulture)))
            .ToList();

    private static List<(Type, string)> Mirrored(Func<Type, bool> kind) =>
        Library.GetTypes()
            .Where(t => t.Namespace == typeof(NativeMethods).Namespace && !t.IsNested && kind(t))
            .Select(t => (t, CNameOf(t)))
            .Where(p => p.Item2 is not null)
            .Select(p => (p.t, p.Item2!))
            .OrderBy(p => p.Item2, StringComparer.Ordinal)
            .ToList();

    private static string? CNameOf(MemberInfo member) => member.GetCustomAttribute<NativeNameAttribute>()?.Name;
}
