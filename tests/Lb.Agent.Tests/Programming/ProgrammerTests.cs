using System.Net;
using System.Net.Sockets;
using Lb.Agent.Programming;
using Lb.Agent.Tests.Infrastructure;
using Lb.Testing.Kernel;
using Lb.Core.Hashing;
using Lb.Core.Maglev;
using Lb.Core.Model;
using Lb.Core.State;
using Lb.Datapath.Abi;
using Lb.Native;

namespace Lb.Agent.Tests.Programming;

/// <summary>The programmer against the real lb_xdp object's maps: what it writes, in which amounts, and what a restart restores.</summary>
public sealed class ProgrammerTests
{
    private const string Seed = "programmer-tests";
    private const uint TableSize = 16381;

    private static readonly IPAddress SnatV4 = IPAddress.Parse("10.0.0.1");
    private static readonly IPAddress SnatV6 = IPAddress.Parse("fd00::1");

    private static readonly DatapathOptions Options = DatapathOptions.Default with
    {
        SnatAddress = SnatV4,
        SnatAddressV6 = SnatV6,
        Maglev = new MaglevOptions(TableSize, Seed),
        FlowTableCapacity = TestDatapath.TestFlowCapacity,
    };

    /// <summary>Dual-stack nat with affinity and source ranges; a terminating backend that active ones keep out of the table.</summary>
    private static Service Web(params Backend[] extra) => new(
        "web",
        EquatableArray.Create(
            Frontend.At(IPAddress.Parse("198.51.100.10"), 80, L4Protocol.Tcp),
            Frontend.At(IPAddress.Parse("2001:db8::10"), 80, L4Protocol.Tcp)),
        EquatableArray.Create(
        [
            new Backend(IPAddress.Parse("203.0.113.11"), 8080),
            new Backend(IPAddress.Parse("203.0.113.12"), 8080),
            new Backend(IPAddress.Parse("203.0.113.13"), 8080, State: BackendState.Terminating),
            new Backend(IPAddress.Parse("2001:db8:1::11"), 8080),
            .. extra,
        ]),
        ServicePolicy.Default with
        {
            Affinity = new SessionAffinity(600),
            SourceRanges = EquatableArray.Create(IPNetwork.Parse("192.0.2.0/24"), IPNetwork.Parse("2001:db8:ffff::/48")),
        });

    /// <summary>IPv4 dsr-ipip, random scheduler, traffic policy Local, a NodePort on any address; a maintenance backend.</summary>
    private static Service Dns() => new(
        "dns",
        EquatableArray.Create(
            Frontend.At(IPAddress.Parse("198.51.100.53"), 53, L4Protocol.Udp),
            Frontend.AnyAddress(30053, L4Protocol.Udp, AddressFamily.InterNetwork)),
        EquatableArray.Create(
            new Backend(IPAddress.Parse("203.0.113.21"), 53, Weight: 2),
            new Backend(IPAddress.Parse("203.0.113.22"), 53, State: BackendState.Maintenance)),
        ServicePolicy.Default with
        {
            Forwarding = ForwardingMode.DsrIpip,
            Scheduler = SchedulerKind.Random,
            ExternalTrafficPolicy = TrafficPolicy.Local,
        });

