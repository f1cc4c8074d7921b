namespace Lb.Native.Tests.Infrastructure;

/// <summary>
/// A uniquely named network namespace (ip netns add lbt-XXXXXXXX) holding a veth pair veth0/veth1,
/// both up, deleted on Dispose. Interfaces inside are reached with <see cref="NetworkNamespace.Enter"/>,
/// which unlike `ip netns exec` leaves this process's /sys (and its bpffs) alone.
/// </summary>
internal sealed class TestNamespace : IDisposable
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
            Ip("link", "set", Veth0, "up");
            Ip("link", "set", Veth1, "up");
            Ip("link", "set", "lo", "up");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Name { get; }

    /// <summary>Runs `ip -n NAME ARGS...`.</summary>
    public string Ip(params string[] arguments) => Shell.Run("ip", ["-n", Name, .. arguments]);

    public NetworkNamespaceScope Enter() => NetworkNamespace.Enter(Name);

    public void Dispose() => Shell.Run("ip", "netns", "del", Name);
}
