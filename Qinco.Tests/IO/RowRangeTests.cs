using System;
using NUnit.Framework;
using Qinco.Core.IO;

namespace Qinco.Tests.IO;

public sealed class RowRangeTests
{
    [TestCase("0:4500", 0, 4500)]
    [TestCase(" 10 : 20 ", 10, 20)]
    [TestCase("5:5", 5, 5)]
    [TestCase(":7", 0, 7)]
    public void Parse_Closed(string text, int start, int end)
    {
        RowRange r = RowRange.Parse(text);
        Assert.That((r.Start, r.End), Is.EqualTo((start, (int?)end)));
    }

    [Test]
    public void Parse_OpenEnded()
    {
        RowRange r = RowRange.Parse("4500:");
        Assert.That(r.Start, Is.EqualTo(4500));
        Assert.That(r.End, Is.Null);
        Assert.That(r.ToString(), Is.EqualTo("4500:"));
        Assert.That(RowRange.Parse(":"), Is.EqualTo(RowRange.All));
    }

    [Test]
    public void ToString_RoundTrips()
    {
        var r = new RowRange(3, 9);
        Assert.That(r.ToString(), Is.EqualTo("3:9"));
        Assert.That(RowRange.Parse(r.ToString()), Is.EqualTo(r));
    }

    [TestCase("", "empty")]
    [TestCase("12", "':'")]
    [TestCase("1:2:3", "':'")]
    [TestCase("a:3", "\"a\"")]
    [TestCase("-1:3", "\"-1\"")]
    [TestCase("1:x", "\"x\"")]
    [TestCase("9:3", "before it starts")]
    [TestCase("0:99999999999", "\"99999999999\"")]
    public void Parse_Invalid_SaysWhy(string text, string reason)
    {
        var ex = Assert.Throws<FormatException>(() => RowRange.Parse(text));
        Assert.That(ex!.Message, Does.Contain(reason));
        Assert.That(RowRange.TryParse(text, out _), Is.False);
    }

    [Test]
    public void Constructor_Validates()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new RowRange(-1, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new RowRange(4, 3));
    }
}
