using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Lb.Kubernetes.Api;

/// <summary>
/// Reads API objects one at a time, so a malformed item (a port that is a string, an address list that
/// is an object) is reported and skipped while the rest of the list is kept.
/// </summary>
public static class KubeObjectReader
{
    /// <summary>Reads one object; on failure returns null and says why, naming the object if its metadata can be read.</summary>
    public static T? TryRead<T>(JsonElement element, JsonTypeInfo<T> typeInfo, out string? error) where T : class
    {
        try
        {
            var item = element.Deserialize(typeInfo);
            error = item is null ? $"{Describe(element)}: null object" : null;
            return item;
        }
        catch (JsonException exception)
        {
            error = $"{Describe(element)}: malformed ({exception.Message})";
            return null;
        }
    }

    /// <summary>Reads the items of a list response; malformed items are left out and described in <paramref name="errors"/>.</summary>
    public static List<T> ReadItems<T>(KubeList list, JsonTypeInfo<T> typeInfo, List<string> errors) where T : class
    {
        var items = new List<T>();
        foreach (var element in list.Items ?? [])
        {
            var item = TryRead(element, typeInfo, out var error);
            if (item is null)
                errors.Add(error!);
            else
                items.Add(item);
        }
        return items;
    }

    /// <summary>Parses a whole list response body (as GET /api/v1/services returns it).</summary>
    public static List<T> ReadList<T>(string json, JsonTypeInfo<T> typeInfo, List<string> errors) where T : class
    {
        var list = JsonSerializer.Deserialize(json, KubeJsonContext.Default.KubeList)
            ?? throw new JsonException("the list body is null");
        return ReadItems(list, typeInfo, errors);
    }

    /// <summary><c>kind namespace/name</c> when the metadata is readable, else what there is.</summary>
    public static string Describe(JsonElement element)
    {
        string? kind = null, ns = null, name = null;
        if (element.ValueKind == JsonValueKind.Object)
        {
            if (element.TryGetProperty("kind", out var k) && k.ValueKind == JsonValueKind.String)
                kind = k.GetString();
            if (element.TryGetProperty("metadata", out var meta) && meta.ValueKind == JsonValueKind.Object)
            {
                if (meta.TryGetProperty("namespace", out var n) && n.ValueKind == JsonValueKind.String)
                    ns = n.GetString();
                if (meta.TryGetProperty("name", out var m) && m.ValueKind == JsonValueKind.String)
                    name = m.GetString();
            }
        }
        var id = ns is null ? name ?? "(unnamed)" : $"{ns}/{name}";
        return kind is null ? id : $"{kind} {id}";
    }
}
