using System.Linq;
using NUnit.Framework;
using Qinco.Training;

namespace Qinco.Tests.Training;

public sealed class NumpyLegacyPermutationTests
{
    // Expected values printed by NumPy 1.24 (Debian python3-numpy): np.random.RandomState(seed).permutation(n).
    [TestCase(123L, new[] { 4, 0, 7, 5, 8, 3, 1, 6, 9, 2 })]
    [TestCase(4294967295L, new[] { 1, 5, 0, 6, 4, 2, 3 })]
    public void SmallPermutations_MatchNumpy(long seed, int[] expected)
    {
        var order = new int[expected.Length];
        NumpyLegacyPermutation.Fill(seed, order);
        Assert.That(order, Is.EqualTo(expected));
    }

    [Test]
    public void ReferenceEpochTwelveOrder_MatchesNumpy()
    {
        // QINCo1's reference shuffles epoch 11 (0-based) of 4,500 rows with RandomState(123 + 11).
        var order = new int[4500];
        NumpyLegacyPermutation.Fill(134, order);
        Assert.That(order.Take(5), Is.EqualTo(new[] { 2020, 483, 632, 3358, 1922 }));
        Assert.That(order.Skip(4497), Is.EqualTo(new[] { 4210, 3448, 1507 }));
        long checksum = Enumerable.Range(0, order.Length).Sum(i => (long)order[i] * i) % 1000003;
        Assert.That(checksum, Is.EqualTo(648111));
        Assert.That(order.Order(), Is.EqualTo(Enumerable.Range(0, 4500)), "a permutation");
    }

    [Test]
    public void TrainingOptions_RejectSeedsNumpyCannotTake()
    {
        var options = new TrainingOptions { NumpyCompatibleShuffle = true, Seed = -1 };
        Assert.That(options.Validate, Throws.TypeOf<System.ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("Seed"));
        Assert.That(new TrainingOptions { NumpyCompatibleShuffle = true, Seed = 123 }.Validate, Throws.Nothing);
    }
}
