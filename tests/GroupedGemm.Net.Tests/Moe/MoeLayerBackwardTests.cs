using GroupedGemm.MoE.Training;
using GroupedGemm.Tests.Gpu;
using GroupedGemm.Tests.Training;
using NUnit.Framework;

namespace GroupedGemm.Tests.Moe;

/// <summary>
/// One training step of the whole MoE layer on the GPU (router GEMM, top-k softmax, sort, gather, expert grouped
/// GEMMs with their epilogues, combine, shared experts; then every backward kernel, <c>GmmBackward</c> and the
/// load-balancing loss) against the sample's float64 <see cref="ReferenceMoe"/>: the output, the loss and every
/// gradient. Float32 throughout, so that the bound is tight; the GEMMs take host counts here (downloaded once after the
/// sort) so that the test does not depend on which backends take device counts for float32.
/// </summary>
[TestFixture]
[Category("Gpu")]
[Category("MoeBackward")]
internal sealed class MoeLayerBackwardTests : GpuFixture
{
    private const DType F32 = DType.Float32;
    private const double AuxCoefficient = 0.1;
    private const double Bound = 5e-4;

    private static readonly ReferenceMoeConfig[] Configs =
    [
        new(EmbedDim: 32, HiddenDim: 48, NumExperts: 6, TopK: 2, NumShared: 1, Gated: false, Activation.Gelu, Renormalize: true),
        new(EmbedDim: 32, HiddenDim: 40, NumExperts: 5, TopK: 2, NumShared: 2, Gated: true, Activation.Silu, Renormalize: false),
        new(EmbedDim: 24, HiddenDim: 32, NumExperts: 4, TopK: 1, NumShared: 0, Gated: false, Activation.Relu, Renormalize: false),
        new(EmbedDim: 16, HiddenDim: 24, NumExperts: 1, TopK: 1, NumShared: 0, Gated: true, Activation.Gelu, Renormalize: true),
    ];

