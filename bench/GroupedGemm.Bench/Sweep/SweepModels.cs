using System.Reflection;
using System.Text.Json;

namespace GroupedGemm.Bench.Sweep;

/// <summary>One published MoE model configuration (bench/sweep/models.json), with where its values come from.</summary>
/// <param name="Name">Short name used in problem ids.</param>
/// <param name="Display">Name for the report.</param>
/// <param name="Source">The config.json the values were copied from (hub page, by name).</param>
/// <param name="ConfigKeys">The keys and values of that config.json, as written there.</param>
/// <param name="Hidden">hidden_size (d_model).</param>
/// <param name="Expert">The routed expert's intermediate size.</param>
/// <param name="Experts">Routed experts.</param>
/// <param name="TopK">Experts per token.</param>
/// <param name="Shared">Shared experts (dense GEMMs: not in the sweep).</param>
/// <param name="Verified">"search" (checked against a second public copy) or "memory" (not checked; see the note).</param>
/// <param name="Note">Remarks.</param>
internal sealed record SweepModel(
    string Name, string Display, string Source, string ConfigKeys, int Hidden, int Expert, int Experts, int TopK,
    int Shared, string Verified, string Note);

/// <summary>The models file (schema <see cref="SchemaName"/>).</summary>
internal sealed record SweepModelFile(string Schema, string About, IReadOnlyList<SweepModel> Models)
{
    /// <summary>The schema this tool reads.</summary>
    public const string SchemaName = "groupedgemm-sweep-models/1";

    /// <summary>The name of the copy of bench/sweep/models.json embedded in this assembly.</summary>
    public const string ResourceName = "sweep-models.json";

    /// <summary>Reads the embedded copy of bench/sweep/models.json (the file itself is the source).</summary>
    public static SweepModelFile LoadEmbedded()
    {
        using Stream stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(ResourceName)
            ?? throw new InvalidDataException($"the assembly carries no '{ResourceName}' resource.");
        return Parse(stream, ResourceName);
    }

    /// <summary>Reads and validates a models file.</summary>
    public static SweepModelFile Parse(Stream stream, string where)
    {
        SweepModelFile file;
        try
        {
            file = JsonSerializer.Deserialize(stream, Model.BenchJson.Default.SweepModelFile)
                   ?? throw new InvalidDataException($"{where}: the file holds JSON null.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{where}: not a models file ({e.Message}).", e);
        }

        file.Validate(where);
        return file;
    }

    /// <summary>Throws <see cref="InvalidDataException"/> naming the model and the value that is off.</summary>
    public void Validate(string where)
    {
        if (Schema != SchemaName) throw new InvalidDataException($"{where}: schema '{Schema}', expected '{SchemaName}'.");
        if (Models is null || Models.Count == 0) throw new InvalidDataException($"{where}: no models.");
        foreach (SweepModel m in Models)
        {
            string at = $"{where}: model '{m.Name}'";
            if (string.IsNullOrWhiteSpace(m.Name) || m.Name.Contains('/', StringComparison.Ordinal))
                throw new InvalidDataException($"{at}: the name must be non-empty and hold no '/'.");
            if (string.IsNullOrWhiteSpace(m.Source) || string.IsNullOrWhiteSpace(m.ConfigKeys))
                throw new InvalidDataException($"{at}: 'source' and 'config_keys' (the citation) are required.");
            if (m.Hidden <= 0 || m.Expert <= 0 || m.Experts <= 1 || m.TopK <= 0 || m.TopK > m.Experts || m.Shared < 0)
                throw new InvalidDataException(
                    $"{at}: sizes out of range (hidden {m.Hidden}, expert {m.Expert}, experts {m.Experts}, top_k {m.TopK}, shared {m.Shared}).");
            if (m.Verified is not ("search" or "memory"))
                throw new InvalidDataException($"{at}: 'verified' is '{m.Verified}', expected 'search' or 'memory'.");
        }

        var duplicate = Models.GroupBy(m => m.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new InvalidDataException($"{where}: model '{duplicate.Key}' appears twice.");
    }
}
