using System.Globalization;
using static TorchSharp.torch;

namespace GroupedGemm.TorchSharp.MoESample;

/// <summary>The sample's mode and sizes, parsed from <c>--name value</c> pairs and flags.</summary>
internal sealed class SampleOptions
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);

    private static readonly string[] s_flags = ["--bench", "--parity", "--gated", "--help", "--renormalize", "--norms"];

    private SampleOptions()
    {
    }

    /// <summary>Parses the command line; unknown options are an error naming them.</summary>
    /// <param name="args">The arguments.</param>
    /// <returns>The options.</returns>
    public static SampleOptions Parse(string[] args)
    {
        var options = new SampleOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            if (Array.IndexOf(s_flags, arg) >= 0)
            {
                options._flags.Add(arg);
            }
            else if (arg.StartsWith("--", StringComparison.Ordinal) && i + 1 < args.Length)
            {
                options._values[arg] = args[++i];
            }
            else
            {
                throw new ArgumentException($"Unknown or incomplete argument '{arg}'; see --help.", nameof(args));
            }
        }

        return options;
    }

    /// <summary>Whether a flag was given.</summary>
    /// <param name="name">The flag, with its dashes.</param>
    /// <returns>True when present.</returns>
    public bool Has(string name) => _flags.Contains(name);

    /// <summary>A string option.</summary>
    /// <param name="name">The option, with its dashes.</param>
    /// <param name="fallback">The default.</param>
    /// <returns>Its value.</returns>
    public string Text(string name, string fallback) => _values.TryGetValue(name, out string? v) ? v : fallback;

    /// <summary>An integer option.</summary>
    /// <param name="name">The option.</param>
    /// <param name="fallback">The default.</param>
    /// <returns>Its value.</returns>
    public int Int(string name, int fallback) =>
        _values.TryGetValue(name, out string? v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    /// <summary>A floating-point option.</summary>
    /// <param name="name">The option.</param>
    /// <param name="fallback">The default.</param>
    /// <returns>Its value.</returns>
    public double Double(string name, double fallback) =>
        _values.TryGetValue(name, out string? v) ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;

    /// <summary>The device: --device cpu|cuda, default cuda where available.</summary>
    /// <returns>The torch device.</returns>
    public Device Device()
    {
        string name = Text("--device", cuda.is_available() ? "cuda" : "cpu");
        return name switch
        {
            "cpu" => CPU,
            "cuda" => CUDA,
            _ => throw new ArgumentException($"--device must be cpu or cuda, not '{name}'."),
        };
    }

    /// <summary>A dtype option: float32, bfloat16 or float16.</summary>
    /// <param name="name">The option.</param>
    /// <param name="fallback">The default.</param>
    /// <returns>The dtype.</returns>
    public ScalarType DType(string name, string fallback) => ParseDType(Text(name, fallback));

    /// <summary>A dtype by name.</summary>
    /// <param name="name">float32, bfloat16 or float16.</param>
    /// <returns>The dtype.</returns>
    public static ScalarType ParseDType(string name) => name switch
    {
        "float32" => ScalarType.Float32,
        "bfloat16" => ScalarType.BFloat16,
        "float16" => ScalarType.Float16,
        _ => throw new ArgumentException($"dtype must be float32, bfloat16 or float16, not '{name}'."),
    };

    /// <summary>The layer sizes, each overridable (--tokens --embed --hidden --experts --top-k --shared).</summary>
    /// <param name="defaults">The mode's defaults.</param>
    /// <returns>The sizes.</returns>
    public LayerShape Shape(LayerShape defaults) => new(
        Int("--tokens", (int)defaults.Tokens), Int("--embed", (int)defaults.EmbedDim), Int("--hidden", (int)defaults.HiddenDim),
        Int("--experts", (int)defaults.Experts), Int("--top-k", defaults.TopK), Int("--shared", (int)defaults.Shared));
}
