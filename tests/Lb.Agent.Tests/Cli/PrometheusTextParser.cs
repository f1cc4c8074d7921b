using System.Globalization;
using System.Text;

namespace Lb.Agent.Tests.Cli;

/// <summary>One sample: metric name, labels, value.</summary>
internal sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public string Label(string name) => Labels.TryGetValue(name, out var value) ? value : "";
}

/// <summary>A metric family: HELP, TYPE and its samples.</summary>
internal sealed record PrometheusFamily(string Name, string Type, string Help, List<PrometheusSample> Samples);

/// <summary>
/// A strict parser of the Prometheus text exposition format 0.0.4, written from its grammar so the
/// test does not trust the writer: '# HELP name text' and '# TYPE name type' lines (type one of counter,
/// gauge, histogram, summary, untyped; at most once per family, before its samples), sample lines
/// <c>name{label="value",...} value [timestamp]</c> with the metric name charset
/// <c>[a-zA-Z_:][a-zA-Z0-9_:]*</c>, label names <c>[a-zA-Z_][a-zA-Z0-9_]*</c>, label values with the
/// escapes \\ \" \n only, values as Go floats (+Inf, -Inf, NaN), and a family's samples contiguous.
/// Histogram and summary samples may carry the _bucket/_sum/_count (or quantile) suffixes of their
/// family; a histogram needs an le="+Inf" bucket equal to _count and non-decreasing buckets.
/// Any violation throws with the line number.
/// </summary>
internal static class PrometheusTextParser
{
    private static readonly string[] Types = ["counter", "gauge", "histogram", "summary", "untyped"];

    public static IReadOnlyDictionary<string, PrometheusFamily> Parse(string text)
    {
        if (text.Length > 0 && !text.EndsWith('\n'))
            throw new FormatException("the exposition must end with a line feed");
        var families = new Dictionary<string, PrometheusFamily>(StringComparer.Ordinal);
        var closed = new HashSet<string>(StringComparer.Ordinal);
        string? current = null;
        var lines = text.Split('\n');
        for (var index = 0; index < lines.Length - 1; index++)
        {
            var line = lines[index];
            var number = index + 1;
            if (line.Length == 0)
                continue;
            if (line.StartsWith('#'))
            {
                var parts = line.Split(' ', 4);
                if (parts.Length >= 3 && parts[0] == "#" && parts[1] is "HELP" or "TYPE")
                {
                    var name = parts[2];
                    CheckMetricName(name, number);
                    if (closed.Contains(name))
                        throw new FormatException($"line {number}: {parts[1]} for family {name} after its samples ended");
                    if (current is not null && current != name)
                        closed.Add(current);
                    current = name;
                    if (!families.TryGetValue(name, out var family))
                        families[name] = family = new PrometheusFamily(name, "untyped", "", []);
                    if (parts[1] == "TYPE")
                    {
                        if (parts.Length != 4 || !Types.Contains(parts[3]))
                            throw new FormatException($"line {number}: bad TYPE line '{line}'");
                        if (family.Samples.Count > 0)
                            throw new FormatException($"line {number}: TYPE for {name} after its first sample");
                        families[name] = family with { Type = parts[3] };
                    }
                    else
                    {
                        families[name] = family with { Help = parts.Length == 4 ? UnescapeHelp(parts[3], number) : "" };
                    }
                }
                continue; // Other comments are allowed.
            }

            var sample = ParseSample(line, number);
            var familyName = FamilyOf(sample.Name, families);
            if (current != familyName)
            {
                if (current is not null)
                    closed.Add(current);
                if (closed.Contains(familyName))
                    throw new FormatException($"line {number}: samples of {familyName} are not contiguous");
                current = familyName;
            }
            if (!families.TryGetValue(familyName, out var owner))
                families[familyName] = owner = new PrometheusFamily(familyName, "untyped", "", []);
            owner.Samples.Add(sample);
        }
        foreach (var family in families.Values)
            CheckFamily(family);
        return families;
    }

    private static string FamilyOf(string sampleName, Dictionary<string, PrometheusFamily> families)
    {
        foreach (var suffix in new[] { "_bucket", "_sum", "_count" })
        {
            if (sampleName.EndsWith(suffix, StringComparison.Ordinal))
            {
                var stem = sampleName[..^suffix.Length];
                if (families.TryGetValue(stem, out var f) && f.Type is "histogram" or "summary")
                    return stem;
            }
        }
        return sampleName;
    }

