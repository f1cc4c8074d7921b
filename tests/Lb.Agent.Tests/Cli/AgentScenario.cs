using System.Net;
using System.Net.Sockets;
using Lb.Agent.Demo;

namespace Lb.Agent.Tests.Cli;

/// <summary>
/// A namespace topology (client, balancer, two backends each serving TCP on ports 80 and 81 and
/// answering with its name), the files of an agent, and lb.yaml texts for it. The agent runs inside the
/// balancer namespace on all of its interfaces (client side and backend side, where NAT replies return).
/// </summary>
internal sealed class AgentScenario : IAsyncDisposable
{
    public const ushort WebPort = 80;
    public const ushort ApiPort = 81;

    private readonly List<BackendServer> _servers = [];

    private AgentScenario(Topology topology)
    {
        Topology = topology;
        Files = new AgentFiles();
    }

    public Topology Topology { get; }
    public AgentFiles Files { get; }

    public static IPEndPoint Web => new(Topology.VipV4, WebPort);
    public static IPEndPoint Api => new(Topology.VipV4, ApiPort);
    public static IPEndPoint WebV6 => new(Topology.VipV6, WebPort);

    public static AgentScenario Create()
    {
        var topology = Topology.Create(backendCount: 2, vipOnBackends: false);
        var scenario = new AgentScenario(topology);
        try
        {
            foreach (var backend in topology.Backends)
            {
                foreach (var port in new[] { WebPort, ApiPort })
                    scenario._servers.Add(new BackendServer(backend.Namespace, $"{backend.Name}:{port}", port, []));
            }
            return scenario;
        }
        catch
        {
            scenario.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }

    /// <summary>lb.yaml: service web on VIP:80 over both backends; api on VIP:81 over <paramref name="apiBackends"/>; any extra services.</summary>
    public string Config(int[]? webBackends = null, int[]? apiBackends = null, string extra = "") =>
        $$"""
        datapath:
          mode: xdp
          interfaces: [{{string.Join(", ", Topology.BalancerInterfaces)}}]
          flowTable: { capacity: 4096 }
        admin: { listen: "127.0.0.1:9090" }
        services:
          - name: web
            frontends:
              - { address: {{Topology.VipV4}}, port: {{WebPort}}, protocol: tcp }
              - { address: "{{Topology.VipV6}}", port: {{WebPort}}, protocol: tcp }
            forwarding: nat
            backends:
        {{Backends(webBackends ?? [0, 1], WebPort)}}
        {{Backends(webBackends ?? [0, 1], WebPort, v6: true)}}
          - name: api
            frontends:
              - { address: {{Topology.VipV4}}, port: {{ApiPort}}, protocol: tcp }
            forwarding: nat
            backends:
        {{Backends(apiBackends ?? [0], ApiPort)}}
        {{extra}}
        """;

    private string Backends(int[] indexes, ushort port, bool v6 = false) =>
        string.Join('\n', indexes.Select(i => $"      - {{ address: \"{Topology.Backends[i].Address(v6)}\", port: {port} }}"));

    /// <summary>Opens <paramref name="count"/> connections to <paramref name="vip"/> from the client, each asked once.</summary>
    public async Task<List<(Socket Socket, string Backend)>> Connect(IPEndPoint vip, int count)
    {
        var connections = new List<(Socket, string)>();
        for (var i = 0; i < count; i++)
            connections.Add(await LbClient.ConnectAndAsk(Topology.ClientNs, vip, TimeSpan.FromSeconds(10)));
        return connections;
    }

    /// <summary>Asks on every open connection; each must still answer, from the backend that answered first.</summary>
    public static async Task AssertStillServed(IEnumerable<(Socket Socket, string Backend)> connections, string when)
    {
        foreach (var (socket, backend) in connections)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            string answer;
            try
            {
                answer = await LbClient.Ask(socket, timeout.Token);
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"a connection to {backend} broke {when}: {e.GetType().Name}: {e.Message}");
            }
            Assert.Equal(backend, answer);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var server in _servers)
            await server.DisposeAsync();
        Files.Dispose();
        await Topology.DisposeAsync();
    }
}
