using System;
using System.Collections.Generic;
using NUnit.Framework;
using Qinco.Training;

namespace Qinco.Tests.Training;

public sealed class ParameterSetTests
{
    [Test]
    public void Add_LookupAndCounts()
    {
        var set = new ParameterSet();
        Parameter w = set.Add("w", 2, 3);
        Parameter b = set.Add(new Parameter("b", [3], [1f, 2f, 3f]));
        Assert.That(set.Count, Is.EqualTo(2));
        Assert.That(set.TotalElementCount, Is.EqualTo(9));
        Assert.That(set["b"], Is.SameAs(b));
        Assert.That(set[0], Is.SameAs(w));
        Assert.That(w.Shape, Is.EqualTo(new[] { 2, 3 }));
        Assert.That(set.TryGet("nope", out _), Is.False);
        Assert.Throws<KeyNotFoundException>(() => _ = set["nope"]);
        Assert.Throws<ArgumentException>(() => set.Add("w", 1));
        Assert.Throws<ArgumentException>(() => _ = new Parameter("x", [2], [1f]));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Parameter("x", -1));
        Assert.That(new Parameter("scalar").Length, Is.EqualTo(1));
    }

    [Test]
    public void Snapshot_RoundTripAndZeroGradients()
    {
        var set = new ParameterSet();
        Parameter a = set.Add(new Parameter("a", [2], [1f, 2f]));
        Parameter b = set.Add(new Parameter("b", [1], [3f]));
        a.Gradient[1] = 5f;
        float[] snap = set.CopyValuesToSnapshot();
        Assert.That(snap, Is.EqualTo(new[] { 1f, 2f, 3f }));
        a.Value[0] = 9f;
        b.Value[0] = 9f;
        set.CopyValuesFrom(snap);
        Assert.That(a.Value, Is.EqualTo(new[] { 1f, 2f }));
        Assert.That(b.Value[0], Is.EqualTo(3f));
        var grads = new float[3];
        set.CopyGradientsTo(grads);
        Assert.That(grads, Is.EqualTo(new[] { 0f, 5f, 0f }));
        set.ZeroGradients();
        Assert.That(a.Gradient, Is.All.EqualTo(0f));
        Assert.Throws<ArgumentException>(() => set.CopyValuesFrom(new float[2]));
    }
}
