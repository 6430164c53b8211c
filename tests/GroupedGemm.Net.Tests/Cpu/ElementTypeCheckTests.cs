using NUnit.Framework;

namespace GroupedGemm.Tests.Cpu;

/// <summary>
/// Issue 27: host copies check the host type against the tensor's element type. Before, only the size was checked,
/// so <c>ToArray&lt;Half&gt;()</c> of a BFloat16 tensor, or <c>CopyFrom&lt;int&gt;</c> into a Float32 one, reinterpreted
/// bits silently. Empty tensors are used where a copy is allowed: nothing is copied, so no native code runs.
/// </summary>
[TestFixture]
public class ElementTypeCheckTests
{
    private static readonly DType[] DTypes = Enum.GetValues<DType>();

    [Test]
    public void ToArray_of_another_element_type_names_both_types()
    {
        DeviceTensor bf16 = FakeTensors.Make(DType.BFloat16, 4, 8);

        var e = Assert.Throws<ArgumentException>(() => bf16.ToArray<Half>());
        Assert.That(e!.Message, Does.Contain("Half holds Float16 values but the tensor's elements are BFloat16"));
        Assert.That(e.Message, Does.Contain("use BFloat16 (or ushort for the raw bits)"));

        var wider = Assert.Throws<ArgumentException>(() => bf16.ToArray<float>());
        Assert.That(wider!.Message, Does.Contain("Single is 4 bytes but the tensor's elements (BFloat16) are 2; use BFloat16"));
    }

    [Test]
    public void CopyTo_and_CopyFrom_refuse_another_element_type_of_the_same_size()
    {
        DeviceTensor f32 = FakeTensors.Make(DType.Float32, 8);
        DeviceTensor i32 = FakeTensors.Make(DType.Int32, 8);

        var to = Assert.Throws<ArgumentException>(() => f32.CopyTo<int>(new int[8]));
        Assert.That(to!.ParamName, Is.EqualTo("destination"));
        Assert.That(to.Message, Does.Contain("Int32 holds Int32 values but the tensor's elements are Float32; use float"));

        var from = Assert.Throws<ArgumentException>(() => i32.CopyFrom<float>(new float[8]));
        Assert.That(from!.ParamName, Is.EqualTo("source"));
        Assert.That(from.Message, Does.Contain("Single holds Float32 values but the tensor's elements are Int32; use int"));

        Assert.Throws<ArgumentException>(() => FakeTensors.Make(DType.Float16, 8).CopyFrom<BFloat16>(new BFloat16[8]));
    }

    [Test]
    public void Only_the_matching_host_type_of_the_five_is_accepted([ValueSource(nameof(DTypes))] DType dtype)
    {
        // Empty: an accepted copy moves no bytes and makes no native call.
        DeviceTensor empty = FakeTensors.Make(dtype, 0, 3);
        AssertAccepted<float>(empty, DType.Float32);
        AssertAccepted<Half>(empty, DType.Float16);
        AssertAccepted<BFloat16>(empty, DType.BFloat16);
        AssertAccepted<int>(empty, DType.Int32);
        AssertAccepted<long>(empty, DType.Int64);
    }

    [Test]
    public void Unsigned_integers_of_the_element_size_still_carry_raw_bits()
    {
        Assert.That(FakeTensors.Make(DType.BFloat16, 0).ToArray<ushort>(), Is.Empty);
        Assert.That(FakeTensors.Make(DType.Float16, 0).ToArray<ushort>(), Is.Empty);
        Assert.That(FakeTensors.Make(DType.Float32, 0).ToArray<uint>(), Is.Empty);
        Assert.DoesNotThrow(() => FakeTensors.Make(DType.BFloat16, 0).CopyFrom<ushort>([]));

        // The size still has to match, and the old wording is kept.
        var e = Assert.Throws<ArgumentException>(() => FakeTensors.Make(DType.BFloat16, 0).ToArray<uint>());
        Assert.That(e!.Message, Does.Contain("UInt32 is 4 bytes but the tensor's elements (BFloat16) are 2"));
    }

    private static void AssertAccepted<T>(DeviceTensor tensor, DType own)
        where T : unmanaged
    {
        if (tensor.DType == own)
        {
            Assert.That(tensor.ToArray<T>(), Is.Empty, $"{typeof(T).Name} from {tensor.DType}");
            Assert.DoesNotThrow(() => tensor.CopyTo<T>([]));
            Assert.DoesNotThrow(() => tensor.CopyFrom<T>([]));
            return;
        }

        Assert.Throws<ArgumentException>(() => tensor.ToArray<T>(), $"ToArray<{typeof(T).Name}> of {tensor.DType}");
        Assert.Throws<ArgumentException>(() => tensor.CopyTo<T>([]), $"CopyTo<{typeof(T).Name}> of {tensor.DType}");
        Assert.Throws<ArgumentException>(() => tensor.CopyFrom<T>([]), $"CopyFrom<{typeof(T).Name}> into {tensor.DType}");
    }
}
