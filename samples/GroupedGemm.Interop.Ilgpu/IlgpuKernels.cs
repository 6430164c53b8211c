using ILGPU;
using ILGPU.Runtime;

namespace GroupedGemm.Interop.Ilgpu;

/// <summary>The ILGPU kernel that fills the inputs (ILGPU compiles it to PTX and launches it in its own CUDA context).</summary>
internal static class IlgpuKernels
{
    /// <summary>output[i] = table[Hash(seed, i) mod table.Length]: bf16 or fp16 bits, stored as ushort.</summary>
    /// <param name="index">The element.</param>
    /// <param name="output">The tensor being filled.</param>
    /// <param name="table">The level table (<see cref="HashedValues.BitTable"/>).</param>
    /// <param name="seed">The tensor's seed.</param>
    public static void Fill(Index1D index, ArrayView1D<ushort, Stride1D.Dense> output,
        ArrayView1D<ushort, Stride1D.Dense> table, uint seed)
    {
        uint level = HashedValues.Hash(seed, (uint)index.X) % (uint)table.IntLength;
        output[index] = table[(int)level];
    }

    /// <summary>Loads <see cref="Fill"/>; the returned delegate queues the kernel on the stream it is given.</summary>
    /// <param name="accelerator">ILGPU's CUDA accelerator.</param>
    /// <returns>The launcher.</returns>
    public static Action<AcceleratorStream, Index1D, ArrayView1D<ushort, Stride1D.Dense>, ArrayView1D<ushort, Stride1D.Dense>, uint>
        LoadFill(Accelerator accelerator) =>
        accelerator.LoadAutoGroupedKernel<Index1D, ArrayView1D<ushort, Stride1D.Dense>, ArrayView1D<ushort, Stride1D.Dense>, uint>(Fill);
}
