using System.Net;

namespace Lb.Core.Config;

/// <summary>
/// Typed reads of <see cref="ConfigNode"/>s. Each method reports a failure to the diagnostics and
/// returns false; a caller just skips the value. A node that already failed (<see cref="InvalidNode"/>)
/// fails again silently, so one mistake yields one message.
/// </summary>
internal sealed class ConfigReader(ConfigDiagnostics diagnostics)
{
    public ConfigDiagnostics Diagnostics { get; } = diagnostics;

    public void Error(ConfigNode at, string path, string message) => Diagnostics.Add(at.Start, path, message);

    public bool TryMapping(ConfigNode node, string path, out MappingNode mapping)
    {
        mapping = null!;
        if (node is MappingNode found)
        {
            mapping = found;
            return true;
        }
        ReportType(node, path, "a mapping (key: value)");
        return false;
    }

    public bool TrySequence(ConfigNode node, string path, out SequenceNode sequence)
    {
        sequence = null!;
        if (node is SequenceNode found)
        {
            sequence = found;
            return true;
        }
        ReportType(node, path, "a sequence ([a, b] or '- ' items)");
        return false;
    }

    /// <summary>The fields of a mapping; unknown names are reported now, with the closest known name.</summary>
    public FieldSet Fields(MappingNode mapping, string path, params string[] known)
    {
        foreach (var entry in mapping.Entries)
        {
            if (known.Contains(entry.Key.Value, StringComparer.Ordinal))
                continue;
            var suggestion = NearMiss.Suggest(entry.Key.Value, known);
            var hint = suggestion is not null
                ? $"did you mean '{suggestion}'?"
                : $"expected one of: {string.Join(", ", known)}";
            Error(entry.Key, FieldPath.Child(path, entry.Key.Value), $"unknown field '{entry.Key.Value}'; {hint}");
        }
        return new FieldSet(this, mapping, path);
    }

    /// <summary>Any scalar's text: lb.yaml strings may be quoted or not.</summary>
    public bool TryString(ConfigNode node, string path, out string value)
    {
        value = "";
        if (node is ScalarNode { IsNull: false } scalar)
        {
            value = scalar.Value;
            return true;
        }
        ReportType(node, path, "a string");
        return false;
    }

    /// <summary>
    /// An unquoted decimal integer within [<paramref name="min"/>, <paramref name="max"/>]. A quoted
    /// number is refused: it is a string in YAML, and accepting it would hide a type slip.
    /// </summary>
    public bool TryInteger(ConfigNode node, string path, ulong min, ulong max, out ulong value, string? rangeHint = null)
    {
        value = 0;
        if (node is InvalidNode)
            return false;
        if (node is not ScalarNode { IsNull: false } scalar)
        {
            ReportType(node, path, "an integer");
            return false;
        }

        var text = scalar.Value;
        var negative = text.StartsWith('-');
        var digits = text.StartsWith('+') || negative ? text[1..] : text;
        if (!scalar.IsPlain || digits.Length == 0 || !digits.All(char.IsAsciiDigit))
        {
            var quoted = !scalar.IsPlain && digits.Length > 0 && digits.All(char.IsAsciiDigit) ? " (remove the quotes)" : "";
            Error(node, path, $"expected an integer, got {scalar.Describe()}{quoted}");
            return false;
        }

        var fits = ulong.TryParse(digits, out var parsed);
        if (!fits || (negative && parsed != 0) || parsed < min || parsed > max)
        {
            var hint = rangeHint is null ? "" : $"; {rangeHint}";
            Error(node, path, $"{text} is out of range ({min}-{max}){hint}");
            return false;
        }
        value = parsed;
        return true;
    }

    public bool TryPort(ConfigNode node, string path, out ushort port)
    {
        var ok = TryInteger(node, path, 1, ushort.MaxValue, out var value);
        port = (ushort)value;
        return ok;
    }

    /// <summary>YAML 1.2's booleans, unquoted: true or false in any of their three spellings.</summary>
    public bool TryBoolean(ConfigNode node, string path, out bool value)
    {
        value = false;
        if (node is InvalidNode)
            return false;
        if (node is ScalarNode { IsPlain: true } scalar)
        {
            switch (scalar.Value)
            {
                case "true" or "True" or "TRUE":
                    value = true;
                    return true;
                case "false" or "False" or "FALSE":
                    return true;
            }
        }
        ReportType(node, path, "true or false");
        return false;
    }

    public bool TryEnum<T>(ConfigNode node, string path, NameTable<T> names, string what, out T value) where T : struct
    {
        value = default;
        if (!TryString(node, path, out var text))
            return false;
        if (names.TryParse(text, out value))
            return true;

        var suggestion = NearMiss.Suggest(text, names.Names);
        var hint = suggestion is not null ? $"; did you mean '{suggestion}'?" : "";
        Error(node, path, $"'{text}' is not a valid {what} (expected {string.Join(" | ", names.Names)}){hint}");
        return false;
    }

    /// <summary>A host address: strict syntax, and not unspecified, broadcast, loopback or multicast.</summary>
    public bool TryHostAddress(ConfigNode node, string path, out IPAddress address)
    {
        address = IPAddress.None;
        if (!TryString(node, path, out var text))
            return false;
        var error = AddressSyntax.ParseAddress(text, out address) ?? AddressSyntax.UnicastProblem(address);
        if (error is null)
            return true;
        Error(node, path, error);
        return false;
    }

    public bool TryNetwork(ConfigNode node, string path, out IPNetwork network)
    {
        network = default;
        if (!TryString(node, path, out var text))
            return false;
        var error = AddressSyntax.ParseNetwork(text, out network);
        if (error is null)
            return true;
        Error(node, path, error);
        return false;
    }

    private void ReportType(ConfigNode node, string path, string expected)
    {
        if (node is InvalidNode)
            return;
        Error(node, path, $"expected {expected}, got {node.Describe()}");
    }
}

/// <summary>The fields of one mapping, looked up by name; a null value (<c>key:</c> or <c>key: ~</c>) counts as absent.</summary>
internal sealed class FieldSet(ConfigReader reader, MappingNode mapping, string path)
{
    public string Path { get; } = path;

    public MappingNode Mapping { get; } = mapping;

    public string PathOf(string name) => FieldPath.Child(Path, name);

    public bool IsPresent(string name) => Find(name) is not null;

    public ConfigNode? Optional(string name)
    {
        var entry = Find(name);
        return entry is null || entry.Value is ScalarNode { IsNull: true } ? null : entry.Value;
    }

    /// <summary>The field's value, or null after reporting it missing (at its key if written empty, else at the mapping).</summary>
    public ConfigNode? Required(string name, string? hint = null)
    {
        var entry = Find(name);
        if (entry is not null && entry.Value is not ScalarNode { IsNull: true })
            return entry.Value;

        var suffix = hint is null ? "" : $" ({hint})";
        if (entry is not null)
            reader.Error(entry.Key, PathOf(name), $"a value is required{suffix}");
        else
            reader.Error(Mapping, PathOf(name), $"required field is missing{suffix}");
        return null;
    }

    private MappingEntry? Find(string name) =>
        Mapping.Entries.FirstOrDefault(e => string.Equals(e.Key.Value, name, StringComparison.Ordinal));
}
