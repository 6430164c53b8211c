using GroupedGemm.Interop;

namespace GroupedGemm;

/// <summary>Backend selection queries of <see cref="GroupedGemmContext"/>.</summary>
public sealed unsafe partial class GroupedGemmContext
{
    /// <summary>The backend <see cref="GmmInto(DeviceTensor, DeviceTensor, BatchSizes, DeviceTensor, bool, bool, bool, GmmOptions?)"/> would use for these arguments (resolves <see cref="GemmBackend.Auto"/>).</summary>
    /// <param name="a">[M, K].</param>
    /// <param name="b">As for GmmInto.</param>
    /// <param name="batchSizes">Rows per expert: host counts or an Int64 device tensor.</param>
    /// <param name="c">The output the call would write.</param>
    /// <param name="transA">Weight-gradient form.</param>
    /// <param name="transB">b stored transposed.</param>
    /// <param name="options">The options the call would pass; null for defaults.</param>
    /// <returns>A concrete backend.</returns>
    public GemmBackend SelectBackend(DeviceTensor a, DeviceTensor b, BatchSizes batchSizes, DeviceTensor c,
        bool transA = false, bool transB = false, GmmOptions? options = null)
    {
        GmmDims dims = GmmValidation.Validate(a, b, c, batchSizes, transA, transB, Device, GmmNames.Context, options);
        using var lease = new CallLease(queuesWork: false);
        GgGmmArgs args = BuildArgs(lease, a, b, c, batchSizes, dims, transA, transB, false, options);
        NativeStatus.Check(NativeMethods.gg_gmm_select_backend(lease.Handle(_handle, this), &args, out GgBackend chosen));
        return (GemmBackend)chosen;
    }

    /// <summary>Whether <paramref name="backend"/> can take this call on this context's device, and if not, why.</summary>
    /// <param name="backend">The backend to ask about.</param>
    /// <param name="a">[M, K].</param>
    /// <param name="b">As for GmmInto.</param>
    /// <param name="batchSizes">Rows per expert: host counts or an Int64 device tensor.</param>
    /// <param name="c">The output the call would write (alignment matters).</param>
    /// <param name="transA">Weight-gradient form.</param>
    /// <param name="transB">b stored transposed.</param>
    /// <param name="reason">Empty when supported; otherwise the library's reason (not supported, or not compiled).</param>
    /// <returns>True when the call would run on that backend.</returns>
    /// <exception cref="ArgumentException">The arguments are invalid for any backend.</exception>
    public bool IsBackendSupported(GemmBackend backend, DeviceTensor a, DeviceTensor b, BatchSizes batchSizes,
        DeviceTensor c, bool transA, bool transB, out string reason)
    {
        GmmDims dims = GmmValidation.Validate(a, b, c, batchSizes, transA, transB, Device, GmmNames.Context);
        GmmValidation.CheckBackend(backend, nameof(backend));
        using var lease = new CallLease(queuesWork: false);
        GgGmmArgs args = BuildArgs(lease, a, b, c, batchSizes, dims, transA, transB, false, null);
        return InterpretSupport(NativeMethods.gg_gmm_backend_supported(lease.Handle(_handle, this), &args, (GgBackend)backend), out reason);
    }

    private static bool InterpretSupport(GgStatus status, out string reason)
    {
        switch (status)
        {
            case GgStatus.Success:
                reason = string.Empty;
                return true;
            case GgStatus.NotSupported:
            case GgStatus.BackendNotCompiled:
                string message = NativeStatus.LastErrorMessage();
                reason = $"{(GroupedGemmStatus)status}: {message}";
                return false;
            default:
                throw NativeStatus.Failure(status);
        }
    }
}
