using Lb.Core.Config;

namespace Lb.Core.Tests.Config;

public class PrimesTests
{
    [Fact]
    public void IsPrime_FirstHundredThousand_AgreesWithASieve()
    {
        const int limit = 100_000;
        var composite = new bool[limit + 1];
        composite[0] = composite[1] = true;
        for (var i = 2; i * i <= limit; i++)
        {
            if (composite[i])
                continue;
            for (var j = i * i; j <= limit; j += i)
                composite[j] = true;
        }

        for (uint n = 0; n <= limit; n++)
            Assert.True(Primes.IsPrime(n) == !composite[n], $"IsPrime({n})");
    }

    [Theory]
    [InlineData(16381u, true)]
    [InlineData(65521u, true)]
    [InlineData(65537u, true)]
    [InlineData(131071u, true)]
    [InlineData(4294967291u, true)]   // the largest 32-bit prime
    [InlineData(4294967295u, false)]
    [InlineData(4294967279u, true)]
    [InlineData(4294836225u, false)]  // 65535 squared
    public void IsPrime_LargeValues_AreClassifiedCorrectly(uint n, bool expected)
    {
        Assert.Equal(expected, Primes.IsPrime(n));
    }

    [Theory]
    [InlineData(16380u, 16369u, 16381u)]
    [InlineData(16381u, 16369u, 16411u)]
    [InlineData(3u, 2u, 5u)]
    public void BelowAndAbove_FindTheNeighbouringPrimes(uint n, uint below, uint above)
    {
        Assert.Equal(below, Primes.Below(n));
        Assert.Equal(above, Primes.Above(n));
    }

    [Fact]
    public void BelowAndAbove_AtTheEnds_ReturnNull()
    {
        Assert.Null(Primes.Below(2));
        Assert.Null(Primes.Above(4294967291u));
    }
}
