using NUnit.Framework;
using Qinco.Core;

namespace Qinco.Tests;

public sealed class VectorSetTests
{
    [Test]
    public void FromRows_CopiesValuesRowMajor()
    {
        var set = VectorSet.FromRows([[1f, 2f], [3f, 4f], [5f, 6f]]);
        Assert.That(set.Count, Is.EqualTo(3));
        Assert.That(set.Dimension, Is.EqualTo(2));
        Assert.That(set.Data, Is.EqualTo(new[] { 1f, 2f, 3f, 4f, 5f, 6f }));
        Assert.That(set.Row(2).ToArray(), Is.EqualTo(new[] { 5f, 6f }));
    }

    [Test]
    public void FromRows_RaggedRowsAreNamed()
    {
        var ex = Assert.Throws<System.ArgumentException>(() => VectorSet.FromRows([[1f, 2f], [3f]]));
        Assert.That(ex!.Message, Does.Contain("Row 1"));
    }

    [Test]
    public void FromArray_RejectsLengthNotMultipleOfDimension()
    {
        Assert.Throws<System.ArgumentException>(() => VectorSet.FromArray(new float[7], 2));
    }

    [Test]
    public void Indexer_OutOfRangeIsRejected()
    {
        var set = new VectorSet(2, 3);
        Assert.Throws<System.ArgumentOutOfRangeException>(() => _ = set[2]);
    }

    [Test]
    public void ThrowIfNotFinite_NamesRowAndComponent()
    {
        var set = VectorSet.FromArray([0f, 1f, 2f, float.NaN], 2);
        var ex = Assert.Throws<System.ArgumentException>(() => set.ThrowIfNotFinite("train"));
        Assert.That(ex!.Message, Does.Contain("Vector 1, component 1"));
    }

    [Test]
    public void Slice_CopiesTheRange()
    {
        var set = VectorSet.FromArray([0f, 1f, 2f, 3f, 4f, 5f], 2);
        var slice = set.Slice(1, 2);
        slice[0][0] = 99f;
        Assert.That(slice.Data, Is.EqualTo(new[] { 99f, 3f, 4f, 5f }));
        Assert.That(set.Data[2], Is.EqualTo(2f));
    }
}
