using System.Globalization;
using GroupedGemm.Interop;
using NUnit.Framework;

namespace GroupedGemm.Tests.Interop;

/// <summary>The public enums of namespace GroupedGemm mirror the generated native enums name for name, value for value.</summary>
[TestFixture]
public sealed class PublicEnumMirrorTests
{
    /// <summary>A public enum and its native counterpart have the same names with the same values.</summary>
    /// <param name="managed">The public enum.</param>
    /// <param name="native">The generated enum.</param>
    [TestCase(typeof(DType), typeof(GgDType))]
    [TestCase(typeof(GemmBackend), typeof(GgBackend))]
    [TestCase(typeof(Activation), typeof(GgActivation))]
    [TestCase(typeof(GroupedGemmStatus), typeof(GgStatus))]
    [TestCase(typeof(ScaleMode), typeof(GgScaleMode))]
    [TestCase(typeof(ScaledGemmKernel), typeof(GgScaledKernel))]
    public void Public_enum_has_the_native_names_and_values(Type managed, Type native)
    {
        Assert.That(NamesToValues(managed), Is.EquivalentTo(NamesToValues(native)),
            $"{managed.FullName} must list exactly the members of {native.Name} (generated from the C header), with the same values.");
    }

    private static Dictionary<string, long> NamesToValues(Type enumType) =>
        Enum.GetNames(enumType).ToDictionary(
            name => name,
            name => Convert.ToInt64(Enum.Parse(enumType, name), CultureInfo.InvariantCulture),
            StringComparer.Ordinal);
}
