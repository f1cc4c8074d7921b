using Lb.Datapath.Abi;

namespace Lb.Datapath.Engine;

/// <summary>
/// What becomes of a frame, with the numbers of the kernel's enum xdp_action, so a worker can hand the
/// verdict on as the XDP program's return value would be.
/// </summary>
public enum LbAction : byte
{
    Drop = 1,
    Pass = 2,
    /// <summary>Back out of the interface the frame came in on.</summary>
    Tx = 3,
    /// <summary>Out of <see cref="PacketVerdict.EgressIfindex"/>.</summary>
    Redirect = 4,
}

/// <summary>Where a frame came from: what the XDP program reads from struct xdp_md.</summary>
public readonly struct PacketContext
{
    public PacketContext(uint ingressIfindex) => IngressIfindex = ingressIfindex;

    /// <summary>xdp_md.ingress_ifindex: the interface the frame arrived on; next-hop lookups start there.</summary>
    public uint IngressIfindex { get; }
}

/// <summary>
/// The outcome of one frame: its reason (counted in the reason counters), the action the reason's
/// number gives (lb_reason_action), and the egress interface for a forwarded frame.
/// </summary>
public readonly struct PacketVerdict
{
    public PacketVerdict(LbReason reason, uint egressIfindex)
    {
        Reason = reason;
        EgressIfindex = egressIfindex;
    }

    public LbReason Reason { get; }

    /// <summary>The interface a forwarded frame leaves by (the ingress one for TX); 0 unless forwarded.</summary>
    public uint EgressIfindex { get; }

    public LbAction Action => ActionOf(Reason);

    /// <summary>lb_reason_action: TX and redirect by number, then the number's range (below 32 pass, below 64 drop).</summary>
    public static LbAction ActionOf(LbReason reason)
    {
        if (reason == LbReason.FwdTx)
            return LbAction.Tx;
        if (reason == LbReason.FwdRedirect)
            return LbAction.Redirect;
        if ((uint)reason >= LbLimits.ReasonFirstDrop && (uint)reason < LbLimits.ReasonFirstFwd)
            return LbAction.Drop;
        return LbAction.Pass;
    }

    public override string ToString() => EgressIfindex == 0 ? $"{Reason} ({Action})" : $"{Reason} ({Action} to ifindex {EgressIfindex})";
}