    [Fact]
    public void Apply_NewState_WritesExactlyTheEntriesTheStateNeeds()
    {
        using var test = new TestDatapath();
        var state = DesiredState.Build(Options, [Web(), Dns()]);
        var programmer = new Programmer(test.Maps);

        var result = programmer.Apply(state);

        var dump = MapDump.Read(test.Maps);
        var dns = state.ServicesByName["dns"];
        var web = state.ServicesByName["web"];
        Assert.Equal((1u, 2u), (dns.Id, web.Id));

        // lb_config
        Assert.Equal(FlowHash.DeriveSeed(Seed), dump.Config.FlowHashSeed);
        Assert.Equal(TableSize, dump.Config.MaglevSize);
        Assert.Equal((1024, 29999, 1500), ((int)dump.Config.NatPortMin, (int)dump.Config.NatPortMax, (int)dump.Config.Mtu));
        Assert.Equal(300_000_000_000UL, dump.Config.FlowTimeoutNs);
        Assert.Equal(0, dump.Config.Flags);
        Assert.Equal(SnatV4, dump.Config.SnatV4.ToIPAddress(LbFamily.IPv4));
        Assert.Equal(SnatV6, dump.Config.SnatV6.ToIPAddress(LbFamily.IPv6));

        // lb_services: one entry per frontend, with policy and schedulable count of the frontend's family.
        var expectedServices = new Dictionary<LbServiceKey, LbService>(new BytesComparer<LbServiceKey>())
        {
            [Key("198.51.100.10", 80, 6)] = Entry(web.Id, LbServiceFlags.Affinity | LbServiceFlags.SrcRanges, 600, LbForwarding.Nat, 2),
            [Key("2001:db8::10", 80, 6)] = Entry(web.Id, LbServiceFlags.Affinity | LbServiceFlags.SrcRanges, 600, LbForwarding.Nat, 1),
            [Key("198.51.100.53", 53, 17)] = Entry(dns.Id, LbServiceFlags.SchedRandom | LbServiceFlags.KeepClient, 0, LbForwarding.DsrIpip, 1),
            [AnyKey(30053, 17, LbFamily.IPv4)] = Entry(dns.Id, LbServiceFlags.SchedRandom | LbServiceFlags.KeepClient, 0, LbForwarding.DsrIpip, 1),
        };
        AssertSameEntries(expectedServices, dump.Services);

        // lb_backends: every backend, schedulable or not, with its owner.
        var expectedBackends = new Dictionary<uint, LbBackend>();
        foreach (var entry in state.BackendsById.Values)
            expectedBackends[entry.Id] = BackendValue(entry.Backend, entry.ServiceId);
        Assert.Equal(6, expectedBackends.Count);
        Assert.Equal(expectedBackends.Keys.Order(), dump.Backends.Keys.Order());
        foreach (var (id, value) in expectedBackends)
            Assert.Equal(BytesComparer<LbBackend>.Bytes(value), BytesComparer<LbBackend>.Bytes(dump.Backends[id]));

        // lb_maglev: a table per (service, family) with schedulable backends, equal to the builder's.
        Assert.Equal([LbAbi.MaglevKey(dns.Id, LbFamily.IPv4), LbAbi.MaglevKey(web.Id, LbFamily.IPv4), LbAbi.MaglevKey(web.Id, LbFamily.IPv6)],
            dump.MaglevTableIds.Keys.Order());
        AssertTable(test.Maps, dns, AddressFamily.InterNetwork, ["203.0.113.21:53"]);
        AssertTable(test.Maps, web, AddressFamily.InterNetwork, ["203.0.113.11:8080", "203.0.113.12:8080"]);
        AssertTable(test.Maps, web, AddressFamily.InterNetworkV6, ["[2001:db8:1::11]:8080"]);

        // lb_src_ranges: the service id and family always match, then the CIDR.
        Assert.Equal(
            new[] { RangeKey(web.Id, "192.0.2.0", 24), RangeKey(web.Id, "2001:db8:ffff::", 48) }.Select(BytesComparer<LbSrcRangeKey>.Bytes).Select(Convert.ToHexString).Order(),
            dump.SourceRanges.Select(BytesComparer<LbSrcRangeKey>.Bytes).Select(Convert.ToHexString).Order());

        // lb_names: every id named, and the cursors.
        Assert.Equal("dns", dump.ServiceName(dns.Id));
        Assert.Equal("web", dump.ServiceName(web.Id));
        foreach (var entry in state.BackendsById.Values)
        {
            var record = dump.Names[new LbNameKey(LbNameKind.Backend, entry.Id)];
            Assert.Equal((entry.ServiceId, entry.Identity), (record.ServiceId, record.GetText()));
        }
        var cursors = dump.Names[new LbNameKey(LbNameKind.Cursors, 0)];
        Assert.Equal((2u, 6u), (cursors.ServiceId, cursors.BackendId));
        Assert.Equal(2 + 6 + 1, dump.Names.Count);

        Assert.True(result.FullSync);
        Assert.Equal(3, result.TablesBuilt);
        Assert.Equal(state, programmer.Applied);
    }

