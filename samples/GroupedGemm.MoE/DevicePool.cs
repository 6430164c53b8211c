namespace GroupedGemm.MoE;

/// <summary>
/// The sample's device allocator: a caching allocator in the manner of PyTorch's, so that timed iterations make no
/// cudaMalloc/cudaFree calls, and a tracker of live bytes, so that the peak memory of a forward is exact
/// (the sum of the activation buffers live at once; parameters and the input are not counted).
/// </summary>
internal sealed class DevicePool : IDisposable
{
    private readonly List<DeviceTensor> _free = [];
    private readonly Dictionary<nint, DeviceTensor> _blocks = [];
    private readonly Dictionary<nint, long> _leased = [];

    /// <summary>Bytes handed out and not yet returned.</summary>
    public long LiveBytes { get; private set; }

    /// <summary>Largest <see cref="LiveBytes"/> since the last <see cref="ResetPeak"/>.</summary>
    public long PeakBytes { get; private set; }

    /// <summary>Starts a new peak measurement from the current live bytes.</summary>
    public void ResetPeak() => PeakBytes = LiveBytes;

    /// <summary>A tensor of <paramref name="dtype"/> and <paramref name="shape"/>, uninitialised; give it back with <see cref="Return"/>.</summary>
    public DeviceTensor Rent(DType dtype, params long[] shape)
    {
        long bytes = Math.Max(1, shape.Aggregate(1L, (a, b) => checked(a * b)) * dtype.ElementSize());
        // Best fit among cached blocks, but not one more than twice the size (that would hide the real footprint).
        DeviceTensor? block = _free.Where(b => b.ByteCount >= bytes && b.ByteCount <= 2 * bytes)
            .OrderBy(b => b.ByteCount).FirstOrDefault();
        if (block is null)
        {
            block = DeviceTensor.Allocate(DType.Float32, (bytes + 3) / 4);
            _blocks[block.Pointer] = block;
        }
        else
        {
            _free.Remove(block);
        }

        _leased[block.Pointer] = bytes;
        LiveBytes += bytes;
        PeakBytes = Math.Max(PeakBytes, LiveBytes);
        return DeviceTensor.Wrap(block.Pointer, dtype, shape, block.Device);
    }

    /// <summary>Gives a tensor from <see cref="Rent"/> back to the cache.</summary>
    public void Return(DeviceTensor tensor)
    {
        if (!_leased.Remove(tensor.Pointer, out long bytes))
            throw new InvalidOperationException($"{tensor} was not rented from this pool, or was returned twice.");
        LiveBytes -= bytes;
        _free.Add(_blocks[tensor.Pointer]);
    }

    /// <summary>Frees every cached block (synchronise the streams that used them first).</summary>
    public void Dispose()
    {
        foreach (DeviceTensor block in _blocks.Values) block.Dispose();
        _blocks.Clear();
        _free.Clear();
        _leased.Clear();
    }
}
