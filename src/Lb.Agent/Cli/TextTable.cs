using System.Text;

namespace Lb.Agent.Cli;

/// <summary>Left-aligned columns separated by two spaces; a cell may hold several lines (one backend each).</summary>
internal sealed class TextTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public void Add(params string[] cells) => _rows.Add(cells);

    public override string ToString()
    {
        var widths = headers.Select(h => h.Length).ToArray();
        foreach (var row in _rows)
        {
            for (var i = 0; i < row.Length; i++)
                widths[i] = Math.Max(widths[i], row[i].Split('\n').Max(l => l.Length));
        }
        var text = new StringBuilder();
        Line(text, headers, widths);
        foreach (var row in _rows)
        {
            var lines = row.Select(c => c.Split('\n')).ToArray();
            var height = lines.Max(l => l.Length);
            for (var y = 0; y < height; y++)
                Line(text, lines.Select(l => y < l.Length ? l[y] : "").ToArray(), widths);
        }
        return text.ToString();
    }

    private static void Line(StringBuilder text, string[] cells, int[] widths)
    {
        var line = new StringBuilder();
        for (var i = 0; i < cells.Length; i++)
        {
            if (i > 0)
                line.Append("  ");
            line.Append(i == cells.Length - 1 ? cells[i] : cells[i].PadRight(widths[i]));
        }
        text.Append(line.ToString().TrimEnd()).Append('\n');
    }
}
