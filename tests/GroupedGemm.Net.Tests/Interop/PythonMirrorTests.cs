using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Interop;

/// <summary>
/// bench/groupedgemm_ctypes.py mirrors parts of groupedgemm.h by hand (enum values, gg_gmm_args, gg_build_info), and
/// bench/fp8_bench.py those of the scaled grouped GEMM (gg_scaled_gmm_args, its dtype and scale-mode values). They
/// are read as text and compared with the generated interop, which <see cref="AbiTests"/> checks against the C
/// compiler's view of the header: so the Python binding cannot drift from the header unnoticed. No GPU, no Python.
/// </summary>
[TestFixture]
public sealed class PythonMirrorTests
{
    private const string MirrorPath = "bench/groupedgemm_ctypes.py";
    private const string Fp8MirrorPath = "bench/fp8_bench.py";

    // ctypes types the mirror uses, with their sizes on the 64-bit platforms the library supports.
    private static readonly Dictionary<string, int> CtypesSizes = new(StringComparer.Ordinal)
    {
        ["c_void_p"] = 8, ["c_char_p"] = 8, ["c_int64"] = 8, ["c_uint64"] = 8, ["c_size_t"] = 8,
        ["c_int32"] = 4, ["c_uint32"] = 4, ["c_float"] = 4, ["c_double"] = 8,
    };

    /// <summary>Every module-level integer constant (DTYPE_*, COUNTS_*, BACKEND_*, STATUS_*) is the value of the
    /// enumerator GG_&lt;name&gt; of the header.</summary>
    /// <param name="mirrorPath">The Python file, from the repository root.</param>
    [TestCase(MirrorPath)]
    [TestCase(Fp8MirrorPath)]
    public void Constants_are_the_header_enumerators(string mirrorPath)
    {
        Dictionary<string, long> constants = Constants(File.ReadAllText(Checkout.PathOf(mirrorPath)));
        Dictionary<string, long> enumerators = GeneratedInterop.Enums
            .SelectMany(e => GeneratedInterop.Members(e.Type))
            .ToDictionary(m => m.CName, m => m.Value, StringComparer.Ordinal);
        Assert.That(constants, Is.Not.Empty, $"{mirrorPath} has no NAME = value constants: the parser lost them");
        Assert.Multiple(() =>
        {
            foreach ((string name, long value) in constants)
            {
                Assert.That(enumerators.TryGetValue("GG_" + name, out long native), Is.True,
                    $"{mirrorPath}: {name} has no enumerator GG_{name} in groupedgemm.h");
                Assert.That(value, Is.EqualTo(native), $"{mirrorPath}: {name} = {value}, but groupedgemm.h has GG_{name} = {native}");
            }
        });
    }

    /// <summary>Every ctypes Structure has the fields of the C struct its docstring names, in order, with the same sizes.</summary>
    /// <param name="mirrorPath">The Python file, from the repository root.</param>
    /// <param name="required">The C structs it must mirror.</param>
    [TestCase(MirrorPath, new[] { "gg_gmm_args", "gg_build_info" })]
    [TestCase(Fp8MirrorPath, new[] { "gg_scaled_gmm_args" })]
    public void Structures_have_the_header_fields_in_order_with_the_same_sizes(string mirrorPath, string[] required)
    {
        List<(string Class, string CStruct, List<(string Name, string Ctype)> Fields)> structures =
            Structures(File.ReadAllText(Checkout.PathOf(mirrorPath)));
        Assert.That(structures.Select(s => s.CStruct), Is.SupersetOf(required),
            $"{mirrorPath}: the parser found no mirror of {string.Join(" / ", required)}");
        Dictionary<string, Type> generated = GeneratedInterop.Structs.ToDictionary(s => s.CName, s => s.Type, StringComparer.Ordinal);
        Assert.Multiple(() =>
        {
            foreach ((string cls, string cStruct, List<(string Name, string Ctype)> fields) in structures)
            {
                Assert.That(generated.TryGetValue(cStruct, out Type? type), Is.True, $"{mirrorPath}: {cls} mirrors '{cStruct}', which groupedgemm.h does not declare");
                if (type is null) continue;
                var native = GeneratedInterop.Fields(type).Select(f => (f.CName, Size: SizeOf(f.Field.FieldType))).ToList();
                Assert.That(fields.Select(f => f.Name), Is.EqualTo(native.Select(f => f.CName)),
                    $"{mirrorPath}: {cls}._fields_ must name the fields of {cStruct}, in the header's order");
                foreach (((string name, string ctype), (string _, int size)) in fields.Zip(native))
                {
                    Assert.That(CtypesSizes.TryGetValue(ctype, out int pySize), Is.True, $"{mirrorPath}: {cls}.{name} uses C.{ctype}, unknown to this test");
                    Assert.That(pySize, Is.EqualTo(size), $"{mirrorPath}: {cls}.{name} is C.{ctype} ({pySize} bytes), the header's field has {size}");
                }
            }
        });
    }

