using Lb.Native.Tests.Infrastructure;

namespace Lb.Native.Tests;

public sealed class NetworkNamespaceTests
{
    [Fact]
    public void Enter_ByName_InterfacesResolveInsideAndNotAfterLeaving()
    {
        using var ns = new TestNamespace();

        int inside;
        using (NetworkNamespace.Enter(ns.Name))
            inside = Interfaces.IndexOf(TestNamespace.Veth0);
        var outside = Assert.Throws<NativeErrorException>(() => Interfaces.IndexOf(TestNamespace.Veth0));

        Assert.True(inside > 1);
        Assert.Equal("ENODEV", outside.ErrnoName);
        Assert.Contains("if_nametoindex(veth0)", outside.Message);
    }

    [Fact]
    public void Enter_ByPath_IsTheSameNamespaceAsByName()
    {
        using var ns = new TestNamespace();

        string byName, byPath;
        using (NetworkNamespace.Enter(ns.Name))
            byName = File.ReadAllText("/proc/thread-self/net/dev");
        using (NetworkNamespace.Enter($"/run/netns/{ns.Name}"))
            byPath = File.ReadAllText("/proc/thread-self/net/dev");

        Assert.Contains(TestNamespace.Veth0, byName);
        Assert.Equal(byName, byPath);
    }

    [Fact]
    public void Enter_ThreadsStartedBeforeStayOutside_ThreadsStartedInsideInheritIt()
    {
        using var ns = new TestNamespace();
        using var go = new ManualResetEventSlim();
        string? seenByEarlierThread = null;
        var earlier = new Thread(() =>
        {
            go.Wait();
            seenByEarlierThread = File.ReadAllText("/proc/thread-self/net/dev");
        });
        earlier.Start();

        string seenByLaterThread;
        using (ns.Enter())
        {
            go.Set();
            earlier.Join();
            seenByLaterThread = OnNewThread(() => File.ReadAllText("/proc/thread-self/net/dev"));
        }

        Assert.DoesNotContain(TestNamespace.Veth0, seenByEarlierThread);
        // The kernel gives a new thread its creator's namespaces: why Enter's scope must stay short and synchronous.
        Assert.Contains(TestNamespace.Veth0, seenByLaterThread);
    }

    [Fact]
    public void Enter_MissingNamespace_ThrowsEnoentWithThePath()
    {
        var error = Assert.Throws<NativeErrorException>(() => NetworkNamespace.Enter("lbt-does-not-exist"));

        Assert.Equal("ENOENT", error.ErrnoName);
        Assert.Contains("/run/netns/lbt-does-not-exist", error.Message);
    }

    [Fact]
    public void Dispose_OnAnotherThread_IsRefused()
    {
        using var ns = new TestNamespace();
        var scope = ns.Enter();
        try
        {
            var error = OnNewThread(() => Assert.Throws<InvalidOperationException>(scope.Dispose));
            Assert.Contains("must be left on it", error.Message);
        }
        finally
        {
            scope.Dispose();
        }
        Assert.DoesNotContain(TestNamespace.Veth0, File.ReadAllText("/proc/thread-self/net/dev"));
    }

    private static T OnNewThread<T>(Func<T> work)
    {
        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
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
            throw failure;
        return result;
    }

    [Fact]
    public void IndexOf_NameTooLong_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => Interfaces.IndexOf("a-name-longer-than-ifnamsiz"));
    }
}
