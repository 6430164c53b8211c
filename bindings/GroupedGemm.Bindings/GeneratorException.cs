namespace GroupedGemm.Bindings;

/// <summary>A problem the user must fix (header, mapping, options); printed without a stack trace.</summary>
internal sealed class GeneratorException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong and what to do about it.</param>
    public GeneratorException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with no message (required by CA1032).</summary>
    public GeneratorException()
    {
    }

    /// <summary>Creates the exception with an inner exception.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="innerException">The cause.</param>
    public GeneratorException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
