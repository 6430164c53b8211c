using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace GroupedGemm.TorchSharp;

/// <summary>
/// The address of a tensor's first element, as libtorch's <c>at::Tensor::data_ptr()</c> gives it: the storage's
/// base plus the storage offset times the element size, with no conversion and no copy.
/// </summary>
/// <remarks>
/// TorchSharp 0.107 has no public member for this. Its public <c>storage&lt;T&gt;().data_ptr()</c> is the storage's
/// base (it ignores the storage offset, and <c>storage&lt;T&gt;()</c> converts the dtype). TorchSharp's own native
/// library, LibTorchSharp, exports <c>void* THSTensor_data(Tensor)</c>, a C function that returns
/// <c>tensor-&gt;data_ptr()</c> (TorchSharp binds it internally for its tensor accessors). This class calls that export
/// on <see cref="Tensor.Handle"/>, loading LibTorchSharp the way TorchSharp's assembly resolves it, so it gets the
/// library TorchSharp already loaded.
/// </remarks>
internal static unsafe class TorchTensorMemory
{
    private const string LibraryName = "LibTorchSharp";
    private const string ExportName = "THSTensor_data";

    private static readonly Lazy<nint> s_data = new(ResolveExport);

    /// <summary>The address of <paramref name="tensor"/>'s first element (zero for a tensor without storage).</summary>
    /// <param name="tensor">A live tensor.</param>
    /// <returns>A host address for CPU tensors, a device address for CUDA tensors.</returns>
    /// <exception cref="InvalidOperationException">LibTorchSharp or its export cannot be found, or libtorch failed.</exception>
    internal static nint DataPointer(Tensor tensor)
    {
        var data = (delegate* unmanaged[Cdecl]<nint, nint>)s_data.Value;
        nint pointer = data(tensor.Handle);
        if (pointer == 0 && tensor.numel() > 0)
        {
            throw new InvalidOperationException(
                $"libtorch returned no data pointer for a tensor of shape [{string.Join(", ", tensor.shape)}] " +
                $"on {tensor.device}; the tensor has no storage (is it a meta or lazy tensor?).");
        }

        return pointer;
    }

    private static nint ResolveExport()
    {
        nint library = 0;
        if (!NativeLibrary.TryLoad(LibraryName, typeof(Tensor).Assembly, null, out library) &&
            !NativeLibrary.TryLoad(LibraryName, out library))
        {
            throw new InvalidOperationException(
                $"Cannot load {LibraryName}, TorchSharp's native library; reference a libtorch package " +
                "(TorchSharp-cpu, or a CUDA build) and create a tensor before calling gmm.");
        }

        if (!NativeLibrary.TryGetExport(library, ExportName, out nint export))
        {
            throw new InvalidOperationException(
                $"{LibraryName} does not export {ExportName}; this adapter was built against TorchSharp 0.107.");
        }

        return export;
    }
}
