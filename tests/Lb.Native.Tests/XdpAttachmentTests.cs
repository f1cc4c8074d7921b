using Lb.Native.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Lb.Native.Tests;

/// <summary>Attach, query, replace and detach on a veth pair in a namespace of the test's own.</summary>
public sealed class XdpAttachmentTests
{
    [Fact]
    public void Attach_Veth_RunsInNativeModeAndQueryShowsTheProgram()
    {
        using var ns = new TestNamespace();
        using var program = RawPrograms.Return(XdpAction.Pass, "lbt_first");
        using var scope = ns.Enter();
        var ifindex = Interfaces.IndexOf(TestNamespace.Veth0);

        using var attachment = XdpAttachment.Attach(ifindex, program);
        var query = XdpAttachment.Query(ifindex);

        Assert.Equal(XdpMode.Native, attachment.Mode);
        Assert.Equal(new XdpQueryResult(XdpMode.Native, program.Id, program.Id, 0, 0), query);
        Assert.Contains("xdp", ns.Ip("link", "show", TestNamespace.Veth0));
    }

    [Fact]
    public void Replace_SecondProgram_QueryShowsTheNewIdThenDetachLeavesNothing()
    {
        using var ns = new TestNamespace();
        using var first = RawPrograms.Return(XdpAction.Pass, "lbt_first");
        using var second = RawPrograms.Return(XdpAction.Pass, "lbt_second");
        using var scope = ns.Enter();
        var ifindex = Interfaces.IndexOf(TestNamespace.Veth0);
        using var attachment = XdpAttachment.Attach(ifindex, first);

        attachment.Replace(second);
        var afterReplace = XdpAttachment.Query(ifindex);
        attachment.Detach();
        var afterDetach = XdpAttachment.Query(ifindex);

        Assert.Equal(second.Id, afterReplace.ProgramId);
        Assert.Equal(XdpMode.Native, afterReplace.Mode);
        Assert.Equal(second.Id, attachment.ProgramId);
        Assert.False(afterDetach.IsAttached);
        Assert.Equal(0u, afterDetach.ProgramId);
    }

    [Fact]
    public void Replace_WhenSomeoneElseReplacedMeanwhile_FailsWithEexist()
    {
        // Proves XDP_FLAGS_REPLACE carries the expected old program: a stale attachment cannot clobber a newer one.
        using var ns = new TestNamespace();
        using var first = RawPrograms.Return(XdpAction.Pass, "lbt_first");
        using var second = RawPrograms.Return(XdpAction.Pass, "lbt_second");
        using var third = RawPrograms.Return(XdpAction.Pass, "lbt_third");
        using var scope = ns.Enter();
        var ifindex = Interfaces.IndexOf(TestNamespace.Veth0);
        using var stale = XdpAttachment.Attach(ifindex, first);
        using var other = XdpAttachment.Adopt(ifindex)!;
        other.Replace(second);

        var error = Assert.Throws<BpfException>(() => stale.Replace(third));
        var staleDetach = Assert.Throws<BpfException>(() => stale.Detach());

        Assert.Equal("EEXIST", error.ErrnoName);
        Assert.Equal("EEXIST", staleDetach.ErrnoName);
        Assert.Equal(second.Id, XdpAttachment.Query(ifindex).ProgramId);
    }

    [Fact]
    public void Attach_InterfaceAlreadyHasAProgram_ThrowsSayingSo()
    {
        using var ns = new TestNamespace();
        using var first = RawPrograms.Return(XdpAction.Pass, "lbt_first");
        using var second = RawPrograms.Return(XdpAction.Pass, "lbt_second");
        using var scope = ns.Enter();
        var ifindex = Interfaces.IndexOf(TestNamespace.Veth0);
        using var attachment = XdpAttachment.Attach(ifindex, first);

        var error = Assert.Throws<BpfException>(() => XdpAttachment.Attach(ifindex, second));

        Assert.Contains("already has an XDP program", error.Message);
        Assert.Equal(first.Id, XdpAttachment.Query(ifindex).ProgramId);
    }

