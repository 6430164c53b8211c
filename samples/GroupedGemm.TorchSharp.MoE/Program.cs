using GroupedGemm.TorchSharp.MoESample;

// The TorchSharp MoE sample: trains the seed's layer on a teacher task (default), times it against the per-expert loop
// and padded bmm (--bench), or checks gradient parity against torch's per-expert matmuls (--parity).
try
{
    SampleOptions options = SampleOptions.Parse(args);
    if (options.Has("--help"))
    {
        Console.WriteLine("""
            GroupedGemm.TorchSharp.MoE [--bench | --parity] [options]
              (default)  train the layer with AdamW on a fixed random teacher; exit 1 unless the loss falls --min-factor x (3)
                         --steps 300 --log-every 25 --lr 3e-3 --dtype float32 --seed 1234
              --bench    fwd and fwd+bwd ms (median) of grouped GEMM / per-expert loop / padded bmm, seed shape, bf16
                         --routings uniform,zipf --forms plain,gated --paths grouped,loop,bmm --iters 50 --warmup 10 --json FILE
              --parity   gmm and the layer against torch's per-expert matmuls in float32 and bfloat16; PASS/FAIL, exit 1 on FAIL
                         (an all-zero reference is a FAIL; the PerExpertLoop rows: the reference against itself) --dtypes float32,bfloat16 --norms (each reference's norm too)
            common: --device cpu|cuda (default cuda if available) --gated --renormalize
                    --tokens --embed --hidden --experts --top-k --shared (defaults: small for train/parity, the seed's for --bench)
            """);
        return 0;
    }

    if (options.Has("--bench")) return LayerBenchmark.Run(options);
    if (options.Has("--parity")) return GradientParity.Run(options);
    return TeacherTraining.Run(options);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}
