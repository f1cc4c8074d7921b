namespace Lb.Core.Config;

/// <summary>Primality for the Maglev table size, which must be prime so every skip visits every slot.</summary>
public static class Primes
{
    public static bool IsPrime(uint n)
    {
        if (n < 2)
            return false;
        if (n % 2 == 0)
            return n == 2;
        for (ulong divisor = 3; divisor * divisor <= n; divisor += 2)
        {
            if (n % divisor == 0)
                return false;
        }
        return true;
    }

    /// <summary>The largest prime below <paramref name="n"/>, or null if there is none.</summary>
    public static uint? Below(uint n)
    {
        for (var candidate = n; candidate > 2;)
        {
            candidate--;
            if (IsPrime(candidate))
                return candidate;
        }
        return null;
    }

    /// <summary>The smallest prime above <paramref name="n"/>, or null if it does not fit a uint.</summary>
    public static uint? Above(uint n)
    {
        for (var candidate = (ulong)n + 1; candidate <= uint.MaxValue; candidate++)
        {
            if (IsPrime((uint)candidate))
                return (uint)candidate;
        }
        return null;
    }
}
