using System.Net;
using System.Net.Sockets;
using Lb.Core.Config;
using Lb.Core.Model;
using static Lb.Core.Tests.Config.ConfigTestText;

namespace Lb.Core.Tests.Config;

public class LbConfigLoaderTests
{
    [Fact]
    public void Parse_OnlyEmptyServices_AppliesEveryDocumentedDefault()
    {
        var config = Valid("services: []\n");

        Assert.Equal(DatapathMode.Xdp, config.Datapath.Mode);
        Assert.Empty(config.Datapath.Interfaces);
        Assert.Null(config.Datapath.SnatAddress);
        Assert.Null(config.Datapath.SnatAddressV6);
        Assert.Equal(16381u, config.Datapath.Maglev.TableSize);
        Assert.Equal("lb", config.Datapath.Maglev.Seed);
        Assert.Equal(1_000_000u, config.Datapath.FlowTableCapacity);
        Assert.Equal("127.0.0.1:9090", config.Admin.Listen);
        Assert.False(config.Admin.AllowRemote);
        Assert.Empty(config.Services);
    }

    [Fact]
    public void Parse_ServiceWithRequiredFieldsOnly_UsesPolicyFrontendAndBackendDefaults()
    {
        var config = Valid("""
            services:
              - name: web
                frontends: [{ address: 198.51.100.10, port: 80 }]
                backends: [{ address: 203.0.113.11, port: 8080 }]
            """);

        var service = Assert.Single(config.Services);
        Assert.Equal(ServicePolicy.Default, service.Policy);
        Assert.Null(service.Policy.Affinity);
        Assert.True(service.Policy.AllowsEveryClient);
        var frontend = Assert.Single(service.Frontends);
        Assert.Equal(Frontend.At(IPAddress.Parse("198.51.100.10"), 80, L4Protocol.Tcp, FrontendKind.Static), frontend);
        var backend = Assert.Single(service.Backends);
        Assert.Equal(new Backend(IPAddress.Parse("203.0.113.11"), 8080, 1, BackendState.Active), backend);
    }

    [Fact]
    public void Parse_DesignContractWithEveryField_BuildsTheModel()
    {
        var config = Valid("""
            datapath:
              mode: afxdp
              interfaces: [eth0, eth1]
              snatAddress: 192.0.2.1
              snatAddressV6: "2001:db8::1"
              maglev: { tableSize: 65521, seed: "any string" }
              flowTable: { capacity: 2000000 }
            admin: { listen: "[::1]:9191" }
            services:
              - name: web
                frontends:
                  - { address: 198.51.100.10, port: 80, protocol: tcp }
                  - { address: "2001:db8::10", port: 80, protocol: udp, kind: loadBalancer }
                forwarding: dsr-l2
                scheduler: random
                sessionAffinity: { clientIP: { timeoutSeconds: 600 } }
                externalTrafficPolicy: local
                sourceRanges: [0.0.0.0/0, "::/0"]
                backends:
                  - { address: 203.0.113.11, port: 80, weight: 3 }
                  - { address: "2001:db8::11", port: 80, state: terminating }
                  - { address: 203.0.113.12, port: 80, state: maintenance }
            """);

        var expected = new LbConfig(
            new DatapathOptions(
                DatapathMode.AfXdp,
                EquatableArray.Create("eth0", "eth1"),
                IPAddress.Parse("192.0.2.1"),
                IPAddress.Parse("2001:db8::1"),
                new MaglevOptions(65521, "any string"),
                2_000_000),
            new AdminOptions("[::1]:9191"),
            EquatableArray.Create(new Service(
                "web",
                EquatableArray.Create(
                    Frontend.At(IPAddress.Parse("198.51.100.10"), 80, L4Protocol.Tcp),
                    Frontend.At(IPAddress.Parse("2001:db8::10"), 80, L4Protocol.Udp, FrontendKind.LoadBalancer)),
                EquatableArray.Create(
                    new Backend(IPAddress.Parse("203.0.113.11"), 80, 3),
                    new Backend(IPAddress.Parse("2001:db8::11"), 80, 1, BackendState.Terminating),
                    new Backend(IPAddress.Parse("203.0.113.12"), 80, 1, BackendState.Maintenance)),
                new ServicePolicy(
                    ForwardingMode.DsrL2,
                    SchedulerKind.Random,
                    new SessionAffinity(600),
                    TrafficPolicy.Local,
                    EquatableArray.Create(IPNetwork.Parse("0.0.0.0/0"), IPNetwork.Parse("::/0"))))));
        Assert.Equal(expected, config);
    }

    [Fact]
    public void Parse_NodePortWithoutAddressOrFamily_YieldsAnAnyAddressFrontendPerFamily()
    {
        var config = Valid("""
            services:
              - name: web
                frontends: [{ port: 30080, protocol: tcp, kind: nodePort }]
                backends:
                  - { address: 203.0.113.11, port: 8080 }
                  - { address: "2001:db8::11", port: 8080 }
            """);

        Assert.Equal(
            [Frontend.AnyAddress(30080, L4Protocol.Tcp, AddressFamily.InterNetwork),
             Frontend.AnyAddress(30080, L4Protocol.Tcp, AddressFamily.InterNetworkV6)],
            config.Services[0].Frontends);
    }

