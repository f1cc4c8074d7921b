using Lb.Core.Maglev;

namespace Lb.Core.Tests.Maglev;

/// <summary>Backend sets for the Maglev tests: distinct IPv4 and IPv6 identities, ids unrelated to identity order.</summary>
internal static class TestBackends
{
    public static MaglevBackend[] Create(int count, Func<int, ushort> weightOf)
    {
        var backends = new MaglevBackend[count];
        for (var i = 0; i < count; i++)
        {
            // Every fourth backend is IPv6 so the identities mix both formats, as real services do.
            var identity = i % 4 == 3
                ? $"[2001:db8::{i:x}]:8080"
                : $"10.{i >> 16 & 0xff}.{i >> 8 & 0xff}.{i & 0xff}:80";
            backends[i] = new MaglevBackend(identity, weightOf(i), (uint)(1000 + i * 7));
        }
        return backends;
    }

    public static MaglevBackend[] Equal(int count) => Create(count, _ => 1);

    /// <summary>Weights 1, 2, 3, 4, 5, 1, 2, …</summary>
    public static MaglevBackend[] CyclingWeights(int count) => Create(count, i => (ushort)(i % 5 + 1));

    public static MaglevTableBuilder Builder(uint tableSize, string seed = "lb") => new(new Model.MaglevOptions(tableSize, seed));

    /// <summary>Slots per backend id.</summary>
    public static Dictionary<uint, int> CountSlots(MaglevTable table)
    {
        var counts = table.Backends.ToDictionary(b => b.Id, _ => 0);
        foreach (var id in table.BackendIds.Span)
            counts[id]++;
        return counts;
    }

    /// <summary>A deterministic shuffle (Fisher–Yates with a fixed seed).</summary>
    public static T[] Shuffled<T>(IReadOnlyList<T> items, int seed)
    {
        var result = items.ToArray();
        new Random(seed).Shuffle(result);
        return result;
    }
}
