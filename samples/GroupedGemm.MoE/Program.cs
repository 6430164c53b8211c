using System.CommandLine;
using GroupedGemm;
using GroupedGemm.MoE;
using GroupedGemm.MoE.Training;

// The seed's comparison script (test_grouped_gemm_moe.py) for .NET: MoE layers on GroupedGemm.Net, grouped GEMM
// against padded BMM against a float64 reference.

var batchSize = new Option<int>("--batch-size") { Description = "Sequences per batch.", DefaultValueFactory = _ => 16 };
var seqLen = new Option<int>("--seq-len") { Description = "Tokens per sequence.", DefaultValueFactory = _ => 128 };
var embedDim = new Option<int>("--embed-dim") { Description = "Model width D.", DefaultValueFactory = _ => 512 };
var hiddenDim = new Option<int>("--hidden-dim") { Description = "Expert hidden width H.", DefaultValueFactory = _ => 2048 };
var numExperts = new Option<int>("--num-experts") { Description = "Routed experts E.", DefaultValueFactory = _ => 80 };
var topK = new Option<int>("--top-k") { Description = "Experts per token.", DefaultValueFactory = _ => 8 };
var numShared = new Option<int>("--num-shared") { Description = "Dense shared experts applied to every token.", DefaultValueFactory = _ => 1 };
var dtype = new Option<string>("--dtype")
{
    Description = "Element type. float8: the bf16 layer, plus a third path with the routed experts in FP8 (E4M3 with " +
                  "--fp8-scales' scales: the scaled grouped GEMM), whose accuracy against float64 and against the bf16 layer is reported.",
    DefaultValueFactory = _ => "bfloat16",
};
dtype.AcceptOnlyFromAmong("bfloat16", "float16", "float32", "float8");
var fp8Scales = new Option<string>("--fp8-scales")
{
    Description = "With --dtype float8, the FP8 experts' scales. rowwise: one per row of the activations and per (expert, output " +
                  "column) of the weights (torch._scaled_grouped_mm's); block: DeepGEMM's, one per 1x128 of the activations and " +
                  "per 128x128 block of the weights.",
    DefaultValueFactory = _ => "rowwise",
};
fp8Scales.AcceptOnlyFromAmong("rowwise", "block");
var gated = new Option<bool>("--gated") { Description = "Gated experts (act(gate)·up, W1 [E, D, 2H], no biases)." };
var activation = new Option<string>("--activation") { Description = "Expert activation (default: gelu, or silu with --gated)." };
activation.AcceptOnlyFromAmong("gelu", "silu", "relu");
var routing = new Option<string>("--routing")
{
    Description = "uniform: the router alone; zipf: log(1/(e+1)) plus seeded Gumbel noise added to the router logits, so that the top-k " +
                  "picks expert e with probability proportional to 1/(e+1).",
    DefaultValueFactory = _ => "uniform",
};
routing.AcceptOnlyFromAmong("uniform", "zipf");
var renormalize = new Option<bool>("--renormalize") { Description = "Renormalise the top-k weights to sum to 1." };
var iterations = new Option<int>("--iters") { Description = "Timed forwards per path.", DefaultValueFactory = _ => 20 };
var warmup = new Option<int>("--warmup") { Description = "Untimed forwards per path first.", DefaultValueFactory = _ => 5 };
var seed = new Option<int>("--seed") { Description = "Seed of parameters and input.", DefaultValueFactory = _ => 1234 };
var referenceTokens = new Option<int>("--reference-tokens")
{
    Description = "Tokens the float64 reference checks (an evenly spaced sub-sample when fewer than the batch).",
    DefaultValueFactory = _ => 128,
};

var train = new Option<bool>("--train")
{
    Description = "Train the layer (small configuration; float64 CPU layer, or on the GPU with --device gpu) on a synthetic " +
                  "teacher-MoE regression with AdamW; " +
                  "exits 1 unless the held-out loss falls (by more than 1.5x from 50 steps on).",
};
var device = new Option<string>("--device")
{
    Description = "With --train: cpu trains the float64 CPU layer; gpu runs the whole step (forward, MSE, backward, the AdamW kernel) " +
                  "on the GPU, in --layer-dtype, reading the loss back only on logged steps (every step with --export).",
    DefaultValueFactory = _ => "cpu",
};
device.AcceptOnlyFromAmong("cpu", "gpu");
var steps = new Option<int>("--steps") { Description = "Training steps with --train.", DefaultValueFactory = _ => 300 };
var learningRate = new Option<double>("--lr") { Description = "AdamW learning rate with --train.", DefaultValueFactory = _ => 3e-3 };
var logEvery = new Option<int>("--log-every") { Description = "Print the training loss every N steps.", DefaultValueFactory = _ => 10 };
var auxLoss = new Option<double>("--aux-loss")
{
    Description = "Weight of the Switch-style load-balancing loss with --train (0: off).",
    DefaultValueFactory = _ => 0.01,
};

