using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace GroupedGemm;

/// <summary>
/// Copies between device tensors and System.Numerics.Tensors' host tensors (<see cref="TensorSpan{T}"/>,
/// <see cref="ReadOnlyTensorSpan{T}"/>, <see cref="Tensor{T}"/>): the extents travel with the data, and a strided host
/// view (a slice, a transpose) is gathered into row-major order on the way in and scattered on the way out.
/// </summary>
public sealed partial class DeviceTensor
{
    /// <summary>Copies a host tensor span to a new device tensor of the same extents on the current device.</summary>
    /// <typeparam name="T"><see cref="float"/>, <see cref="Half"/>, <see cref="BFloat16"/>, <see cref="int"/> or <see cref="long"/>.</typeparam>
    /// <param name="values">The values, any strides.</param>
    /// <returns>The new tensor, which owns its memory.</returns>
    public static DeviceTensor FromTensorSpan<T>(ReadOnlyTensorSpan<T> values)
        where T : unmanaged =>
        FromTensorSpan(Interop.DeviceScope.Current(), values);

    /// <summary>Copies a host tensor span to a new device tensor of the same extents on <paramref name="device"/>.</summary>
    /// <typeparam name="T"><see cref="float"/>, <see cref="Half"/>, <see cref="BFloat16"/>, <see cref="int"/> or <see cref="long"/>.</typeparam>
    /// <param name="device">The CUDA device ordinal.</param>
    /// <param name="values">The values, any strides.</param>
    /// <returns>The new tensor, which owns its memory.</returns>
    public static DeviceTensor FromTensorSpan<T>(int device, ReadOnlyTensorSpan<T> values)
        where T : unmanaged
    {
        long[] shape = Extents(values.Lengths);
        using var outputs = new PendingOutputs();
        DeviceTensor tensor = outputs.Allocate(device, DTypeExtensions.Of<T>(), shape);
        tensor.CopyFromTensorSpan(values);
        return outputs.HandOver(tensor);
    }

    /// <summary>Copies a host tensor span of the same extents into this tensor.</summary>
    /// <typeparam name="T">The host type of the tensor's <see cref="DType"/>, or an unmanaged type of the element's size.</typeparam>
    /// <param name="source">The values, any strides; its extents must be this tensor's.</param>
    /// <param name="stream">Stream to order the copy on; null for the ambient stream (<see cref="CudaStream.Current"/>).</param>
    /// <exception cref="ArgumentException">The extents or the element type differ.</exception>
    public void CopyFromTensorSpan<T>(ReadOnlyTensorSpan<T> source, CudaStream? stream = null)
        where T : unmanaged
    {
        RequireSameExtents(source.Lengths, nameof(source));
        if (IsRowMajor(source.Lengths, source.Strides))
        {
            CopyFrom(Contiguous(source), 0, stream);
            return;
        }

        var gathered = new T[RequireArrayLength()];
        source.FlattenTo(gathered);
        CopyFrom<T>(gathered, 0, stream);
    }

    /// <summary>Copies this tensor into a host tensor span of the same extents; returns when done.</summary>
    /// <typeparam name="T">The host type of the tensor's <see cref="DType"/>, or an unmanaged type of the element's size.</typeparam>
    /// <param name="destination">Where to write, any strides; its extents must be this tensor's.</param>
    /// <param name="stream">Stream to order the copy on; null for the ambient stream (<see cref="CudaStream.Current"/>).</param>
    /// <exception cref="ArgumentException">The extents or the element type differ.</exception>
    public void CopyToTensorSpan<T>(TensorSpan<T> destination, CudaStream? stream = null)
        where T : unmanaged
    {
        RequireSameExtents(destination.Lengths, nameof(destination));
        if (IsRowMajor(destination.Lengths, destination.Strides))
        {
            ReadOnlySpan<T> dense = Contiguous(destination.AsReadOnlyTensorSpan());
            CopyTo(MemoryMarshal.CreateSpan(ref MemoryMarshal.GetReference(dense), dense.Length), 0, stream);
            return;
        }

        var staged = new T[RequireArrayLength()];
        CopyTo<T>(staged, 0, stream);
        new ReadOnlyTensorSpan<T>(staged, destination.Lengths).CopyTo(destination);
    }

    /// <summary>Copies the whole tensor to a new host <see cref="Tensor{T}"/> of the same extents; returns when done.</summary>
    /// <typeparam name="T">The host type of the tensor's <see cref="DType"/>, or an unmanaged type of the element's size.</typeparam>
    /// <returns>The host tensor.</returns>
    public Tensor<T> ToTensor<T>()
        where T : unmanaged
    {
        T[] values = ToArray<T>();
        nint[] lengths = _shape.Select(e => (nint)e).ToArray();
        return Tensor.Create(values, lengths);
    }

    /// <summary>Whether <paramref name="strides"/> lay <paramref name="lengths"/> out row-major without gaps (extents of 1 and empty tensors need no particular stride).</summary>
    internal static bool IsRowMajor(ReadOnlySpan<nint> lengths, ReadOnlySpan<nint> strides)
    {
        if (lengths.Contains(0)) return true;
        long expected = 1;
        for (int i = lengths.Length - 1; i >= 0; i--)
        {
            if (lengths[i] != 1 && strides[i] != expected) return false;
            expected *= lengths[i];
        }

        return true;
    }

    private static long[] Extents(ReadOnlySpan<nint> lengths)
    {
        var shape = new long[lengths.Length];
        for (int i = 0; i < shape.Length; i++) shape[i] = lengths[i];
        return shape;
    }

    /// <summary>The elements of a row-major span as one span.</summary>
    private static ReadOnlySpan<T> Contiguous<T>(ReadOnlyTensorSpan<T> span)
    {
        if (span.FlattenedLength > int.MaxValue)
            throw new ArgumentException($"The tensor span has {span.FlattenedLength} elements; one host copy moves at most {int.MaxValue}.");
        return span.IsEmpty ? [] : MemoryMarshal.CreateReadOnlySpan(in span.GetPinnableReference(), (int)span.FlattenedLength);
    }

    private void RequireSameExtents(ReadOnlySpan<nint> lengths, string paramName)
    {
        ThrowIfDisposed();
        bool same = lengths.Length == Rank;
        for (int i = 0; same && i < lengths.Length; i++) same = lengths[i] == _shape[i];
        if (!same)
        {
            throw new ArgumentException(
                $"{paramName} has extents {TensorShape.Format(Extents(lengths))} but the tensor has {TensorShape.Format(Shape)}.", paramName);
        }
    }

    private int RequireArrayLength()
    {
        if (ElementCount > Array.MaxLength)
            throw new InvalidOperationException($"The tensor has {ElementCount} elements, more than an array can hold.");
        return (int)ElementCount;
    }
}
