using System.Globalization;
using Lb.Core.Maglev;
using Lb.Core.Model;

namespace Lb.Core.Tests.Maglev;

/// <summary>
/// The pinned table in testdata/golden-16381-lb.rle was written by tools/maglev_golden.py, a separate
/// implementation of the same hash and fill. If this test fails, the table every node computes has
/// changed: regenerate the file only when that change is intended.
/// </summary>
public class MaglevGoldenTableTests
{
    private static readonly string GoldenPath = Path.Combine(AppContext.BaseDirectory, "Maglev", "testdata", "golden-16381-lb.rle");

    [Fact]
    public void Build_GoldenBackends_MatchesPinnedTable()
    {
        var golden = GoldenTable.Load(GoldenPath);
        Assert.Equal(16381u, golden.TableSize);
        Assert.Equal(5, golden.Backends.Count);

        var table = new MaglevTableBuilder(new MaglevOptions(golden.TableSize, golden.Seed)).Build(golden.Backends);

        // xunit reports the first differing slot.
        Assert.Equal(golden.Ids, table.BackendIds.ToArray());
    }

    private sealed record GoldenTable(uint TableSize, string Seed, List<MaglevBackend> Backends, uint[] Ids)
    {
        public static GoldenTable Load(string path)
        {
            uint tableSize = 0;
            var seed = "";
            var backends = new List<MaglevBackend>();
            var ids = new List<uint>();
            var inRuns = false;
            foreach (var raw in File.ReadLines(path))
            {
                var line = raw.Trim();
                if (line.Length == 0 || line.StartsWith('#'))
                    continue;
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (inRuns)
                {
                    foreach (var run in fields)
                    {
                        var star = run.IndexOf('*');
                        var id = uint.Parse(star < 0 ? run : run[..star], CultureInfo.InvariantCulture);
                        var count = star < 0 ? 1 : int.Parse(run[(star + 1)..], CultureInfo.InvariantCulture);
                        ids.AddRange(Enumerable.Repeat(id, count));
                    }
                    continue;
                }

                switch (fields[0])
                {
                    case "tableSize":
                        tableSize = uint.Parse(fields[1], CultureInfo.InvariantCulture);
                        break;
                    case "seed":
                        seed = line["seed ".Length..];
                        break;
                    case "backend" when fields is [_, var identity, "weight", var weight, "id", var id]:
                        backends.Add(new MaglevBackend(identity, ushort.Parse(weight, CultureInfo.InvariantCulture), uint.Parse(id, CultureInfo.InvariantCulture)));
                        break;
                    case "runs":
                        inRuns = true;
                        break;
                    default:
                        throw new FormatException($"{path}: unexpected line '{line}'");
                }
            }

            if (ids.Count != tableSize)
                throw new FormatException($"{path}: the runs cover {ids.Count} slots, not tableSize {tableSize}");
            return new GoldenTable(tableSize, seed, backends, ids.ToArray());
        }
    }
}