    [Fact]
    public void Apply_OneBackendAdded_WritesOnlyThatBackendItsTableAndTheCountOfItsFamily()
    {
        using var test = new TestDatapath();
        var programmer = new Programmer(test.Maps);
        var first = DesiredState.Build(Options, [Web(), Dns()]);
        programmer.Apply(first);
        var before = MapDump.Read(test.Maps);

        var second = DesiredState.Build(Options, [Web(new Backend(IPAddress.Parse("203.0.113.14"), 8080)), Dns()], first);
        var result = programmer.Apply(second);

        var after = MapDump.Read(test.Maps);
        var web = second.ServicesByName["web"];
        var dns = second.ServicesByName["dns"];
        // The backend's name, the backend, the id cursor, one table swap, the IPv4 frontend's count.
        Assert.Equal(5, result.MapWrites);
        Assert.Equal(1, result.TablesBuilt);
        Assert.False(result.FullSync);
        Assert.NotEqual(before.MaglevTableIds[LbAbi.MaglevKey(web.Id, LbFamily.IPv4)], after.MaglevTableIds[LbAbi.MaglevKey(web.Id, LbFamily.IPv4)]);
        Assert.Equal(before.MaglevTableIds[LbAbi.MaglevKey(web.Id, LbFamily.IPv6)], after.MaglevTableIds[LbAbi.MaglevKey(web.Id, LbFamily.IPv6)]);
        Assert.Equal(before.MaglevTableIds[LbAbi.MaglevKey(dns.Id, LbFamily.IPv4)], after.MaglevTableIds[LbAbi.MaglevKey(dns.Id, LbFamily.IPv4)]);
        Assert.Equal(3u, after.Services[Key("198.51.100.10", 80, 6)].BackendCount);
        Assert.Equal(1u, after.Services[Key("2001:db8::10", 80, 6)].BackendCount);
        AssertTable(test.Maps, web, AddressFamily.InterNetwork, ["203.0.113.11:8080", "203.0.113.12:8080", "203.0.113.14:8080"]);
        Assert.Equal(7, after.Backends.Count);
    }

    [Fact]
    public void Apply_SameTargetTwice_SecondWritesNothing()
    {
        using var test = new TestDatapath();
        var programmer = new Programmer(test.Maps);
        var state = DesiredState.Build(Options, [Web(), Dns()]);
        programmer.Apply(state);
        var before = MapDump.Read(test.Maps);

        var again = programmer.Apply(state);
        var rebuilt = programmer.Apply(DesiredState.Build(Options, [Dns(), Web()], state));

        Assert.Equal(0, again.MapWrites);
        Assert.Equal(0, rebuilt.MapWrites);
        Assert.Equal(0, rebuilt.TablesBuilt);
        var after = MapDump.Read(test.Maps);
        Assert.Equal(before.MaglevTableIds, after.MaglevTableIds);
        Assert.Equal(before.Services.Count, after.Services.Count);
    }

    [Fact]
    public void Apply_NoServices_RemovesEveryEntryButTheCursors()
    {
        using var test = new TestDatapath();
        var programmer = new Programmer(test.Maps);
        var state = DesiredState.Build(Options, [Web(), Dns()]);
        programmer.Apply(state);

        programmer.Apply(DesiredState.Build(Options, [], state));

        var dump = MapDump.Read(test.Maps);
        Assert.Empty(dump.Services);
        Assert.Empty(dump.Backends);
        Assert.Empty(dump.MaglevTableIds);
        Assert.Empty(dump.SourceRanges);
        var only = Assert.Single(dump.Names);
        Assert.Equal(LbNameKind.Cursors, only.Key.Kind);
    }

