using NUnit.Framework;

namespace GroupedGemm.Tests.Support;

/// <summary>Assertions on the argument checks every public call makes before native code runs.</summary>
internal static class ArgumentAssert
{
    /// <summary>
    /// <paramref name="call"/> throws an <see cref="ArgumentException"/> (or a subclass) naming
    /// <paramref name="paramName"/>, whose message contains <paramref name="message"/> when given.
    /// </summary>
    internal static void Rejects(TestDelegate call, string paramName, string? message = null)
    {
        var e = Assert.Catch<ArgumentException>(call);
        Assert.That(e!.ParamName, Is.EqualTo(paramName), e.Message);
        if (message is not null) Assert.That(e.Message, Does.Contain(message));
    }
}
