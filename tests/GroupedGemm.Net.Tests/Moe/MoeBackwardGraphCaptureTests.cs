using NUnit.Framework;

namespace GroupedGemm.Tests.Moe;

/// <summary>
/// The backward kernels queue work without host synchronisation or allocation: a CUDA graph captures a chain of them
/// (combine → gather backward, activation backward → bias gradient, top-k softmax backward + load-balancing loss), and
/// replays after the inputs and the device counts change in place give the references of the new values.
/// </summary>
[TestFixture]
[Category("Gpu")]
[Category("MoeBackward")]
internal sealed class MoeBackwardGraphCaptureTests
{
    private const int Tokens = 64, TopK = 2, Experts = 5, Cols = 40, Hidden = 24, Slots = Tokens * TopK;
    private const float Coefficient = 0.1f;

    [SetUp]
    public void RequireGpu() => MoeTestData.RequireGpu();

    [Test]
    public void Captured_backward_chain_replays_with_new_inputs()
    {
        Random random = MoeTestData.NewRandom();
        int[] slotRows = Enumerable.Range(0, Slots).OrderBy(_ => random.Next()).ToArray();
        float[] weights = MoeTestData.Uniform(random, Slots).Select(v => (float)Math.Abs(v)).ToArray();
        double[] logits = MoeTestData.Uniform(random, Tokens * Experts, 2);
        (double[] topWeights, int[] chosen) = MoeReference.TopKSoftmax(logits, Tokens, Experts, TopK, renormalize: false);
        float[] topWeights32 = topWeights.Select(v => (float)v).ToArray();
        double[] bias = MoeTestData.RoundTo(MoeTestData.Uniform(random, Experts * Hidden), DType.Float32);

        using var stream = CudaStream.Create();
        using DeviceTensor dy = DeviceTensor.Allocate(DType.Float32, Tokens, Cols);
        using DeviceTensor expertOut = DeviceTensor.Allocate(DType.Float32, Slots, Cols);
        using DeviceTensor map = DeviceTensor.FromArray(slotRows, Slots);
        using DeviceTensor w = DeviceTensor.FromArray(weights, Tokens, TopK);
        using DeviceTensor dExpert = DeviceTensor.Allocate(DType.Float32, Slots, Cols);
        using DeviceTensor dWeights = DeviceTensor.Allocate(DType.Float32, Tokens, TopK);
        using DeviceTensor dSource = DeviceTensor.Allocate(DType.Float32, Tokens, Cols);
        using DeviceTensor counts = DeviceTensor.Allocate(DType.Int64, Experts);
        using DeviceTensor pre = DeviceTensor.Allocate(DType.Float32, Slots, Hidden);
        using DeviceTensor biasTensor = DeviceTensor.FromArray(bias.Select(v => (float)v).ToArray(), Experts, Hidden);
        using DeviceTensor dHidden = DeviceTensor.Allocate(DType.Float32, Slots, Hidden);
        using DeviceTensor dPre = DeviceTensor.Allocate(DType.Float32, Slots, Hidden);
        using DeviceTensor dBias = DeviceTensor.Allocate(DType.Float32, Experts, Hidden);
        using DeviceTensor logitsTensor = DeviceTensor.FromArray(logits.Select(v => (float)v).ToArray(), Tokens, Experts);
        using DeviceTensor topW = DeviceTensor.FromArray(topWeights32, Tokens, TopK);
        using DeviceTensor ids = DeviceTensor.FromArray(chosen, Tokens, TopK);
        using DeviceTensor dTopW = DeviceTensor.Allocate(DType.Float32, Tokens, TopK);
        using DeviceTensor dLogits = DeviceTensor.Allocate(DType.Float32, Tokens, Experts);
        using DeviceTensor loss = DeviceTensor.Allocate(DType.Float32, 1);

        using CudaGraph graph = CudaGraph.Capture(stream, () =>
        {
            MoeKernels.CombineBackward(dy, expertOut, map, w, dExpert, dWeights, stream);
            MoeKernels.GatherRowsBackward(dExpert, map, TopK, dSource, accumulate: false, stream);
            MoeKernels.BiasActivationBackward(pre, biasTensor, counts, Activation.Gelu, dHidden, dPre, stream);
            MoeKernels.BiasGradient(dPre, counts, dBias, accumulate: false, stream);
            MoeKernels.TopKSoftmaxBackward(logitsTensor, topW, ids, dTopW, renormalize: false, dLogits, stream);
            MoeKernels.LoadBalancingLoss(logitsTensor, counts, TopK, Coefficient, loss, dLogits, accumulate: true, stream);
        });

        for (int replay = 0; replay < 2; replay++)
        {
            // New values in place, on the stream, before each replay; the second replay also moves rows between experts.
            double[] dyValues = MoeTestData.Uniform(random, Tokens * Cols), outValues = MoeTestData.Uniform(random, Slots * Cols);
            double[] preValues = MoeTestData.Uniform(random, Slots * Hidden, 3), dHiddenValues = MoeTestData.Uniform(random, Slots * Hidden);
            double[] dTopValues = MoeTestData.Uniform(random, Slots);
            long[] countValues = replay == 0 ? [30, 0, 50, 28, 20] : [0, 100, 0, 0, 28];
            foreach ((DeviceTensor t, double[] v) in new[] { (dy, dyValues), (expertOut, outValues), (pre, preValues), (dHidden, dHiddenValues), (dTopW, dTopValues) })
                t.CopyFrom<float>(v.Select(x => (float)x).ToArray(), stream: stream);
            counts.CopyFrom<long>(countValues, stream: stream);
            foreach (DeviceTensor output in new[] { dExpert, dWeights, dSource, dPre, dBias, dLogits, loss }) output.Poison(stream);
            graph.Launch(stream);
            stream.Synchronize();

            double[] dyS = MoeTestData.RoundTo(dyValues, DType.Float32), outS = MoeTestData.RoundTo(outValues, DType.Float32);
            double[] preS = MoeTestData.RoundTo(preValues, DType.Float32), dHiddenS = MoeTestData.RoundTo(dHiddenValues, DType.Float32);
            double[] dTopS = MoeTestData.RoundTo(dTopValues, DType.Float32);
            (double[] dExpertRef, double[] dWeightsRef) = MoeBackwardReference.CombineBackward(dyS, outS, slotRows,
                weights.Select(v => (double)v).ToArray(), Tokens, TopK, Cols, Slots);
            MoeTestData.AssertClose(MoeTestData.Download(dWeights), dWeightsRef, 1e-4, $"replay {replay}: d_weights");
            MoeTestData.AssertClose(MoeTestData.Download(dSource),
                MoeBackwardReference.GatherRowsBackward(dExpertRef, Slots, slotRows, Tokens, TopK, Cols, null), 1e-5, $"replay {replay}: d_source");
            double[] dPreRef = MoeBackwardReference.ActivationBackward(preS, Slots, Hidden, bias, countValues, 0, Experts, Activation.Gelu, dHiddenS);
            MoeTestData.AssertClose(MoeTestData.Download(dPre), dPreRef, 1e-5, $"replay {replay}: d_pre");
            MoeTestData.AssertClose(MoeTestData.Download(dBias),
                MoeBackwardReference.BiasGradient(dPreRef, Slots, Hidden, countValues, 0, Experts, null), 1e-4, $"replay {replay}: d_bias");
            (double lossRef, double[] dAux) = MoeBackwardReference.LoadBalancingLoss(logits.Select(v => (double)(float)v).ToArray(),
                countValues, Tokens, Experts, TopK, Coefficient);
            double[] dLogitsRef = MoeBackwardReference.TopKSoftmaxBackward(logits.Select(v => (double)(float)v).ToArray(), chosen,
                topWeights32.Select(v => (double)v).ToArray(), dTopS, Tokens, Experts, TopK, renormalize: false);
            MoeTestData.AssertClose(MoeTestData.Download(dLogits), dLogitsRef.Zip(dAux, (a, b) => a + b).ToArray(), 1e-4,
                $"replay {replay}: d_logits");
            Assert.That(MoeTestData.Download(loss)[0], Is.EqualTo(lossRef).Within(1e-5 * lossRef), $"replay {replay}: loss");
        }
    }
}