    [Fact]
    public void Attach_AllDescriptorsClosed_ProgramStaysAttached()
    {
        // Netlink attach, not a BPF link: the interface holds the program, as it must across an agent restart.
        using var ns = new TestNamespace();
        using var scope = ns.Enter();
        var ifindex = Interfaces.IndexOf(TestNamespace.Veth0);
        uint id;
        using (var program = RawPrograms.Return(XdpAction.Pass, "lbt_lasting"))
        using (XdpAttachment.Attach(ifindex, program))
            id = program.Id;

        var query = XdpAttachment.Query(ifindex);
        using var adopted = XdpAttachment.Adopt(ifindex);

        Assert.Equal(id, query.ProgramId);
        Assert.NotNull(adopted);
        Assert.Equal(id, adopted.ProgramId);
        Assert.Equal(XdpMode.Native, adopted.Mode);
        adopted.Detach();
        Assert.False(XdpAttachment.Query(ifindex).IsAttached);
    }

    [Fact]
    public void Adopt_NoProgramAttached_ReturnsNull()
    {
        using var ns = new TestNamespace();
        using var scope = ns.Enter();

        Assert.Null(XdpAttachment.Adopt(Interfaces.IndexOf(TestNamespace.Veth1)));
    }

    [Fact]
    public void Attach_GenericMode_QueryReportsGeneric()
    {
        using var ns = new TestNamespace();
        using var program = RawPrograms.Return(XdpAction.Pass);
        using var scope = ns.Enter();
        var ifindex = Interfaces.IndexOf(TestNamespace.Veth1);

        using var attachment = XdpAttachment.Attach(ifindex, program, XdpMode.Generic);

        Assert.Equal(new XdpQueryResult(XdpMode.Generic, program.Id, 0, program.Id, 0), XdpAttachment.Query(ifindex));
    }

    [Fact]
    public void Attach_DeviceWithoutNativeXdp_FallsBackToGenericAndLogsWhy()
    {
        // Loopback has no driver XDP hook.
        using var ns = new TestNamespace();
        using var program = RawPrograms.Return(XdpAction.Pass);
        using var scope = ns.Enter();
        var ifindex = Interfaces.IndexOf("lo");
        var logger = new ListLogger();

        using var attachment = XdpAttachment.Attach(ifindex, program, logger: logger);

        Assert.Equal(XdpMode.Generic, attachment.Mode);
        Assert.Equal(XdpMode.Generic, XdpAttachment.Query(ifindex).Mode);
        var warning = Assert.Single(logger.Entries, e => e.Level == LogLevel.Warning);
        Assert.Equal(1200, warning.EventId.Id);
        Assert.Contains("Native XDP is not available on lo", warning.Message);
        Assert.Contains("generic mode", warning.Message);
    }

    [Fact]
    public void Attach_DeviceWithoutNativeXdpAndNoFallback_Throws()
    {
        using var ns = new TestNamespace();
        using var program = RawPrograms.Return(XdpAction.Pass);
        using var scope = ns.Enter();
        var ifindex = Interfaces.IndexOf("lo");

        var error = Assert.Throws<BpfException>(() => XdpAttachment.Attach(ifindex, program, allowGenericFallback: false));

        Assert.Contains("lo (Native)", error.Message);
        Assert.False(XdpAttachment.Query(ifindex).IsAttached);
    }

    [Fact]
    public void TestRun_InsideNamespaceWithIngressDevice_UsesTheContext()
    {
        using var ns = new TestNamespace();
        using var program = RawPrograms.Return(XdpAction.Pass);
        using var scope = ns.Enter();
        var ifindex = Interfaces.IndexOf(TestNamespace.Veth0);

        var result = program.TestRun(new byte[64], new byte[64], new XdpMd { IngressIfindex = (uint)ifindex });

        Assert.Equal(XdpAction.Pass, result.Action);
        Assert.Equal(64, result.OutputLength);
    }

    [Fact]
    public void TestRunLiveFrames_RunsTheProgramForEveryFrame()
    {
        using var ns = new TestNamespace();
        using var counters = BpfMap<uint, ulong>.Create(BpfMapType.Array, "lbt_live", 1);
        using var program = RawPrograms.Count(counters.Map, XdpAction.Drop);
        using var scope = ns.Enter();
        var ifindex = Interfaces.IndexOf(TestNamespace.Veth0);
        var frame = new byte[64];
        frame[12] = 0x08; // EtherType IPv4, so the frame looks like traffic

        program.TestRunLiveFrames(frame, new XdpMd { IngressIfindex = (uint)ifindex }, repeat: 100);

        Assert.True(counters.TryLookup(0, out var runs));
        Assert.Equal(100ul, runs);
    }

    private sealed class ListLogger : ILogger
    {
        public List<(LogLevel Level, EventId EventId, string Message)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Add((logLevel, eventId, formatter(state, exception)));
    }
}
