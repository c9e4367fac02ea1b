using System;
using System.Linq;
using System.Numerics;
using NUnit.Framework;
using Qinco.Core;

namespace Qinco.Tests.Data;

/// <summary>The shape, wrapping, copying and size checks of <see cref="Matrix{T}"/>, for each element type the files hold.</summary>
[TestFixture(typeof(float))]
[TestFixture(typeof(byte))]
[TestFixture(typeof(int))]
[TestFixture(typeof(long))]
public sealed class MatrixTests<T>
    where T : unmanaged, INumberBase<T>
{
    private static T Value(int i) => T.CreateTruncating(i);

    /// <summary>A 4 x 3 matrix holding 1..12 row-major.</summary>
    private static Matrix<T> Sample() => Matrix<T>.FromArray(Enumerable.Range(1, 12).Select(Value).ToArray(), 3);

    [Test]
    public void New_IsZeroFilled_WithItsShape()
    {
        var m = new Matrix<T>(5, 7);
        Assert.That((m.Rows, m.Columns, m.Data.Length), Is.EqualTo((5, 7, 35)));
        Assert.That(m.Data, Is.All.EqualTo(T.Zero));
        Assert.That(new Matrix<T>(0, 2).Data, Is.Empty);
    }

    [Test]
    public void New_RejectsBadSizes_NamingThem()
    {
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Matrix<T>(-1, 2))!.ParamName, Is.EqualTo("rows"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Matrix<T>(2, 0))!.ParamName, Is.EqualTo("columns"));
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Matrix<T>(int.MaxValue, 3));
        Assert.That(ex!.ParamName, Is.EqualTo("rows"));
        Assert.That(ex.Message, Does.Contain("2147483647 x 3 values").And.Contain("largest array"));
    }

    [Test]
    public void FromArray_WrapsWithoutCopying()
    {
        T[] data = Enumerable.Range(1, 12).Select(Value).ToArray();
        Matrix<T> m = Matrix<T>.FromArray(data, 3);
        Assert.That((m.Rows, m.Columns), Is.EqualTo((4, 3)));
        Assert.That(m.Data, Is.SameAs(data));
        data[7] = Value(99);
        Assert.That(m[2, 1], Is.EqualTo(Value(99)));
        m[3][2] = Value(42);
        Assert.That(data[11], Is.EqualTo(Value(42)));
        m[0, 0] = Value(7);
        Assert.That(data[0], Is.EqualTo(Value(7)));
    }

    [Test]
    public void FromArray_RejectsPartialRows()
    {
        var ex = Assert.Throws<ArgumentException>(() => Matrix<T>.FromArray(new T[10], 3));
        Assert.That(ex!.ParamName, Is.EqualTo("data"));
        Assert.That(ex.Message, Does.Contain("10 values").And.Contain("3 columns"));
        Assert.Throws<ArgumentNullException>(() => Matrix<T>.FromArray(null!, 3));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => Matrix<T>.FromArray(new T[3], 0))!.ParamName, Is.EqualTo("columns"));
    }

    [Test]
    public void Rows_AndSpans()
    {
        Matrix<T> m = Sample();
        Assert.That(m.Row(1).ToArray(), Is.EqualTo(new[] { 4, 5, 6 }.Select(Value)));
        Assert.That(m[3].ToArray(), Is.EqualTo(new[] { 10, 11, 12 }.Select(Value)));
        Assert.That(m.AsSpan(1, 2).ToArray(), Is.EqualTo(Enumerable.Range(4, 6).Select(Value)));
        Assert.That(m.AsSpan().Length, Is.EqualTo(12));
        Assert.That(m.AsSpan(4, 0).Length, Is.Zero);
    }

    [Test]
    public void OutOfRange_IsNamed()
    {
        Matrix<T> m = Sample();
        var row = Assert.Throws<ArgumentOutOfRangeException>(() => m.Row(4));
        Assert.That(row!.ParamName, Is.EqualTo("row"));
        Assert.That(row.Message, Does.Contain("Row 4 is outside the matrix of 4 rows"));
        var column = Assert.Throws<ArgumentOutOfRangeException>(() => _ = m[0, 3]);
        Assert.That(column!.ParamName, Is.EqualTo("column"));
        Assert.That(column.Message, Does.Contain("Column 3 is outside the matrix of 3 columns"));
        Assert.Throws<ArgumentOutOfRangeException>(() => m[-1, 0] = T.One);
        var range = Assert.Throws<ArgumentOutOfRangeException>(() => m.Slice(3, 2));
        Assert.That(range!.Message, Does.Contain("Rows [3, 5) are outside the matrix of 4 rows"));
        Assert.Throws<ArgumentOutOfRangeException>(() => m.AsSpan(-1, 1));
    }

    [Test]
    public void Slice_AndClone_Copy()
    {
        Matrix<T> m = Sample();
        Matrix<T> slice = m.Slice(1, 2);
        Matrix<T> clone = m.Clone();
        Assert.That((slice.Rows, slice.Columns), Is.EqualTo((2, 3)));
        Assert.That(slice.Data, Is.EqualTo(Enumerable.Range(4, 6).Select(Value)));
        Assert.That(clone.Data, Is.EqualTo(m.Data).And.Not.SameAs(m.Data));
        m[1, 0] = Value(100);
        Assert.That(slice[0, 0], Is.EqualTo(Value(4)));
        Assert.That(clone[1, 0], Is.EqualTo(Value(4)));
        Assert.That(m.Slice(4, 0).Rows, Is.Zero);
    }
}

/// <summary>The float face keeps its names and messages, and its copies stay vector sets.</summary>
public sealed class VectorSetAsMatrixTests
{
    [Test]
    public void VectorSet_IsAMatrixOfFloats_UnderItsOwnNames()
    {
        VectorSet set = VectorSet.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2);
        Matrix<float> matrix = set;
        Assert.That((set.Count, set.Dimension), Is.EqualTo((matrix.Rows, matrix.Columns)));
        Assert.That(matrix.Slice(1, 2), Is.TypeOf<VectorSet>());
        Assert.That(matrix.Clone(), Is.TypeOf<VectorSet>());
        Assert.That(set.Slice(2, 1).Data, Is.EqualTo(new[] { 5f, 6f }));
        Assert.That(set[1, 1], Is.EqualTo(4f));
    }

    [Test]
    public void VectorSet_Messages_SpeakOfVectors()
    {
        VectorSet set = new(3, 2);
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => set.Row(3))!.Message, Does.Contain("Row 3 is outside the set of 3 vectors"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => set.Slice(2, 2))!.Message, Does.Contain("Rows [2, 4) are outside the set of 3 vectors"));
        var size = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new VectorSet(int.MaxValue, 2));
        Assert.That(size!.ParamName, Is.EqualTo("count"));
        Assert.That(size.Message, Does.Contain("2147483647 x 2 floats"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new VectorSet(1, 0))!.ParamName, Is.EqualTo("dimension"));
        var partial = Assert.Throws<ArgumentException>(() => VectorSet.FromArray(new float[5], 2));
        Assert.That(partial!.ParamName, Is.EqualTo("data"));
        Assert.That(partial.Message, Does.Contain("The array holds 5 floats, which is not a multiple of the dimension 2."));
        Assert.That(Assert.Throws<ArgumentException>(() => VectorSet.FromSpan(new float[5], 2))!.Message, Does.Contain("The span holds 5 floats"));
    }
}
