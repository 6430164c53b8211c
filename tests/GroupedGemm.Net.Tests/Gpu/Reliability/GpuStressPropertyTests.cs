using CsCheck;
using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Gpu.Reliability;

/// <summary>
/// Randomized stress over the hazards of issue 23 on the device: random sequences of create context, reserve,
/// graph capture, replay, calls on two streams with one context, and disposals (contexts, graphs and inputs while
/// graphs still use them). Every output lives inside a poisoned guard band; after each step the bands must be
/// untouched and the output must match <see cref="CpuReference"/> (float64) within the suite's per-dtype bound.
/// Short and fixed-seed by default; <c>GG_STRESS_ITERATIONS</c> (and <c>GG_STRESS_SEED</c>) for longer runs.
/// </summary>
[TestFixture]
[Category("Gpu")]
[NonParallelizable]
public class GpuStressPropertyTests : GpuFixture
{
    private const int Guard = 4096;

    private enum Op { NewContext, Reserve, Capture, Replay, CallOnTwoStreams, DisposeContext, DisposeGraph, DisposeGraphInputs }

    /// <summary>One grouped GEMM with its inputs, its reference and a guard-banded output.</summary>
    private sealed class Problem : IDisposable
    {
        private readonly DeviceTensor _buffer;

        public Problem(Random random, DType dtype, int experts, int m, int k, int n)
        {
            Counts = Routing.WithEmptyExperts(random, m, experts);
            (A, double[] aRef) = DeviceData.Random(random, dtype, m, k);
            (B, double[] bRef) = DeviceData.Random(random, dtype, experts, k, n);
            DeviceCounts = DeviceTensor.FromArray(Counts);
            Expected = CpuReference.Gmm(aRef, bRef, Counts, k, n);
            _buffer = DeviceTensor.Allocate(dtype, Guard + ((long)m * n) + Guard);
            C = _buffer.Slice(Guard, (long)m * n).Reshape(m, n);
            DType = dtype;
        }

        public DType DType { get; }
        public long[] Counts { get; }
        public DeviceTensor A { get; }
        public DeviceTensor B { get; }
        public DeviceTensor DeviceCounts { get; }
        public DeviceTensor C { get; }
        public double[] Expected { get; }

        public void Poison(CudaStream stream) => _buffer.Poison(stream);

        /// <summary>Guard bands still poison (0xFF bytes), output within the dtype's bound.</summary>
        public void Check(string what)
        {
            int size = DType.ElementSize();
            var head = new byte[Guard * size];
            var tail = new byte[Guard * size];
            DeviceTensor raw = _buffer.Reshape(-1);
            CopyBytes(raw, 0, head);
            CopyBytes(raw, Guard + C.ElementCount, tail);
            Assert.That(head.All(b => b == 0xFF) && tail.All(b => b == 0xFF), Is.True, $"{what}: a guard band was written");
            double error = CpuReference.RelativeError(DeviceData.Download(C), Expected);
            Assert.That(error, Is.LessThanOrEqualTo(DeviceData.Tolerance(DType)), $"{what}: relative error {error:E3}");
        }

        public void DisposeInputs()
        {
            A.Dispose();
            B.Dispose();
            DeviceCounts.Dispose();
        }

        public void Dispose()
        {
            DisposeInputs();
            _buffer.Dispose();
        }

        private void CopyBytes(DeviceTensor raw, long elementOffset, byte[] into)
        {
            switch (DType.ElementSize())
            {
                case 2:
                    var h = new ushort[Guard];
                    raw.CopyTo<ushort>(h, elementOffset);
                    Buffer.BlockCopy(h, 0, into, 0, into.Length);
                    break;
                default:
                    var f = new uint[Guard];
                    raw.CopyTo<uint>(f, elementOffset);
                    Buffer.BlockCopy(f, 0, into, 0, into.Length);
                    break;
            }
        }
    }

    private sealed record Captured(CudaGraph Graph, Problem Problem, CudaStream Stream);

    [Test]
    public void Random_sequences_of_contexts_graphs_streams_and_disposals_write_only_their_outputs()
    {
        Gen<(int, int)[]> program = Gen.Select(Gen.Int[0, 7], Gen.Int[0, 1 << 16]).Array[1, 24];
        StressSettings.Sample(program, Run, 12,
            print: steps => string.Join(", ", steps.Select(s => $"{(Op)s.Item1}({s.Item2})")));
    }

