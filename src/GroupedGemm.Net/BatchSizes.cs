using GroupedGemm.Interop;

namespace GroupedGemm;

/// <summary>
/// The rows per expert of a grouped GEMM (tgale96's <c>batch_sizes</c>): E non-negative counts summing to the rows
/// of the left operand, held either on the host or in an <see cref="DType.Int64"/> device tensor. Every grouped
/// GEMM method takes this one type; a <c>long[]</c>, a <see cref="ReadOnlyMemory{T}"/> of <see cref="long"/> or a
/// <see cref="DeviceTensor"/> converts to it implicitly, so <c>Ops.Gmm(x, w, counts)</c> reads the same for both.
/// </summary>
/// <remarks>
/// <para>
/// Host counts are checked on the host before the native call (an <see cref="ArgumentException"/> names the
/// argument and the values) and read once more by the native library, which copies them into the call. The array
/// is not copied here: do not change it while a call that was given it runs.
/// </para>
/// <para>
/// Device counts never leave the device: the call does not synchronise and can be captured in a
/// <see cref="CudaGraph"/>. They are checked on the device only with <see cref="GmmOptions.CheckCounts"/>;
/// otherwise bad counts are clamped so that nothing is written outside the output.
/// </para>
/// <para>
/// A null array or tensor converts to a value that every method refuses with an
/// <see cref="ArgumentNullException"/> naming the argument, as does <c>default(BatchSizes)</c>.
/// </para>
/// </remarks>
public readonly unsafe struct BatchSizes
{
    private readonly ReadOnlyMemory<long> _host;
    private readonly bool _isHost;

    private BatchSizes(ReadOnlyMemory<long> host)
    {
        _host = host;
        _isHost = true;
    }

    private BatchSizes(DeviceTensor device) => DeviceCounts = device;

    /// <summary>Whether the counts live in device memory (<see cref="DeviceCounts"/>).</summary>
    public bool IsOnDevice => DeviceCounts is not null;

    /// <summary>The host counts; empty for device counts.</summary>
    public ReadOnlyMemory<long> HostCounts => _host;

    /// <summary>The device counts (<see cref="DType.Int64"/>, one element per expert); null for host counts.</summary>
    public DeviceTensor? DeviceCounts { get; }

    /// <summary>Whether neither host nor device counts were given (a null array or tensor, or <c>default</c>).</summary>
    internal bool IsMissing => !_isHost && DeviceCounts is null;

    /// <summary>Where the native call reads the counts.</summary>
    internal GgCountsLocation Location => IsOnDevice ? GgCountsLocation.Device : GgCountsLocation.Host;

    /// <summary>Counts on the host.</summary>
    /// <param name="counts">E counts; null gives a value every method refuses with <see cref="ArgumentNullException"/>.</param>
    /// <returns>The batch sizes.</returns>
    public static BatchSizes FromHost(long[]? counts) => counts is null ? default : new BatchSizes(counts);

    /// <summary>Counts on the host, as a slice of a larger buffer for example.</summary>
    /// <param name="counts">E counts.</param>
    /// <returns>The batch sizes.</returns>
    public static BatchSizes FromHost(ReadOnlyMemory<long> counts) => new(counts);

    /// <summary>Counts in device memory.</summary>
    /// <param name="counts">An <see cref="DType.Int64"/> tensor of E elements on the call's device; null gives a value every method refuses.</param>
    /// <returns>The batch sizes.</returns>
    public static BatchSizes FromDevice(DeviceTensor? counts) => counts is null ? default : new BatchSizes(counts);

    /// <summary>Host counts from an array (see <see cref="FromHost(long[])"/>).</summary>
    /// <param name="counts">E counts.</param>
    public static implicit operator BatchSizes(long[]? counts) => FromHost(counts);

    /// <summary>Host counts from memory (see <see cref="FromHost(ReadOnlyMemory{long})"/>).</summary>
    /// <param name="counts">E counts.</param>
    public static implicit operator BatchSizes(ReadOnlyMemory<long> counts) => FromHost(counts);

    /// <summary>Device counts from a tensor (see <see cref="FromDevice"/>).</summary>
    /// <param name="counts">An <see cref="DType.Int64"/> tensor of E elements.</param>
    public static implicit operator BatchSizes(DeviceTensor? counts) => FromDevice(counts);

    /// <summary>Says where the counts are and how many there are.</summary>
    /// <returns>The text.</returns>
    public override string ToString() =>
        IsOnDevice ? $"BatchSizes(device: {DeviceCounts})"
        : _isHost ? $"BatchSizes(host: {_host.Length} experts)"
        : "BatchSizes(none)";

    /// <summary>
    /// The counts' address for one native call: device memory is held through <paramref name="lease"/> (as every
    /// tensor of a call is), host memory is pinned by it; both stay valid until the lease is disposed.
    /// </summary>
    /// <param name="lease">The call's lease.</param>
    /// <returns>The address the native call reads the counts from.</returns>
    internal long* Take(CallLease lease) =>
        IsOnDevice ? (long*)lease.Pointer(DeviceCounts) : (long*)lease.Pin(_host);
}
