namespace Lb.Core.State;

/// <summary>
/// A range of numeric ids (1..<see cref="MaxId"/>, 0 meaning "none") sized by a limit of the BPF ABI.
/// The limit lives in <c>native/include/lb/lb_abi.h</c>; a test reads that header and fails when they drift.
/// </summary>
public sealed class IdSpace
{
    /// <summary>Service ids key the Maglev, source-range and statistics maps: 1 .. LB_MAX_SERVICES-1.</summary>
    public static IdSpace Services { get; } = new("service", "LB_MAX_SERVICES", 65536);

    /// <summary>Backend ids key lb_backends and fill the Maglev tables: 1 .. LB_MAX_BACKENDS-1.</summary>
    public static IdSpace Backends { get; } = new("backend", "LB_MAX_BACKENDS", 262144);

    private IdSpace(string what, string abiLimitName, uint abiLimit)
    {
        What = what;
        AbiLimitName = abiLimitName;
        AbiLimit = abiLimit;
    }

    /// <summary>What the ids number, for messages ("service", "backend").</summary>
    public string What { get; }

    /// <summary>The name of the <c>#define</c> in lb_abi.h that sizes the map.</summary>
    public string AbiLimitName { get; }

    /// <summary>The value of that <c>#define</c>: the map has this many slots, slot 0 unused.</summary>
    public uint AbiLimit { get; }

    public uint MaxId => AbiLimit - 1;

    public bool Contains(uint id) => id >= 1 && id <= MaxId;

    /// <summary>The id after <paramref name="id"/>, wrapping from <see cref="MaxId"/> back to 1.</summary>
    internal uint Next(uint id) => id >= MaxId ? 1 : id + 1;

    public override string ToString() => $"{What} ids 1..{MaxId} ({AbiLimitName} {AbiLimit})";
}

/// <summary>More services or backends than the BPF maps have ids for.</summary>
public sealed class IdSpaceExhaustedException : InvalidOperationException
{
    public IdSpaceExhaustedException(IdSpace space, long needed)
        : base($"{needed} {space.What}s need ids, but there are only {space.MaxId} ({space.What} ids 1..{space.MaxId}, " +
               $"set by {space.AbiLimitName} = {space.AbiLimit} in native/include/lb/lb_abi.h); " +
               $"remove {space.What}s or raise {space.AbiLimitName} and rebuild the BPF program.")
    {
        Space = space;
        Needed = needed;
    }

    public IdSpace Space { get; }

    public long Needed { get; }
}