    private static void Run((int, int)[] steps)
    {
        var random = new Random(steps.Length * 7919 + steps.Sum(s => s.Item2));
        using CudaStream first = CudaStream.Create(0), second = CudaStream.Create(0);
        CudaStream[] streams = [first, second];
        var contexts = new List<GroupedGemmContext> { new(0) };
        var graphs = new List<Captured>();
        var problems = new List<Problem>();
        try
        {
            foreach ((int code, int x) in steps)
            {
                CudaStream stream = streams[x % 2];
                GroupedGemmContext context = contexts[x % contexts.Count];
                switch ((Op)code)
                {
                    case Op.NewContext:
                        contexts.Add(new GroupedGemmContext(0));
                        break;

                    case Op.Reserve:
                        // Growing the workspace after a capture must not strand the graph: either it is refused
                        // with a clear status or the old block stays alive for the graph.
                        try
                        {
                            context.Reserve(1 + (x % 3000));
                        }
                        catch (GroupedGemmException e)
                        {
                            TestContext.Out.WriteLine($"Reserve refused: {e.Message}");
                        }

                        break;

                    case Op.Capture:
                    {
                        Problem p = NewProblem(random, problems, x);
                        if (!context.IsBackendSupported(GemmBackend.Auto, p.A, p.B, p.DeviceCounts, p.C, false, false, out _)) break;
                        context.Reserve(p.Counts.Length);
                        var options = new GmmOptions { Stream = stream };
                        CudaGraph graph = CudaGraph.Capture(stream, () => context.GmmInto(p.A, p.B, p.DeviceCounts, p.C, options: options));
                        graphs.Add(new Captured(graph, p, stream));
                        break;
                    }

                    case Op.Replay when graphs.Count > 0:
                    {
                        Captured g = graphs[x % graphs.Count];
                        g.Problem.Poison(g.Stream);
                        g.Graph.Launch(g.Stream);
                        g.Stream.Synchronize();
                        g.Problem.Check("replay");
                        break;
                    }

                    case Op.CallOnTwoStreams:
                    {
                        // One context, two calls in flight on different streams with no ordering between them.
                        Problem big = NewProblem(random, problems, x, scale: 4);
                        Problem small = NewProblem(random, problems, x + 1);
                        big.Poison(first);
                        small.Poison(second);
                        first.Synchronize();
                        second.Synchronize();
                        context.GmmInto(big.A, big.B, big.Counts, big.C, options: new GmmOptions { Stream = first });
                        context.GmmInto(small.A, small.B, small.DeviceCounts, small.C, options: new GmmOptions { Stream = second });
                        first.Synchronize();
                        second.Synchronize();
                        big.Check("call on stream A");
                        small.Check("call on stream B");
                        break;
                    }

                    case Op.DisposeContext when contexts.Count > 1:
                        contexts[x % contexts.Count].Dispose();
                        contexts.RemoveAt(x % contexts.Count);
                        break;

                    case Op.DisposeGraph when graphs.Count > 0:
                        graphs[x % graphs.Count].Graph.Dispose();
                        graphs.RemoveAt(x % graphs.Count);
                        break;

                    case Op.DisposeGraphInputs when graphs.Count > 0:
                        graphs[x % graphs.Count].Problem.DisposeInputs();
                        GC.Collect();
                        GC.WaitForPendingFinalizers();
                        break;
                }
            }

            // Every graph still replays correctly at the end, whatever was disposed or reserved since its capture.
            foreach (Captured g in graphs)
            {
                g.Problem.Poison(g.Stream);
                g.Graph.Launch(g.Stream);
                g.Stream.Synchronize();
                g.Problem.Check("final replay");
            }
        }
        finally
        {
            foreach (CudaStream s in streams) s.Synchronize();
            foreach (Captured g in graphs) g.Graph.Dispose();
            foreach (GroupedGemmContext c in contexts) c.Dispose();
            foreach (Problem p in problems) p.Dispose();
        }
    }

    private static Problem NewProblem(Random random, List<Problem> problems, int x, int scale = 1)
    {
        // The sequences' calls keep their batch sizes in device memory (graphs need that), which the grouped kernels take
        // for bfloat16 and float16; float32 runs on the cuBLAS loop, with host batch sizes only.
        DType[] types = [DType.BFloat16, DType.Float16];
        DType dtype = types[x % types.Length];
        int experts = 1 + (x % 16);
        int m = scale * (16 + (x % 240));
        int k = 32 * (1 + (x % 3));
        int n = 32 * (1 + ((x / 3) % 3));
        var p = new Problem(random, dtype, experts, m, k, n);
        problems.Add(p);
        return p;
    }
}
