namespace Lb.Agent.Programming;

/// <summary>
/// One <see cref="Programmer.Apply"/>: which snapshot, what changed, how many map operations it took
/// (updates and deletes, Maglev table swaps counted per slot) and how long, from the diff to the last write.
/// </summary>
public sealed record ApplyResult(
    long Generation,
    string Changes,
    int MapWrites,
    int TablesBuilt,
    bool FullSync,
    TimeSpan Duration);
