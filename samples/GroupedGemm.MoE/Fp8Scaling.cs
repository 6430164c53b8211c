namespace GroupedGemm.MoE;

/// <summary>
/// The two scalings the FP8 experts (<c>--dtype float8</c>) run, one rule for the device path and its float64
/// emulation: row-wise (one scale per row of the activations and per (expert, output column) of the weights,
/// torch._scaled_grouped_mm's) or DeepGEMM's blocks (<c>--fp8-scales block</c>: 1×128 along K for the activations,
/// 128×128 for the weights), what the scaled grouped GEMM calls <see cref="ScaleMode"/>.
/// </summary>
internal static class Fp8Scaling
{
    /// <summary>The block edge of <see cref="ScaleMode.Blockwise"/> (DeepGEMM's 128; ScaleBlockMirrorTests ties it to the
    /// native library's).</summary>
    public const int Block = 128;

    /// <summary>Blocks of <see cref="Block"/> along <paramref name="extent"/>, the last one partial: ceil(extent / 128).</summary>
    public static int Blocks(int extent) => (extent + Block - 1) / Block;

    /// <summary>Columns per activation scale: <see cref="Block"/> for block scales, 0 (the whole row) for row-wise.</summary>
    public static int RowBlockCols(ScaleMode mode) => mode == ScaleMode.Blockwise ? Block : 0;

    /// <summary>Activation scales per row of <paramref name="cols"/> columns.</summary>
    public static int ScalesPerRow(ScaleMode mode, int cols) => mode == ScaleMode.Blockwise ? Blocks(cols) : 1;

    /// <summary>Float32 scales for <paramref name="rows"/> activation rows of <paramref name="cols"/> columns, rented from
    /// <paramref name="pool"/>: [rows] row-wise, [rows, ceil(cols / 128)] in blocks.</summary>
    public static DeviceTensor RentRowScales(DevicePool pool, ScaleMode mode, long rows, int cols) => mode == ScaleMode.Blockwise
        ? pool.Rent(DType.Float32, rows, ScalesPerRow(mode, cols))
        : pool.Rent(DType.Float32, rows);

    /// <summary>The name of a scaling, as the sample prints it.</summary>
    public static string Describe(ScaleMode mode) =>
        mode == ScaleMode.Blockwise ? "block scales, 1×128 rows and 128×128 weights" : "row-wise scales";
}
