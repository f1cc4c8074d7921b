using System.Globalization;
using System.Net;
using Lb.Core.Model;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Lb.Core.Config;

/// <summary>
/// Writes an <see cref="LbConfig"/> as canonical lb.yaml: every field with its effective value (defaults
/// spelled out, only absent optional values left out), in the order the reference documents them, one
/// flow mapping per frontend and backend. Reading the output back yields an equal configuration.
/// </summary>
public static class LbConfigWriter
{
    public static string ToYaml(LbConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var text = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        var emitter = new Emitter(text, new EmitterSettings().WithBestIndent(2).WithIndentedSequences().WithNewLine("\n"));
        var yaml = new Writer(emitter);

        emitter.Emit(new StreamStart());
        emitter.Emit(new DocumentStart());
        yaml.BeginMap();
        WriteDatapath(yaml, config.Datapath);
        yaml.Key("admin");
        yaml.BeginMap(flow: true);
        yaml.Pair("listen", config.Admin.Listen);
        yaml.Pair("allowRemote", config.Admin.AllowRemote);
        yaml.EndMap();
        yaml.Key("services");
        yaml.BeginList(flow: config.Services.Count == 0);
        foreach (var service in config.Services)
            WriteService(yaml, service);
        yaml.EndList();
        yaml.EndMap();
        emitter.Emit(new DocumentEnd(isImplicit: true));
        emitter.Emit(new StreamEnd());
        return text.ToString();
    }

    private static void WriteDatapath(Writer yaml, DatapathOptions datapath)
    {
        yaml.Key("datapath");
        yaml.BeginMap();
        yaml.Pair("mode", ConfigNames.Mode.NameOf(datapath.Mode));
        yaml.Key("interfaces");
        yaml.BeginList(flow: true);
        foreach (var name in datapath.Interfaces)
            yaml.String(name);
        yaml.EndList();
        if (datapath.SnatAddress is { } snat4)
            yaml.Pair("snatAddress", snat4.ToString());
        if (datapath.SnatAddressV6 is { } snat6)
            yaml.Pair("snatAddressV6", snat6.ToString());
        yaml.Key("maglev");
        yaml.BeginMap(flow: true);
        yaml.Pair("tableSize", datapath.Maglev.TableSize);
        yaml.Pair("seed", datapath.Maglev.Seed);
        yaml.EndMap();
        yaml.Key("flowTable");
        yaml.BeginMap(flow: true);
        yaml.Pair("capacity", datapath.FlowTableCapacity);
        yaml.EndMap();
        yaml.EndMap();
    }

    private static void WriteService(Writer yaml, Service service)
    {
        yaml.BeginMap();
        yaml.Pair("name", service.Name);

        yaml.Key("frontends");
        yaml.BeginList();
        foreach (var frontend in service.Frontends)
        {
            yaml.BeginMap(flow: true);
            if (frontend.Address is { } address)
                yaml.Pair("address", address.ToString());
            yaml.Pair("port", frontend.Port);
            yaml.Pair("protocol", ConfigNames.Protocol.NameOf(frontend.Protocol));
            yaml.Pair("kind", ConfigNames.Kind.NameOf(frontend.Kind));
            if (frontend.Address is null)
                yaml.Pair("family", ConfigNames.Family.NameOf(frontend.Family));
            yaml.EndMap();
        }
        yaml.EndList();

        var policy = service.Policy;
        yaml.Pair("forwarding", ConfigNames.Forwarding.NameOf(policy.Forwarding));
        yaml.Pair("scheduler", ConfigNames.Scheduler.NameOf(policy.Scheduler));
        if (policy.Affinity is { } affinity)
        {
            yaml.Key("sessionAffinity");
            yaml.BeginMap(flow: true);
            yaml.Key("clientIP");
            yaml.BeginMap(flow: true);
            yaml.Pair("timeoutSeconds", affinity.TimeoutSeconds);
            yaml.EndMap();
            yaml.EndMap();
        }
        yaml.Pair("externalTrafficPolicy", ConfigNames.TrafficPolicy.NameOf(policy.ExternalTrafficPolicy));
        yaml.Key("sourceRanges");
        yaml.BeginList(flow: true);
        foreach (var range in policy.SourceRanges)
            yaml.String(range.ToString());
        yaml.EndList();

        yaml.Key("backends");
        yaml.BeginList(flow: service.Backends.Count == 0);
        foreach (var backend in service.Backends)
        {
            yaml.BeginMap(flow: true);
            yaml.Pair("address", backend.Address.ToString());
            yaml.Pair("port", backend.Port);
            yaml.Pair("weight", backend.Weight);
            yaml.Pair("state", ConfigNames.State.NameOf(backend.State));
            yaml.EndMap();
        }
        yaml.EndList();
        yaml.EndMap();
    }

    /// <summary>Thin event helpers, so the layout above reads like the file it writes.</summary>
    private sealed class Writer(IEmitter emitter)
    {
        public void BeginMap(bool flow = false) =>
            emitter.Emit(new MappingStart(AnchorName.Empty, TagName.Empty, true, flow ? MappingStyle.Flow : MappingStyle.Block));

        public void EndMap() => emitter.Emit(new MappingEnd());

        public void BeginList(bool flow = false) =>
            emitter.Emit(new SequenceStart(AnchorName.Empty, TagName.Empty, true, flow ? SequenceStyle.Flow : SequenceStyle.Block));

        public void EndList() => emitter.Emit(new SequenceEnd());

        public void Key(string name) => emitter.Emit(new Scalar(name));

        /// <summary>
        /// Text that would read back as null when unquoted (empty, "~", "null") is quoted; other text
        /// is left to the emitter, which quotes whatever YAML needs quoted.
        /// </summary>
        public void String(string value)
        {
            var readsAsNull = value is "" or "~" or "null" or "Null" or "NULL";
            emitter.Emit(new Scalar(AnchorName.Empty, TagName.Empty, value,
                readsAsNull ? ScalarStyle.DoubleQuoted : ScalarStyle.Any, true, true));
        }

        public void Pair(string key, string value)
        {
            Key(key);
            String(value);
        }

        public void Pair(string key, ulong value)
        {
            Key(key);
            emitter.Emit(new Scalar(value.ToString(CultureInfo.InvariantCulture)));
        }

        public void Pair(string key, bool value)
        {
            Key(key);
            emitter.Emit(new Scalar(value ? "true" : "false"));
        }
    }
}