    [Fact]
    public void Apply_SourceRangesDropped_ClearsTheFlagAndDeletesTheRanges()
    {
        using var test = new TestDatapath();
        var programmer = new Programmer(test.Maps);
        var guarded = DesiredState.Build(Options, [Web()]);
        programmer.Apply(guarded);
        var open = Web() with { Policy = Web().Policy with { SourceRanges = EquatableArray<IPNetwork>.Empty } };

        programmer.Apply(DesiredState.Build(Options, [open], guarded));

        var dump = MapDump.Read(test.Maps);
        Assert.Empty(dump.SourceRanges);
        Assert.All(dump.Services.Values, entry => Assert.Equal(LbServiceFlags.Affinity, entry.Flags));
    }

    [Fact]
    public void Apply_NoSchedulableBackend_ProgramsTheFrontendWithCountZeroAndNoTable()
    {
        using var test = new TestDatapath();
        var programmer = new Programmer(test.Maps);
        Service Api(BackendState state) => new(
            "api",
            EquatableArray.Create(Frontend.At(IPAddress.Parse("198.51.100.20"), 443, L4Protocol.Tcp)),
            EquatableArray.Create(new Backend(IPAddress.Parse("203.0.113.31"), 443, State: state)),
            ServicePolicy.Default);
        var drained = DesiredState.Build(Options, [Api(BackendState.Maintenance)]);
        var key = Key("198.51.100.20", 443, 6);

        programmer.Apply(drained);
        var whileDrained = MapDump.Read(test.Maps);
        var active = DesiredState.Build(Options, [Api(BackendState.Active)], drained);
        programmer.Apply(active);
        var whileActive = MapDump.Read(test.Maps);
        programmer.Apply(DesiredState.Build(Options, [Api(BackendState.Maintenance)], active));
        var drainedAgain = MapDump.Read(test.Maps);

        Assert.Equal(0u, whileDrained.Services[key].BackendCount);
        Assert.Empty(whileDrained.MaglevTableIds);
        Assert.Single(whileDrained.Backends);
        Assert.Equal(1u, whileActive.Services[key].BackendCount);
        Assert.Single(whileActive.MaglevTableIds);
        Assert.Equal(0u, drainedAgain.Services[key].BackendCount);
        Assert.Empty(drainedAgain.MaglevTableIds);
        Assert.Equal(LbBackendState.Maintenance, Assert.Single(drainedAgain.Backends.Values).State);
    }

    [Fact]
    public void Restore_AfterReload_GivesTheSameIdsAndRewritesOnlyTheTables()
    {
        using var test = new TestDatapath();
        var applied = DesiredState.Build(Options, [Web(), Dns()]);
        new Programmer(test.Maps).Apply(applied);
        var before = MapDump.Read(test.Maps);

        using var reloaded = test.LoadAgain();
        var restarted = new Programmer(reloaded.Maps);
        var ids = restarted.RestoredIds;
        var restored = DesiredState.Restore(Options, [Dns(), Web()], ids);
        var result = restarted.Apply(restored);

        var expected = applied.ToIdAssignment();
        Assert.Equal(expected.ServiceIds.OrderBy(p => p.Key), ids.ServiceIds.OrderBy(p => p.Key));
        Assert.Equal(expected.BackendIds.OrderBy(p => p.Value), ids.BackendIds.OrderBy(p => p.Value));
        Assert.Equal(expected.Cursors, ids.Cursors);
        Assert.Equal(applied, restored);
        Assert.Equal(Programmer.Restore(reloaded.Maps).Cursors, ids.Cursors);
        // What a table was built from is not in the kernel, so the first apply builds and swaps each one
        // again; every other entry is already right.
        Assert.True(result.FullSync);
        Assert.Equal(3, result.TablesBuilt);
        Assert.Equal(3, result.MapWrites);
        var after = MapDump.Read(reloaded.Maps);
        AssertSameEntries(before.Services, after.Services);
        Assert.Equal(before.Backends.Keys.Order(), after.Backends.Keys.Order());
        AssertTable(reloaded.Maps, restored.ServicesByName["web"], AddressFamily.InterNetwork, ["203.0.113.11:8080", "203.0.113.12:8080"]);
    }

