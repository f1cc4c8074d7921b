using System.Net;
using System.Net.Sockets;
using FsCheck;
using FsCheck.Fluent;
using Lb.Core.Config;
using Lb.Core.Model;
using static Lb.Core.Tests.Config.ConfigTestText;

namespace Lb.Core.Tests.Config;

public class LbConfigWriterTests
{
    [Fact]
    public void ToYaml_ExampleFile_ReadsBackAsTheSameConfig()
    {
        var original = LbConfigLoader.Load(TestFile("examples", "lb.yaml")).GetConfigOrThrow();

        var written = LbConfigWriter.ToYaml(original);

        Assert.Equal(original, Valid(written));
    }

    [Fact]
    public void ToYaml_DefaultsOnly_WritesEveryFieldExplicitly()
    {
        var yaml = LbConfigWriter.ToYaml(Valid("services: []"));

        Assert.Equal("""
            datapath:
              mode: xdp
              interfaces: []
              maglev: {tableSize: 16381, seed: lb}
              flowTable: {capacity: 1000000}
            admin: {listen: '127.0.0.1:9090', allowRemote: false}
            services: []

            """.ReplaceLineEndings("\n"), yaml);
    }

    [Fact]
    public void ToYaml_Service_WritesTheCanonicalLayout()
    {
        var config = Valid("""
            datapath: { interfaces: [eth0], snatAddressV6: "2001:db8:0::1" }
            services:
              - name: web
                sourceRanges: ["2001:db8::/32"]
                backends: [{ address: "2001:db8::11", port: 8080, weight: 3 }]
                sessionAffinity: { clientIP: {} }
                frontends: [{ port: 30080, kind: nodePort, family: ipv6 }, { address: "2001:db8::10", port: 80, protocol: udp }]
            """);

        Assert.Equal("""
            datapath:
              mode: xdp
              interfaces: [eth0]
              snatAddressV6: 2001:db8::1
              maglev: {tableSize: 16381, seed: lb}
              flowTable: {capacity: 1000000}
            admin: {listen: '127.0.0.1:9090', allowRemote: false}
            services:
              - name: web
                frontends:
                  - {port: 30080, protocol: tcp, kind: nodePort, family: ipv6}
                  - {address: '2001:db8::10', port: 80, protocol: udp, kind: static}
                forwarding: nat
                scheduler: maglev
                sessionAffinity: {clientIP: {timeoutSeconds: 10800}}
                externalTrafficPolicy: cluster
                sourceRanges: ['2001:db8::/32']
                backends:
                  - {address: '2001:db8::11', port: 8080, weight: 3, state: active}

            """.ReplaceLineEndings("\n"), LbConfigWriter.ToYaml(config));
    }

    [Theory]
    [InlineData("null")]
    [InlineData("~")]
    [InlineData("NULL")]
    [InlineData("true")]
    [InlineData("16381")]
    [InlineData("a: b")]
    [InlineData("# not a comment")]
    [InlineData(" padded ")]
    [InlineData("'single' and \"double\"")]
    [InlineData("line\nbreak")]
    [InlineData("*alias &anchor !tag")]
    [InlineData("ключ")]
    public void ToYaml_SeedThatYamlWouldReadAsSomethingElse_ReadsBackUnchanged(string seed)
    {
        var config = Valid("services: []") with
        {
            Datapath = DatapathOptions.Default with { Maglev = new MaglevOptions(16381, seed) },
        };

        Assert.Equal(seed, Valid(LbConfigWriter.ToYaml(config)).Datapath.Maglev.Seed);
    }

    /// <summary>
    /// Any valid configuration survives writing and reading, and the canonical text is a fixed point.
    /// FsCheck draws the seeds; each seed builds one valid configuration deterministically.
    /// </summary>
    [Fact]
    public void ToYaml_AnyValidConfig_ReadsBackEqualAndWritesTheSameText()
    {
        Prop.ForAll(Arb.From(Gen.Choose(0, int.MaxValue)), seed =>
        {
            var config = RandomValidConfig(seed);
            var yaml = LbConfigWriter.ToYaml(config);
            var result = LbConfigLoader.Parse(yaml, $"seed-{seed}.yaml");
            Assert.True(result.IsValid, $"seed {seed} wrote a file that does not read back:\n{result}\n---\n{yaml}");
            Assert.Equal(config, result.Config);
            Assert.Equal(yaml, LbConfigWriter.ToYaml(result.Config!));
        }).QuickCheckThrowOnFailure();
    }

    private static readonly string[] Seeds =
        ["lb", "null", "~", "a: b", "#x", " lead", "ключ", "'q'", "\"dq\"", "- dash", "123", "true", "multi\nline", "{x}", "[y]", "@at", "`tick`", "%d"];

