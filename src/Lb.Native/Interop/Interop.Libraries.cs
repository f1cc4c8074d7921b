internal static partial class Interop
{
    internal static class Libraries
    {
        // The soname, not "libbpf.so": the unversioned name exists only with libbpf-dev installed.
        internal const string Libbpf = "libbpf.so.1";

        // "libc.so" on glibc is a linker script that dlopen cannot load.
        internal const string Libc = "libc.so.6";
    }
}