    [Fact]
    public void Parse_NodePortWithFamily_YieldsOneAnyAddressFrontend()
    {
        var config = Valid("""
            services:
              - name: web
                frontends: [{ port: 30053, protocol: udp, kind: nodePort, family: ipv6 }]
                backends: [{ address: "2001:db8::11", port: 53 }]
            """);

        Assert.Equal([Frontend.AnyAddress(30053, L4Protocol.Udp, AddressFamily.InterNetworkV6)], config.Services[0].Frontends);
    }

    [Fact]
    public void Parse_NodePortWithAddress_MatchesThatAddressOnly()
    {
        var config = Valid("""
            services:
              - name: web
                frontends: [{ address: 192.0.2.7, port: 30080, kind: nodePort }]
            """);

        Assert.Equal([Frontend.At(IPAddress.Parse("192.0.2.7"), 30080, L4Protocol.Tcp, FrontendKind.NodePort)], config.Services[0].Frontends);
    }

    [Fact]
    public void Parse_NodePortAnyAddressAndSpecificAddressOnOnePort_AreDistinctFrontends()
    {
        var config = Valid("""
            services:
              - name: any
                frontends: [{ port: 30080, kind: nodePort, family: ipv4 }]
              - name: one
                frontends: [{ address: 192.0.2.7, port: 30080 }]
            """);

        Assert.Equal(2, config.Services.Count);
    }

    [Theory]
    [InlineData("sessionAffinity: { clientIP: {} }", 10800u)]
    [InlineData("sessionAffinity: { clientIP: }", 10800u)]
    [InlineData("sessionAffinity: { clientIP: { timeoutSeconds: 1 } }", 1u)]
    [InlineData("sessionAffinity: { clientIP: { timeoutSeconds: 86400 } }", 86400u)]
    public void Parse_ClientIpAffinity_TakesTheTimeoutOrTheDefault(string affinityLine, uint expectedTimeout)
    {
        var config = Valid($"""
            services:
              - name: web
                frontends: [{"{"} address: 198.51.100.10, port: 80 {"}"}]
                {affinityLine}
            """);

        Assert.Equal(new SessionAffinity(expectedTimeout), config.Services[0].Policy.Affinity);
    }

    [Theory]
    [InlineData("sessionAffinity: {}")]
    [InlineData("sessionAffinity: ~")]
    [InlineData("sessionAffinity:")]
    public void Parse_AffinityWithoutClientIp_MeansNone(string affinityLine)
    {
        var config = Valid($"""
            services:
              - name: web
                frontends: [{"{"} address: 198.51.100.10, port: 80 {"}"}]
                {affinityLine}
            """);

        Assert.Null(config.Services[0].Policy.Affinity);
    }

    [Fact]
    public void Parse_FieldWrittenWithoutValue_TakesItsDefault()
    {
        var config = Valid("""
            datapath:
              mode:
              maglev: { tableSize: ~, seed: null }
            services:
              - name: web
                frontends: [{ address: 198.51.100.10, port: 80, protocol: }]
                backends: [{ address: 203.0.113.11, port: 8080, weight: ~ }]
            """);

        Assert.Equal(DatapathOptions.Default, config.Datapath);
        Assert.Equal(L4Protocol.Tcp, config.Services[0].Frontends[0].Protocol);
        Assert.Equal(1, config.Services[0].Backends[0].Weight);
    }

    [Fact]
    public void Parse_AnchorAndAlias_ShareOneBackendList()
    {
        var config = Valid("""
            services:
              - name: web
                frontends: [{ address: 198.51.100.10, port: 80 }]
                backends: &pool
                  - { address: 203.0.113.11, port: 8080 }
                  - { address: 203.0.113.12, port: 8080 }
              - name: web-alt
                frontends: [{ address: 198.51.100.11, port: 80 }]
                backends: *pool
            """);

        Assert.Equal(2, config.Services[1].Backends.Count);
        Assert.Equal(config.Services[0].Backends, config.Services[1].Backends);
    }

    [Fact]
    public void Parse_ServiceWithoutBackends_IsValid()
    {
        var config = Valid("""
            services:
              - name: parked
                frontends: [{ address: 198.51.100.10, port: 80 }, { address: "2001:db8::10", port: 80 }]
            """);

        Assert.Empty(config.Services[0].Backends);
    }

    [Fact]
    public void Parse_RemoteAdminWithAllowRemote_IsValidAndNormalised()
    {
        var config = Valid("""
            admin: { listen: "[0:0::0]:9090", allowRemote: true }
            services: []
            """);

        Assert.Equal(new AdminOptions("[::]:9090", AllowRemote: true), config.Admin);
    }

