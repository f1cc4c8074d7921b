namespace Lb.Native;

/// <summary>Network interface names and indexes, as seen from the calling thread's network namespace.</summary>
public static unsafe class Interfaces
{
    /// <summary>if_nametoindex; an unknown name is an error that says so.</summary>
    public static int IndexOf(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Length >= Interop.Libc.IF_NAMESIZE)
            throw new ArgumentException($"Interface name '{name}' is longer than {Interop.Libc.IF_NAMESIZE - 1} characters.", nameof(name));
        var index = Interop.Libc.IfNameToIndex(name);
        if (index == 0)
            throw Interop.GetExceptionForLastErrno("if_nametoindex", name);
        return checked((int)index);
    }

    /// <summary>if_indextoname, or "ifindex N" when the index names no interface (it is used in messages).</summary>
    public static string NameOf(int ifindex)
    {
        byte* buffer = stackalloc byte[Interop.Libc.IF_NAMESIZE];
        var name = Interop.Libc.IfIndexToName((uint)ifindex, buffer);
        return name is null ? $"ifindex {ifindex}" : new string((sbyte*)name);
    }
}