    private static readonly string[] Ranges =
        ["0.0.0.0/0", "::/0", "10.0.0.0/8", "192.0.2.0/24", "203.0.113.7/32", "2001:db8::/32", "2001:db8:1:2::/64", "fd00::1/128"];

    private static T Pick<T>(Random random, IReadOnlyList<T> items) => items[random.Next(items.Count)];

    private static LbConfig RandomValidConfig(int seed)
    {
        var random = new Random(seed);
        var datapath = new DatapathOptions(
            Pick(random, [DatapathMode.Xdp, DatapathMode.AfXdp]),
            new[] { "eth0", "ens3", "bond0.100", "veth-lb_1" }.Where(_ => random.Next(2) == 0).ToEquatableArray(),
            random.Next(2) == 0 ? null : IPAddress.Parse($"192.0.2.{random.Next(1, 255)}"),
            random.Next(2) == 0 ? null : IPAddress.Parse($"2001:db8::{random.Next(1, 0xffff):x}"),
            new MaglevOptions(Pick(random, [251u, 16381u, 65521u, 131071u]), Pick(random, Seeds)),
            (uint)random.Next(1024, 64 * 1024 * 1024 + 1));
        var admin = Pick(random, new[]
        {
            new AdminOptions($"127.0.0.1:{random.Next(1, 65536)}"),
            new AdminOptions($"[::1]:{random.Next(1, 65536)}"),
            new AdminOptions($"0.0.0.0:{random.Next(1, 65536)}", AllowRemote: true),
            new AdminOptions($"[2001:db8::5]:{random.Next(1, 65536)}", AllowRemote: true),
            new AdminOptions("127.0.0.2:9090", AllowRemote: true),
        });
        var services = Enumerable.Range(0, random.Next(0, 5)).Select(i => RandomValidService(random, i)).ToEquatableArray();
        return new LbConfig(datapath, admin, services);
    }

    /// <summary>Service <paramref name="index"/> owns addresses and ports no other service uses, and obeys the DSR and family rules.</summary>
    private static Service RandomValidService(Random random, int index)
    {
        var forwarding = Pick(random, [ForwardingMode.Nat, ForwardingMode.DsrIpip, ForwardingMode.DsrL2]);
        var families = Pick(random, new[]
        {
            new[] { AddressFamily.InterNetwork },
            new[] { AddressFamily.InterNetworkV6 },
            new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 },
        });
        var servicePort = (ushort)(1000 + 10 * index);
        var isDsr = forwarding != ForwardingMode.Nat;

        var frontends = new List<Frontend>();
        foreach (var family in families)
        {
            for (var k = 0; k < random.Next(1, 3); k++)
            {
                var address = family == AddressFamily.InterNetwork
                    ? IPAddress.Parse($"198.51.{index}.{k + 1}")
                    : IPAddress.Parse($"2001:db8:{index}::{k + 1}");
                var port = isDsr ? servicePort : (ushort)(servicePort + k);
                frontends.Add(Frontend.At(address, port, Pick(random, [L4Protocol.Tcp, L4Protocol.Udp]),
                    Pick(random, [FrontendKind.Static, FrontendKind.LoadBalancer, FrontendKind.ExternalIP, FrontendKind.NodePort])));
            }
            if (random.Next(3) == 0)
                frontends.Add(Frontend.AnyAddress(servicePort, L4Protocol.Tcp, family));
        }

        var backends = new List<Backend>();
        if (random.Next(5) != 0)
        {
            foreach (var family in families)
            {
                for (var k = 0; k < random.Next(1, 4); k++)
                {
                    var address = family == AddressFamily.InterNetwork
                        ? IPAddress.Parse($"10.{index}.0.{k + 1}")
                        : IPAddress.Parse($"fd00:{index}::{k + 1}");
                    var port = isDsr ? servicePort : (ushort)random.Next(1, 65536);
                    backends.Add(new Backend(address, port, (ushort)random.Next(1, 65536),
                        Pick(random, [BackendState.Active, BackendState.Terminating, BackendState.Maintenance])));
                }
            }
        }

        var policy = new ServicePolicy(
            forwarding,
            Pick(random, [SchedulerKind.Maglev, SchedulerKind.Random]),
            random.Next(2) == 0 ? null : new SessionAffinity((uint)random.Next(1, 86401)),
            Pick(random, [TrafficPolicy.Cluster, TrafficPolicy.Local]),
            Ranges.Where(_ => random.Next(3) == 0).Select(IPNetwork.Parse).ToEquatableArray());
        var name = random.Next(2) == 0 ? $"svc-{index}" : $"ns{index}/name.{index}_x";
        return new Service(name, frontends.ToEquatableArray(), backends.ToEquatableArray(), policy);
    }
}