var export = new Option<string?>("--export")
{
    Description = "With --train: write the initial parameters, the first 100 batches and the losses to this folder, for " +
                  "bench/moe_training/train_torch.py (the same training in PyTorch).",
};

var layerDtype = new Option<string>("--layer-dtype")
{
    Description = "With --train --device gpu: the GPU layer's storage type (bf16/fp16 keep float32 master weights and run " +
                  "every grouped GEMM with device counts).",
    DefaultValueFactory = _ => "float32",
};
layerDtype.AcceptOnlyFromAmong("float32", "bfloat16", "float16");
var hostAdamW = new Option<bool>("--host-adamw")
{
    Description = "With --train --device gpu: AdamW on the host over downloaded float64 gradients (the earlier path) instead of " +
                  "the device-only step.",
};
var benchTrain = new Option<bool>("--bench-train")
{
    Description = "Time the trainable GPU layer's forward and forward + backward (CUDA events, medians of --iters after --warmup) " +
                  "and its peak device memory above the parameters, at the seed's three sizes, uniform and zipf, plain and gated " +
                  "(bench/moe_training/moe_layer_torch.py is the PyTorch side).",
};
var benchConfigs = new Option<string>("--bench-configs")
{
    Description = "With --bench-train: comma-separated sizes among seed (D 512, H 2048), small (256, 1024), large (1024, 4096).",
    DefaultValueFactory = _ => "seed,small,large",
};
var benchJson = new Option<string?>("--json") { Description = "With --bench-train: write the rows to this JSON file." };

var root = new RootCommand("Compare the grouped-GEMM MoE layer with the padded-BMM layer (time, memory, accuracy).")
{
    batchSize, seqLen, embedDim, hiddenDim, numExperts, topK, numShared, dtype, fp8Scales, gated, activation, routing, renormalize,
    iterations, warmup, seed, referenceTokens, train, device, steps, learningRate, logEvery, auxLoss, export,
    layerDtype, hostAdamW, benchTrain, benchConfigs, benchJson,
};

root.SetAction(parse =>
{
    bool isGated = parse.GetValue(gated);
    var options = new MoeOptions(
        parse.GetValue(batchSize), parse.GetValue(seqLen), parse.GetValue(embedDim), parse.GetValue(hiddenDim),
        parse.GetValue(numExperts), parse.GetValue(topK), parse.GetValue(numShared),
        ParseDType(parse.GetValue(dtype)),
        isGated,
        (parse.GetValue(activation) ?? (isGated ? "silu" : "gelu")) switch
        {
            "silu" => Activation.Silu,
            "relu" => Activation.Relu,
            _ => Activation.Gelu,
        },
        parse.GetValue(routing) == "zipf" ? Routing.Zipf : Routing.Uniform,
        parse.GetValue(renormalize), parse.GetValue(iterations), parse.GetValue(warmup), parse.GetValue(seed),
        parse.GetValue(referenceTokens)) {
        Fp8Experts = parse.GetValue(dtype) == "float8",
        Fp8Scales = parse.GetValue(fp8Scales) == "block" ? ScaleMode.Blockwise : ScaleMode.Rowwise,
    };
    if (options.Validate() is { } problem)
    {
        Console.Error.WriteLine(problem);
        return 2;
    }

    if (options.Fp8Experts && (parse.GetValue(train) || parse.GetValue(benchTrain)))
    {
        Console.Error.WriteLine("--dtype float8 runs the forward comparison only (FP8 experts have no backward here); " +
                                "use --layer-dtype with --train, and bfloat16 with --bench-train.");
        return 2;
    }

    string? unavailable = CudaDevice.UnavailableReason;
    if (parse.GetValue(train))
    {
        var training = new TrainingOptions(parse.GetValue(steps), parse.GetValue(learningRate), parse.GetValue(logEvery), parse.GetValue(auxLoss),
            parse.GetValue(export), ParseDType(parse.GetValue(layerDtype)), parse.GetValue(hostAdamW));
        if (training.Validate() is { } trainingProblem)
        {
            Console.Error.WriteLine(trainingProblem);
            return 2;
        }

        return TrainingRun.Run(options, training, unavailable, onGpu: parse.GetValue(device) == "gpu");
    }

    if (parse.GetValue(benchTrain))
    {
        if (unavailable is not null)
        {
            Console.Error.WriteLine("--bench-train needs a GPU: " + unavailable);
            return 2;
        }

        return TrainingBenchmark.Run(options, parse.GetValue(benchConfigs)!, parse.GetValue(benchJson));
    }

    return unavailable is null ? GpuComparison.Run(options) : CpuOnlyRun.Run(options, unavailable);
});

return root.Parse(args).Invoke();

static DType ParseDType(string? name) => name switch { "float32" => DType.Float32, "float16" => DType.Float16, _ => DType.BFloat16 };
