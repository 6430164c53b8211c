using GroupedGemm;
using GroupedGemm.Interop.Ilgpu;
using ILGPU;
using ILGPU.Runtime.Cuda;
using CudaDevice = GroupedGemm.CudaDevice;

// GroupedGemm.Net with ILGPU: ILGPU allocates and fills the tensors and owns the CUDA stream; GroupedGemm computes
// into ILGPU's memory on ILGPU's stream, without copies; the results are checked against a float64 reference.
// Exit codes: 0 every check passed, 1 a check failed, 2 nothing run (no CUDA device or no native library).

Console.WriteLine("GroupedGemm.Net × ILGPU interop");
string? groupedGemmReason = CudaDevice.UnavailableReason;

// Context.Create(b => b.Cuda()) lists CUDA devices through the driver and finds none where there is no driver.
using Context context = Context.Create(builder => builder.Cuda());
int ilgpuDevices = context.GetCudaDevices().Count;
if (groupedGemmReason is null && ilgpuDevices == 0)
{
    // A GPU host where ILGPU finds no device (an ILGPU that rejects the driver, say) is a failure, not a skip.
    Console.WriteLine($"FAIL  ILGPU finds no CUDA device, but GroupedGemm.Net sees {CudaDevice.Count}");
    return ExitCodes.Failed;
}

if (groupedGemmReason is not null || ilgpuDevices == 0)
{
    Console.WriteLine(ilgpuDevices == 0 ? "no CUDA device: nothing run" : "GroupedGemm.Net cannot run here: nothing run");
    if (ilgpuDevices == 0) Console.WriteLine("  ILGPU: no CUDA device (or no CUDA driver) found");
    if (groupedGemmReason is not null) Console.WriteLine($"  GroupedGemm.Net: {groupedGemmReason}");
    return ExitCodes.NothingRun;
}

Console.WriteLine(CudaDevice.BuildInfo);
var log = new CheckLog();

// The accelerator creates ILGPU's own CUDA context and makes it current on this thread; InteropRun explains why
// GroupedGemm must be called (and its context created and disposed) while that context is current.
try
{
    using CudaAccelerator accelerator = context.CreateCudaAccelerator(0);
    new InteropRun(accelerator, log).Run();
}
catch (Exception e) when (e is not OutOfMemoryException)
{
    // A failure outside the per-call checks (ILGPU's context, a kernel build, the driver queries) fails the run.
    log.Record("interop run", false, $"{e.GetType().Name}: {e.Message}");
}

Console.WriteLine(log.Summary());
return log.Failed == 0 && log.Passed > 0 ? ExitCodes.Passed : ExitCodes.Failed;
