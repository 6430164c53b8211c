using System.Text.Json;
using System.Text.Json.Serialization;

namespace GroupedGemm.Bench.Model;

/// <summary>Source-generated JSON for the bench files: snake_case names, the convention of the Python side.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(ProblemFile))]
[JsonSerializable(typeof(ResultsFile))]
[JsonSerializable(typeof(Reporting.MergedResults))]
[JsonSerializable(typeof(Sweep.SweepModelFile))]
[JsonSerializable(typeof(Sweep.SweepPlanFile))]
[JsonSerializable(typeof(Sweep.SweepResultsFile))]
internal sealed partial class BenchJson : JsonSerializerContext
{
    /// <summary>Reads and validates a problem file.</summary>
    public static ProblemFile ReadProblems(string path)
    {
        ProblemFile file = Read(path, Default.ProblemFile);
        file.Validate(path);
        return file;
    }

    /// <summary>Reads and validates a results file.</summary>
    public static ResultsFile ReadResults(string path)
    {
        ResultsFile file = Read(path, Default.ResultsFile);
        file.Validate(path);
        return file;
    }

    /// <summary>Writes <paramref name="value"/> to <paramref name="path"/>, creating the folder.</summary>
    public static void Write<T>(string path, T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info)
    {
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        using FileStream stream = File.Create(path);
        JsonSerializer.Serialize(stream, value, info);
        stream.WriteByte((byte)'\n');
    }

    private static T Read<T>(string path, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info)
    {
        try
        {
            using FileStream stream = File.OpenRead(path);
            return JsonSerializer.Deserialize(stream, info)
                   ?? throw new InvalidDataException($"{path}: the file holds JSON null.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a valid bench file ({e.Message}).", e);
        }
    }
}
