using System.Text.Json;
using GroupedGemm.MoE.Training;
using NUnit.Framework;

namespace GroupedGemm.Tests.Training;

/// <summary>
/// The <c>--train --export</c> files that bench/moe_training/train_torch.py reads: every tensor named in the manifest
/// reads back from tensors.bin at its offset and shape with the exact values written, in the layouts the script assumes.
/// </summary>
[TestFixture]
internal sealed class TrainingExportTests
{
    [Test]
    public void Every_exported_tensor_reads_back_at_its_offset_and_shape()
    {
        var config = new ReferenceMoeConfig(8, 12, 4, 2, 1, Gated: false, Activation.Gelu, Renormalize: true);
        var student = MoeParameters.FromSeed(config, 5, DType.Float32);
        var teacher = MoeParameters.FromSeed(config, 6, DType.Float32);
        string dir = Path.Combine(Path.GetTempPath(), "gg-export-" + Guid.NewGuid().ToString("N"));
        try
        {
            double[] evalX = Enumerable.Range(0, 3 * 8).Select(i => i * 0.5 - 3).ToArray();
            double[][] batches = [.. Enumerable.Range(0, 2).Select(b => Enumerable.Range(0, 3 * 8).Select(i => b + i * 0.25).ToArray())];
            var optimizer = new AdamW(student.Tensors(), 1e-3);
            using (var export = new TrainingExport(dir, config, 3, new TrainingOptions(2, 1e-3, 1, 0.01), optimizer))
            {
                export.AddParameters("student", student);
                export.AddParameters("teacher", teacher);
                export.AddEvaluationBatch(evalX, 3, 8);
                for (int step = 1; step <= 2; step++)
                {
                    export.AddBatch(step, batches[step - 1], 3, 8);
                    export.AddLoss(step, 0.5 / step, 1.0);
                }

                export.Finish(0.7, 0.2);
            }

            byte[] blob = File.ReadAllBytes(Path.Combine(dir, "tensors.bin"));
            using JsonDocument manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "manifest.json")));
            JsonElement root = manifest.RootElement;
            var written = student.Tensors().Select(t => ("student." + t.Name, t.Values))
                .Concat(teacher.Tensors().Select(t => ("teacher." + t.Name, t.Values)))
                .ToDictionary(t => t.Item1, t => t.Values);
            Assert.That(root.GetProperty("tensors").GetArrayLength(), Is.EqualTo(written.Count));
            foreach (JsonElement entry in root.GetProperty("tensors").EnumerateArray())
            {
                string name = entry.GetProperty("name").GetString()!;
                Assert.That(Read(blob, entry), Is.EqualTo(written[name]), name);
            }

            JsonElement w1 = root.GetProperty("tensors").EnumerateArray().Single(e => e.GetProperty("name").GetString() == "student.routed.w1");
            Assert.That(w1.GetProperty("shape").EnumerateArray().Select(s => s.GetInt64()), Is.EqualTo(new long[] { 4, 8, 12 }));
            Assert.That(Read(blob, root.GetProperty("eval_x")), Is.EqualTo(evalX));
            JsonElement[] exported = [.. root.GetProperty("batches").EnumerateArray()];
            Assert.That(exported.Select(e => Read(blob, e)), Is.EqualTo(batches));
            Assert.That(root.GetProperty("losses")[1].GetProperty("mse").GetDouble(), Is.EqualTo(0.25));
            Assert.That(root.GetProperty("config").GetProperty("renormalize").GetBoolean(), Is.True);
            Assert.That(root.GetProperty("config").GetProperty("activation").GetString(), Is.EqualTo("gelu"));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    private static double[] Read(byte[] blob, JsonElement entry)
    {
        long count = entry.GetProperty("shape").EnumerateArray().Aggregate(1L, (a, s) => a * s.GetInt64());
        int offset = checked((int)entry.GetProperty("offset").GetInt64());
        var values = new double[count];
        for (int i = 0; i < count; i++) values[i] = BitConverter.ToDouble(blob, offset + 8 * i);
        return values;
    }
}
