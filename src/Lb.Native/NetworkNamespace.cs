namespace Lb.Native;

/// <summary>
/// Runs the calling thread inside another network namespace (setns), e.g. so BPF_PROG_TEST_RUN's
/// bpf_fib_lookup sees that namespace's routes and netlink attaches to its interfaces. Threads that
/// already exist are unaffected, but a thread started from inside (including a thread-pool thread
/// the runtime happens to create then) inherits the namespace for good: keep the scope short and
/// synchronous, and dispose it on the thread that entered it.
/// </summary>
public static class NetworkNamespace
{
    private const string NamedRoot = "/run/netns";

    /// <summary>Enters a namespace by name (as in <c>ip netns add NAME</c>, under /run/netns) or by path.</summary>
    public static NetworkNamespaceScope Enter(string nameOrPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(nameOrPath);
        var path = nameOrPath.Contains('/') ? nameOrPath : Path.Combine(NamedRoot, nameOrPath);
        var original = OpenNamespace("/proc/thread-self/ns/net");
        try
        {
            using var target = OpenNamespace(path);
            if (Interop.Libc.SetNs(target, Interop.Libc.CLONE_NEWNET) != 0)
                throw Interop.GetExceptionForLastErrno("setns(CLONE_NEWNET)", path);
            return new NetworkNamespaceScope(original, path);
        }
        catch
        {
            original.Dispose();
            throw;
        }
    }

    internal static SafeFileDescriptor OpenNamespace(string path) =>
        Interop.ThrowIfFailedLibcDescriptor(Interop.Libc.Open(path, Interop.Libc.O_RDONLY | Interop.Libc.O_CLOEXEC, 0), "open", path);
}

/// <summary>The thread's stay in a network namespace; disposing returns it to the namespace it came from.</summary>
public sealed class NetworkNamespaceScope : IDisposable
{
    private readonly SafeFileDescriptor _original;
    private readonly int _threadId = Environment.CurrentManagedThreadId;
    private bool _disposed;

    internal NetworkNamespaceScope(SafeFileDescriptor original, string path)
    {
        _original = original;
        Path = path;
    }

    public string Path { get; }

    public void Dispose()
    {
        if (_disposed)
            return;
        if (Environment.CurrentManagedThreadId != _threadId)
            throw new InvalidOperationException($"The network namespace {Path} was entered on thread {_threadId} and must be left on it, not on thread {Environment.CurrentManagedThreadId}.");
        // A thread left in the wrong namespace would silently act on the wrong interfaces: fail loudly instead.
        if (Interop.Libc.SetNs(_original, Interop.Libc.CLONE_NEWNET) != 0)
            throw Interop.GetExceptionForLastErrno("setns(CLONE_NEWNET)", "original namespace");
        _original.Dispose();
        _disposed = true;
    }
}
