using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace GroupedGemm.MoE.Training;

/// <summary>
/// <c>--train --export DIR</c>: everything a PyTorch run needs to train the same layer the same way, so that its loss
/// curve can be compared with this one (bench/moe_training/train_torch.py). <c>tensors.bin</c> holds the student's
/// initial parameters and the teacher's, the held-out batch and the first <see cref="MaxSteps"/> training batches as
/// little-endian float64; <c>manifest.json</c> says where each one is and holds the configuration, the optimiser's
/// settings and this run's losses. The data is exported rather than re-drawn because .NET's Random cannot be
/// reproduced in Python.
/// </summary>
internal sealed class TrainingExport : IDisposable
{
    /// <summary>Training batches exported at most (the comparison covers the first 100 steps).</summary>
    public const int MaxSteps = 100;

    private readonly string _directory;
    private readonly FileStream _data;
    private readonly BinaryWriter _writer;
    private readonly JsonObject _manifest;
    private readonly JsonArray _tensors = [];
    private readonly JsonArray _batches = [];
    private readonly JsonArray _losses = [];

    /// <summary>Starts an export into <paramref name="directory"/> (created) with the run's fixed settings.</summary>
    public TrainingExport(string directory, ReferenceMoeConfig config, int tokens, TrainingOptions training, AdamW optimizer)
    {
        _directory = directory;
        Directory.CreateDirectory(directory);
        _data = new FileStream(Path.Combine(directory, "tensors.bin"), FileMode.Create, FileAccess.Write);
        _writer = new BinaryWriter(_data);
        _manifest = new JsonObject
        {
            ["format"] = "groupedgemm-moe-training-1",
            ["config"] = new JsonObject
            {
                ["embed_dim"] = config.EmbedDim, ["hidden_dim"] = config.HiddenDim, ["num_experts"] = config.NumExperts,
                ["top_k"] = config.TopK, ["num_shared"] = config.NumShared, ["gated"] = config.Gated,
                ["activation"] = config.Activation.ToString().ToLowerInvariant(), ["renormalize"] = config.Renormalize,
                ["tokens"] = tokens,
            },
            ["optimizer"] = new JsonObject
            {
                ["name"] = "AdamW", ["lr"] = optimizer.LearningRate, ["beta1"] = optimizer.Beta1, ["beta2"] = optimizer.Beta2,
                ["eps"] = optimizer.Epsilon, ["weight_decay"] = optimizer.WeightDecay,
            },
            ["loss"] = "mean squared error against the teacher's output + aux_coefficient * Switch load-balancing loss",
            ["aux_coefficient"] = training.AuxCoefficient,
            ["steps"] = training.Steps,
        };
    }

    /// <summary>Writes the parameters of <paramref name="parameters"/> under role "student" or "teacher".</summary>
    public void AddParameters(string role, MoeParameters parameters)
    {
        foreach ((string name, double[] values, long[] shape) in parameters.ShapedTensors())
        {
            _tensors.Add(Entry(role + "." + name, shape, values));
        }
    }

    /// <summary>Writes the held-out batch x [T, D].</summary>
    public void AddEvaluationBatch(double[] x, int tokens, int embedDim) =>
        _manifest["eval_x"] = Entry("eval_x", [tokens, embedDim], x);

    /// <summary>Writes training batch x [T, D] of <paramref name="step"/> (1-based), the first <see cref="MaxSteps"/> only.</summary>
    public void AddBatch(int step, double[] x, int tokens, int embedDim)
    {
        if (step <= MaxSteps) _batches.Add(Entry($"step {step}", [tokens, embedDim], x));
    }

    /// <summary>Records this run's training loss terms at <paramref name="step"/>.</summary>
    public void AddLoss(int step, double mse, double aux)
    {
        if (step <= MaxSteps) _losses.Add(new JsonObject { ["step"] = step, ["mse"] = mse, ["aux"] = aux });
    }

    /// <summary>Records the held-out losses and writes the manifest.</summary>
    public void Finish(double evalBefore, double evalAfter)
    {
        _manifest["tensors"] = _tensors;
        _manifest["batches"] = _batches;
        _manifest["losses"] = _losses;
        _manifest["eval_mse_before"] = evalBefore;
        _manifest["eval_mse_after"] = evalAfter;
        _writer.Flush();
        File.WriteAllText(Path.Combine(_directory, "manifest.json"),
            _manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Exported {_tensors.Count} parameter tensors, {_batches.Count} batches and {_losses.Count} losses to {_directory}"));
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _writer.Dispose();
        _data.Dispose();
    }

    private JsonObject Entry(string name, long[] shape, double[] values)
    {
        long count = shape.Aggregate(1L, (a, b) => a * b);
        if (count != values.LongLength)
            throw new InvalidOperationException($"'{name}': shape [{string.Join(", ", shape)}] has {count} values, the array {values.LongLength}.");
        long offset = _data.Position;
        foreach (double v in values) _writer.Write(v);  // BinaryWriter writes little-endian on every platform
        return new JsonObject
        {
            ["name"] = name,
            ["shape"] = new JsonArray(shape.Select(s => (JsonNode)s).ToArray()),
            ["offset"] = offset,
        };
    }
}
