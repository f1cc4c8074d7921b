using System.Runtime.InteropServices;
using Lb.Native;

internal static partial class Interop
{
    /// <summary>
    /// glibc: descriptors, namespaces, interface names, mounts, and vsnprintf for libbpf's log.
    /// An <c>int fd</c> parameter is passed as a SafeHandle (pointer-sized; the callee reads the low
    /// 32 bits, as both 64-bit Linux ABIs specify), which keeps the descriptor alive for the call.
    /// </summary>
    internal static unsafe partial class Libc
    {
        internal const int O_RDONLY = 0x0;
        internal const int O_CLOEXEC = 0x80000;
        internal const int F_DUPFD_CLOEXEC = 1030;
        internal const int CLONE_NEWNET = 0x40000000;
        internal const int IF_NAMESIZE = 16;
        internal const int PROT_READ = 0x1;
        internal const int PROT_WRITE = 0x2;
        internal const int MAP_SHARED = 0x01;

        internal const int CLOCK_MONOTONIC_COARSE = 6;

        // struct timespec on 64-bit Linux: time_t and long, both 64 bits.
        [StructLayout(LayoutKind.Sequential)]
        internal struct Timespec
        {
            internal long Seconds;
            internal long Nanoseconds;
        }

        // int clock_gettime(clockid_t clockid, struct timespec *tp);  (a vDSO call: no system call)
        [LibraryImport(Libraries.Libc, EntryPoint = "clock_gettime", SetLastError = true)]
        [SuppressGCTransition]
        internal static partial int ClockGetTime(int clockId, Timespec* time);

        // int close(int fd);
        [LibraryImport(Libraries.Libc, EntryPoint = "close", SetLastError = true)]
        internal static partial int Close(int fd);

        // int open(const char *pathname, int flags, ... /* mode_t mode */);
        // Declared with the mode argument: a fixed-argument call is valid for a variadic callee on
        // the Linux x86-64 and arm64 ABIs when no floating-point argument is passed.
        [LibraryImport(Libraries.Libc, EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        internal static partial int Open(string pathname, int flags, uint mode);

        // int fcntl(int fd, int cmd, ... /* arg */);  (used with F_DUPFD_CLOEXEC, whose arg is an int)
        [LibraryImport(Libraries.Libc, EntryPoint = "fcntl", SetLastError = true)]
        internal static partial int FcntlDupFd(SafeFileDescriptor fd, int cmd, int lowestFd);

        // int sched_setaffinity(pid_t pid, size_t cpusetsize, const cpu_set_t *mask);
        [LibraryImport(Libraries.Libc, EntryPoint = "sched_setaffinity", SetLastError = true)]
        internal static partial int SchedSetAffinity(int pid, nuint cpusetsize, ulong* mask);

        // int setns(int fd, int nstype);
        [LibraryImport(Libraries.Libc, EntryPoint = "setns", SetLastError = true)]
        internal static partial int SetNs(SafeFileDescriptor fd, int nstype);

        // unsigned int if_nametoindex(const char *ifname);
        [LibraryImport(Libraries.Libc, EntryPoint = "if_nametoindex", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        internal static partial uint IfNameToIndex(string ifname);

        // char *if_indextoname(unsigned int ifindex, char *ifname);
        [LibraryImport(Libraries.Libc, EntryPoint = "if_indextoname", SetLastError = true)]
        internal static partial byte* IfIndexToName(uint ifindex, byte* ifname);

        // int mount(const char *source, const char *target, const char *filesystemtype,
        //           unsigned long mountflags, const void *data);
        [LibraryImport(Libraries.Libc, EntryPoint = "mount", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        internal static partial int Mount(string source, string target, string filesystemtype, nuint mountflags, string? data);

        // void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset);
        // MAP_FAILED is (void *)-1.
        [LibraryImport(Libraries.Libc, EntryPoint = "mmap", SetLastError = true)]
        internal static partial void* Mmap(void* addr, nuint length, int prot, int flags, SafeFileDescriptor fd, nint offset);

        // int munmap(void *addr, size_t length);
        [LibraryImport(Libraries.Libc, EntryPoint = "munmap", SetLastError = true)]
        internal static partial int Munmap(void* addr, nuint length);

        // int vsnprintf(char *str, size_t size, const char *format, va_list ap);
        // va_list arrives in libbpf's print callback as a pointer (an array type decays on x86-64)
        // and is passed on the same way.
        [LibraryImport(Libraries.Libc, EntryPoint = "vsnprintf")]
        internal static partial int VsnPrintf(byte* str, nuint size, byte* format, nint ap);
    }
}