    [Fact]
    public void Parse_ServiceNameInNamespaceForm_IsValid()
    {
        var config = Valid("""
            services:
              - name: kube-system/kube-dns.v2
                frontends: [{ address: 198.51.100.10, port: 53, protocol: udp }]
            """);

        Assert.Equal("kube-system/kube-dns.v2", config.Services[0].Name);
    }

    [Fact]
    public void Parse_ServicesOrderFrontendsAndBackends_KeepTheFileOrder()
    {
        var config = Valid("""
            services:
              - name: b
                frontends: [{ address: 198.51.100.2, port: 80 }]
                backends: [{ address: 203.0.113.2, port: 80 }, { address: 203.0.113.1, port: 80 }]
              - name: a
                frontends: [{ address: 198.51.100.1, port: 80 }]
            """);

        Assert.Equal(["b", "a"], config.Services.Select(s => s.Name));
        Assert.Equal(["203.0.113.2:80", "203.0.113.1:80"], config.Services[0].Backends.Select(b => b.Identity));
    }

    [Fact]
    public void Load_ExampleFile_ParsesIntoTwoServicesOfBothFamiliesAndModes()
    {
        var result = LbConfigLoader.Load(TestFile("examples", "lb.yaml"));

        Assert.True(result.IsValid, result.ToString());
        var config = result.Config!;
        Assert.Equal(2, config.Services.Count);
        var web = config.Services.Single(s => s.Name == "web");
        var dns = config.Services.Single(s => s.Name == "dns");
        Assert.Equal(ForwardingMode.Nat, web.Policy.Forwarding);
        Assert.Equal(ForwardingMode.DsrIpip, dns.Policy.Forwarding);
        Assert.NotNull(web.Policy.Affinity);
        Assert.NotEmpty(web.Policy.SourceRanges);
        Assert.Contains(web.Frontends, f => f.Family == AddressFamily.InterNetwork);
        Assert.Contains(web.Frontends, f => f.Family == AddressFamily.InterNetworkV6);
        Assert.Contains(web.Backends, b => b.State == BackendState.Maintenance);
        Assert.All(dns.Backends, b => Assert.Equal(dns.Frontends[0].Port, b.Port));
    }

    [Fact]
    public void Load_MissingFile_ReturnsAnErrorNamingThePath()
    {
        var path = Path.Combine(Path.GetTempPath(), $"lb-missing-{Guid.NewGuid():N}.yaml");

        var result = LbConfigLoader.Load(path);

        Assert.False(result.IsValid);
        var error = Assert.Single(result.Errors);
        Assert.Equal(path, error.Source);
        Assert.Equal(0, error.Line);
        Assert.StartsWith($"{path}: cannot read the file: ", error.ToString());
    }

    [Fact]
    public void Load_FileWithError_NamesThePathInTheError()
    {
        var path = Path.Combine(Path.GetTempPath(), $"lb-bad-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, "services: []\nadmin: { listen: nowhere }\n");
        try
        {
            var error = Assert.Single(LbConfigLoader.Load(path).Errors);

            Assert.Equal($"{path}:2:18: admin.listen: 'nowhere' is not host:port (no port); expected host:port, as in 127.0.0.1:9090 or [::1]:9090",
                error.ToString());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void GetConfigOrThrow_InvalidFile_ThrowsConfigExceptionWithEveryError()
    {
        var result = LbConfigLoader.Parse("""
            datapath: { mode: ebpf }
            services: [{ name: web, frontends: [{ address: 198.51.100.10, port: 0 }] }]
            """, Source);

        var exception = Assert.Throws<ConfigException>(result.GetConfigOrThrow);

        Assert.Equal(result.Errors, exception.Errors);
        Assert.Equal(2, exception.Errors.Length);
        Assert.Contains("invalid configuration (2 errors):", exception.Message);
        Assert.Contains("lb.yaml:1:19: datapath.mode: 'ebpf' is not a valid datapath mode (expected xdp | afxdp)", exception.Message);
        Assert.Contains("lb.yaml:2:69: services[0].frontends[0].port: 0 is out of range (1-65535)", exception.Message);
    }

    [Fact]
    public void GetConfigOrThrow_ValidFile_ReturnsTheConfig()
    {
        var result = LbConfigLoader.Parse("services: []", Source);

        Assert.Same(result.Config, result.GetConfigOrThrow());
    }

    [Fact]
    public void Parse_ErrorsFromDifferentChecks_AreListedInFileOrder()
    {
        var errors = Errors("""
            services:
              - name: web
                frontends: [{ address: 198.51.100.10, port: 80 }]
              - name: web
                frontends: [{ address: 198.51.100.10, port: 80 }]
                backends: [{ address: 203.0.113.11, port: 99999 }]
            admin: { listen: "10.0.0.1:9090" }
            """);

        Assert.Equal([4, 5, 6, 7], errors.Select(e => e.Line));
    }
}
