using GroupedGemm.Interop;

namespace GroupedGemm.Optim;

/// <summary>
/// AdamW on the device (Loshchilov and Hutter; the update order of PyTorch's <c>torch.optim.AdamW</c>), one call per
/// parameter tensor: fp32 master weights and moments updated in place from an fp32, fp16 or bf16 gradient, with an
/// optional copy of the updated weights in another float type (the bf16 weights a bf16 layer computes with) written
/// in the same pass. Per element, in fp32:
/// <c>p ← p − lr·λ·p; m ← β1·m + (1 − β1)·g; v ← β2·v + (1 − β2)·g²; p ← p − lr · (m / (1 − β1ᵗ)) / (sqrt(v / (1 − β2ᵗ)) + ε)</c>.
/// </summary>
/// <remarks>
/// A call allocates nothing and does not synchronise. The step number reaches the kernel as the two bias corrections:
/// as scalars (<see cref="Step"/>), or read from a device tensor (<see cref="StepWithDeviceCorrections"/>) so that a
/// <see cref="CudaGraph"/> that captured the calls can be replayed step after step while the caller writes
/// <see cref="BiasCorrections"/> of the next step into that tensor.
/// </remarks>
public static unsafe class AdamW
{
    /// <summary>
    /// One AdamW step of one parameter tensor, step number <paramref name="step"/> (1 for the first update).
    /// </summary>
    /// <param name="parameter">The float32 master weights, updated in place.</param>
    /// <param name="expAvg">The float32 first moment m (zeros before step 1), as many elements, updated in place.</param>
    /// <param name="expAvgSq">The float32 second moment v (zeros before step 1), as many elements, updated in place.</param>
    /// <param name="gradient">The gradient, float32, float16 or bfloat16, as many elements.</param>
    /// <param name="step">The step being taken, 1 or more.</param>
    /// <param name="learningRate">lr, finite and ≥ 0.</param>
    /// <param name="beta1">β1 in [0, 1).</param>
    /// <param name="beta2">β2 in [0, 1).</param>
    /// <param name="epsilon">ε, finite and ≥ 0.</param>
    /// <param name="weightDecay">The decoupled weight decay λ, finite and ≥ 0.</param>
    /// <param name="parameterCopy">Optional output: the updated weights in any float type, as many elements.</param>
    /// <param name="stream">The stream to run on; null for the ambient stream (<see cref="CudaStream.Current"/>).</param>
    /// <exception cref="ArgumentException">A tensor's type or element count does not fit, or two tensors share memory.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A scalar is out of range.</exception>
    /// <exception cref="GroupedGemmException">The native call failed.</exception>
    public static void Step(DeviceTensor parameter, DeviceTensor expAvg, DeviceTensor expAvgSq, DeviceTensor gradient, long step,
        float learningRate, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float weightDecay = 0.01f,
        DeviceTensor? parameterCopy = null, CudaStream? stream = null)
    {
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), step, "The step being taken must be 1 or more.");
        CheckScalars(learningRate, beta1, beta2, epsilon, weightDecay);
        float[] corrections = BiasCorrections(step, beta1, beta2);
        Run(parameter, expAvg, expAvgSq, gradient, null, corrections[0], corrections[1], learningRate, beta1, beta2, epsilon,
            weightDecay, parameterCopy, stream);
    }

    /// <summary>
    /// One AdamW step whose bias corrections the kernel reads from <paramref name="biasCorrections"/> (two float32
    /// elements on the device, {1 − β1ᵗ, 1 − β2ᵗ}; see <see cref="BiasCorrections"/>), so that a captured graph replays
    /// every step. The other arguments are those of <see cref="Step"/>.
    /// </summary>
    /// <param name="parameter">The float32 master weights, updated in place.</param>
    /// <param name="expAvg">The float32 first moment, updated in place.</param>
    /// <param name="expAvgSq">The float32 second moment, updated in place.</param>
    /// <param name="gradient">The gradient, float32, float16 or bfloat16.</param>
    /// <param name="biasCorrections">Two float32 elements on the device: {1 − β1ᵗ, 1 − β2ᵗ} of the step being taken.</param>
    /// <param name="learningRate">lr, finite and ≥ 0.</param>
    /// <param name="beta1">β1 in [0, 1).</param>
    /// <param name="beta2">β2 in [0, 1).</param>
    /// <param name="epsilon">ε, finite and ≥ 0.</param>
    /// <param name="weightDecay">λ, finite and ≥ 0.</param>
    /// <param name="parameterCopy">Optional output: the updated weights in any float type.</param>
    /// <param name="stream">The stream to run on; null for the ambient stream (<see cref="CudaStream.Current"/>).</param>
    /// <exception cref="ArgumentException">A tensor's type or element count does not fit, or two tensors share memory.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A scalar is out of range.</exception>
    /// <exception cref="GroupedGemmException">The native call failed.</exception>
    public static void StepWithDeviceCorrections(DeviceTensor parameter, DeviceTensor expAvg, DeviceTensor expAvgSq,
        DeviceTensor gradient, DeviceTensor biasCorrections, float learningRate, float beta1 = 0.9f, float beta2 = 0.999f,
        float epsilon = 1e-8f, float weightDecay = 0.01f, DeviceTensor? parameterCopy = null, CudaStream? stream = null)
    {
        MoeKernels.RequireLive(biasCorrections, nameof(biasCorrections));
        if (biasCorrections.DType != DType.Float32 || biasCorrections.ElementCount != 2)
        {
            throw new ArgumentException(
                $"biasCorrections is {MoeKernels.Format(biasCorrections)}; two Float32 elements {{1 - beta1^t, 1 - beta2^t}} expected.",
                nameof(biasCorrections));
        }

        CheckScalars(learningRate, beta1, beta2, epsilon, weightDecay);
        Run(parameter, expAvg, expAvgSq, gradient, biasCorrections, 1f, 1f, learningRate, beta1, beta2, epsilon, weightDecay,
            parameterCopy, stream);
    }

    /// <summary>The bias corrections {1 − β1ᵗ, 1 − β2ᵗ} of step <paramref name="step"/>, computed in float64 and rounded to float32.</summary>
    /// <param name="step">The step being taken, 1 or more.</param>
    /// <param name="beta1">β1 in [0, 1).</param>
    /// <param name="beta2">β2 in [0, 1).</param>
    /// <returns>Two values, for <see cref="StepWithDeviceCorrections"/>'s tensor.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public static float[] BiasCorrections(long step, float beta1, float beta2)
    {
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), step, "The step being taken must be 1 or more.");
        if (beta1 is not (>= 0 and < 1)) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "beta1 must be in [0, 1).");
        if (beta2 is not (>= 0 and < 1)) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "beta2 must be in [0, 1).");
        return [(float)(1 - Math.Pow(beta1, step)), (float)(1 - Math.Pow(beta2, step))];
    }

    private static void CheckScalars(float learningRate, float beta1, float beta2, float epsilon, float weightDecay)
    {
        if (!float.IsFinite(learningRate) || learningRate < 0)
            throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "learningRate must be finite and >= 0.");
        if (beta1 is not (>= 0 and < 1)) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "beta1 must be in [0, 1).");
        if (beta2 is not (>= 0 and < 1)) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "beta2 must be in [0, 1).");
        if (!float.IsFinite(epsilon) || epsilon < 0)
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be finite and >= 0.");
        if (!float.IsFinite(weightDecay) || weightDecay < 0)
            throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "weightDecay must be finite and >= 0.");
    }

    private static void Run(DeviceTensor parameter, DeviceTensor expAvg, DeviceTensor expAvgSq, DeviceTensor gradient,
        DeviceTensor? biasCorrections, float correction1, float correction2, float learningRate, float beta1, float beta2,
        float epsilon, float weightDecay, DeviceTensor? parameterCopy, CudaStream? stream)
    {
        MoeKernels.RequireLive(parameter, nameof(parameter));
        if (parameter.DType != DType.Float32)
            throw new ArgumentException($"parameter is {MoeKernels.Format(parameter)}; the master weights must be Float32.", nameof(parameter));
        long n = parameter.ElementCount;
        RequireMoment(expAvg, n, nameof(expAvg));
        RequireMoment(expAvgSq, n, nameof(expAvgSq));
        RequireFloatOf(gradient, n, nameof(gradient));
        if (parameterCopy is not null) RequireFloatOf(parameterCopy, n, nameof(parameterCopy));
        RequireDistinct((parameter, nameof(parameter)), (expAvg, nameof(expAvg)), (expAvgSq, nameof(expAvgSq)),
            (gradient, nameof(gradient)), (parameterCopy, nameof(parameterCopy)), (biasCorrections, nameof(biasCorrections)));

        using var lease = new CallLease();
        using DeviceScope scope = MoeKernels.EnterSharedDevice(lease, (parameter, nameof(parameter)), (expAvg, nameof(expAvg)),
            (expAvgSq, nameof(expAvgSq)), (gradient, nameof(gradient)), (parameterCopy, nameof(parameterCopy)),
            (biasCorrections, nameof(biasCorrections)));
        NativeStatus.Check(NativeMethods.gg_adamw_step((float*)lease.Pointer(parameter), (float*)lease.Pointer(expAvg),
            (float*)lease.Pointer(expAvgSq), (void*)lease.Pointer(gradient), (GgDType)gradient.DType,
            (void*)lease.Pointer(parameterCopy), (GgDType)(parameterCopy?.DType ?? DType.Float32), n, learningRate, beta1, beta2,
            epsilon, weightDecay, correction1, correction2, (float*)lease.Pointer(biasCorrections), (void*)lease.Stream(stream)));
    }

    private static void RequireMoment(DeviceTensor tensor, long n, string name)
    {
        MoeKernels.RequireLive(tensor, name);
        if (tensor.DType != DType.Float32 || tensor.ElementCount != n)
            throw new ArgumentException($"{name} is {MoeKernels.Format(tensor)}; Float32 with {n} elements (as parameter) expected.", name);
    }

    private static void RequireFloatOf(DeviceTensor tensor, long n, string name)
    {
        MoeKernels.RequireLive(tensor, name);
        if (tensor.DType is not (DType.Float32 or DType.Float16 or DType.BFloat16) || tensor.ElementCount != n)
        {
            throw new ArgumentException(
                $"{name} is {MoeKernels.Format(tensor)}; a float type (Float32, Float16, BFloat16) with {n} elements (as parameter) expected.", name);
        }
    }

    // The same tensor given twice would be read and written by one launch; the native call refuses overlap too, but
    // this names both arguments before any native code runs.
    private static void RequireDistinct(params ReadOnlySpan<(DeviceTensor? Tensor, string Name)> tensors)
    {
        for (int i = 0; i < tensors.Length; i++)
        {
            for (int j = i + 1; j < tensors.Length; j++)
            {
                if (tensors[j].Tensor is DeviceTensor t)
                    GmmValidation.CheckApart(t, tensors[j].Name, tensors[i].Tensor, tensors[i].Name, "AdamW's buffers must be apart.");
            }
        }
    }
}
