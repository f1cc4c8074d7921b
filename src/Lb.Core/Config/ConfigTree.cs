using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Lb.Core.Config;

/// <summary>
/// A YAML node that remembers where it was written. lb.yaml is read into these rather than into
/// YamlDotNet's representation model so that duplicate keys, unknown aliases and tags become
/// errors with a line, next to every other error, instead of exceptions that stop the read.
/// </summary>
internal abstract class ConfigNode(SourcePosition start)
{
    public SourcePosition Start { get; } = start;

    /// <summary>How many nodes this one stands for once aliases are expanded (saturating).</summary>
    public abstract long ExpandedSize { get; }

    /// <summary>How the node reads in an error message: "a mapping", "a sequence", "'eighty'".</summary>
    public abstract string Describe();
}

internal sealed class ScalarNode(SourcePosition start, string value, bool isPlain) : ConfigNode(start)
{
    private const int MaxShownLength = 60;

    public string Value { get; } = value;

    /// <summary>Unquoted: subject to YAML's reading as null, a number or a boolean. Quoted text is always a string.</summary>
    public bool IsPlain { get; } = isPlain;

    /// <summary>YAML 1.2 core schema null: an empty value, <c>~</c> or <c>null</c>, unquoted.</summary>
    public bool IsNull => IsPlain && Value is "" or "~" or "null" or "Null" or "NULL";

    public override long ExpandedSize => 1;

    public override string Describe()
    {
        if (IsNull)
            return "null";
        var shown = Value.Length <= MaxShownLength ? Value : Value[..MaxShownLength] + "...";
        return IsPlain ? $"'{shown}'" : $"the quoted string \"{shown}\"";
    }
}

internal sealed class SequenceNode(SourcePosition start, IReadOnlyList<ConfigNode> items) : ConfigNode(start)
{
    public IReadOnlyList<ConfigNode> Items { get; } = items;

    public override long ExpandedSize { get; } = ConfigTree.SaturatingSum(items);

    public override string Describe() => "a sequence";
}

internal sealed record MappingEntry(ScalarNode Key, ConfigNode Value);

internal sealed class MappingNode(SourcePosition start, IReadOnlyList<MappingEntry> entries) : ConfigNode(start)
{
    public IReadOnlyList<MappingEntry> Entries { get; } = entries;

    public override long ExpandedSize { get; } = ConfigTree.SaturatingSum(entries.Select(e => e.Value));

    public override string Describe() => "a mapping";
}

/// <summary>
/// Stands in for a node that already produced an error (an unknown alias, a non-scalar key's value),
/// so later checks skip it instead of reporting the same place twice.
/// </summary>
internal sealed class InvalidNode(SourcePosition start) : ConfigNode(start)
{
    public override long ExpandedSize => 1;

    public override string Describe() => "an invalid value";
}

/// <summary>Reads YAML text into <see cref="ConfigNode"/>s, reporting syntax and structure problems.</summary>
internal static class ConfigTree
{
    /// <summary>
    /// Aliases may reuse a node many times; a few lines can expand to billions of nodes ("billion
    /// laughs"). No real lb.yaml comes near this many.
    /// </summary>
    public const long MaxExpandedNodes = 5_000_000;

    /// <summary>
    /// lb.yaml nests five levels deep; the limit keeps a pathological file ("[[[[..." thousands deep)
    /// from overflowing the stack of the recursive reader, which would end the process, not the read.
    /// </summary>
    public const int MaxDepth = 64;

    public static long SaturatingSum(IEnumerable<ConfigNode> nodes)
    {
        long total = 1;
        foreach (var node in nodes)
            total = Math.Min(total + node.ExpandedSize, long.MaxValue / 2);
        return total;
    }

    /// <summary>
    /// The root node of the single document in <paramref name="text"/>, or null when the text holds
    /// no document (empty or comments only), is not valid YAML, or is too large once expanded. Every
    /// problem except "no document" is added to <paramref name="diagnostics"/>; the caller decides
    /// what an empty file means.
    /// </summary>
    public static ConfigNode? Read(string text, ConfigDiagnostics diagnostics)
    {
        var scanner = new Scanner(new StringReader(text));
        var parser = new Parser(scanner);
        var builder = new Builder(parser, diagnostics);
        try
        {
            var root = builder.ReadStream();
            if (root is not null && root.ExpandedSize > MaxExpandedNodes)
            {
                diagnostics.Add(root.Start, "", $"the document expands to more than {MaxExpandedNodes} nodes through aliases");
                return null;
            }
            return root;
        }
        catch (YamlException ex)
        {
            diagnostics.Add(ToPosition(ex.Start), "", $"invalid YAML: {ex.Message}");
            return null;
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet 16 throws this instead of a YamlException on some unterminated flow
            // collections ("a: [1, 2" followed by more lines); the scanner still knows where it stopped.
            diagnostics.Add(ToPosition(scanner.CurrentPosition), "",
                "invalid YAML: cannot parse past this point (an unclosed '[', '{' or quote?)");
            return null;
        }
    }

