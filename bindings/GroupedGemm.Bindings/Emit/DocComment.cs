using System.Text;
using System.Text.RegularExpressions;

namespace GroupedGemm.Bindings.Emit;

/// <summary>C doc comments (<c>/** ... */</c>, <c>///</c>) to XML doc comment lines.</summary>
internal static partial class DocComment
{
    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex CodeSpanRegex();

    private static Regex CodeSpan => CodeSpanRegex();

    /// <summary>The XML doc lines (without indentation) for a raw C comment; empty when there is none.</summary>
    /// <param name="raw">The comment as written in the header, or null.</param>
    /// <returns>Lines such as <c>/// &lt;summary&gt;Text.&lt;/summary&gt;</c>.</returns>
    public static IReadOnlyList<string> ToXml(string? raw)
    {
        List<string> text = raw is null ? [] : Clean(raw);
        if (text.Count == 0)
        {
            return [];
        }

        if (text.Count == 1)
        {
            return [$"/// <summary>{Format(text[0])}</summary>"];
        }

        var lines = new List<string> { "/// <summary>" };
        lines.AddRange(text.Select(line => line.Length == 0 ? "///" : "/// " + Format(line)));
        lines.Add("/// </summary>");
        return lines;
    }

    /// <summary>One line of comment text as XML doc: escaped, with `code` spans as &lt;c&gt; elements.</summary>
    private static string Format(string line) => CodeSpan.Replace(Escape(line), "<c>$1</c>");

    /// <summary>
    /// The comment's text lines: markers, leading asterisks and common indentation removed. clang hands over
    /// adjacent doc comments merged into one text, so markers are stripped line by line, not only at the ends.
    /// </summary>
    private static List<string> Clean(string raw)
    {
        var lines = new List<string>();
        var continuation = new List<bool>(); // lines inside a block comment, whose indentation is relative
        foreach (string rawLine in raw.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n'))
        {
            string line = rawLine.TrimStart();
            bool opensBlock = line.StartsWith("/**", StringComparison.Ordinal) || line.StartsWith("/*!", StringComparison.Ordinal);
            if (opensBlock || line.StartsWith("///", StringComparison.Ordinal))
            {
                line = line[3..].TrimStart();
            }
            else if (line.StartsWith('*') && !line.StartsWith("*/", StringComparison.Ordinal))
            {
                line = line[1..];
            }

            line = line.TrimEnd();
            if (line.EndsWith("*/", StringComparison.Ordinal))
            {
                line = line[..^2].TrimEnd();
            }

            lines.Add(line);
            continuation.Add(!opensBlock);
        }

        // Keep relative indentation (aligned formulas) but drop what every continuation line shares.
        int common = lines.Where((l, i) => continuation[i] && l.Length > 0)
            .Select(l => l.Length - l.TrimStart().Length)
            .DefaultIfEmpty(0)
            .Min();
        for (int i = 0; i < lines.Count; i++)
        {
            lines[i] = continuation[i] && lines[i].Length >= common ? lines[i][common..] : lines[i];
        }

        while (lines.Count > 0 && lines[0].Length == 0)
        {
            lines.RemoveAt(0);
        }

        while (lines.Count > 0 && lines[^1].Length == 0)
        {
            lines.RemoveAt(lines.Count - 1);
        }

        return lines;
    }

    /// <summary>Escapes the characters XML doc comments cannot hold as text.</summary>
    /// <param name="text">Plain text.</param>
    /// <returns>The text with &amp;, &lt; and &gt; escaped.</returns>
    public static string Escape(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            builder.Append(c switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                _ => c.ToString(),
            });
        }

        return builder.ToString();
    }
}
