using System.Globalization;
using System.Runtime.InteropServices;

namespace GroupedGemm.Bench.Running;

/// <summary>What our half ran on, as the text map the results file carries.</summary>
internal static class EnvironmentProbe
{
    public static Dictionary<string, string> Describe(int device)
    {
        CudaDeviceProperties p = CudaDevice.GetProperties(device);
        int driver = CudaDevice.DriverVersion;
        var inv = CultureInfo.InvariantCulture;
        return new Dictionary<string, string>
        {
            ["device"] = p.Name,
            ["compute_capability"] = p.ComputeCapability,
            ["multiprocessors"] = p.MultiprocessorCount.ToString(inv),
            ["memory_gib"] = (p.TotalMemory / (double)(1L << 30)).ToString("F1", inv),
            ["l2_mib"] = (p.L2CacheSize / (double)(1L << 20)).ToString("F0", inv),
            ["driver_cuda"] = string.Create(inv, $"{driver / 1000}.{driver % 1000 / 10}"),
            ["library"] = CudaDevice.BuildInfo.ToString(),
            ["dotnet"] = RuntimeInformation.FrameworkDescription,
            ["os"] = RuntimeInformation.OSDescription,
            ["date_utc"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", inv),
        };
    }
}