    internal static SourcePosition ToPosition(Mark mark) =>
        new((int)Math.Clamp(mark.Line, 1, int.MaxValue), (int)Math.Clamp(mark.Column, 1, int.MaxValue));

    private sealed class Builder(IParser parser, ConfigDiagnostics diagnostics)
    {
        private readonly Dictionary<string, ConfigNode> _anchors = new(StringComparer.Ordinal);

        public ConfigNode? ReadStream()
        {
            parser.MoveNext();
            Consume<StreamStart>();
            if (parser.Current is StreamEnd)
                return null;

            Consume<DocumentStart>();
            var root = ReadNode("", depth: 0);
            Consume<DocumentEnd>();

            if (parser.Current is DocumentStart second)
                diagnostics.Add(ToPosition(second.Start), "",
                    "a second YAML document ('---'); lb.yaml holds exactly one");

            return root is ScalarNode { IsNull: true } ? null : root;
        }

        private ConfigNode ReadNode(string path, int depth)
        {
            var current = parser.Current ?? throw new YamlException("unexpected end of the event stream");
            var start = ToPosition(current.Start);
            if (depth > MaxDepth)
                throw new YamlException(current.Start, current.End, $"nesting deeper than {MaxDepth} levels");

            if (current is NodeEvent { Tag: { IsEmpty: false, IsNonSpecific: false } tag })
                diagnostics.Add(start, path, $"YAML tags ('{tag.Value}') are not supported; quote a value to make it a string");

            ConfigNode node;
            switch (current)
            {
                case AnchorAlias alias:
                    parser.MoveNext();
                    if (_anchors.TryGetValue(alias.Value.Value, out var target))
                        return target;
                    diagnostics.Add(start, path, $"unknown alias '*{alias.Value.Value}' (an anchor '&{alias.Value.Value}' must come before it)");
                    return new InvalidNode(start);

                case Scalar scalar:
                    parser.MoveNext();
                    node = new ScalarNode(start, scalar.Value, scalar.Style == ScalarStyle.Plain);
                    break;

                case SequenceStart:
                    parser.MoveNext();
                    var items = new List<ConfigNode>();
                    while (parser.Current is not SequenceEnd)
                        items.Add(ReadNode(FieldPath.Item(path, items.Count), depth + 1));
                    parser.MoveNext();
                    node = new SequenceNode(start, items);
                    break;

                case MappingStart:
                    parser.MoveNext();
                    node = new MappingNode(start, ReadEntries(path, depth + 1));
                    break;

                default:
                    throw new YamlException(current.Start, current.End, $"unexpected {current.GetType().Name}");
            }

            if (current is NodeEvent { Anchor.IsEmpty: false } anchored)
                _anchors[anchored.Anchor.Value] = node;
            return node;
        }

        private List<MappingEntry> ReadEntries(string path, int depth)
        {
            var entries = new List<MappingEntry>();
            var seen = new Dictionary<string, ScalarNode>(StringComparer.Ordinal);
            while (parser.Current is not MappingEnd)
            {
                var keyNode = ReadNode(path, depth);
                if (keyNode is not ScalarNode key)
                {
                    diagnostics.Add(keyNode.Start, path, $"a mapping key must be a plain name, got {keyNode.Describe()}");
                    ReadNode(path, depth);
                    continue;
                }

                var childPath = FieldPath.Child(path, key.Value);
                var value = ReadNode(childPath, depth);
                if (seen.TryGetValue(key.Value, out var first))
                {
                    diagnostics.Add(key.Start, childPath, $"duplicate key '{key.Value}' (first at {first.Start})");
                    continue;
                }
                seen.Add(key.Value, key);
                entries.Add(new MappingEntry(key, value));
            }
            parser.MoveNext();
            return entries;
        }

        private void Consume<T>() where T : ParsingEvent
        {
            if (parser.Current is not T)
                throw new YamlException(parser.Current?.Start ?? Mark.Empty, parser.Current?.End ?? Mark.Empty,
                    $"expected {typeof(T).Name}, got {parser.Current?.GetType().Name ?? "the end of the input"}");
            parser.MoveNext();
        }
    }
}