    /// <summary>The parsers on a sample, so that a format change of the file cannot make the checks above vacuous.</summary>
    [Test]
    public void Parsers_read_tuple_constants_and_multi_line_fields()
    {
        const string sample = "A, B = 0, 1\nC = 7\nlower = 3\n\nclass X(C.Structure):\n    \"\"\"gg_x, field for field.\"\"\"\n\n" +
                              "    _fields_ = [(\"a\", C.c_void_p),\n                (\"b\", C.c_int32)]\n";
        Assert.That(Constants(sample), Is.EquivalentTo(new Dictionary<string, long> { ["A"] = 0, ["B"] = 1, ["C"] = 7 }));
        var s = Structures(sample).Single();
        Assert.That((s.Class, s.CStruct), Is.EqualTo(("X", "gg_x")));
        Assert.That(s.Fields, Is.EqualTo(new[] { ("a", "c_void_p"), ("b", "c_int32") }));
    }

    // Module-level `NAME = 3` and `A, B = 0, 1` lines with upper-case names.
    private static Dictionary<string, long> Constants(string python)
    {
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (Match m in Regex.Matches(python, @"^(?<names>[A-Z][A-Z0-9_]*(?:\s*,\s*[A-Z][A-Z0-9_]*)*)\s*=\s*(?<values>-?\d+(?:\s*,\s*-?\d+)*)\s*$", RegexOptions.Multiline))
        {
            string[] names = m.Groups["names"].Value.Split(',', StringSplitOptions.TrimEntries);
            string[] values = m.Groups["values"].Value.Split(',', StringSplitOptions.TrimEntries);
            Assert.That(values, Has.Length.EqualTo(names.Length), $"'{m.Value}': as many values as names");
            for (int i = 0; i < names.Length; i++) result[names[i]] = long.Parse(values[i], System.Globalization.CultureInfo.InvariantCulture);
        }
        return result;
    }

    // `class X(C.Structure):` with a docstring that starts with the C struct's name, and its `_fields_` list.
    private static List<(string Class, string CStruct, List<(string Name, string Ctype)> Fields)> Structures(string python) =>
        Regex.Matches(python, @"^class (?<cls>\w+)\(C\.Structure\):\s*""""""(?<cstruct>\w+)[^\n]*?\n.*?_fields_\s*=\s*\[(?<fields>.*?)\]",
                RegexOptions.Multiline | RegexOptions.Singleline)
            .Select(m => (m.Groups["cls"].Value, m.Groups["cstruct"].Value,
                Regex.Matches(m.Groups["fields"].Value, @"\(\s*""(?<name>\w+)""\s*,\s*C\.(?<type>\w+)\s*\)")
                    .Select(f => (f.Groups["name"].Value, f.Groups["type"].Value)).ToList()))
            .ToList();

    private static int SizeOf(Type fieldType) =>
        fieldType.IsPointer ? IntPtr.Size
        : fieldType.IsEnum ? Marshal.SizeOf(Enum.GetUnderlyingType(fieldType))
        : Marshal.SizeOf(fieldType);
}
