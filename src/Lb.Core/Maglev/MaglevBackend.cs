using Lb.Core.Model;

namespace Lb.Core.Maglev;

/// <summary>
/// One backend as Maglev sees it: the identity it hashes, its weight, and the caller's id that the
/// table's slots hold (for the datapath, the backend's index in the backends map).
/// </summary>
public readonly record struct MaglevBackend(string Identity, ushort Weight, uint Id)
{
    public static MaglevBackend From(Backend backend, uint id)
    {
        ArgumentNullException.ThrowIfNull(backend);
        return new MaglevBackend(backend.Identity, backend.Weight, id);
    }

    public override string ToString() => $"{Identity} w={Weight} id={Id}";
}