    [Fact]
    public void Restore_ServiceDroppedWhileDown_FirstApplyRemovesWhatIsLeftOfIt()
    {
        using var test = new TestDatapath();
        var applied = DesiredState.Build(Options, [Web(), Dns()]);
        new Programmer(test.Maps).Apply(applied);
        var dnsId = applied.ServicesByName["dns"].Id;

        using var reloaded = test.LoadAgain();
        var restarted = new Programmer(reloaded.Maps);
        var restored = DesiredState.Restore(Options, [Web()], restarted.RestoredIds);
        restarted.Apply(restored);

        var dump = MapDump.Read(reloaded.Maps);
        Assert.Equal(applied.ServicesByName["web"].Id, restored.ServicesByName["web"].Id);
        Assert.All(dump.Services.Values, entry => Assert.NotEqual(dnsId, entry.Id));
        Assert.Equal(2, dump.Services.Count);
        Assert.DoesNotContain(LbAbi.MaglevKey(dnsId, LbFamily.IPv4), dump.MaglevTableIds.Keys);
        Assert.All(dump.Backends.Values, backend => Assert.NotEqual(dnsId, backend.ServiceId));
        Assert.Null(dump.ServiceName(dnsId));
        Assert.Equal(1 + 4 + 1, dump.Names.Count);
    }

    [Fact]
    public void Apply_SourceRangeMapFull_NamesTheLimitPublishesNothingAndTheNextApplyFinishes()
    {
        using var pins = new PinRoot();
        // The real object with a four-entry lb_src_ranges; loaded without Lb's loader, so its Maglev
        // template is the object's own (no BPF_F_MMAPABLE) and tables take the batch path.
        using var obj = BpfObject.Open(BpfObjects.LbXdp, new BpfObjectOpenOptions { PinRootPath = pins.Path });
        obj.SetMaxEntries(LbMapNames.SrcRanges, 4);
        obj.SetMaxEntries(LbMapNames.Flows, TestDatapath.TestFlowCapacity);
        obj.SetMaxEntries(LbMapNames.RevNat, TestDatapath.TestFlowCapacity);
        obj.Load();
        using var maps = LbMaps.FromObject(obj, pins.Path);
        var programmer = new Programmer(maps);
        Service Guarded(int ranges) => new(
            "guarded",
            EquatableArray.Create(Frontend.At(IPAddress.Parse("198.51.100.30"), 22, L4Protocol.Tcp)),
            EquatableArray.Create(new Backend(IPAddress.Parse("203.0.113.41"), 22), new Backend(IPAddress.Parse("203.0.113.42"), 22)),
            ServicePolicy.Default with { SourceRanges = Enumerable.Range(0, ranges).Select(i => IPNetwork.Parse($"192.0.{i}.0/24")).ToEquatableArray() });
        var tooMany = DesiredState.Build(Options, [Guarded(5)]);

        var error = Assert.Throws<DatapathProgrammingException>(() => programmer.Apply(tooMany));

        Assert.Contains("lb_src_ranges is full (4 entries)", error.Message);
        Assert.Contains("LB_MAX_SRC_RANGES", error.Message);
        Assert.Equal(LbMapNames.SrcRanges, error.FullMap);
        Assert.IsType<SourceRangesChanged>(error.Change);
        var partial = MapDump.Read(maps);
        Assert.Empty(partial.Services);
        Assert.Empty(partial.MaglevTableIds);
        Assert.Equal(4, partial.SourceRanges.Count);
        Assert.Equal(DesiredState.Empty, programmer.Applied);

        var fits = DesiredState.Build(Options, [Guarded(4)], tooMany);
        var result = programmer.Apply(fits);

        var dump = MapDump.Read(maps);
        Assert.True(result.FullSync);
        Assert.Equal(MaglevTableFill.Batch, maps.MaglevFill);
        Assert.Equal(4, dump.SourceRanges.Count);
        Assert.Equal(2u, Assert.Single(dump.Services.Values).BackendCount);
        AssertTable(maps, fits.ServicesByName["guarded"], AddressFamily.InterNetwork, ["203.0.113.41:22", "203.0.113.42:22"]);
    }

