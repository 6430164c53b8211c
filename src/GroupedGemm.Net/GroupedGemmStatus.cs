namespace GroupedGemm;

/// <summary>Result of a native call; the values are those of <c>gg_status</c>.</summary>
public enum GroupedGemmStatus
{
    /// <summary>The call succeeded.</summary>
    Success = 0,

    /// <summary>An argument is null, negative, inconsistent or out of range; the message names it.</summary>
    InvalidArgument = 1,

    /// <summary>The chosen backend cannot take this call (dtype, layout, alignment, counts location, device).</summary>
    NotSupported = 2,

    /// <summary>The chosen backend was not compiled into this build of the library.</summary>
    BackendNotCompiled = 3,

    /// <summary>No usable CUDA driver was found, or it is older than the runtime the library was built with.</summary>
    NoDriver = 4,

    /// <summary>The driver works but there is no CUDA device (or not the one asked for).</summary>
    NoDevice = 5,

    /// <summary>A device or pinned host allocation failed.</summary>
    OutOfMemory = 6,

    /// <summary>A CUDA runtime call failed; the message carries its name and text.</summary>
    CudaError = 7,

    /// <summary>A cuBLAS call failed; the message carries its status.</summary>
    CublasError = 8,

    /// <summary>A CUTLASS kernel refused its arguments or failed to initialise.</summary>
    CutlassError = 9,

    /// <summary>Device-resident batch sizes failed the on-device check (negative, or not summing to the row count).</summary>
    InvalidCounts = 10,

    /// <summary>A pointer belongs to another device than the handle's.</summary>
    WrongDevice = 11,

    /// <summary>The workspace reserved in the handle is too small and cannot grow now (a stream capture is active).</summary>
    WorkspaceTooSmall = 12,

    /// <summary>A bug in the library: please report the message.</summary>
    InternalError = 13,
}
