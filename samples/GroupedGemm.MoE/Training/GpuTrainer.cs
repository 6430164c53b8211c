using DeviceAdamW = GroupedGemm.Optim.AdamW;

namespace GroupedGemm.MoE.Training;

/// <summary>
/// The <c>--train --device gpu</c> loop on the device only: each step slices its batch and target out of tensors
/// uploaded once, runs the layer's forward, the MSE and its gradient, the backward and AdamW (the library's
/// <see cref="DeviceAdamW"/> kernel over float32 master weights and moments, writing the layer's bf16/fp16 weights in the
/// same pass), with no host read and no device allocation after the first step (bf16/fp16 layers; a float32 layer
/// reads the expert counts back once per step, see <see cref="GpuMoeLayer.DeviceCounts"/>). The loss values stay on
/// the device until <see cref="ReadLoss"/>.
/// </summary>
/// <remarks>
/// The MSE runs on existing MoE kernels over a one-slot "routing" of the tokens to themselves: <c>Combine</c> with
/// weight −1 and the output as residual gives diff = output − target; <c>CombineBackward</c> of diff with weight 2/N
/// gives dOutput = 2·diff/N and, as the weight gradient, each token's Σ diff²; <c>BiasGradient</c> over one expert
/// sums those into the loss.
/// </remarks>
internal sealed class GpuTrainer : IDisposable
{
    private readonly GpuMoeLayer _layer;
    private readonly GpuMoeStep _step;
    private readonly DeviceScratch _owned = new(poison: false);
    private readonly IReadOnlyList<DeviceTensor> _parameters;
    private readonly DeviceTensor[] _master, _m, _v;
    private readonly DeviceTensor _x, _targets, _identity, _minusOne, _twoOverN, _oneExpert;
    private readonly DeviceTensor _diff, _dOutput, _tokenSquares, _lossSum;
    private readonly float _lr, _beta1, _beta2, _epsilon, _weightDecay;
    private readonly double _auxCoefficient;
    private long _stepCount;

    /// <summary>A trainer of <paramref name="layer"/> over the given batches (x [steps·T, D] and targets, as float64).</summary>
    public GpuTrainer(GpuMoeLayer layer, int tokens, double[] batches, double[] targets, int steps, AdamW settings,
        double auxCoefficient)
    {
        ReferenceMoeConfig c = layer.Config;
        _layer = layer;
        _lr = (float)settings.LearningRate;
        _beta1 = (float)settings.Beta1;
        _beta2 = (float)settings.Beta2;
        _epsilon = (float)settings.Epsilon;
        _weightDecay = (float)settings.WeightDecay;
        _auxCoefficient = auxCoefficient;
        Tokens = tokens;
        _step = layer.NewStep(tokens, poison: false);
        DeviceScratch g = _owned;
        _x = g.Upload(batches, layer.DType, (long)steps * tokens, c.EmbedDim);
        _targets = g.Upload(targets, layer.DType, (long)steps * tokens, c.EmbedDim);
        _identity = g.Upload(Enumerable.Range(0, tokens).ToArray());
        _minusOne = g.Upload(Enumerable.Repeat(-1.0, tokens).ToArray(), tokens, 1);
        _twoOverN = g.Upload(Enumerable.Repeat(2.0 / ((long)tokens * c.EmbedDim), tokens).ToArray(), tokens, 1);
        _oneExpert = g.Upload(new long[] { tokens });
        _diff = g.Own(DeviceTensor.Allocate(layer.DType, tokens, c.EmbedDim));
        _dOutput = g.Own(DeviceTensor.Allocate(layer.DType, tokens, c.EmbedDim));
        _tokenSquares = g.Own(DeviceTensor.Allocate(DType.Float32, tokens, 1));
        _lossSum = g.Own(DeviceTensor.Allocate(DType.Float32, 1, 1));

        // Float32 master weights and zero moments; a float32 layer's own parameters are its master weights.
        _parameters = layer.Tensors();
        _master = new DeviceTensor[_parameters.Count];
        _m = new DeviceTensor[_parameters.Count];
        _v = new DeviceTensor[_parameters.Count];
        for (int i = 0; i < _parameters.Count; i++)
        {
            DeviceTensor p = _parameters[i];
            if (p.DType == DType.Float32)
            {
                _master[i] = p;
            }
            else
            {
                _master[i] = g.Own(DeviceTensor.Allocate(DType.Float32, p.ElementCount));
                MoeKernels.Convert(p, _master[i]); // exact: the layer's values were rounded from these
            }

            _m[i] = g.Own(DeviceTensor.Allocate(DType.Float32, p.ElementCount));
            _v[i] = g.Own(DeviceTensor.Allocate(DType.Float32, p.ElementCount));
            _m[i].Zero();
            _v[i].Zero();
        }
    }

    /// <summary>Tokens per batch.</summary>
    public int Tokens { get; }

    /// <summary>Device allocations of the step so far (constant from the second step on).</summary>
    public long StepAllocations => _step.Scratch.Allocations;

    /// <summary>
    /// One training step over batch <paramref name="batch"/> (0-based): forward, MSE and its gradient, backward,
    /// AdamW. Nothing is read back.
    /// </summary>
    public void Step(int batch)
    {
        DeviceTensor x = _x.Slice((long)batch * Tokens, Tokens), target = _targets.Slice((long)batch * Tokens, Tokens);
        _step.Forward(x);
        MoeKernels.Combine(target, _identity, _minusOne, _step.Output, _diff); // diff = output − target
        MoeKernels.CombineBackward(_diff, _diff, _identity, _twoOverN, _dOutput, _tokenSquares); // 2·diff/N; Σ_c diff² per token
        MoeKernels.BiasGradient(_tokenSquares, _oneExpert, _lossSum); // Σ over tokens
        GpuMoeGradients grads = _step.Backward(_dOutput, _auxCoefficient);
        IReadOnlyList<DeviceTensor> gradients = grads.Tensors();
        _stepCount++;
        for (int i = 0; i < _parameters.Count; i++)
        {
            DeviceTensor? copy = ReferenceEquals(_master[i], _parameters[i]) ? null : _parameters[i];
            DeviceAdamW.Step(_master[i], _m[i], _v[i], gradients[i], _stepCount, _lr, _beta1, _beta2, _epsilon, _weightDecay, copy);
        }
    }

    /// <summary>The last step's MSE (before its update) and unweighted load-balancing loss: the one host read, on request.</summary>
    public (double Mse, double Aux) ReadLoss() =>
        (_lossSum.ToArray<float>()[0] / ((double)Tokens * _layer.Config.EmbedDim), _step.AuxLoss);

    /// <summary>Downloads the float32 master weights into <paramref name="into"/> (same configuration), as float64.</summary>
    public void Download(MoeParameters into)
    {
        IReadOnlyList<(string Name, double[] Values)> tensors = into.Tensors();
        for (int i = 0; i < _master.Length; i++) DeviceScratch.Download(_master[i], tensors[i].Values);
    }

    /// <summary>Frees the trainer's tensors (not the layer).</summary>
    public void Dispose()
    {
        _step.Dispose();
        _owned.Dispose();
    }
}