    [Fact]
    public void Apply_NatServiceWithoutOwnAddress_RefusesBeforeWritingAnything()
    {
        using var test = new TestDatapath();
        var programmer = new Programmer(test.Maps);
        var noSnat = Options with { SnatAddress = null, SnatAddressV6 = null };

        var error = Assert.Throws<ArgumentException>(() => programmer.Apply(DesiredState.Build(noSnat, [Web(), Dns()])));

        Assert.Contains("service 'web' forwards IPv4 traffic by nat", error.Message);
        Assert.Contains("service 'web' forwards IPv6 traffic by nat", error.Message);
        Assert.Contains("service 'dns' forwards IPv4 traffic by dsr-ipip", error.Message);
        var dump = MapDump.Read(test.Maps);
        Assert.Empty(dump.Services);
        Assert.Empty(dump.Names);
        Assert.Equal(0u, dump.Config.MaglevSize);
    }

    [Fact]
    public void Apply_SnatAddressFromProgrammerOptions_OverridesTheConfig()
    {
        using var test = new TestDatapath();
        var resolved = IPAddress.Parse("10.9.9.9");
        var programmer = new Programmer(test.Maps, new ProgrammerOptions { SnatAddressV4 = resolved, Mtu = 9000, FlowTimeout = TimeSpan.FromSeconds(30) });

        programmer.Apply(DesiredState.Build(Options, [Dns()]));

        var config = MapDump.Read(test.Maps).Config;
        Assert.Equal(resolved, config.SnatV4.ToIPAddress(LbFamily.IPv4));
        Assert.Equal(SnatV6, config.SnatV6.ToIPAddress(LbFamily.IPv6));
        Assert.Equal(9000, config.Mtu);
        Assert.Equal(30_000_000_000UL, config.FlowTimeoutNs);
    }

    [Fact]
    public void Apply_MoreTablesThanOneSwapBatch_SwapsThemAll()
    {
        using var test = new TestDatapath(maglevTableSize: 251);
        var options = Options with { Maglev = new MaglevOptions(251, Seed) };
        var count = Programmer.TableSwapBatch / 2 + 13;
        var services = Enumerable.Range(0, count).Select(i => new Service(
            $"svc-{i:D4}",
            EquatableArray.Create(
                Frontend.At(IPAddress.Parse($"198.18.{i / 250}.{i % 250 + 1}"), 80, L4Protocol.Tcp),
                Frontend.At(IPAddress.Parse($"2001:db8:{i:x}::1"), 80, L4Protocol.Tcp)),
            EquatableArray.Create(
                new Backend(IPAddress.Parse($"10.{i / 250}.{i % 250}.1"), 8080),
                new Backend(IPAddress.Parse($"10.{i / 250}.{i % 250}.2"), 8080),
                new Backend(IPAddress.Parse($"fd00:{i:x}::1"), 8080)),
            ServicePolicy.Default)).ToList();
        var state = DesiredState.Build(options, services);
        var programmer = new Programmer(test.Maps);

        var result = programmer.Apply(state);

        var dump = MapDump.Read(test.Maps);
        Assert.Equal(2 * count, result.TablesBuilt);
        Assert.Equal(2 * count, dump.MaglevTableIds.Count);
        Assert.Equal(2 * count, dump.Services.Count);
        Assert.All(dump.Services, pair => Assert.Equal(pair.Key.Family == LbFamily.IPv4 ? 2u : 1u, pair.Value.BackendCount));
        var last = state.ServicesByName[$"svc-{count - 1:D4}"];
        AssertTable(test.Maps, last, AddressFamily.InterNetworkV6, [$"[fd00:{count - 1:x}::1]:8080"], options.Maglev);
        AssertTable(test.Maps, state.ServicesByName["svc-0000"], AddressFamily.InterNetwork, ["10.0.0.1:8080", "10.0.0.2:8080"], options.Maglev);
    }

