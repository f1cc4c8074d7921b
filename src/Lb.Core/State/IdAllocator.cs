namespace Lb.Core.State;

/// <summary>
/// Hands out the ids of one space for one build. Ids carried over are kept; new ones come after the cursor,
/// skipping every id of the new snapshot and every id of the previous one, so that an id freed by this very
/// change is not handed out in it: a flow entry recorded with the old id would otherwise meet a stranger.
/// </summary>
internal sealed class IdAllocator
{
    private readonly IdSpace _space;
    private readonly HashSet<uint> _taken = [];
    private readonly HashSet<uint> _heldBefore;
    private bool _onlyJustFreedLeft;

    public IdAllocator(IdSpace space, uint cursor, IEnumerable<uint> heldBefore)
    {
        _space = space;
        Cursor = cursor;
        _heldBefore = [.. heldBefore];
    }

    public uint Cursor { get; private set; }

    public void Keep(uint id)
    {
        if (!_taken.Add(id))
            throw new InvalidOperationException($"{_space.What} id {id} was kept twice.");
    }

    public uint Allocate()
    {
        if (!_onlyJustFreedLeft)
        {
            if (TryAllocate(skipHeldBefore: true, out var id))
                return id;
            _onlyJustFreedLeft = true;
        }

        // Every id is in use now or was a moment ago. Reusing one freed by this change beats refusing a
        // config that fits: the datapath checks a flow's backend owner, so a recycled id only costs a
        // stale flow a new choice.
        if (TryAllocate(skipHeldBefore: false, out var reused))
            return reused;
        throw new IdSpaceExhaustedException(_space, (long)_taken.Count + 1);
    }

    private bool TryAllocate(bool skipHeldBefore, out uint id)
    {
        var candidate = Cursor;
        for (uint step = 0; step < _space.MaxId; step++)
        {
            candidate = _space.Next(candidate);
            if (_taken.Contains(candidate) || (skipHeldBefore && _heldBefore.Contains(candidate)))
                continue;
            _taken.Add(candidate);
            Cursor = candidate;
            id = candidate;
            return true;
        }

        id = 0;
        return false;
    }
}
