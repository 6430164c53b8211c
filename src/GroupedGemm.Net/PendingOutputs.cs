namespace GroupedGemm;

/// <summary>
/// The one way a method cleans up tensors it allocated for its caller when it fails before handing them over:
/// <code>
/// using var outputs = new PendingOutputs();
/// DeviceTensor c = outputs.Allocate(device, dtype, shape);
/// Run(..., c);                 // may throw: then Dispose frees c
/// return outputs.HandOver(c);  // from here on c is the caller's
/// </code>
/// </summary>
internal sealed class PendingOutputs : IDisposable
{
    private readonly List<DeviceTensor> _tensors = new(2);
    private bool _handedOver;

    /// <summary>Allocates a tensor that is freed unless <see cref="HandOver{T}"/> runs.</summary>
    /// <param name="device">The CUDA device ordinal.</param>
    /// <param name="dtype">The element type.</param>
    /// <param name="shape">The extents.</param>
    /// <param name="stream">The stream the tensor is for; null for the device's ambient stream.</param>
    /// <param name="allocator">Where the memory comes from; null for <see cref="DeviceAllocator.Default"/>.</param>
    /// <returns>The new tensor.</returns>
    internal DeviceTensor Allocate(int device, DType dtype, long[] shape, CudaStream? stream = null, IDeviceAllocator? allocator = null) =>
        Track(DeviceTensor.Allocate(device, dtype, shape, stream, allocator));

    /// <summary>Takes a tensor the method made itself, to be freed unless <see cref="HandOver{T}"/> runs.</summary>
    /// <param name="tensor">The tensor.</param>
    /// <returns><paramref name="tensor"/>.</returns>
    internal DeviceTensor Track(DeviceTensor tensor)
    {
        _tensors.Add(tensor);
        return tensor;
    }

    /// <summary>Gives every tracked tensor to the caller: <see cref="Dispose"/> no longer frees them.</summary>
    /// <typeparam name="T">What the method returns.</typeparam>
    /// <param name="result">The method's result, which holds the tensors.</param>
    /// <returns><paramref name="result"/>.</returns>
    internal T HandOver<T>(T result)
    {
        _handedOver = true;
        return result;
    }

    /// <summary>Frees the tracked tensors, newest first, unless they were handed over.</summary>
    public void Dispose()
    {
        if (_handedOver) return;
        for (int i = _tensors.Count - 1; i >= 0; i--) _tensors[i].Dispose();
        _tensors.Clear();
    }
}
