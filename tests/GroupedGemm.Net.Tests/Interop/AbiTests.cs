using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using GroupedGemm.Interop;
using NUnit.Framework;

namespace GroupedGemm.Tests.Interop;

/// <summary>
/// The generated interop (NativeMethods.g.cs) against the C compiler's view of groupedgemm.h: struct sizes, field
/// offsets, enum sizes and values, integer constants. Needs a C compiler, not a GPU. The list of what to check comes
/// from reflection over the generated types, so a struct or enum added to the header is covered automatically.
/// </summary>
[TestFixture]
public sealed class AbiTests
{
    private NativeAbiProbe probe = null!;

    /// <summary>The generated structs, one test case each.</summary>
    public static IEnumerable<TestCaseData> StructCases =>
        GeneratedInterop.Structs.Select(s => new TestCaseData(s.Type, s.CName).SetArgDisplayNames(s.CName));

    /// <summary>The generated enums, one test case each.</summary>
    public static IEnumerable<TestCaseData> EnumCases =>
        GeneratedInterop.Enums.Select(e => new TestCaseData(e.Type, e.CName).SetArgDisplayNames(e.CName));

    /// <summary>Compiles and runs the C probe once for the fixture.</summary>
    [OneTimeSetUp]
    public void RunProbe() => probe = NativeAbiProbe.Run();

    /// <summary>Reflection finds the generated types (guards the other tests against checking nothing).</summary>
    [Test]
    public void Reflection_finds_the_generated_structs_enums_and_constants()
    {
        Assert.Multiple(() =>
        {
            Assert.That(GeneratedInterop.Structs.Select(s => s.Type), Does.Contain(typeof(GgGmmArgs)).And.Contain(typeof(GgBuildInfo)));
            Assert.That(GeneratedInterop.Enums.Select(e => e.Type), Does.Contain(typeof(GgStatus)).And.Contain(typeof(GgDType)));
            Assert.That(GeneratedInterop.Constants.Select(c => c.CName), Does.Contain("GG_ABI_VERSION"));
        });
    }

    /// <summary>sizeof and every offsetof of a struct agree with C.</summary>
    /// <param name="type">The generated struct.</param>
    /// <param name="cStruct">Its C tag.</param>
    [TestCaseSource(nameof(StructCases))]
    public void Struct_layout_matches_C(Type type, string cStruct)
    {
        RequireProbe();
        var mismatches = new List<string>();
        long managedSize = (int)typeof(Unsafe).GetMethod(nameof(Unsafe.SizeOf))!.MakeGenericMethod(type).Invoke(null, null)!;
        long nativeSize = probe[NativeAbiProbe.SizeKey(cStruct)];
        if (managedSize != nativeSize)
        {
            mismatches.Add($"sizeof: C {nativeSize}, C# {managedSize}");
        }

        IReadOnlyList<(FieldInfo Field, string CName)> fields = GeneratedInterop.Fields(type);
        Assert.That(fields, Is.Not.Empty, $"{type.Name} has no fields");
        foreach ((FieldInfo field, string cField) in fields)
        {
            long managedOffset = Marshal.OffsetOf(type, field.Name).ToInt64();
            long nativeOffset = probe[NativeAbiProbe.OffsetKey(cStruct, cField)];
            if (managedOffset != nativeOffset)
            {
                mismatches.Add($"offsetof {cField} ({field.Name}): C {nativeOffset}, C# {managedOffset}");
            }
        }

        Assert.That(mismatches, Is.Empty, $"{type.Name} does not match struct {cStruct}: regenerate the bindings (dotnet cake --target=Bindings).");
    }

    /// <summary>Every enumerator has the C value, and the C enum is as wide as the C# int underlying type.</summary>
    /// <param name="type">The generated enum.</param>
    /// <param name="cEnum">Its C tag.</param>
    [TestCaseSource(nameof(EnumCases))]
    public void Enum_matches_C(Type type, string cEnum)
    {
        RequireProbe();
        var mismatches = new List<string>();
        long nativeSize = probe[NativeAbiProbe.EnumSizeKey(cEnum)];
        long managedSize = Marshal.SizeOf(Enum.GetUnderlyingType(type));
        if (nativeSize != managedSize)
        {
            mismatches.Add($"sizeof: C {nativeSize}, C# {managedSize}");
        }

        var members = GeneratedInterop.Members(type);
        Assert.That(members, Is.Not.Empty, $"{type.Name} has no members");
        foreach ((string name, string cName, long value) in members)
        {
            long nativeValue = probe[NativeAbiProbe.ValueKey(cName)];
            if (nativeValue != value)
            {
                mismatches.Add($"{cName} ({name}): C {nativeValue}, C# {value}");
            }
        }

        Assert.That(mismatches, Is.Empty, $"{type.Name} does not match enum {cEnum}: regenerate the bindings (dotnet cake --target=Bindings).");
    }

    /// <summary>Every generated <c>GG_*</c> constant has the value of its macro.</summary>
    [Test]
    public void Integer_constants_match_C()
    {
        RequireProbe();
        var mismatches = GeneratedInterop.Constants
            .Where(c => probe[NativeAbiProbe.ValueKey(c.CName)] != c.Value)
            .Select(c => $"{c.CName}: C {probe[NativeAbiProbe.ValueKey(c.CName)]}, C# {c.Value}")
            .ToList();
        Assert.That(mismatches, Is.Empty, "regenerate the bindings (dotnet cake --target=Bindings).");
    }

    private void RequireProbe()
    {
        if (probe.SkipReason is { } reason)
        {
            Assert.Ignore(reason);
        }
    }
}