    [Test]
    public void One_step_matches_the_float64_reference([ValueSource(nameof(Configs))] ReferenceMoeConfig config)
    {
        const int tokens = 37;
        TrainingCase c = TrainingCase.Draw(config, tokens, seed: 2024);
        MoeParameters p = c.Layer.Parameters;
        MoeForwardState state = c.Layer.Forward(c.X, tokens);
        (MoeParameters expected, double[] dxExpected) = c.Layer.Backward(state, c.OutputWeights, AuxCoefficient);
        int d = config.EmbedDim, e = config.NumExperts, k = config.TopK, s = config.NumShared, slots = tokens * k;
        using var g = new Owned();

        // ---- forward ----
        DeviceTensor x = g.Up(c.X, tokens, d);
        DeviceTensor wr = g.Up(p.Router, 1, d, e); // the router as a grouped GEMM of one group
        long[] routerCounts = [tokens];
        DeviceTensor logits = g.New(F32, tokens, e);
        Context.GmmInto(x, wr, routerCounts, logits);
        DeviceTensor weights = g.New(F32, tokens, k), experts = g.New(DType.Int32, tokens, k);
        MoeKernels.TopKSoftmax(logits, weights, experts, config.Renormalize);
        DeviceTensor counts = g.New(DType.Int64, e), sortedSlots = g.New(DType.Int32, slots), slotRows = g.New(DType.Int32, slots);
        DeviceTensor workspace = g.Own(MoeKernels.AllocateSortWorkspace(slots, e));
        MoeKernels.SortByExpert(experts, counts, sortedSlots, slotRows, workspace);
        long[] hostCounts = counts.ToArray<long>();
        DeviceTensor xs = g.New(F32, slots, d);
        MoeKernels.GatherRows(x, sortedSlots, k, xs);
        ExpertTensors routed = ExpertTensors.Upload(g, p.Routed);
        ExpertRun run = ExpertsForward(g, p.Routed, routed, config.Activation, xs, hostCounts, counts);
        DeviceTensor output = g.New(F32, tokens, d);
        MoeKernels.Combine(run.Output, slotRows, weights, null, output);

        // Shared experts: row j·T + t of their batch is token t; slot t·S + j of the "combine" is that row, weight 1.
        ExpertTensors? shared = null;
        ExpertRun? sharedRun = null;
        DeviceTensor? sharedIndex = null, sharedSlotRows = null, sharedCountsDevice = null;
        long[] sharedCounts = Enumerable.Repeat((long)tokens, s).ToArray();
        if (s > 0)
        {
            sharedIndex = g.Own(DeviceTensor.FromArray(Enumerable.Range(0, s * tokens).Select(r => r % tokens).ToArray(), s * tokens));
            sharedSlotRows = g.Own(DeviceTensor.FromArray(
                Enumerable.Range(0, tokens * s).Select(slot => slot % s * tokens + slot / s).ToArray(), tokens * s));
            sharedCountsDevice = g.Own(DeviceTensor.FromArray(sharedCounts, s));
            DeviceTensor xShared = g.New(F32, s * tokens, d);
            MoeKernels.GatherRows(x, sharedIndex, 1, xShared);
            shared = ExpertTensors.Upload(g, p.Shared!);
            sharedRun = ExpertsForward(g, p.Shared!, shared, config.Activation, xShared, sharedCounts, sharedCountsDevice);
            MoeKernels.GatherRowsBackward(sharedRun.Output, sharedSlotRows, s, output, accumulate: true); // output[t] += Σ_j yS[j·T + t]
        }

        MoeTestData.AssertClose(Owned.Down(output), state.Output, Bound, $"{config}: output");

        // ---- backward ----
        DeviceTensor dOut = g.Up(c.OutputWeights, tokens, d);
        DeviceTensor dY = g.New(F32, slots, d), dWeights = g.New(F32, tokens, k);
        MoeKernels.CombineBackward(dOut, run.Output, slotRows, weights, dY, dWeights);
        ExpertTensors routedGrads = ExpertsBackward(g, p.Routed, routed, config.Activation, run, dY, hostCounts, counts, out DeviceTensor dXs);
        DeviceTensor dx = g.New(F32, tokens, d);
        MoeKernels.GatherRowsBackward(dXs, slotRows, k, dx);
        ExpertTensors? sharedGrads = null;
        if (s > 0)
        {
            DeviceTensor dYShared = g.New(F32, s * tokens, d);
            MoeKernels.GatherRows(dOut, sharedIndex!, 1, dYShared);
            sharedGrads = ExpertsBackward(g, p.Shared!, shared!, config.Activation, sharedRun!, dYShared, sharedCounts,
                sharedCountsDevice!, out DeviceTensor dXShared);
            MoeKernels.GatherRowsBackward(dXShared, sharedSlotRows!, s, dx, accumulate: true);
        }

        DeviceTensor dLogits = g.New(F32, tokens, e), loss = g.New(F32, 1);
        MoeKernels.TopKSoftmaxBackward(logits, weights, experts, dWeights, config.Renormalize, dLogits);
        MoeKernels.LoadBalancingLoss(logits, counts, k, (float)AuxCoefficient, loss, dLogits, accumulate: true);
        (DeviceTensor dxRouter, DeviceTensor dWr) = Context.GmmBackward(x, wr, dLogits, routerCounts);
        g.Own(dxRouter);
        g.Own(dWr);
        DeviceTensor identity = g.Own(DeviceTensor.FromArray(Enumerable.Range(0, tokens).ToArray(), tokens));
        MoeKernels.GatherRowsBackward(dxRouter, identity, 1, dx, accumulate: true); // dx += the router's part

        Assert.That(Owned.Down(loss)[0], Is.EqualTo(AuxCoefficient * state.AuxLoss).Within(1e-5 * AuxCoefficient * state.AuxLoss), "aux loss");
        AssertGradient(Owned.Down(dx), dxExpected, $"{config}: dx");
        AssertGradient(Owned.Down(dWr), expected.Router, $"{config}: router");
        routedGrads.AssertClose(expected.Routed, $"{config}: routed");
        sharedGrads?.AssertClose(expected.Shared!, $"{config}: shared");
    }

    // Relative error within Bound; a gradient that is zero in exact arithmetic (one expert, one kept weight) must stay
    // within float32 rounding of zero instead, since a relative error has no meaning there.
    private static void AssertGradient(double[] actual, double[] expected, string what)
    {
        if (expected.All(v => Math.Abs(v) < 1e-12))
        {
            Assert.That(actual.Select(Math.Abs).Max(), Is.LessThan(1e-6), $"{what}: zero gradient");
            return;
        }

        MoeTestData.AssertClose(actual, expected, Bound, what);
    }

