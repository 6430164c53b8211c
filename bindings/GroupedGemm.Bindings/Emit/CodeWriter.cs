using System.Text;

namespace GroupedGemm.Bindings.Emit;

/// <summary>Accumulates C# source with four-space indentation and \n line endings (deterministic on every OS).</summary>
internal sealed class CodeWriter
{
    private readonly StringBuilder text = new();
    private int depth;

    /// <summary>Writes one line at the current indentation (an empty line carries no spaces).</summary>
    /// <param name="line">The line, without line ending.</param>
    public void Line(string line = "")
    {
        if (line.Length > 0)
        {
            text.Append(' ', depth * 4).Append(line);
        }

        text.Append('\n');
    }

    /// <summary>Writes several lines.</summary>
    /// <param name="lines">The lines.</param>
    public void Lines(IEnumerable<string> lines)
    {
        foreach (string line in lines)
        {
            Line(line);
        }
    }

    /// <summary>Writes "{" and indents.</summary>
    public void Open()
    {
        Line("{");
        depth++;
    }

    /// <summary>Outdents and writes "}".</summary>
    public void Close()
    {
        depth--;
        Line("}");
    }

    /// <inheritdoc/>
    public override string ToString() => text.ToString();
}
