namespace GroupedGemm.Interop.Ilgpu;

/// <summary>The program's exit codes (the README lists them too).</summary>
internal static class ExitCodes
{
    /// <summary>Every check ran and passed.</summary>
    public const int Passed = 0;

    /// <summary>At least one check failed, or a call threw.</summary>
    public const int Failed = 1;

    /// <summary>Nothing ran: no CUDA device, no CUDA driver, or libgroupedgemm.so is not built or installed.</summary>
    public const int NothingRun = 2;
}
