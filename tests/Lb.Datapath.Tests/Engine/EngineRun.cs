using Lb.Datapath.Abi;
using Lb.Datapath.Engine;
using Lb.Datapath.Tables;

namespace Lb.Datapath.Tests.Engine;

/// <summary>One frame through a <see cref="PacketEngine"/>, in a buffer with headroom as an AF_XDP frame has, with the reason counters around it.</summary>
internal static class EngineRun
{
    public const int Headroom = 256;

    public static (PacketVerdict Verdict, byte[] Output, string[] MovedReasons) Run(PacketEngine engine, InMemoryTables tables, byte[] input, uint ingressIfindex)
    {
        var before = Reasons(tables);
        var buffer = new byte[Headroom + input.Length + 64];
        input.CopyTo(buffer.AsSpan(Headroom));
        var offset = Headroom;
        var length = input.Length;

        var verdict = engine.Process(buffer, ref offset, ref length, new PacketContext(ingressIfindex));

        var after = Reasons(tables);
        var moved = Enumerable.Range(0, before.Length).Where(r => after[r] != before[r]).Select(r => $"{(LbReason)r} +{after[r] - before[r]}").ToArray();
        return (verdict, buffer.AsSpan(offset, length).ToArray(), moved);
    }

    public static ulong[] Reasons(InMemoryTables tables) =>
        Enumerable.Range(0, (int)LbLimits.ReasonMax).Select(r => tables.ReasonCount((LbReason)r)).ToArray();
}
