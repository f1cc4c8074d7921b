using System.Runtime.InteropServices;
using Lb.Native;

internal static partial class Interop
{
    /// <summary>
    /// libbpf.h (libbpf 1.1): objects, their maps and programs, XDP attach over netlink, the log hook.
    /// libbpf 1.x reports failure as a negative errno return (or NULL with errno set for pointers).
    /// </summary>
    internal static unsafe partial class Libbpf
    {
        internal const int LIBBPF_WARN = 0;
        internal const int LIBBPF_INFO = 1;
        internal const int LIBBPF_DEBUG = 2;

        // if_link.h XDP_FLAGS_*
        internal const uint XDP_FLAGS_UPDATE_IF_NOEXIST = 1u << 0;
        internal const uint XDP_FLAGS_SKB_MODE = 1u << 1;
        internal const uint XDP_FLAGS_DRV_MODE = 1u << 2;
        internal const uint XDP_FLAGS_HW_MODE = 1u << 3;
        internal const uint XDP_FLAGS_REPLACE = 1u << 4;

        // if_link.h XDP_ATTACHED_*
        internal const byte XDP_ATTACHED_NONE = 0;
        internal const byte XDP_ATTACHED_DRV = 1;
        internal const byte XDP_ATTACHED_SKB = 2;
        internal const byte XDP_ATTACHED_HW = 3;
        internal const byte XDP_ATTACHED_MULTI = 4;

        // struct bpf_object_open_opts (libbpf 1.1: sz 80, last field kernel_log_level).
        [StructLayout(LayoutKind.Sequential)]
        internal struct BpfObjectOpenOpts
        {
            public nuint Sz;
            public byte* ObjectName;
            public byte RelaxedMaps;            // bool
            public byte* PinRootPath;
            public uint UnusedAttachProgFd;     // __u32 :32, the removed attach_prog_fd
            public byte* Kconfig;
            public byte* BtfCustomPath;
            public byte* KernelLogBuf;
            public nuint KernelLogSize;
            public uint KernelLogLevel;
        }

        // struct bpf_xdp_attach_opts
        [StructLayout(LayoutKind.Sequential)]
        internal struct BpfXdpAttachOpts
        {
            public nuint Sz;
            public int OldProgFd;
        }

        // struct bpf_xdp_query_opts
        [StructLayout(LayoutKind.Sequential)]
        internal struct BpfXdpQueryOpts
        {
            public nuint Sz;
            public uint ProgId;
            public uint DrvProgId;
            public uint HwProgId;
            public uint SkbProgId;
            public byte AttachMode;             // XDP_ATTACHED_*
        }

        // int libbpf_strerror(int err, char *buf, size_t size);
        [LibraryImport(Libraries.Libbpf, EntryPoint = "libbpf_strerror")]
        internal static partial int Strerror(int err, byte* buf, nuint size);

        // typedef int (*libbpf_print_fn_t)(enum libbpf_print_level level, const char *, va_list ap);
        // libbpf_print_fn_t libbpf_set_print(libbpf_print_fn_t fn);
        [LibraryImport(Libraries.Libbpf, EntryPoint = "libbpf_set_print")]
        internal static partial nint SetPrint(delegate* unmanaged[Cdecl]<int, byte*, nint, int> fn);

        // int libbpf_num_possible_cpus(void);
        [LibraryImport(Libraries.Libbpf, EntryPoint = "libbpf_num_possible_cpus")]
        internal static partial int NumPossibleCpus();

