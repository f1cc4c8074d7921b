namespace Lb.Native;

/// <summary>bpffs, where maps and programs are pinned so they outlive the process that made them.</summary>
public static class BpfFileSystem
{
    public const string DefaultRoot = "/sys/fs/bpf";

    /// <summary>Whether <paramref name="path"/> is a bpf mount point (from /proc/self/mountinfo).</summary>
    public static bool IsMounted(string path = DefaultRoot)
    {
        var target = System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(path));
        foreach (var line in File.ReadLines("/proc/self/mountinfo"))
        {
            // "36 35 98:0 / /sys/fs/bpf rw,relatime shared:2 - bpf bpf rw,mode=700": field 5 is the
            // mount point (octal-escaped), the first field after " - " the filesystem type.
            var fields = line.Split(' ');
            var separator = Array.IndexOf(fields, "-");
            if (fields.Length < 5 || separator < 0 || separator + 1 >= fields.Length)
                continue;
            if (fields[separator + 1] == "bpf" && UnescapeMountPath(fields[4]) == target)
                return true;
        }
        return false;
    }

    /// <summary>Mounts bpffs at <paramref name="path"/> unless it is already there (as systemd does at boot; some hosts do not).</summary>
    public static void EnsureMounted(string path = DefaultRoot)
    {
        if (IsMounted(path))
            return;
        Directory.CreateDirectory(path);
        if (Interop.Libc.Mount("bpf", path, "bpf", 0, "mode=0700") != 0)
            throw Interop.GetExceptionForLastErrno("mount(bpf)", path);
    }

    private static string UnescapeMountPath(string field) =>
        field.Replace("\\040", " ").Replace("\\011", "\t").Replace("\\012", "\n").Replace("\\134", "\\");
}
