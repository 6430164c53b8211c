using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using CudaDevice = GroupedGemm.CudaDevice;
using GgCudaStream = GroupedGemm.CudaStream;
using IlgpuCudaStream = ILGPU.Runtime.Cuda.CudaStream;

namespace GroupedGemm.Interop.Ilgpu;

/// <summary>
/// The interop run on a GPU: ILGPU allocates and fills every tensor and owns the stream; GroupedGemm wraps the
/// pointers and the stream (no copies) and computes into ILGPU's memory; ILGPU copies the outputs back.
/// </summary>
/// <remarks>
/// ILGPU creates its own CUDA context (<c>cuCtxCreate</c>, not the device's primary context) and makes it current
/// on the thread that creates the accelerator. Memory and streams of that context are valid only while it is
/// current, whereas libgroupedgemm uses the CUDA runtime, which uses whatever context is current on the calling
/// thread and falls back to the primary context only when none is. So every GroupedGemm call here, including the
/// creation and the disposal of the <see cref="GroupedGemmContext"/> (its cuBLAS handle and workspace are made in
/// the context current at creation), runs while ILGPU's context is bound (<see cref="Accelerator.BindScoped"/>).
/// </remarks>
internal sealed class InteropRun(CudaAccelerator accelerator, CheckLog log)
{
    private readonly Problem _problem = new();

    /// <summary>Runs every check for bf16 and fp16, with each device-count backend this build has.</summary>
    public void Run()
    {
        int ordinal = accelerator.DeviceId;
        nint ilgpuContext = accelerator.NativePtr;
        bool primaryActiveBefore = CudaDriver.PrimaryContextActive(ordinal);
        Console.WriteLine($"ILGPU accelerator: {accelerator.Name}, device {ordinal}, CUDA context 0x{ilgpuContext:X} " +
                          $"(the device's primary context is {(primaryActiveBefore ? "active" : "not active")})");

        using ScopedAcceleratorBinding binding = accelerator.BindScoped();
        nint current = CudaDriver.CurrentContext();
        log.Record("ILGPU's context is current before GroupedGemm is used", current == ilgpuContext,
            $"current 0x{current:X}, ILGPU's 0x{ilgpuContext:X}");

        using var ilgpuStream = (IlgpuCudaStream)accelerator.CreateStream();
        GgCudaStream stream = GgCudaStream.Wrap(ilgpuStream.StreamPtr);
        Console.WriteLine($"ILGPU stream 0x{ilgpuStream.StreamPtr:X} (non-blocking) wrapped for GroupedGemm; " +
                          $"ILGPU's default stream is 0x{((IlgpuCudaStream)accelerator.DefaultStream).StreamPtr:X}");

        List<GemmBackend> backends = [GemmBackend.Auto];
        IReadOnlyList<GemmBackend> compiled = CudaDevice.BuildInfo.Backends;
        foreach (GemmBackend b in new[] { GemmBackend.CutlassSm80, GemmBackend.CutlassSm90 })
        {
            if (compiled.Contains(b)) backends.Add(b);
        }

        using (var gemm = new GroupedGemmContext(ordinal))
        {
            foreach (DType dtype in new[] { DType.BFloat16, DType.Float16 })
            {
                RunType(gemm, dtype, ilgpuStream, stream, backends);
            }

            ilgpuStream.Synchronize();
        }

        current = CudaDriver.CurrentContext();
        log.Record("ILGPU's context is still current after the GroupedGemm calls", current == ilgpuContext,
            $"current 0x{current:X}, ILGPU's 0x{ilgpuContext:X}");
        if (primaryActiveBefore)
        {
            log.Skip("libgroupedgemm stayed in ILGPU's context", "the primary context was already active before the run");
        }
        else
        {
            bool primaryActive = CudaDriver.PrimaryContextActive(ordinal);
            log.Record("libgroupedgemm stayed in ILGPU's context", !primaryActive,
                $"the device's primary context is {(primaryActive ? "active: the CUDA runtime created it" : "still not active")}");
        }
    }