        // struct bpf_object *bpf_object__open_file(const char *path, const struct bpf_object_open_opts *opts);
        [LibraryImport(Libraries.Libbpf, EntryPoint = "bpf_object__open_file", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        internal static partial SafeBpfObjectHandle ObjectOpenFile(string path, BpfObjectOpenOpts* opts);

        // int bpf_object__load(struct bpf_object *obj);
        [LibraryImport(Libraries.Libbpf, EntryPoint = "bpf_object__load")]
        internal static partial int ObjectLoad(SafeBpfObjectHandle obj);

        // void bpf_object__close(struct bpf_object *object);
        [LibraryImport(Libraries.Libbpf, EntryPoint = "bpf_object__close")]
        internal static partial void ObjectClose(nint obj);

        // struct bpf_map *bpf_object__find_map_by_name(const struct bpf_object *obj, const char *name);
        [LibraryImport(Libraries.Libbpf, EntryPoint = "bpf_object__find_map_by_name", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial nint ObjectFindMapByName(SafeBpfObjectHandle obj, string name);

        // struct bpf_map *bpf_object__next_map(const struct bpf_object *obj, const struct bpf_map *map);
        [LibraryImport(Libraries.Libbpf, EntryPoint = "bpf_object__next_map")]
        internal static partial nint ObjectNextMap(SafeBpfObjectHandle obj, nint map);

        // struct bpf_program *bpf_object__find_program_by_name(const struct bpf_object *obj, const char *name);
        [LibraryImport(Libraries.Libbpf, EntryPoint = "bpf_object__find_program_by_name", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial nint ObjectFindProgramByName(SafeBpfObjectHandle obj, string name);

        // struct bpf_program *bpf_object__next_program(const struct bpf_object *obj, struct bpf_program *prog);
        [LibraryImport(Libraries.Libbpf, EntryPoint = "bpf_object__next_program")]
        internal static partial nint ObjectNextProgram(SafeBpfObjectHandle obj, nint prog);

        // const char *bpf_map__name(const struct bpf_map *map);
        [LibraryImport(Libraries.Libbpf, EntryPoint = "bpf_map__name")]
        internal static partial byte* MapName(nint map);

        // int bpf_map__fd(const struct bpf_map *map);
        [LibraryImport(Libraries.Libbpf, EntryPoint = "bpf_map__fd")]
        internal static partial int MapFd(nint map);

        // __u32 bpf_map__max_entries(const struct bpf_map *map);
        [LibraryImport(Libraries.Libbpf, EntryPoint = "bpf_map__max_entries")]
        internal static partial uint MapMaxEntries(nint map);

        // int bpf_map__set_max_entries(struct bpf_map *map, __u32 max_entries);
        [LibraryImport(Libraries.Libbpf, EntryPoint = "bpf_map__set_max_entries")]
        internal static partial int MapSetMaxEntries(nint map, uint maxEntries);

        // enum bpf_map_type bpf_map__type(const struct bpf_map *map);
        [LibraryImport(Libraries.Libbpf, EntryPoint = "bpf_map__type")]
        internal static partial uint MapType(nint map);

        // __u32 bpf_map__key_size(const struct bpf_map *map);
        [LibraryImport(Libraries.Libbpf, EntryPoint = "bpf_map__key_size")]
        internal static partial uint MapKeySize(nint map);

        // __u32 bpf_map__value_size(const struct bpf_map *map);
        [LibraryImport(Libraries.Libbpf, EntryPoint = "bpf_map__value_size")]
        internal static partial uint MapValueSize(nint map);

        // __u32 bpf_map__map_flags(const struct bpf_map *map);
        [LibraryImport(Libraries.Libbpf, EntryPoint = "bpf_map__map_flags")]
        internal static partial uint MapMapFlags(nint map);

        // int bpf_map__set_inner_map_fd(struct bpf_map *map, int fd);
        [LibraryImport(Libraries.Libbpf, EntryPoint = "bpf_map__set_inner_map_fd")]
        internal static partial int MapSetInnerMapFd(nint map, SafeFileDescriptor fd);

        // struct bpf_map *bpf_map__inner_map(struct bpf_map *map);
        [LibraryImport(Libraries.Libbpf, EntryPoint = "bpf_map__inner_map")]
        internal static partial nint MapInnerMap(nint map);

        // const char *bpf_map__pin_path(const struct bpf_map *map);
        [LibraryImport(Libraries.Libbpf, EntryPoint = "bpf_map__pin_path")]
        internal static partial byte* MapPinPath(nint map);

        // bool bpf_map__is_pinned(const struct bpf_map *map);
        [LibraryImport(Libraries.Libbpf, EntryPoint = "bpf_map__is_pinned")]
        [return: MarshalAs(UnmanagedType.U1)]
        internal static partial bool MapIsPinned(nint map);

        // const char *bpf_program__name(const struct bpf_program *prog);
        [LibraryImport(Libraries.Libbpf, EntryPoint = "bpf_program__name")]
        internal static partial byte* ProgramName(nint prog);

        // int bpf_program__fd(const struct bpf_program *prog);
        [LibraryImport(Libraries.Libbpf, EntryPoint = "bpf_program__fd")]
        internal static partial int ProgramFd(nint prog);

        // int bpf_xdp_attach(int ifindex, int prog_fd, __u32 flags, const struct bpf_xdp_attach_opts *opts);
        [LibraryImport(Libraries.Libbpf, EntryPoint = "bpf_xdp_attach")]
        internal static partial int XdpAttach(int ifindex, SafeFileDescriptor progFd, uint flags, BpfXdpAttachOpts* opts);

        // int bpf_xdp_detach(int ifindex, __u32 flags, const struct bpf_xdp_attach_opts *opts);
        [LibraryImport(Libraries.Libbpf, EntryPoint = "bpf_xdp_detach")]
        internal static partial int XdpDetach(int ifindex, uint flags, BpfXdpAttachOpts* opts);

        // int bpf_xdp_query(int ifindex, int flags, struct bpf_xdp_query_opts *opts);
        [LibraryImport(Libraries.Libbpf, EntryPoint = "bpf_xdp_query")]
        internal static partial int XdpQuery(int ifindex, int flags, BpfXdpQueryOpts* opts);
    }
}
