using System.Reflection;
using System.Text;
using NUnit.Framework;

namespace GroupedGemm.Tests.Api;

/// <summary>
/// The public surface of GroupedGemm.Net, one line per public type and member, compared with PublicApi.txt next to
/// this file. A member added, removed or changed by accident (a test-only helper left public, an overload that
/// should not exist) fails here; a deliberate change updates PublicApi.txt in the same commit.
/// </summary>
[TestFixture]
internal sealed class PublicApiTests
{
    private const string ApprovedFile = "PublicApi.txt";

    [Test]
    public void Public_surface_matches_the_approved_listing()
    {
        string[] actual = PublicApiListing.Lines(typeof(DeviceTensor).Assembly);
        string approvedPath = Path.Combine(TestContext.CurrentContext.TestDirectory, "Api", ApprovedFile);
        string[] approved = File.ReadAllLines(approvedPath).Where(line => line.Length > 0).ToArray();

        string[] added = actual.Except(approved, StringComparer.Ordinal).ToArray();
        string[] removed = approved.Except(actual, StringComparer.Ordinal).ToArray();
        if (added.Length == 0 && removed.Length == 0) return;

        // The full listing goes to the test output, ready to paste over PublicApi.txt after a deliberate change.
        TestContext.Out.WriteLine(string.Join('\n', actual));
        var message = new StringBuilder("The public API differs from tests/GroupedGemm.Net.Tests/Api/PublicApi.txt.\n");
        foreach (string line in added) message.Append("  added:   ").Append(line).Append('\n');
        foreach (string line in removed) message.Append("  removed: ").Append(line).Append('\n');
        Assert.Fail(message.ToString());
    }
}

/// <summary>Lists an assembly's public (and protected) types and members as sorted, stable one-line signatures.</summary>
internal static class PublicApiListing
{
    private static readonly NullabilityInfoContext Nullability = new();

    private const BindingFlags Declared =
        BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    /// <summary>The listing of <paramref name="assembly"/>.</summary>
    internal static string[] Lines(Assembly assembly)
    {
        var lines = new List<string>();
        foreach (Type type in assembly.GetExportedTypes())
        {
            string owner = TypeName(type);
            lines.Add($"{Kind(type)} {owner}{BaseList(type)}");
            foreach (MemberInfo member in type.GetMembers(Declared))
            {
                string? signature = Signature(member);
                if (signature is not null) lines.Add($"{owner}: {signature}");
            }
        }

        lines.Sort(StringComparer.Ordinal);
        return [.. lines];
    }

    private static string Kind(Type type) => type switch
    {
        { IsEnum: true } => "enum",
        { IsInterface: true } => "interface",
        { IsValueType: true } => (type.IsByRefLike ? "ref " : "") + "struct",
        _ when typeof(Delegate).IsAssignableFrom(type) => "delegate",
        { IsAbstract: true, IsSealed: true } => "static class",
        { IsSealed: true } => "sealed class",
        { IsAbstract: true } => "abstract class",
        _ => "class",
    };

    private static string BaseList(Type type)
    {
        var bases = new List<string>();
        if (type.BaseType is Type b && b != typeof(object) && b != typeof(ValueType) && b != typeof(Enum)) bases.Add(TypeName(b));
        // Interfaces the type adds itself (not those of its base type, nor the runtime's on every enum).
        if (!type.IsEnum)
        {
            Type[] inherited = type.BaseType?.GetInterfaces() ?? [];
            bases.AddRange(type.GetInterfaces().Except(inherited).Where(i => i.IsPublic || i.IsNestedPublic)
                .Select(TypeName).Order(StringComparer.Ordinal));
        }

        return bases.Count == 0 ? "" : " : " + string.Join(", ", bases);
    }

    private static bool Visible(MethodBase? method) => method is { IsPublic: true } or { IsFamily: true } or { IsFamilyOrAssembly: true };

