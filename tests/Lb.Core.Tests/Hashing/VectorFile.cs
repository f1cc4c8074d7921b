using System.Globalization;

namespace Lb.Core.Tests.Hashing;

/// <summary>
/// Reads the vector files in native/testdata (written by tools/gen_flowhash_vectors.py), which the
/// test project copies next to the test assembly as testdata/.
/// </summary>
internal static class VectorFile
{
    public sealed record Line(string File, int Number, string Text)
    {
        public string[] Fields => Text.Split(' ', StringSplitOptions.RemoveEmptyEntries);

        public override string ToString() => $"{File}:{Number}";
    }

    /// <summary>The data lines of a file: neither blank nor a # comment.</summary>
    public static IReadOnlyList<Line> Read(string name)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "testdata", name);
        var lines = new List<Line>();
        var number = 0;
        foreach (var text in File.ReadLines(path))
        {
            number++;
            if (text.Length > 0 && text[0] != '#')
            {
                lines.Add(new Line(name, number, text));
            }
        }

        return lines;
    }

    public static uint Hex(string text)
    {
        if (!text.StartsWith("0x", StringComparison.Ordinal))
        {
            throw new FormatException($"'{text}' is not 0x-prefixed hex");
        }

        return uint.Parse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
    }

    /// <summary>A word list: "-" for none, else comma-separated hex words without a prefix.</summary>
    public static uint[] Words(string text) =>
        text == "-"
            ? []
            : Array.ConvertAll(text.Split(','), w => uint.Parse(w, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture));
}
