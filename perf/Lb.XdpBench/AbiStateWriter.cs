using System.Net.Sockets;
using System.Runtime.InteropServices;
using Lb.Core.Maglev;
using Lb.Core.Model;
using Lb.Core.State;
using Lb.Datapath.Abi;
using Lb.Native;

namespace Lb.XdpBench;

/// <summary>
/// Loads lb_xdp under a private pin root and writes a <see cref="DesiredState"/> into its maps through
/// the ABI structs. It exists only for this benchmark, for as long as Lb.Agent's programmer is not on
/// this branch; it writes what docs/xdp-datapath.md says the program reads and nothing more (no
/// source ranges, no affinity). A later <see cref="Apply"/> may change service entries only.
/// </summary>
public sealed class AbiStateWriter : IDisposable
{
    private readonly BpfMap<uint, LbDatapathConfig> _config;
    private readonly BpfMap<LbServiceKey, LbService> _services;
    private readonly BpfMap<uint, LbBackend> _backends;
    private readonly BpfMap _maglev;
    private readonly uint _maglevSize;
    private readonly Dictionary<LbServiceKey, LbService> _written = [];
    private DesiredState? _applied;

    private AbiStateWriter(BpfObject loaded, uint maglevSize)
    {
        Program = loaded.GetProgram("lb_xdp");
        _config = loaded.GetMap(LbMapNames.Config).As<uint, LbDatapathConfig>();
        _services = loaded.GetMap(LbMapNames.Services).As<LbServiceKey, LbService>();
        _backends = loaded.GetMap(LbMapNames.Backends).As<uint, LbBackend>();
        _maglev = loaded.GetMap(LbMapNames.Maglev);
        _maglevSize = maglevSize;
    }

    public BpfProgram Program { get; }

    public static AbiStateWriter Load(string objectPath, string pinRoot, DatapathOptions options)
    {
        Directory.CreateDirectory(pinRoot);
        using var loaded = BpfObject.Open(objectPath, new BpfObjectOpenOptions { PinRootPath = pinRoot });
        loaded.SetMaxEntries(LbMapNames.Flows, options.FlowTableCapacity);
        loaded.SetMaxEntries(LbMapNames.RevNat, options.FlowTableCapacity);
        loaded.SetInnerMapMaxEntries(LbMapNames.Maglev, options.Maglev.TableSize);
        loaded.Load();
        return new AbiStateWriter(loaded, options.Maglev.TableSize);
    }

    public void Apply(DesiredState state)
    {
        if (_applied is null)
            WriteTables(state);
        else if (!state.BackendsById.SequenceEqual(_applied.BackendsById) || !state.SchedulableSets.SequenceEqual(_applied.SchedulableSets))
            throw new InvalidOperationException("The benchmark's state writer changes service entries only; backends and tables must stay as first applied.");

        foreach (var (key, frontend) in state.Frontends)
        {
            var entry = state.ServicesById[frontend.ServiceId];
            var mapKey = new LbServiceKey
            {
                Addr = LbAddress.FromIPAddress(key.Address ?? throw new NotSupportedException("NodePort wildcards are not benchmarked.")),
                Port = Be16.FromHost(key.Port),
                Proto = (byte)key.Protocol,
                Family = key.Family == AddressFamily.InterNetwork ? LbFamily.IPv4 : LbFamily.IPv6,
            };
            var value = new LbService
            {
                Id = entry.Id,
                Forwarding = entry.Service.Policy.Forwarding switch
                {
                    ForwardingMode.Nat => LbForwarding.Nat,
                    ForwardingMode.DsrIpip => LbForwarding.DsrIpip,
                    _ => LbForwarding.DsrL2,
                },
                BackendCount = (uint)state.SchedulableBackends(entry.Id, key.Family).Count,
            };
            if (_written.TryGetValue(mapKey, out var old) && SameBytes(old, value))
                continue;
            _services.Update(mapKey, value);
            _written[mapKey] = value;
        }
        _applied = state;
    }

    private static bool SameBytes(LbService a, LbService b) =>
        MemoryMarshal.AsBytes(new ReadOnlySpan<LbService>(in a)).SequenceEqual(MemoryMarshal.AsBytes(new ReadOnlySpan<LbService>(in b)));

    private void WriteTables(DesiredState state)
    {
        _config.Update(0, new LbDatapathConfig
        {
            FlowHashSeed = Lb.Core.Hashing.FlowHash.DeriveSeed(state.Options.Maglev.Seed),
            MaglevSize = _maglevSize,
            NatPortMin = BenchServices.NatPortMin,
            NatPortMax = BenchServices.NatPortMax,
            Mtu = 1500,
            FlowTimeoutNs = 300UL * 1_000_000_000,
            SnatV4 = LbAddress.FromIPAddress(state.Options.SnatAddress!),
        });
        foreach (var (id, backend) in state.BackendsById)
        {
            _backends.Update(id, new LbBackend
            {
                Addr = LbAddress.FromIPAddress(backend.Backend.Address),
                Port = Be16.FromHost(backend.Backend.Port),
                Family = backend.Family == AddressFamily.InterNetwork ? LbFamily.IPv4 : LbFamily.IPv6,
                ServiceId = backend.ServiceId,
            });
        }

        var builder = new MaglevTableBuilder(state.Options.Maglev);
        foreach (var (key, set) in state.SchedulableSets)
        {
            var table = builder.Build(set.Select(b => MaglevBackend.From(b.Backend, b.Id)));
            using var inner = BpfMap.Create(BpfMapType.Array, "lb_maglev_in", sizeof(uint), sizeof(uint), _maglevSize,
                new BpfMapCreateOptions { Flags = BpfMapFlags.InnerMap });
            var typed = inner.As<uint, uint>();
            var ids = table.BackendIds.Span;
            for (var slot = 0u; slot < (uint)ids.Length; slot++)
                typed.Update(slot, ids[(int)slot]);
            var family = key.Family == AddressFamily.InterNetwork ? LbFamily.IPv4 : LbFamily.IPv6;
            _maglev.SetInnerMap(LbAbi.MaglevKey(key.ServiceId, family), inner);
        }
    }

    public void Dispose()
    {
        Program.Dispose();
        _config.Dispose();
        _services.Dispose();
        _backends.Dispose();
        _maglev.Dispose();
    }
}
