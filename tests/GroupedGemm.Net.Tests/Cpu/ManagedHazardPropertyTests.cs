using CsCheck;
using GroupedGemm.Interop;
using GroupedGemm.Tests.Support;
using NUnit.Framework;

namespace GroupedGemm.Tests.Cpu;

/// <summary>
/// Randomized, model-based check of the managed-only hazards of issue 23 (items 1, 4, 5, 6) without a device:
/// random sequences of owned and wrapped tensors (some misaligned), views, streams, calls, captures and disposals,
/// run against a model of what must be refused and what must stay allocated. Owned tensors stand on handles that
/// release nothing, and every call is stopped at its first native call (<see cref="NativeCallStop"/>), so no native
/// code runs. Short and fixed-seed by default; see <see cref="StressSettings"/> for longer runs.
/// </summary>
[TestFixture]
[NonParallelizable]
public class ManagedHazardPropertyTests
{
    private enum Op { NewOwned, Wrap, View, DisposeTensor, NewStream, DisposeStream, Call, BeginCapture, EndCapture, DisposeGraph }

    private sealed class Tensor(DeviceTensor value, Tensor? root, NativeHandle? memory)
    {
        public DeviceTensor Value { get; } = value;
        public Tensor Root { get; } = root ?? null!;
        public NativeHandle? Memory { get; } = memory;
        public bool Disposed { get; set; }
        public bool IsRootOrSelfDisposed => Disposed || (Root is not null && Root.Disposed);
        public Tensor Owner => Root ?? this;
    }

    private sealed class Graph(CaptureRecorder recorder)
    {
        public CaptureRecorder Recorder { get; } = recorder;
        public HashSet<NativeHandle> Holds { get; } = new(ReferenceEqualityComparer.Instance);
        public bool Open { get; set; } = true;
    }

    private static long s_next = 0x5000_0000_0000;

    [TearDown]
    public void ClearHook() => NativeCallStop.Clear();

    [Test]
    public void Random_sequences_of_managed_operations_keep_memory_alive_exactly_as_long_as_needed()
    {
        Gen<(int, int, int)[]> program = Gen.Select(Gen.Int[0, 9], Gen.Int[0, 1 << 16], Gen.Int[0, 1 << 16]).Array[1, 80];
        StressSettings.Sample(program, Run, 300);
    }

    private static void Run((int, int, int)[] steps)
    {
        var tensors = new List<Tensor>();
        var streams = new List<CudaStream>();
        var graphs = new List<Graph>();
        NativeCallStop.Install();
        try
        {
            foreach ((int code, int x, int y) in steps) Step((Op)code, x, y, tensors, streams, graphs);
        }
        finally
        {
            foreach (Graph g in graphs) g.Recorder.Dispose();
            NativeCallStop.Clear();
        }

        // Everything released once every tensor and graph is gone.
        foreach (Tensor t in tensors) t.Value.Dispose();
        Assert.That(tensors.Where(t => t.Memory is not null).All(t => t.Memory!.IsReleased), Is.True);
    }

    private static void Step(Op op, int x, int y, List<Tensor> tensors, List<CudaStream> streams, List<Graph> graphs)
    {
        switch (op)
        {
            case Op.NewOwned:
            {
                var memory = new NativeHandle((nint)Interlocked.Add(ref s_next, 1L << 24), NativeHandleKind.None, device: -1);
                tensors.Add(new Tensor(DeviceTensor.Adopt(memory, DType.Float32, 1 + (x % 64)), null, memory));
                break;
            }

            case Op.Wrap:
            {
                DType dtype = (DType)(y % 5);
                if (!Enum.IsDefined(dtype)) dtype = DType.Float32;
                nint pointer = (nint)(Interlocked.Add(ref s_next, 1L << 24) + (x % 8));
                bool aligned = (long)pointer % dtype.ElementSize() == 0;
                if (aligned) tensors.Add(new Tensor(DeviceTensor.Wrap(pointer, dtype, [4], device: 0), null, null));
                else Assert.Throws<ArgumentException>(() => DeviceTensor.Wrap(pointer, dtype, [4], device: 0));
                break;
            }

            case Op.View when tensors.Count > 0:
            {
                Tensor t = tensors[x % tensors.Count];
                if (t.IsRootOrSelfDisposed)
                {
                    Assert.Throws<ObjectDisposedException>(() => t.Value.Reshape(-1));
                    break;
                }

                DeviceTensor view = y % 2 == 0 || t.Value.Shape[0] == 0 ? t.Value.Reshape(-1) : t.Value.Slice(0, 1);
                Assert.That((long)view.Pointer % view.DType.ElementSize(), Is.Zero, "views stay aligned");
                tensors.Add(new Tensor(view, t.Owner, null));
                break;
            }

            case Op.DisposeTensor when tensors.Count > 0:
            {
                Tensor t = tensors[x % tensors.Count];
                t.Value.Dispose();
                t.Disposed = true;
                break;
            }

            case Op.NewStream:
                streams.Add(CudaStream.Wrap(0x1000 + (streams.Count * 0x100)));
                break;

            case Op.DisposeStream when streams.Count > 0:
                streams[x % streams.Count].Dispose();
                break;

            case Op.Call when tensors.Count > 0:
            {
                Tensor t = tensors[x % tensors.Count];
                CudaStream? stream = streams.Count == 0 || y % 3 == 0 ? null : streams[y % streams.Count];
                bool refused = t.IsRootOrSelfDisposed || (stream?.IsDisposed ?? false);
                if (refused)
                {
                    Assert.Throws<ObjectDisposedException>(() => t.Value.Fill(0, stream));
                    break;
                }

                Assert.Throws<NativeCallStop.Reached>(() => t.Value.Fill(0, stream));
                if (t.Owner.Memory is NativeHandle memory)
                {
                    foreach (Graph g in graphs.Where(g => g.Open)) g.Holds.Add(memory);
                }

                break;
            }

            case Op.BeginCapture:
                graphs.Add(new Graph(CaptureRecorder.Begin()));
                break;

            case Op.EndCapture when graphs.Any(g => g.Open):
            {
                // Recorders nest, so the innermost open capture ends first.
                Graph g = graphs.Last(g => g.Open);
                g.Recorder.Detach();
                g.Open = false;
                break;
            }

            case Op.DisposeGraph when graphs.Count > 0:
            {
                Graph g = graphs[x % graphs.Count];
                g.Recorder.Dispose();
                g.Open = false;
                graphs.Remove(g);
                break;
            }
        }

        CheckModel(tensors, graphs);
    }

    /// <summary>Owned memory is released exactly when its tensor is disposed and no live graph captured a call on it.</summary>
    private static void CheckModel(List<Tensor> tensors, List<Graph> graphs)
    {
        foreach (Tensor t in tensors.Where(t => t.Memory is not null))
        {
            bool heldByGraph = graphs.Any(g => g.Holds.Contains(t.Memory!));
            bool shouldBeReleased = t.Disposed && !heldByGraph;
            Assert.That(t.Memory!.IsReleased, Is.EqualTo(shouldBeReleased),
                $"{t.Value}: disposed {t.Disposed}, held by a graph {heldByGraph}");
            Assert.That(graphs.Sum(g => g.Holds.Count(h => ReferenceEquals(h, t.Memory))),
                Is.LessThanOrEqualTo(graphs.Count));
        }

        foreach (Graph g in graphs) Assert.That(g.Recorder.Count, Is.EqualTo(g.Holds.Count), "the capture holds what its calls took");
    }
}
