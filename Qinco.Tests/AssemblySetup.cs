using System.Globalization;
using NUnit.Framework;

namespace Qinco.Tests;

/// <summary>Runs every test under the invariant culture so number formatting never depends on the machine.</summary>
[SetUpFixture]
public sealed class AssemblySetup
{
    [OneTimeSetUp]
    public void UseInvariantCulture()
    {
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
        CultureInfo.DefaultThreadCurrentUICulture = CultureInfo.InvariantCulture;
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
    }
}
