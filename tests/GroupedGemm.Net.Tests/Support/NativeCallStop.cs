using GroupedGemm.Interop;

namespace GroupedGemm.Tests.Support;

/// <summary>
/// Stops managed calls at their first native call, so that tests of the managed checks run without a GPU (and, on a
/// GPU host, without touching made-up addresses): the lease's hook before each native call that takes a tensor, and
/// the hook before each device allocation (the first native call of the methods that return a new tensor, also from
/// <see cref="Ops"/>' pooled contexts, which are real ones on a GPU host). Both hooks are per thread.
/// </summary>
internal static class NativeCallStop
{
    /// <summary>Thrown where a call reached native code.</summary>
    internal sealed class Reached : Exception;

    /// <summary>Installs both hooks on this thread.</summary>
    internal static void Install()
    {
        CallLease.t_afterTensorTaken = _ => throw new Reached();
        DeviceTensor.t_beforeAllocation = () => throw new Reached();
    }

    /// <summary>Removes both hooks from this thread.</summary>
    internal static void Clear()
    {
        CallLease.t_afterTensorTaken = null;
        DeviceTensor.t_beforeAllocation = null;
    }
}
