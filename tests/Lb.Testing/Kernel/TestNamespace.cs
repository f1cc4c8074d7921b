using Lb.Agent.Demo;
using Lb.Native;

namespace Lb.Testing.Kernel;

/// <summary>
/// A uniquely named network namespace (lbt-XXXXXXXX) with a veth pair veth0/veth1, both up, forwarding
/// on; deleted on Dispose. Work that must see its interfaces and routes runs through <see cref="Run{T}"/>,
/// on a thread of its own that enters the namespace and leaves it before it ends.
/// </summary>
public sealed class TestNamespace : IDisposable
{
    public const string Veth0 = "veth0";
    public const string Veth1 = "veth1";

    public TestNamespace()
    {
        Name = $"lbt-{Guid.NewGuid().ToString("N")[..8]}";
        Shell.Run("ip", "netns", "add", Name);
        try
        {
            Ip("link", "add", Veth0, "type", "veth", "peer", "name", Veth1);
            Ip("link", "set", "lo", "up");
            Ip("link", "set", Veth0, "up");
            Ip("link", "set", Veth1, "up");
            // bpf_fib_lookup answers only where the kernel would forward.
            Sysctl("net.ipv4.ip_forward=1");
            Sysctl("net.ipv6.conf.all.forwarding=1");
            Sysctl("net.ipv6.conf.all.accept_dad=0");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Name { get; }

    public string Ip(params string[] arguments) => Shell.Run("ip", ["-n", Name, .. arguments]);

    /// <summary>Adds another veth pair inside the namespace, both ends up.</summary>
    public void AddVethPair(string name, string peer)
    {
        Ip("link", "add", name, "type", "veth", "peer", "name", peer);
        Ip("link", "set", name, "up");
        Ip("link", "set", peer, "up");
    }

    public void Sysctl(string setting) => Shell.InNamespace(Name, "sysctl", "-q", "-w", setting);

    /// <summary>
    /// Runs <paramref name="work"/> on a dedicated thread inside the namespace. A dedicated thread, because
    /// a thread the runtime starts while another is inside would stay there for good (see NetworkNamespace).
    /// </summary>
    public T Run<T>(Func<T> work)
    {
        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var scope = NetworkNamespace.Enter(Name);
                result = work();
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        if (failure is not null)
            throw new InvalidOperationException($"Work inside namespace {Name} failed: {failure.Message}", failure);
        return result;
    }

    public void Dispose() => Shell.TryRun("ip", "netns", "del", Name);
}
