// Consumer of the GroupedGemm.Net package, run by consume.sh against a local feed.
using GroupedGemm;

try
{
    if (!CudaDevice.IsAvailable)
    {
        // Touches the native library: throws the no-driver/no-device exception, never a load failure.
        _ = CudaDevice.Count;
    }
    long[] counts = [2, 0, 3];
    var x = new float[5 * 4];
    var w = new float[3 * 4 * 6];
    var rng = new Random();
    for (int i = 0; i < x.Length; i++) x[i] = (float)rng.NextDouble() - 0.5f;
    for (int i = 0; i < w.Length; i++) w[i] = (float)rng.NextDouble() - 0.5f;
    using var dx = DeviceTensor.FromArray(x, 5, 4);
    using var dw = DeviceTensor.FromArray(w, 3, 4, 6);
    using var y = Ops.Gmm(dx, dw, counts, transB: false);
    double[] reference = CpuReference.Gmm(Array.ConvertAll(x, v => (double)v), Array.ConvertAll(w, v => (double)v), counts, 4, 6, false, false);
    double error = CpuReference.RelativeError(Array.ConvertAll(y.ToArray<float>(), v => (double)v), reference);
    Console.WriteLine($"package consumer: GPU result, relative error {error:E2}");
    return error < 1e-4 ? 0 : 1;
}
catch (CudaUnavailableException e)
{
    Console.WriteLine($"package consumer: native library loaded from the package; clear error without GPU: {e.Message}");
    return 0;
}