    // Forward of a group of experts over grouped rows; keeps what backward reads.
    private ExpertRun ExpertsForward(Owned g, ExpertParameters p, ExpertTensors w, Activation activation, DeviceTensor rows,
        long[] counts, DeviceTensor deviceCounts)
    {
        long m = rows.Shape[0];
        DeviceTensor first = g.New(F32, m, p.FirstWidth);
        Context.GmmInto(rows, w.W1, counts, first);
        DeviceTensor pre = g.New(F32, m, p.FirstWidth);
        MoeKernels.Convert(first, pre); // the plain epilogue works in place: backward needs the pre-activation
        DeviceTensor hidden;
        if (p.Gated)
        {
            hidden = g.New(F32, m, p.HiddenDim);
            MoeKernels.GatedActivation(first, null, deviceCounts, activation, hidden);
        }
        else
        {
            MoeKernels.BiasActivation(first, w.B1, deviceCounts, activation);
            hidden = first;
        }

        DeviceTensor y = g.New(F32, m, p.EmbedDim);
        Context.GmmInto(hidden, w.W2, counts, y);
        if (w.B2 is not null) MoeKernels.BiasActivation(y, w.B2, deviceCounts, Activation.None);
        return new ExpertRun(rows, pre, hidden, y);
    }

    // Backward of ExpertsForward given dY: the parameter gradients, and the rows' gradient in dRows.
    private ExpertTensors ExpertsBackward(Owned g, ExpertParameters p, ExpertTensors w, Activation activation, ExpertRun run,
        DeviceTensor dY, long[] counts, DeviceTensor deviceCounts, out DeviceTensor dRows)
    {
        long m = dY.Shape[0];
        DeviceTensor? dB1 = null, dB2 = null;
        if (w.B2 is not null)
        {
            dB2 = g.New(F32, p.Experts, p.EmbedDim);
            MoeKernels.BiasGradient(dY, deviceCounts, dB2);
        }

        (DeviceTensor dHidden, DeviceTensor dW2) = Context.GmmBackward(run.Hidden, w.W2, dY, counts);
        g.Own(dHidden);
        g.Own(dW2);
        DeviceTensor dFirst = g.New(F32, m, p.FirstWidth);
        if (p.Gated)
        {
            MoeKernels.GatedActivationBackward(run.Pre, null, deviceCounts, activation, dHidden, dFirst);
        }
        else
        {
            MoeKernels.BiasActivationBackward(run.Pre, w.B1, deviceCounts, activation, dHidden, dFirst);
            dB1 = g.New(F32, p.Experts, p.FirstWidth);
            MoeKernels.BiasGradient(dFirst, deviceCounts, dB1);
        }

        (DeviceTensor dIn, DeviceTensor dW1) = Context.GmmBackward(run.Input, w.W1, dFirst, counts);
        g.Own(dIn);
        g.Own(dW1);
        dRows = dIn;
        return new ExpertTensors(dW1, dB1, dW2, dB2);
    }

    private sealed record ExpertRun(DeviceTensor Input, DeviceTensor Pre, DeviceTensor Hidden, DeviceTensor Output);

    /// <summary>Device tensors of a group of experts (or of their gradients), in <see cref="ExpertParameters"/>'s layout.</summary>
    private sealed record ExpertTensors(DeviceTensor W1, DeviceTensor? B1, DeviceTensor W2, DeviceTensor? B2)
    {
        public static ExpertTensors Upload(Owned g, ExpertParameters p) => new(
            g.Up(p.W1, p.Experts, p.EmbedDim, p.FirstWidth),
            p.B1 is null ? null : g.Up(p.B1, p.Experts, p.FirstWidth),
            g.Up(p.W2, p.Experts, p.HiddenDim, p.EmbedDim),
            p.B2 is null ? null : g.Up(p.B2, p.Experts, p.EmbedDim));

        public void AssertClose(ExpertParameters expected, string what)
        {
            AssertGradient(Owned.Down(W1), expected.W1, $"{what} w1");
            AssertGradient(Owned.Down(W2), expected.W2, $"{what} w2");
            Assert.That(B1 is null, Is.EqualTo(expected.B1 is null), $"{what}: b1 presence");
            if (B1 is not null) AssertGradient(Owned.Down(B1), expected.B1!, $"{what} b1");
            if (B2 is not null) AssertGradient(Owned.Down(B2), expected.B2!, $"{what} b2");
        }
    }

    /// <summary>Device tensors of one test, poisoned when allocated (so an unwritten element shows as NaN), freed together.</summary>
    private sealed class Owned : IDisposable
    {
        private readonly List<DeviceTensor> _tensors = [];

        public DeviceTensor Own(DeviceTensor t)
        {
            _tensors.Add(t);
            return t;
        }

        public DeviceTensor Up(double[] values, params long[] shape) =>
            Own(DeviceTensor.FromArray(values.Select(v => (float)v).ToArray(), shape));

        public DeviceTensor New(DType dtype, params long[] shape) => Own(MoeTestData.Poisoned(dtype, shape));

        public static double[] Down(DeviceTensor t) => t.ToArray<float>().Select(v => (double)v).ToArray();

        public void Dispose()
        {
            foreach (DeviceTensor t in _tensors) t.Dispose();
        }
    }
}
