namespace GroupedGemm;

/// <summary>What the loaded native library was built with.</summary>
/// <param name="LibraryVersion">The library version, "major.minor.patch".</param>
/// <param name="AbiVersion">The library's ABI version (equal to the one this assembly needs, or it would not load).</param>
/// <param name="CudaToolkitVersion">The CUDA toolkit it was compiled with, CUDART_VERSION style (12080 = 12.8).</param>
/// <param name="CublasVersion">The cuBLAS it was compiled against, CUBLAS_VERSION style.</param>
/// <param name="Architectures">The compute capabilities compiled, as written to nvcc ("80", "90a").</param>
/// <param name="Backends">The backends compiled in (<see cref="GemmBackend.Auto"/> is always one).</param>
public sealed record NativeBuildInfo(
    string LibraryVersion,
    int AbiVersion,
    int CudaToolkitVersion,
    int CublasVersion,
    IReadOnlyList<string> Architectures,
    IReadOnlyList<GemmBackend> Backends)
{
    /// <summary>A one-line summary, e.g. "groupedgemm 0.1.0 (ABI 1, CUDA 12.8, cuBLAS 120804, sm 80 90a, backends Auto CublasLoop)".</summary>
    /// <returns>The text.</returns>
    public override string ToString() =>
        $"groupedgemm {LibraryVersion} (ABI {AbiVersion}, CUDA {CudaToolkitVersion / 1000}.{CudaToolkitVersion % 1000 / 10}, " +
        $"cuBLAS {CublasVersion}, sm {string.Join(' ', Architectures)}, backends {string.Join(' ', Backends)})";
}