    private static string? Signature(MemberInfo member)
    {
        switch (member)
        {
            case ConstructorInfo ctor when Visible(ctor):
                return $"{(ctor.IsStatic ? "static " : "")}.ctor({Parameters(ctor)})";
            case MethodInfo { Name: "Finalize" }:
                return null;
            case MethodInfo method when Visible(method) && (!method.IsSpecialName || method.Name.StartsWith("op_", StringComparison.Ordinal)):
                string generic = method.IsGenericMethod ? $"<{string.Join(", ", method.GetGenericArguments().Select(TypeName))}>" : "";
                return $"{(method.IsStatic ? "static " : "")}{TypeName(method.ReturnType)}{NullableMark(Nullability.Create(method.ReturnParameter))} {method.Name}{generic}({Parameters(method)})";
            case PropertyInfo property when Visible(property.GetMethod) || Visible(property.SetMethod):
                bool isStatic = (property.GetMethod ?? property.SetMethod)!.IsStatic;
                bool initOnly = property.SetMethod?.ReturnParameter.GetRequiredCustomModifiers()
                    .Contains(typeof(System.Runtime.CompilerServices.IsExternalInit)) == true;
                string accessors = (Visible(property.GetMethod) ? "get; " : "") + (Visible(property.SetMethod) ? (initOnly ? "init; " : "set; ") : "");
                string index = property.GetIndexParameters().Length > 0 ? $"[{Parameters(property.GetIndexParameters())}]" : "";
                return $"{(isStatic ? "static " : "")}{TypeName(property.PropertyType)}{NullableMark(Nullability.Create(property))} {property.Name}{index} {{ {accessors}}}";
            case FieldInfo field when field.IsPublic || field.IsFamily:
                if (field.DeclaringType!.IsEnum) return field.IsSpecialName ? null : $"{field.Name} = {field.GetRawConstantValue()}";
                return $"{(field.IsLiteral ? "const " : field.IsStatic ? "static " : "")}{(field.IsInitOnly ? "readonly " : "")}{TypeName(field.FieldType)}{NullableMark(Nullability.Create(field))} {field.Name}";
            case EventInfo e when Visible(e.AddMethod):
                return $"event {TypeName(e.EventHandlerType!)} {e.Name}";
            case Type nested when nested.IsNestedPublic:
                return null; // listed on its own line by GetExportedTypes
            default:
                return null;
        }
    }

    // A '?' on reference types annotated nullable (value types show theirs through Nullable<T>).
    private static string NullableMark(NullabilityInfo info) =>
        !info.Type.IsValueType && !info.Type.IsByRef && (info.ReadState == NullabilityState.Nullable || info.WriteState == NullabilityState.Nullable) ? "?" : "";

    private static string Parameters(MethodBase method) => Parameters(method.GetParameters());

    private static string Parameters(ParameterInfo[] parameters) => string.Join(", ", parameters.Select(p =>
    {
        string modifier = p.ParameterType.IsByRef ? (p.IsOut ? "out " : p.IsIn ? "in " : "ref ") : "";
        if (p.GetCustomAttribute<ParamArrayAttribute>() is not null) modifier = "params ";
        string value = p.HasDefaultValue ? " = " + (p.DefaultValue switch { null => "null", bool v => v ? "true" : "false", var v => v.ToString() }) : "";
        return $"{modifier}{TypeName(p.ParameterType)}{NullableMark(Nullability.Create(p))} {p.Name}{value}";
    }));

    private static string TypeName(Type type)
    {
        if (type.IsByRef) return TypeName(type.GetElementType()!);
        if (type.IsArray) return TypeName(type.GetElementType()!) + "[]";
        if (type.IsPointer) return TypeName(type.GetElementType()!) + "*";
        if (Nullable.GetUnderlyingType(type) is Type inner) return TypeName(inner) + "?";
        if (type.IsGenericParameter) return type.Name;
        string name = type.IsNested ? TypeName(type.DeclaringType!) + "." + type.Name : (type.Namespace is "System" or "GroupedGemm" ? type.Name : type.FullName ?? type.Name);
        if (!type.IsGenericType) return name;
        int tick = name.IndexOf('`', StringComparison.Ordinal);
        if (tick >= 0) name = name[..tick];
        return $"{name}<{string.Join(", ", type.GetGenericArguments().Select(TypeName))}>";
    }
}
