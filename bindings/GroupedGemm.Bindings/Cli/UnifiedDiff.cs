using System.Globalization;
using System.Text;

namespace GroupedGemm.Bindings.Cli;

/// <summary>A line diff in unified format (LCS-based; the files are a few thousand lines at most).</summary>
internal static class UnifiedDiff
{
    private const int Context = 3;
    private const int MaxOutputLines = 400;

    /// <summary>The unified diff from <paramref name="oldText"/> to <paramref name="newText"/>.</summary>
    /// <param name="oldText">The checked-in text.</param>
    /// <param name="newText">The regenerated text.</param>
    /// <param name="oldName">Label of the old side.</param>
    /// <param name="newName">Label of the new side.</param>
    /// <returns>The diff; empty when the texts are equal.</returns>
    public static string Create(string oldText, string newText, string oldName, string newName)
    {
        string[] a = oldText.Split('\n');
        string[] b = newText.Split('\n');
        List<(char Op, string Line)> script = EditScript(a, b);
        if (script.All(e => e.Op == ' '))
        {
            return string.Empty;
        }

        var output = new StringBuilder();
        output.Append("--- ").Append(oldName).Append('\n');
        output.Append("+++ ").Append(newName).Append('\n');
        int written = 0;
        int i = 0;
        while (i < script.Count)
        {
            if (script[i].Op == ' ')
            {
                i++;
                continue;
            }

            // A hunk: this change, nearby changes, and Context unchanged lines either side.
            int start = Math.Max(0, i - Context);
            int end = i;
            while (end < script.Count)
            {
                int nextChange = script.FindIndex(end, e => e.Op != ' ');
                if (nextChange < 0 || nextChange - end > 2 * Context)
                {
                    break;
                }

                end = script.FindIndex(nextChange, e => e.Op == ' ');
                if (end < 0)
                {
                    end = script.Count;
                }
            }

            end = Math.Min(script.Count, end + Context);
            int oldStart = script.Take(start).Count(e => e.Op != '+') + 1;
            int newStart = script.Take(start).Count(e => e.Op != '-') + 1;
            int oldCount = script.Skip(start).Take(end - start).Count(e => e.Op != '+');
            int newCount = script.Skip(start).Take(end - start).Count(e => e.Op != '-');
            output.Append(CultureInfo.InvariantCulture, $"@@ -{oldStart},{oldCount} +{newStart},{newCount} @@\n");
            for (int k = start; k < end; k++)
            {
                if (++written > MaxOutputLines)
                {
                    output.Append("... (diff truncated)\n");
                    return output.ToString();
                }

                output.Append(script[k].Op).Append(script[k].Line).Append('\n');
            }

            i = end;
        }

        return output.ToString();
    }

    private static List<(char Op, string Line)> EditScript(string[] a, string[] b)
    {
        // lcs[i, j] = length of the longest common subsequence of a[i..] and b[j..].
        int[,] lcs = new int[a.Length + 1, b.Length + 1];
        for (int i = a.Length - 1; i >= 0; i--)
        {
            for (int j = b.Length - 1; j >= 0; j--)
            {
                lcs[i, j] = a[i] == b[j] ? lcs[i + 1, j + 1] + 1 : Math.Max(lcs[i + 1, j], lcs[i, j + 1]);
            }
        }

        var script = new List<(char Op, string Line)>();
        int x = 0, y = 0;
        while (x < a.Length || y < b.Length)
        {
            if (x < a.Length && y < b.Length && a[x] == b[y])
            {
                script.Add((' ', a[x]));
                x++;
                y++;
            }
            else if (x < a.Length && (y == b.Length || lcs[x + 1, y] >= lcs[x, y + 1]))
            {
                script.Add(('-', a[x++])); // deletions first, as diff(1) prints them
            }
            else
            {
                script.Add(('+', b[y++]));
            }
        }

        return script;
    }
}
