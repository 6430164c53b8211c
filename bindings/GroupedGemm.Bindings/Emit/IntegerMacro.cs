using System.Globalization;

namespace GroupedGemm.Bindings.Emit;

/// <summary>Reads the value of an integer macro body: <c>5</c>, <c>(5)</c>, <c>-1</c>, <c>0x10u</c>.</summary>
internal static class IntegerMacro
{
    /// <summary>The value of the macro body.</summary>
    /// <param name="tokens">The body's tokens, as libclang split them.</param>
    /// <returns>The value.</returns>
    /// <exception cref="GeneratorException">The body is not a single integer literal that fits an int.</exception>
    public static int Parse(IReadOnlyList<string> tokens)
    {
        var body = tokens.ToList();
        while (body.Count >= 2 && body[0] == "(" && body[^1] == ")")
        {
            body = body[1..^1];
        }

        bool negative = body.Count == 2 && body[0] == "-";
        if (negative)
        {
            body.RemoveAt(0);
        }

        if (body.Count != 1 || !TryParseLiteral(body[0], out long value))
        {
            throw new GeneratorException(
                $"the value '{string.Join(' ', tokens)}' is not a single integer literal; constants must be plain integers.");
        }

        value = negative ? -value : value;
        return value is >= int.MinValue and <= int.MaxValue
            ? (int)value
            : throw new GeneratorException($"the value {value} does not fit an int.");
    }

    private static bool TryParseLiteral(string literal, out long value)
    {
        string digits = literal.TrimEnd('u', 'U', 'l', 'L');
        if (digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            return long.TryParse(digits[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
        }

        if (digits.Length > 1 && digits[0] == '0')
        {
            value = 0;
            foreach (char c in digits[1..])
            {
                if (c is < '0' or > '7')
                {
                    return false;
                }

                value = checked((value * 8) + (c - '0'));
            }

            return true;
        }

        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }
}
