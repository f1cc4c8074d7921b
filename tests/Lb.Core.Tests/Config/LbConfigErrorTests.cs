using static Lb.Core.Tests.Config.ConfigTestText;

namespace Lb.Core.Tests.Config;

/// <summary>
/// Every rejected input: the test asserts the whole message as the user reads it (file, line,
/// column, field path, reason), so a wrong line is as much a failure as a wrong reason.
/// </summary>
public class LbConfigErrorTests
{
    // Line 4 of Web(...) is the frontend, line 6 the backend; see the comments for columns.
    private static string Web(string frontend = "{ address: 198.51.100.10, port: 80, protocol: tcp }",
                              string backend = "{ address: 203.0.113.11, port: 8080 }",
                              string policy = "") =>
        $"""
        services:
          - name: web
            frontends:
              - {frontend}
            backends:
              - {backend}
        {policy}
        """;

    // ---- YAML itself ----

    [Fact]
    public void Parse_BadIndentation_ReportsTheSyntaxErrorWithItsLine()
    {
        var error = SingleError("""
            services:
              - name: web
                frontends: []
               backends: []
            """);

        Assert.StartsWith("lb.yaml:4:", error);
        Assert.Contains(": invalid YAML: ", error);
    }

    [Fact]
    public void Parse_UnclosedFlowSequence_ReportsWhereParsingStopped()
    {
        Assert.Equal(
            "lb.yaml:3:1: invalid YAML: cannot parse past this point (an unclosed '[', '{' or quote?)",
            SingleError("services: [\n  { name: web\nadmin: {}\n"));
    }