    private void RunType(GroupedGemmContext gemm, DType dtype, IlgpuCudaStream ilgpuStream, GgCudaStream stream,
        IReadOnlyList<GemmBackend> backends)
    {
        long m = Problem.M, e = Problem.E, k = Problem.K, n = Problem.N;
        var fill = IlgpuKernels.LoadFill(accelerator);
        using MemoryBuffer1D<ushort, Stride1D.Dense> table = accelerator.Allocate1D<ushort>(HashedValues.Levels);
        // The span overloads of ILGPU's copies synchronise the stream before they return (the host data is not pinned after).
        ReadOnlySpan<ushort> levels = HashedValues.BitTable(dtype);
        table.View.CopyFromCPU(ilgpuStream, levels);

        using MemoryBuffer1D<ushort, Stride1D.Dense> x = Filled(fill, ilgpuStream, table, m * k, Problem.SeedX);
        using MemoryBuffer1D<ushort, Stride1D.Dense> w = Filled(fill, ilgpuStream, table, e * k * n, Problem.SeedW);
        using MemoryBuffer1D<ushort, Stride1D.Dense> wt = Filled(fill, ilgpuStream, table, e * n * k, Problem.SeedWt);
        using MemoryBuffer1D<ushort, Stride1D.Dense> dy = Filled(fill, ilgpuStream, table, m * n, Problem.SeedDy);
        using MemoryBuffer1D<ushort, Stride1D.Dense> y = accelerator.Allocate1D<ushort>(m * n);
        using MemoryBuffer1D<ushort, Stride1D.Dense> dw = accelerator.Allocate1D<ushort>(e * k * n);
        using MemoryBuffer1D<long, Stride1D.Dense> counts = accelerator.Allocate1D<long>(e);
        ReadOnlySpan<long> hostCounts = Problem.Counts;
        counts.View.CopyFromCPU(ilgpuStream, hostCounts);

        // The wrappers own nothing: disposing them frees nothing, ILGPU's buffers stay ILGPU's.
        using DeviceTensor tx = DeviceTensor.Wrap(x.NativePtr, dtype, [m, k]);
        using DeviceTensor tw = DeviceTensor.Wrap(w.NativePtr, dtype, [e, k, n]);
        using DeviceTensor twt = DeviceTensor.Wrap(wt.NativePtr, dtype, [e, n, k]);
        using DeviceTensor tdy = DeviceTensor.Wrap(dy.NativePtr, dtype, [m, n]);
        using DeviceTensor ty = DeviceTensor.Wrap(y.NativePtr, dtype, [m, n]);
        using DeviceTensor tdw = DeviceTensor.Wrap(dw.NativePtr, dtype, [e, k, n]);
        using DeviceTensor tcounts = DeviceTensor.Wrap(counts.NativePtr, DType.Int64, [e]);
        string tag = dtype == DType.BFloat16 ? "bf16" : "fp16";
        log.Record($"{tag} ILGPU buffers wrapped in place on device {accelerator.DeviceId}",
            tx.Device == accelerator.DeviceId && tdw.Device == accelerator.DeviceId && tcounts.Device == accelerator.DeviceId,
            $"x 0x{tx.Pointer:X} on device {tx.Device}, counts on device {tcounts.Device}");

        foreach (GemmBackend backend in backends)
        {
            // Auto also checks the device counts (a synchronising read in ILGPU's context); the others do not.
            var options = new GmmOptions { Stream = stream, Backend = backend, CheckCounts = backend == GemmBackend.Auto };
            string where = $"{tag} {backend}, ILGPU stream";
            Case($"{where}: forward", dtype, backend, ilgpuStream, y, _problem.Forward,
                () => gemm.GmmInto(tx, tw, tcounts, ty, options: options));
            Case($"{where}: trans_b", dtype, backend, ilgpuStream, y, _problem.TransB,
                () => gemm.GmmInto(tx, twt, tcounts, ty, transB: true, options: options));
            Case($"{where}: weight gradient", dtype, backend, ilgpuStream, dw, _problem.WeightGradient,
                () => gemm.GmmInto(tx, tdy, tcounts, tdw, transA: true, options: options));
        }

        // ILGPU's default stream (the context's legacy stream): the fills above went to a non-blocking stream,
        // which the legacy stream does not wait for, so finish them first.
        ilgpuStream.Synchronize();
        var defaultStream = (IlgpuCudaStream)accelerator.DefaultStream;
        var onDefault = new GmmOptions { Stream = GgCudaStream.Wrap(defaultStream.StreamPtr) };
        Case($"{tag} Auto, ILGPU default stream: forward", dtype, GemmBackend.Auto, defaultStream, y, _problem.Forward,
            () => gemm.GmmInto(tx, tw, tcounts, ty, options: onDefault));
        defaultStream.Synchronize();
    }

    private MemoryBuffer1D<ushort, Stride1D.Dense> Filled(
        Action<AcceleratorStream, Index1D, ArrayView1D<ushort, Stride1D.Dense>, ArrayView1D<ushort, Stride1D.Dense>, uint> fill,
        AcceleratorStream stream, MemoryBuffer1D<ushort, Stride1D.Dense> table, long length, uint seed)
    {
        MemoryBuffer1D<ushort, Stride1D.Dense> buffer = accelerator.Allocate1D<ushort>(length);
        fill(stream, checked((int)length), buffer.View, table.View, seed);
        return buffer;
    }

    /// <summary>Poisons the output (0xFFFF is NaN in bf16 and fp16), runs the call, copies the output back through ILGPU, checks it.</summary>
    private void Case(string name, DType dtype, GemmBackend backend, AcceleratorStream ilgpuStream,
        MemoryBuffer1D<ushort, Stride1D.Dense> output, double[] reference, Action call)
    {
        try
        {
            output.View.MemSet(ilgpuStream, 0xFF);
            call();
            var bits = new ushort[output.Length];
            Span<ushort> target = bits;
            output.View.CopyToCPU(ilgpuStream, target);

            var values = new double[bits.Length];
            long unwritten = 0;
            for (int i = 0; i < bits.Length; i++)
            {
                values[i] = HashedValues.Decode(bits[i], dtype);
                if (!double.IsFinite(values[i])) unwritten++;
            }

            log.Record($"{name} wrote every element", unwritten == 0, $"{unwritten} of {bits.Length} still NaN or infinite");
            double error = CpuReference.RelativeError(values, reference);
            double bound = Problem.Tolerance(dtype);
            log.Record($"{name} matches the float64 reference", error <= bound, $"‖out−ref‖/‖ref‖ = {error:E3} (bound {bound:E1})");
        }
        catch (GroupedGemmException ex) when (backend != GemmBackend.Auto &&
                                              ex.Status is GroupedGemmStatus.NotSupported or GroupedGemmStatus.BackendNotCompiled)
        {
            log.Skip(name, ex.Message);
        }
        catch (Exception ex) when (ex is GroupedGemmException or ArgumentException or InvalidOperationException or AcceleratorException)
        {
            log.Record(name, false, $"{ex.GetType().Name}: {ex.Message}");
        }
    }
}