    // ---- expectations written out independently of the programmer's encoding ----

    private static LbServiceKey Key(string address, ushort port, byte protocol)
    {
        var ip = IPAddress.Parse(address);
        return new LbServiceKey
        {
            Addr = LbAddress.FromIPAddress(ip),
            Port = Be16.FromHost(port),
            Proto = protocol,
            Family = ip.AddressFamily == AddressFamily.InterNetwork ? LbFamily.IPv4 : LbFamily.IPv6,
        };
    }

    private static LbServiceKey AnyKey(ushort port, byte protocol, LbFamily family) =>
        new() { Port = Be16.FromHost(port), Proto = protocol, Family = family };

    private static LbService Entry(uint id, LbServiceFlags flags, uint affinity, LbForwarding forwarding, uint count) =>
        new() { Id = id, Flags = flags, AffinityTimeoutS = affinity, Forwarding = forwarding, BackendCount = count };

    private static LbBackend BackendValue(Backend backend, uint owner) => new()
    {
        Addr = LbAddress.FromIPAddress(backend.Address),
        Port = Be16.FromHost(backend.Port),
        Family = backend.Address.AddressFamily == AddressFamily.InterNetwork ? LbFamily.IPv4 : LbFamily.IPv6,
        State = (LbBackendState)(int)backend.State,
        ServiceId = owner,
    };

    private static LbSrcRangeKey RangeKey(uint serviceId, string address, int prefix)
    {
        var ip = IPAddress.Parse(address);
        return new LbSrcRangeKey
        {
            Prefixlen = 64 + (uint)prefix,
            ServiceId = serviceId,
            Family = ip.AddressFamily == AddressFamily.InterNetwork ? 4u : 6u,
            Addr = LbAddress.FromIPAddress(ip),
        };
    }

    private static void AssertSameEntries(IReadOnlyDictionary<LbServiceKey, LbService> expected, IReadOnlyDictionary<LbServiceKey, LbService> actual)
    {
        static string Show(KeyValuePair<LbServiceKey, LbService> pair) =>
            $"{pair.Key.Addr}:{pair.Key.Port}/{pair.Key.Proto}/{pair.Key.Family} -> {Convert.ToHexString(BytesComparer<LbService>.Bytes(pair.Value))}";
        Assert.Equal(expected.Select(Show).Order(), actual.Select(Show).Order());
    }

    /// <summary>The table in the kernel equals the builder's table for exactly these identities (with the state's ids and weights).</summary>
    private static void AssertTable(LbMaps maps, ServiceEntry service, AddressFamily family, string[] identities, MaglevOptions? maglev = null)
    {
        var members = service.Backends.Where(b => identities.Contains(b.Identity)).ToList();
        Assert.Equal(identities.Length, members.Count);
        var expected = new MaglevTableBuilder(maglev ?? Options.Maglev).Build(members.Select(b => MaglevBackend.From(b.Backend, b.Id)));
        var slot = LbAbi.MaglevKey(service.Id, family == AddressFamily.InterNetwork ? LbFamily.IPv4 : LbFamily.IPv6);

        var actual = maps.ReadMaglevTable(slot);

        Assert.NotNull(actual);
        Assert.Equal(expected.BackendIds.ToArray(), actual);
    }
}
