using System;
using NUnit.Framework;
using Qinco.Core;

namespace Qinco.Tests.Data;

public sealed class CodeSetTests
{
    [Test]
    public void Layout_CodeSize_MatchesCodePacking()
    {
        for (int steps = 1; steps <= 40; steps++)
        {
            for (int bits = 1; bits <= CodeLayout.MaxBitsPerStep; bits++)
            {
                Assert.That(new CodeLayout(steps, bits).CodeSize, Is.EqualTo((steps * bits + 7) / 8), $"{steps} x {bits} bits");
            }
        }
        var layout = new CodeLayout(8, 8);
        Assert.That(layout, Is.EqualTo(new CodeLayout(8, 8)).And.Not.EqualTo(new CodeLayout(8, 4)), "a record: equal by value");
    }

    [Test]
    public void Layout_RejectsBadShapes()
    {
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new CodeLayout(0, 8))!.ParamName, Is.EqualTo("steps"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new CodeLayout(4, 0))!.ParamName, Is.EqualTo("bitsPerStep"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new CodeLayout(4, 17))!.ParamName, Is.EqualTo("bitsPerStep"));
        var huge = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new CodeLayout(int.MaxValue, 16));
        Assert.That(huge!.ParamName, Is.EqualTo("steps"));
    }

    [Test]
    public void New_HasCountCodeSizeAndLayout()
    {
        var layout = new CodeLayout(5, 6);
        var codes = new CodeSet(10, layout);
        Assert.That((codes.Count, codes.CodeSize, codes.Rows, codes.Columns), Is.EqualTo((10, 4, 10, 4)));
        Assert.That(codes.Layout, Is.SameAs(layout));
        Assert.That(codes.Data, Has.Length.EqualTo(40).And.All.Zero);
        Assert.That(new CodeSet(0, layout).Count, Is.Zero);
    }

    [Test]
    public void New_RejectsOverflowAndNull()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new CodeSet(int.MaxValue, new CodeLayout(16, 8)));
        Assert.That(ex!.ParamName, Is.EqualTo("count"));
        Assert.That(ex.Message, Does.Contain("2147483647 x 16 bytes"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new CodeSet(-1, new CodeLayout(1, 8)))!.ParamName, Is.EqualTo("count"));
        Assert.That(Assert.Throws<ArgumentNullException>(() => _ = new CodeSet(1, null!))!.ParamName, Is.EqualTo("layout"));
    }

    [Test]
    public void FromArray_WrapsCodes_AndChecksTheLayout()
    {
        byte[] bytes = [1, 2, 3, 4, 5, 6];
        CodeSet codes = CodeSet.FromArray(bytes, new CodeLayout(4, 6));
        Assert.That((codes.Count, codes.CodeSize), Is.EqualTo((2, 3)));
        Assert.That(codes.Data, Is.SameAs(bytes));
        Assert.That(codes.Row(1).ToArray(), Is.EqualTo(new byte[] { 4, 5, 6 }));

        var ex = Assert.Throws<ArgumentException>(() => CodeSet.FromArray(bytes, new CodeLayout(8, 8)));
        Assert.That(ex!.ParamName, Is.EqualTo("codes"));
        Assert.That(ex.Message, Does.Contain("6 bytes").And.Contain("code size 8 (8 steps x 8 bits)"));
        Assert.Throws<ArgumentNullException>(() => CodeSet.FromArray(null!, new CodeLayout(1, 8)));
        Assert.Throws<ArgumentNullException>(() => CodeSet.FromArray(bytes, null!));
    }

    [Test]
    public void Slice_AndClone_KeepTheLayout()
    {
        var layout = new CodeLayout(2, 8);
        CodeSet codes = CodeSet.FromArray([1, 2, 3, 4, 5, 6], layout);
        CodeSet slice = codes.Slice(1, 2);
        Assert.That(slice.Data, Is.EqualTo(new byte[] { 3, 4, 5, 6 }));
        Assert.That(slice.Layout, Is.SameAs(layout));
        Assert.That(((Matrix<byte>)codes).Clone(), Is.TypeOf<CodeSet>());
        Assert.That(codes.Clone().Data, Is.EqualTo(codes.Data).And.Not.SameAs(codes.Data));
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => codes.Row(3));
        Assert.That(ex!.Message, Does.Contain("outside the set of 3 codes"));
    }
}