    private static void CheckFamily(PrometheusFamily family)
    {
        foreach (var sample in family.Samples)
        {
            if (family.Type == "counter" && (sample.Value < 0 || double.IsNaN(sample.Value)))
                throw new FormatException($"counter {sample.Name} has value {sample.Value}");
            if (family.Type is "counter" or "gauge" && sample.Name != family.Name)
                throw new FormatException($"sample {sample.Name} in {family.Type} family {family.Name}");
        }
        if (family.Type != "histogram")
            return;
        var buckets = family.Samples.Where(s => s.Name == family.Name + "_bucket").ToList();
        var count = family.Samples.SingleOrDefault(s => s.Name == family.Name + "_count")
            ?? throw new FormatException($"histogram {family.Name} has no _count");
        _ = family.Samples.SingleOrDefault(s => s.Name == family.Name + "_sum") ?? throw new FormatException($"histogram {family.Name} has no _sum");
        var inf = buckets.SingleOrDefault(b => b.Label("le") == "+Inf") ?? throw new FormatException($"histogram {family.Name} has no +Inf bucket");
        if (inf.Value != count.Value)
            throw new FormatException($"histogram {family.Name}: +Inf bucket {inf.Value} differs from _count {count.Value}");
        var ordered = buckets.Select(b => (Le: ParseFloat(b.Label("le"), 0), b.Value)).OrderBy(b => b.Le).ToList();
        for (var i = 1; i < ordered.Count; i++)
        {
            if (ordered[i].Value < ordered[i - 1].Value)
                throw new FormatException($"histogram {family.Name}: bucket le={ordered[i].Le} is smaller than le={ordered[i - 1].Le}");
        }
    }

    private static PrometheusSample ParseSample(string line, int number)
    {
        var i = 0;
        while (i < line.Length && IsNameChar(line[i], i == 0, colonAllowed: true))
            i++;
        var name = line[..i];
        CheckMetricName(name, number);
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (true)
            {
                if (i < line.Length && line[i] == '}')
                {
                    i++;
                    break;
                }
                var start = i;
                while (i < line.Length && IsNameChar(line[i], i == start, colonAllowed: false))
                    i++;
                var labelName = line[start..i];
                if (labelName.Length == 0)
                    throw new FormatException($"line {number}: empty or invalid label name at column {start + 1}");
                if (i >= line.Length || line[i] != '=' || i + 1 >= line.Length || line[i + 1] != '"')
                    throw new FormatException($"line {number}: expected =\" after label {labelName}");
                i += 2;
                var value = new StringBuilder();
                while (true)
                {
                    if (i >= line.Length)
                        throw new FormatException($"line {number}: unterminated value of label {labelName}");
                    var c = line[i++];
                    if (c == '"')
                        break;
                    if (c == '\\')
                    {
                        if (i >= line.Length)
                            throw new FormatException($"line {number}: dangling backslash in label {labelName}");
                        value.Append(line[i++] switch
                        {
                            '\\' => '\\',
                            '"' => '"',
                            'n' => '\n',
                            var other => throw new FormatException($"line {number}: invalid escape \\{other} in label {labelName}"),
                        });
                    }
                    else
                    {
                        value.Append(c);
                    }
                }
                if (!labels.TryAdd(labelName, value.ToString()))
                    throw new FormatException($"line {number}: label {labelName} repeated");
                if (i < line.Length && line[i] == ',')
                    i++;
                else if (i >= line.Length || line[i] != '}')
                    throw new FormatException($"line {number}: expected , or }} after label {labelName}");
            }
        }
        if (i >= line.Length || line[i] != ' ')
            throw new FormatException($"line {number}: expected a space before the value in '{line}'");
        var rest = line[(i + 1)..].Split(' ');
        if (rest.Length is < 1 or > 2 || rest[0].Length == 0)
            throw new FormatException($"line {number}: expected a value and an optional timestamp in '{line}'");
        var parsed = ParseFloat(rest[0], number);
        if (rest.Length == 2 && !long.TryParse(rest[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
            throw new FormatException($"line {number}: timestamp '{rest[1]}' is not an integer");
        return new PrometheusSample(name, labels, parsed);
    }

    private static double ParseFloat(string text, int number) => text switch
    {
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        "NaN" => double.NaN,
        _ when text.Length > 0 && (char.IsDigit(text[0]) || text[0] is '-' or '+' or '.')
            && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) => v,
        _ => throw new FormatException($"line {number}: '{text}' is not a float"),
    };

    private static string UnescapeHelp(string text, int number)
    {
        var result = new StringBuilder();
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != '\\')
            {
                result.Append(text[i]);
                continue;
            }
            if (++i >= text.Length)
                throw new FormatException($"line {number}: dangling backslash in HELP");
            result.Append(text[i] switch
            {
                '\\' => '\\',
                'n' => '\n',
                var other => throw new FormatException($"line {number}: invalid escape \\{other} in HELP"),
            });
        }
        return result.ToString();
    }

    private static void CheckMetricName(string name, int number)
    {
        if (name.Length == 0 || !name.Select((c, i) => IsNameChar(c, i == 0, colonAllowed: true)).All(ok => ok))
            throw new FormatException($"line {number}: '{name}' is not a valid metric name");
    }

    private static bool IsNameChar(char c, bool first, bool colonAllowed) =>
        c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or '_' || (colonAllowed && c == ':') || (!first && c is >= '0' and <= '9');
}