    [Fact]
    public void Parse_UnterminatedQuote_ReportsTheSyntaxErrorWithItsLine()
    {
        Assert.Equal(
            "lb.yaml:2:18: invalid YAML: While scanning a quoted scalar, found unexpected end of stream.",
            SingleError("services: []\nadmin: { listen: \"127.0.0.1:9090 }\n"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n\n")]
    [InlineData("# services will come later\n")]
    [InlineData("---\n")]
    [InlineData("~\n")]
    public void Parse_EmptyDocument_IsRefusedSoATruncatedFileCannotEmptyTheTables(string yaml)
    {
        Assert.Equal(
            "lb.yaml:1:1: the file is empty; a configuration without services must say so with 'services: []'",
            SingleError(yaml));
    }

    [Fact]
    public void Parse_MissingServices_IsRefusedWithTheWayToSayNone()
    {
        Assert.Equal(
            "lb.yaml:1:1: services: required field is missing (write 'services: []' for none)",
            SingleError("datapath: { mode: xdp }\n"));
    }

    [Fact]
    public void Parse_ServicesWithoutValue_IsRefusedAtItsKey()
    {
        Assert.Equal(
            "lb.yaml:2:1: services: a value is required (write 'services: []' for none)",
            SingleError("admin: {}\nservices:\n"));
    }

    [Fact]
    public void Parse_DuplicateKey_NamesBothLines()
    {
        Assert.Equal(
            "lb.yaml:5:5: services[0].backends: duplicate key 'backends' (first at line 4, column 5)",
            SingleError("""
                services:
                  - name: web
                    frontends: [{ address: 198.51.100.10, port: 80 }]
                    backends: []
                    backends: [{ address: 203.0.113.11, port: 80 }]
                """));
    }

    [Fact]
    public void Parse_DuplicateKeyInFlowMapping_NamesBothColumns()
    {
        Assert.Equal(
            "lb.yaml:6:44: services[0].backends[0].port: duplicate key 'port' (first at line 6, column 34)",
            SingleError(Web(backend: "{ address: 203.0.113.11, port: 80, port: 81 }")));
    }

    [Fact]
    public void Parse_SecondDocument_IsRefused()
    {
        Assert.Equal(
            "lb.yaml:2:1: a second YAML document ('---'); lb.yaml holds exactly one",
            SingleError("services: []\n---\nservices: []\n"));
    }

    [Fact]
    public void Parse_UnknownAlias_IsRefusedOnce()
    {
        Assert.Equal(
            "lb.yaml:5:15: services[0].backends: unknown alias '*pool' (an anchor '&pool' must come before it)",
            SingleError("""
                services:
                  - name: web
                    frontends:
                      - { address: 198.51.100.10, port: 80 }
                    backends: *pool
                """));
    }

    [Fact]
    public void Parse_AliasesThatExpandToBillionsOfNodes_AreRefused()
    {
        var lines = new List<string> { "a0: &a0 [x, x, x, x, x, x, x, x, x, x]" };
        for (var i = 1; i < 12; i++)
            lines.Add($"a{i}: &a{i} [{string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 10))}]");
        lines.Add("services: []");

        Assert.Equal("lb.yaml:1:1: the document expands to more than 5000000 nodes through aliases",
            SingleError(string.Join("\n", lines)));
    }

    [Fact]
    public void Parse_NestingThousandsDeep_IsRefusedWithoutOverflowingTheStack()
    {
        var yaml = "services: " + new string('[', 100_000) + new string(']', 100_000) + "\n";

        Assert.Equal("lb.yaml:1:75: invalid YAML: nesting deeper than 64 levels", SingleError(yaml));
    }

    [Fact]
    public void Parse_ExplicitTag_IsRefused()
    {
        Assert.Equal(
            "lb.yaml:6:40: services[0].backends[0].port: YAML tags ('tag:yaml.org,2002:int') are not supported; quote a value to make it a string",
            SingleError(Web(backend: "{ address: 203.0.113.11, port: !!int 8080 }")));
    }

    [Fact]
    public void Parse_RootIsASequence_IsRefused()
    {
        Assert.Equal("lb.yaml:1:1: expected a mapping (key: value), got a sequence", SingleError("- services: []\n"));
    }

    // ---- unknown fields ----

    [Theory]
    [InlineData("datapth: {}\nservices: []\n", "lb.yaml:1:1: datapth: unknown field 'datapth'; did you mean 'datapath'?")]
    [InlineData("services: []\nadmin: { listen: \"127.0.0.1:9090\", allow_remote: true }\n",
        "lb.yaml:2:36: admin.allow_remote: unknown field 'allow_remote'; did you mean 'allowRemote'?")]
    [InlineData("services: []\ndatapath: { maglev: { size: 7 } }\n",
        "lb.yaml:2:23: datapath.maglev.size: unknown field 'size'; expected one of: tableSize, seed")]
    [InlineData("services: []\ndatapath: { flowtable: { capacity: 2048 } }\n",
        "lb.yaml:2:13: datapath.flowtable: unknown field 'flowtable'; did you mean 'flowTable'?")]
    [InlineData("services: []\nbogus: 1\n",
        "lb.yaml:2:1: bogus: unknown field 'bogus'; expected one of: datapath, admin, services")]
    public void Parse_UnknownField_IsRefusedWithTheClosestKnownName(string yaml, string expected)
    {
        Assert.Equal(expected, SingleError(yaml));
    }

    [Fact]
    public void Parse_MisspelledFrontends_SuggestsFrontendsAndReportsThemMissing()
    {
        var errors = Errors("""
            services:
              - name: web
                frontend:
                  - { address: 198.51.100.10, port: 80 }
            """);

        Assert.Equal(
            ["lb.yaml:2:5: services[0].frontends: required field is missing",
             "lb.yaml:3:5: services[0].frontend: unknown field 'frontend'; did you mean 'frontends'?"],
            errors.Select(e => e.ToString()));
    }

    [Fact]
    public void Parse_UnknownFieldInFrontendBackendAndAffinity_IsRefusedAtEveryLevel()
    {
        var errors = Errors(Web(
            frontend: "{ address: 198.51.100.10, port: 80, proto: tcp }",
            backend: "{ address: 203.0.113.11, port: 8080, wieght: 2 }",
            policy: "    sessionAffinity: { clientIP: { timeout: 60 } }"));

        Assert.Equal(
            ["lb.yaml:4:45: services[0].frontends[0].proto: unknown field 'proto'; did you mean 'protocol'?",
             "lb.yaml:6:46: services[0].backends[0].wieght: unknown field 'wieght'; did you mean 'weight'?",
             "lb.yaml:7:36: services[0].sessionAffinity.clientIP.timeout: unknown field 'timeout'; did you mean 'timeoutSeconds'?"],
            errors.Select(e => e.ToString()));
    }

    // ---- wrong types ----

    [Fact]
    public void Parse_ListWhereAMappingIsExpected_IsRefused()
    {
        Assert.Equal(
            "lb.yaml:6:9: services[0].backends[0]: expected a mapping (key: value), got a sequence",
            SingleError(Web(backend: "[203.0.113.11, 8080]")));
    }

    [Fact]
    public void Parse_MappingWhereAListIsExpected_IsRefused()
    {
        Assert.Equal(
            "lb.yaml:1:25: datapath.interfaces: expected a sequence ([a, b] or '- ' items), got a mapping",
            SingleError("datapath: { interfaces: { eth0: true } }\nservices: []\n"));
    }

    [Fact]
    public void Parse_ScalarWhereAMappingIsExpected_IsRefused()
    {
        Assert.Equal(
            "lb.yaml:1:11: datapath: expected a mapping (key: value), got 'xdp'",
            SingleError("datapath: xdp\nservices: []\n"));
    }

    [Fact]
    public void Parse_StringWhereANumberIsExpected_IsRefused()
    {
        Assert.Equal(
            "lb.yaml:6:40: services[0].backends[0].port: expected an integer, got 'http'",
            SingleError(Web(backend: "{ address: 203.0.113.11, port: http }")));
    }

    [Fact]
    public void Parse_QuotedNumber_IsRefusedWithTheFix()
    {
        Assert.Equal(
            "lb.yaml:6:40: services[0].backends[0].port: expected an integer, got the quoted string \"8080\" (remove the quotes)",
            SingleError(Web(backend: "{ address: 203.0.113.11, port: \"8080\" }")));
    }

    [Fact]
    public void Parse_FractionalNumber_IsRefused()
    {
        Assert.Equal(
            "lb.yaml:6:54: services[0].backends[0].weight: expected an integer, got '1.5'",
            SingleError(Web(backend: "{ address: 203.0.113.11, port: 8080, weight: 1.5 }")));
    }

    [Fact]
    public void Parse_MappingWhereANumberIsExpected_IsRefused()
    {
        Assert.Equal(
            "lb.yaml:6:40: services[0].backends[0].port: expected an integer, got a mapping",
            SingleError(Web(backend: "{ address: 203.0.113.11, port: { http: 80 } }")));
    }

    [Fact]
    public void Parse_BooleanNotTrueOrFalse_IsRefused()
    {
        Assert.Equal(
            "lb.yaml:1:49: admin.allowRemote: expected true or false, got 'yes'",
            SingleError("admin: { listen: \"127.0.0.1:9090\", allowRemote: yes }\nservices: []\n"));
    }

    // ---- addresses and CIDRs ----

    [Theory]
    [InlineData("300.1.1.1", "'300.1.1.1' is not an IP address (IPv4 is four decimal numbers 0-255, as in 192.0.2.1)")]
    [InlineData("203.0.113", "'203.0.113' is not an IP address (IPv4 is four decimal numbers 0-255, as in 192.0.2.1)")]
    [InlineData("010.0.0.1", "'010.0.0.1' is not an IP address (IPv4 is four decimal numbers 0-255, as in 192.0.2.1)")]
    [InlineData("backend-1", "'backend-1' is not an IP address (IPv4 is four decimal numbers 0-255, as in 192.0.2.1)")]
    [InlineData("\"2001:db8::g\"", "'2001:db8::g' is not an IPv6 address")]
    [InlineData("\"[2001:db8::11]\"", "'[2001:db8::11]': write an IPv6 address without brackets")]
    [InlineData("\"fe80::1%eth0\"", "'fe80::1%eth0': zone ids ('%eth0') are not supported")]
    [InlineData("\"::ffff:203.0.113.11\"", "'::ffff:203.0.113.11' is an IPv4-mapped IPv6 address; write the IPv4 address 203.0.113.11")]
    [InlineData("0.0.0.0", "0.0.0.0 is the unspecified address, not a host")]
    [InlineData("\"::\"", ":: is the unspecified address, not a host")]
    [InlineData("255.255.255.255", "255.255.255.255 is the broadcast address, not a host")]
    [InlineData("127.0.0.1", "127.0.0.1 is a loopback address; traffic to it never reaches an interface's XDP program")]
    [InlineData("224.0.0.5", "224.0.0.5 is a multicast address, not a host")]
    [InlineData("\"ff02::1\"", "ff02::1 is a multicast address, not a host")]
    public void Parse_BadBackendAddress_IsRefusedWithTheReason(string address, string reason)
    {
        Assert.Equal(
            $"lb.yaml:6:20: services[0].backends[0].address: {reason}",
            SingleError(Web(backend: $"{{ address: {address}, port: 80 }}")));
    }

    [Fact]
    public void Parse_BadFrontendAddress_IsRefused()
    {
        Assert.Equal(
            "lb.yaml:4:20: services[0].frontends[0].address: '198.51.100.256' is not an IP address (IPv4 is four decimal numbers 0-255, as in 192.0.2.1)",
            SingleError(Web(frontend: "{ address: 198.51.100.256, port: 80 }")));
    }

    [Theory]
    [InlineData("10.0.0.1/8", "'10.0.0.1/8' has bits set after the /8 prefix; did you mean '10.0.0.0/8'?")]
    [InlineData("\"2001:db8::1/32\"", "'2001:db8::1/32' has bits set after the /32 prefix; did you mean '2001:db8::/32'?")]
    [InlineData("10.0.0.1", "'10.0.0.1' is not a CIDR (address/prefix, as in 10.0.0.0/8); write '10.0.0.1/32' for that one address")]
    [InlineData("10.0.0.0/33", "'10.0.0.0/33' is not a CIDR: prefix length 33 is out of range (0-32)")]
    [InlineData("\"2001:db8::/129\"", "'2001:db8::/129' is not a CIDR: prefix length 129 is out of range (0-128)")]
    [InlineData("10.0.0.0/x", "'10.0.0.0/x' is not a CIDR: the prefix length must be a number 0-32")]
    [InlineData("10.0.0/8", "'10.0.0/8' is not a CIDR: '10.0.0' is not an IP address (IPv4 is four decimal numbers 0-255, as in 192.0.2.1)")]
    [InlineData("any", "'any' is not a CIDR (address/prefix, as in 10.0.0.0/8)")]
    public void Parse_BadSourceRange_IsRefusedWithTheReason(string range, string reason)
    {
        Assert.Equal(
            $"lb.yaml:7:34: services[0].sourceRanges[1]: {reason}",
            SingleError(Web(policy: $"    sourceRanges: [192.0.2.0/24, {range}]")));
    }

    [Fact]
    public void Parse_SourceRangeListedTwice_IsRefused()
    {
        Assert.Equal(
            "lb.yaml:7:34: services[0].sourceRanges[1]: 192.0.2.0/24 is listed twice (first at line 7, column 20)",
            SingleError(Web(policy: "    sourceRanges: [192.0.2.0/24, 192.0.2.0/24]")));
    }

    // ---- numbers out of range ----

    [Theory]
    [InlineData("70000", "70000 is out of range (1-65535)")]
    [InlineData("0", "0 is out of range (1-65535)")]
    [InlineData("-1", "-1 is out of range (1-65535)")]
    [InlineData("99999999999999999999999", "99999999999999999999999 is out of range (1-65535)")]
    public void Parse_BackendPortOutOfRange_IsRefused(string port, string reason)
    {
        Assert.Equal(
            $"lb.yaml:6:40: services[0].backends[0].port: {reason}",
            SingleError(Web(backend: $"{{ address: 203.0.113.11, port: {port} }}")));
    }

    [Fact]
    public void Parse_FrontendPortZero_IsRefused()
    {
        Assert.Equal(
            "lb.yaml:4:41: services[0].frontends[0].port: 0 is out of range (1-65535)",
            SingleError(Web(frontend: "{ address: 198.51.100.10, port: 0, protocol: tcp }")));
    }

    [Fact]
    public void Parse_FrontendWithoutPort_IsRefusedAtTheFrontend()
    {
        Assert.Equal(
            "lb.yaml:4:9: services[0].frontends[0].port: required field is missing",
            SingleError(Web(frontend: "{ address: 198.51.100.10 }")));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("65536")]
    public void Parse_WeightOutOfRange_IsRefusedPointingToMaintenance(string weight)
    {
        Assert.Equal(
            $"lb.yaml:6:54: services[0].backends[0].weight: {weight} is out of range (1-65535); to drain a backend, set state: maintenance",
            SingleError(Web(backend: $"{{ address: 203.0.113.11, port: 8080, weight: {weight} }}")));
    }

    [Fact]
    public void Parse_WeightAtItsBounds_IsAccepted()
    {
        var config = Valid(Web(backend: "{ address: 203.0.113.11, port: 8080, weight: 65535 }") +
                           "      - { address: 203.0.113.12, port: 8080, weight: 1 }\n");

        Assert.Equal([65535, 1], config.Services[0].Backends.Select(b => (int)b.Weight));
    }

    [Theory]
    [InlineData("16380", "16380 is not prime, so some backends' permutations would not cover the table; use a prime such as 16369 or 16381 (e.g. 16381 or 65537)")]
    [InlineData("65536", "65536 is not prime, so some backends' permutations would not cover the table; use a prime such as 65521 or 65537 (e.g. 16381 or 65537)")]
    [InlineData("9", "9 is too small: it must be a prime of at least 251; use e.g. 16381 or 65537")]
    [InlineData("131101", "131101 is too large: it must be a prime of at most 131071; use e.g. 16381 or 65537")]
    public void Parse_BadMaglevTableSize_IsRefused(string size, string reason)
    {
        Assert.Equal(
            $"lb.yaml:1:34: datapath.maglev.tableSize: {reason}",
            SingleError($"datapath: {{ maglev: {{ tableSize: {size} }} }}\nservices: []\n"));
    }

    [Theory]
    [InlineData(251u)]
    [InlineData(65537u)]
    [InlineData(131071u)]
    public void Parse_PrimeMaglevTableSize_IsAccepted(uint size)
    {
        var config = Valid($"datapath: {{ maglev: {{ tableSize: {size} }} }}\nservices: []\n");

        Assert.Equal(size, config.Datapath.Maglev.TableSize);
    }

    [Fact]
    public void Parse_EmptySeed_IsRefused()
    {
        Assert.Equal(
            "lb.yaml:1:29: datapath.maglev.seed: the seed must not be empty",
            SingleError("datapath: { maglev: { seed: \"\" } }\nservices: []\n"));
    }

    [Theory]
    [InlineData("1023", "1023 is out of range (1024-67108864)")]
    [InlineData("67108865", "67108865 is out of range (1024-67108864)")]
    [InlineData("0", "0 is out of range (1024-67108864)")]
    public void Parse_FlowTableCapacityOutOfRange_IsRefused(string capacity, string reason)
    {
        Assert.Equal(
            $"lb.yaml:1:36: datapath.flowTable.capacity: {reason}",
            SingleError($"datapath: {{ flowTable: {{ capacity: {capacity} }} }}\nservices: []\n"));
    }

    [Theory]
    [InlineData(1024u)]
    [InlineData(67108864u)]
    public void Parse_FlowTableCapacityAtItsBounds_IsAccepted(uint capacity)
    {
        Assert.Equal(capacity, Valid($"datapath: {{ flowTable: {{ capacity: {capacity} }} }}\nservices: []\n").Datapath.FlowTableCapacity);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("86401")]
    public void Parse_AffinityTimeoutOutOfRange_IsRefused(string timeout)
    {
        Assert.Equal(
            $"lb.yaml:7:52: services[0].sessionAffinity.clientIP.timeoutSeconds: {timeout} is out of range (1-86400)",
            SingleError(Web(policy: $"    sessionAffinity: {{ clientIP: {{ timeoutSeconds: {timeout} }} }}")));
    }

    // ---- enums ----

    [Theory]
    [InlineData("TCP", "'TCP' is not a valid protocol (expected tcp | udp); did you mean 'tcp'?")]
    [InlineData("sctp", "'sctp' is not a valid protocol (expected tcp | udp)")]
    [InlineData("6", "'6' is not a valid protocol (expected tcp | udp)")]
    public void Parse_BadProtocol_IsRefused(string protocol, string reason)
    {
        Assert.Equal(
            $"lb.yaml:4:55: services[0].frontends[0].protocol: {reason}",
            SingleError(Web(frontend: $"{{ address: 198.51.100.10, port: 80, protocol: {protocol} }}")));
    }

    [Theory]
    [InlineData("forwarding: dsr", "lb.yaml:7:17: services[0].forwarding: 'dsr' is not a valid forwarding mode (expected nat | dsr-ipip | dsr-l2)")]
    [InlineData("forwarding: dsr_ipip", "lb.yaml:7:17: services[0].forwarding: 'dsr_ipip' is not a valid forwarding mode (expected nat | dsr-ipip | dsr-l2); did you mean 'dsr-ipip'?")]
    [InlineData("scheduler: roundRobin", "lb.yaml:7:16: services[0].scheduler: 'roundRobin' is not a valid scheduler (expected maglev | random)")]
    [InlineData("scheduler: Maglev", "lb.yaml:7:16: services[0].scheduler: 'Maglev' is not a valid scheduler (expected maglev | random); did you mean 'maglev'?")]
    [InlineData("externalTrafficPolicy: Local", "lb.yaml:7:28: services[0].externalTrafficPolicy: 'Local' is not a valid externalTrafficPolicy (expected cluster | local); did you mean 'local'?")]
    [InlineData("externalTrafficPolicy: node", "lb.yaml:7:28: services[0].externalTrafficPolicy: 'node' is not a valid externalTrafficPolicy (expected cluster | local)")]
    public void Parse_BadServiceEnum_IsRefused(string policyLine, string expected)
    {
        Assert.Equal(expected, SingleError(Web(policy: "    " + policyLine)));
    }

    [Theory]
    [InlineData("xpd", "'xpd' is not a valid datapath mode (expected xdp | afxdp); did you mean 'xdp'?")]
    [InlineData("af_xdp", "'af_xdp' is not a valid datapath mode (expected xdp | afxdp); did you mean 'afxdp'?")]
    [InlineData("ebpf", "'ebpf' is not a valid datapath mode (expected xdp | afxdp)")]
    public void Parse_BadDatapathMode_IsRefused(string mode, string reason)
    {
        Assert.Equal($"lb.yaml:2:9: datapath.mode: {reason}", SingleError($"datapath:\n  mode: {mode}\nservices: []\n"));
    }

    [Theory]
    [InlineData("draining", "'draining' is not a valid backend state (expected active | terminating | maintenance)")]
    [InlineData("Maintenance", "'Maintenance' is not a valid backend state (expected active | terminating | maintenance); did you mean 'maintenance'?")]
    public void Parse_BadBackendState_IsRefused(string state, string reason)
    {
        Assert.Equal(
            $"lb.yaml:6:53: services[0].backends[0].state: {reason}",
            SingleError(Web(backend: $"{{ address: 203.0.113.11, port: 8080, state: {state} }}")));
    }

    [Fact]
    public void Parse_BadFrontendKindAndFamily_AreRefused()
    {
        var errors = Errors("""
            services:
              - name: web
                frontends:
                  - { port: 30080, kind: NodePort }
                  - { port: 30081, kind: nodePort, family: inet6 }
            """);

        Assert.Equal(
            ["lb.yaml:4:30: services[0].frontends[0].kind: 'NodePort' is not a valid frontend kind (expected static | loadBalancer | externalIP | nodePort); did you mean 'nodePort'?",
             "lb.yaml:5:48: services[0].frontends[1].family: 'inet6' is not a valid address family (expected ipv4 | ipv6)"],
            errors.Select(e => e.ToString()));
    }

    // ---- frontends ----

    [Fact]
    public void Parse_FrontendWithoutAddressThatIsNotANodePort_IsRefused()
    {
        Assert.Equal(
            "lb.yaml:4:9: services[0].frontends[0].address: required field is missing (only a nodePort frontend may leave it out, to match every local address)",
            SingleError(Web(frontend: "{ port: 80, kind: loadBalancer }")));
    }

    [Fact]
    public void Parse_FamilyOnAFrontendWithAnAddress_IsRefused()
    {
        Assert.Equal(
            "lb.yaml:4:69: services[0].frontends[0].family: family applies only to a nodePort frontend without an address (an address has its own family)",
            SingleError(Web(frontend: "{ address: 198.51.100.10, port: 80, kind: nodePort, family: ipv4 }")));
    }

    [Fact]
    public void Parse_NoFrontends_IsRefused()
    {
        Assert.Equal(
            "lb.yaml:3:16: services[0].frontends: a service needs at least one frontend",
            SingleError("services:\n  - name: web\n    frontends: []\n"));
    }

    [Fact]
    public void Parse_SameFrontendInTwoServices_NamesBothServicesAndBothLines()
    {
        Assert.Equal(
            "lb.yaml:8:9: services[1].frontends[0]: frontend 198.51.100.10:80/tcp of service 'api' is already a frontend of service 'web' (services[0].frontends[1] at line 5, column 9)",
            SingleError("""
                services:
                  - name: web
                    frontends:
                      - { address: 198.51.100.10, port: 443, protocol: tcp }
                      - { address: 198.51.100.10, port: 80, protocol: tcp }
                  - name: api
                    frontends:
                      - { address: 198.51.100.10, port: 80 }
                """));
    }

    [Fact]
    public void Parse_SameAddressAndPortWithAnotherProtocol_IsADifferentFrontend()
    {
        var config = Valid("""
            services:
              - name: dns-udp
                frontends: [{ address: 198.51.100.53, port: 53, protocol: udp }]
              - name: dns-tcp
                frontends: [{ address: 198.51.100.53, port: 53, protocol: tcp }]
            """);

        Assert.Equal(2, config.Services.Count);
    }

    [Fact]
    public void Parse_SameNodePortInTwoServices_IsRefusedForEachFamily()
    {
        var errors = Errors("""
            services:
              - name: a
                frontends: [{ port: 30080, kind: nodePort }]
              - name: b
                frontends: [{ port: 30080, kind: nodePort }]
            """);

        Assert.Equal(
            ["lb.yaml:5:17: services[1].frontends[0]: frontend 0.0.0.0:30080/tcp of service 'b' is already a frontend of service 'a' (services[0].frontends[0] at line 3, column 17)",
             "lb.yaml:5:17: services[1].frontends[0]: frontend [::]:30080/tcp of service 'b' is already a frontend of service 'a' (services[0].frontends[0] at line 3, column 17)"],
            errors.Select(e => e.ToString()));
    }

    [Fact]
    public void Parse_SameFrontendTwiceInOneService_IsRefused()
    {
        Assert.Equal(
            "lb.yaml:5:9: services[0].frontends[1]: frontend [2001:db8::10]:80/tcp is listed twice in service 'web' (first as services[0].frontends[0] at line 4, column 9)",
            SingleError("""
                services:
                  - name: web
                    frontends:
                      - { address: "2001:db8::10", port: 80 }
                      - { address: "2001:db8:0::10", port: 80, protocol: tcp }
                """));
    }

    // ---- backends ----

    [Fact]
    public void Parse_DuplicateBackendInOneService_NamesBothLines()
    {
        Assert.Equal(
            "lb.yaml:7:9: services[0].backends[1]: backend 203.0.113.11:8080 is listed twice in service 'web' (first as services[0].backends[0] at line 6, column 9)",
            SingleError(Web() + "      - { address: 203.0.113.11, port: 8080, weight: 5 }\n"));
    }

    [Fact]
    public void Parse_SameBackendInTwoServices_IsAccepted()
    {
        var config = Valid(Web() + """
              - name: api
                frontends: [{ address: 198.51.100.11, port: 80 }]
                backends: [{ address: 203.0.113.11, port: 8080 }]
            """);

        Assert.Equal(config.Services[0].Backends, config.Services[1].Backends);
    }

    [Fact]
    public void Parse_MoreBackendsOfOneFamilyThanTableSlots_IsRefused()
    {
        var backends = string.Join(", ", Enumerable.Range(1, 251).Select(i => $"{{ address: 10.0.0.{i}, port: 80 }}"));

        Assert.Equal(
            "lb.yaml:5:15: services[0].backends: service 'web' has 251 IPv4 backends but datapath.maglev.tableSize is 251; raise it to a prime well above the backend count (100 times is Maglev's advice)",
            SingleError($"""
                datapath: {"{"} maglev: {"{"} tableSize: 251 {"}"} {"}"}
                services:
                  - name: web
                    frontends: [{"{"} address: 198.51.100.10, port: 80 {"}"}]
                    backends: [{backends}]
                """));
    }

    // ---- DSR ports ----

    [Theory]
    [InlineData("dsr-ipip")]
    [InlineData("dsr-l2")]
    public void Parse_DsrBackendPortDifferentFromFrontendPort_IsRefused(string mode)
    {
        Assert.Equal(
            $"lb.yaml:6:40: services[0].backends[0].port: 8080 differs from the frontend port 80 (services[0].frontends[0] at line 4, column 9); {mode} cannot change ports: set the backend port to 80 or use forwarding: nat",
            SingleError(Web(policy: $"    forwarding: {mode}")));
    }

    [Fact]
    public void Parse_DsrFrontendsOnTwoPorts_IsRefused()
    {
        Assert.Equal(
            "lb.yaml:7:17: services[0].forwarding: dsr-ipip cannot change ports, so the frontends of a DSR service must share one port (found 80, 443); split it into one service per port",
            SingleError("""
                services:
                  - name: web
                    frontends:
                      - { address: 198.51.100.10, port: 443 }
                      - { address: 198.51.100.10, port: 80 }
                    backends: [{ address: 203.0.113.11, port: 80 }]
                    forwarding: dsr-ipip
                """));
    }

    [Fact]
    public void Parse_DsrWithMatchingPorts_IsAccepted()
    {
        var config = Valid(Web(backend: "{ address: 203.0.113.11, port: 80 }", policy: "    forwarding: dsr-ipip"));

        Assert.Equal(Lb.Core.Model.ForwardingMode.DsrIpip, config.Services[0].Policy.Forwarding);
    }

    [Fact]
    public void Parse_NatWithDifferentPorts_IsAccepted()
    {
        Assert.Equal(8080, Valid(Web(policy: "    forwarding: nat")).Services[0].Backends[0].Port);
    }

    // ---- address families ----

    [Fact]
    public void Parse_FrontendFamilyWithoutABackendOfThatFamily_IsRefused()
    {
        Assert.Equal(
            "lb.yaml:5:9: services[0].frontends[1]: frontend [2001:db8::10]:80/tcp is IPv6 but service 'web' has no IPv6 backend (Lb does not translate between IPv4 and IPv6); add an IPv6 backend or remove this frontend",
            SingleError("""
                services:
                  - name: web
                    frontends:
                      - { address: 198.51.100.10, port: 80 }
                      - { address: "2001:db8::10", port: 80 }
                    backends:
                      - { address: 203.0.113.11, port: 8080 }
                """));
    }

    [Fact]
    public void Parse_DualStackNodePortWithOnlyIpv4Backends_SuggestsAFamily()
    {
        Assert.Equal(
            "lb.yaml:4:9: services[0].frontends[0]: frontend [::]:30080/tcp is IPv6 but service 'web' has no IPv6 backend (Lb does not translate between IPv4 and IPv6); add an IPv6 backend, or give this nodePort frontend 'family: ipv4'",
            SingleError(Web(frontend: "{ port: 30080, kind: nodePort }")));
    }

    [Fact]
    public void Parse_BackendFamilyWithoutAFrontendOfThatFamily_IsRefused()
    {
        Assert.Equal(
            "lb.yaml:7:9: services[0].backends[1]: backend [2001:db8::11]:8080 is IPv6 but service 'web' has no IPv6 frontend, so it would never get traffic",
            SingleError(Web() + "      - { address: \"2001:db8::11\", port: 8080 }\n"));
    }

    [Fact]
    public void Parse_FamilyRule_IsSkippedWhenABackendFailedToParse()
    {
        // The IPv6 backend's bad port must not also read as "no IPv6 backend".
        Assert.Equal(
            "lb.yaml:7:42: services[0].backends[0].port: 0 is out of range (1-65535)",
            SingleError("""
                services:
                  - name: web
                    frontends:
                      - { address: 198.51.100.10, port: 80 }
                      - { address: "2001:db8::10", port: 80 }
                    backends:
                      - { address: "2001:db8::11", port: 0 }
                      - { address: 203.0.113.11, port: 80 }
                """));
    }

    // ---- names ----

    [Fact]
    public void Parse_DuplicateServiceName_NamesBothLines()
    {
        Assert.Equal(
            "lb.yaml:7:11: services[1].name: duplicate service name 'web' (first used by services[0] at line 2, column 11)",
            SingleError(Web() + """
                  - name: web
                    frontends: [{ address: 198.51.100.11, port: 80 }]
                """));
    }

    [Fact]
    public void Parse_MissingName_IsRefused()
    {
        Assert.Equal(
            "lb.yaml:2:5: services[0].name: required field is missing",
            SingleError("services:\n  - frontends: [{ address: 198.51.100.10, port: 80 }]\n"));
    }

    [Theory]
    [InlineData("\"\"", "a service name must not be empty")]
    [InlineData("\"web server\"", "'web server' is not a valid service name (letters, digits, '-', '_', '.' and '/', starting and ending with a letter or digit)")]
    [InlineData("-web", "'-web' is not a valid service name (letters, digits, '-', '_', '.' and '/', starting and ending with a letter or digit)")]
    [InlineData("web/", "'web/' is not a valid service name (letters, digits, '-', '_', '.' and '/', starting and ending with a letter or digit)")]
    public void Parse_InvalidName_IsRefused(string name, string reason)
    {
        Assert.Equal(
            $"lb.yaml:2:11: services[0].name: {reason}",
            SingleError($"services:\n  - name: {name}\n    frontends: [{{ address: 198.51.100.10, port: 80 }}]\n"));
    }

    [Fact]
    public void Parse_NameWithoutValue_IsRefusedAtTheKey()
    {
        Assert.Equal(
            "lb.yaml:2:5: services[0].name: a value is required",
            SingleError("services:\n  - name:\n    frontends: [{ address: 198.51.100.10, port: 80 }]\n"));
    }

    [Fact]
    public void Parse_NameTooLong_IsRefused()
    {
        Assert.Equal(
            "lb.yaml:2:11: services[0].name: a service name is at most 253 characters",
            SingleError($"services:\n  - name: {new string('a', 254)}\n    frontends: [{{ address: 198.51.100.10, port: 80 }}]\n"));
    }

    // ---- datapath ----

    [Fact]
    public void Parse_SnatAddressOfTheWrongFamily_PointsToTheOtherField()
    {
        var errors = Errors("""
            datapath:
              snatAddress: "2001:db8::1"
              snatAddressV6: 192.0.2.1
            services: []
            """);

        Assert.Equal(
            ["lb.yaml:2:16: datapath.snatAddress: 2001:db8::1 is IPv6; this field takes an IPv4 address (use snatAddressV6)",
             "lb.yaml:3:18: datapath.snatAddressV6: 192.0.2.1 is IPv4; this field takes an IPv6 address (use snatAddress)"],
            errors.Select(e => e.ToString()));
    }

    [Theory]
    [InlineData("[eth0, eth0]", "lb.yaml:1:32: datapath.interfaces[1]: interface 'eth0' is listed twice (first at line 1, column 26)")]
    [InlineData("[eth0, \"bond0:1\"]", "lb.yaml:1:32: datapath.interfaces[1]: 'bond0:1' is not a valid interface name (no '/', ':' or white space)")]
    [InlineData("[eth0, a-very-long-name0]", "lb.yaml:1:32: datapath.interfaces[1]: 'a-very-long-name0' is longer than 15 bytes, the kernel's limit for an interface name")]
    [InlineData("[eth0, \"\"]", "lb.yaml:1:32: datapath.interfaces[1]: an interface name must not be empty")]
    public void Parse_BadInterfaceList_IsRefused(string list, string expected)
    {
        Assert.Equal(expected, SingleError($"datapath: {{ interfaces: {list} }}\nservices: []\n"));
    }

    // ---- admin ----

    [Theory]
    [InlineData("\"127.0.0.1\"", "'127.0.0.1' is not host:port (no port); expected host:port, as in 127.0.0.1:9090 or [::1]:9090")]
    [InlineData("\"localhost:9090\"", "'localhost:9090': the host must be an IP address ('localhost' is not an IP address (IPv4 is four decimal numbers 0-255, as in 192.0.2.1))")]
    [InlineData("\"127.0.0.1:0\"", "'127.0.0.1:0': the port must be a number 1-65535")]
    [InlineData("\"127.0.0.1:http\"", "'127.0.0.1:http': the port must be a number 1-65535")]
    [InlineData("\"::1:9090\"", "'::1:9090': write an IPv6 host in brackets, as in [::1]:9090")]
    [InlineData("\"[::1]\"", "'[::1]' is not host:port; expected host:port, as in 127.0.0.1:9090 or [::1]:9090")]
    [InlineData("\"[127.0.0.1]:9090\"", "'[127.0.0.1]:9090': brackets are only for IPv6 addresses; expected host:port, as in 127.0.0.1:9090 or [::1]:9090")]
    public void Parse_AdminListenNotHostPort_IsRefused(string listen, string reason)
    {
        Assert.Equal($"lb.yaml:1:18: admin.listen: {reason}", SingleError($"admin: {{ listen: {listen} }}\nservices: []\n"));
    }

    [Theory]
    [InlineData("\"0.0.0.0:9090\"", "0.0.0.0:9090")]
    [InlineData("\"192.0.2.1:9090\"", "192.0.2.1:9090")]
    [InlineData("\"[::]:9090\"", "[::]:9090")]
    public void Parse_AdminListenOnANonLoopbackAddress_NeedsAllowRemote(string listen, string shown)
    {
        Assert.Equal(
            $"lb.yaml:1:18: admin.listen: {shown} is not a loopback address; serving the admin API (/metrics, /status) to other hosts needs 'allowRemote: true'",
            SingleError($"admin: {{ listen: {listen} }}\nservices: []\n"));
        Assert.Equal(
            $"lb.yaml:1:18: admin.listen: {shown} is not a loopback address; serving the admin API (/metrics, /status) to other hosts needs 'allowRemote: true'",
            SingleError($"admin: {{ listen: {listen}, allowRemote: false }}\nservices: []\n"));
    }

    // ---- all at once ----

    [Fact]
    public void Parse_FileWithManyMistakes_ReportsEveryOneOfThem()
    {
        var errors = Errors("""
            datapath:
              mode: xpd
              maglev: { tableSize: 100 }
            admin: { listen: "0.0.0.0:9090" }
            services:
              - name: web
                frontends: [{ address: 198.51.100.10, port: 80, protocol: tpc }]
                forwarding: dsr
                backends:
                  - { address: 203.0.113.300, port: 8080 }
                  - { address: 203.0.113.12, port: 0, weight: 0 }
            """);

        Assert.Equal([2, 3, 4, 7, 8, 10, 11, 11], errors.Select(e => e.Line));
    }
}
