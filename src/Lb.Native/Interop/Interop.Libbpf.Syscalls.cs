using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Lb.Native;

internal static partial class Interop
{
    /// <summary>
    /// bpf.h (libbpf 1.1): the thin wrappers over the bpf() syscall, and the UAPI structs they fill.
    /// Descriptors come back as int (a SafeHandle return would be read as a pointer-sized value, and a
    /// negative int would arrive as a large positive one) and are wrapped at once by the caller.
    /// </summary>
    internal static unsafe partial class Libbpf
    {
        internal const int BPF_OBJ_NAME_LEN = 16;
        internal const int BPF_TAG_SIZE = 8;

        // struct bpf_map_create_opts
        [StructLayout(LayoutKind.Sequential)]
        internal struct BpfMapCreateOpts
        {
            public nuint Sz;
            public uint BtfFd;
            public uint BtfKeyTypeId;
            public uint BtfValueTypeId;
            public uint BtfVmlinuxValueTypeId;
            public uint InnerMapFd;
            public uint MapFlags;
            public ulong MapExtra;
            public uint NumaNode;
            public uint MapIfindex;
        }

        // struct bpf_prog_load_opts
        [StructLayout(LayoutKind.Sequential)]
        internal struct BpfProgLoadOpts
        {
            public nuint Sz;
            public int Attempts;
            public uint ExpectedAttachType;
            public uint ProgBtfFd;
            public uint ProgFlags;
            public uint ProgIfindex;
            public uint KernVersion;
            public uint AttachBtfId;
            public uint AttachProgFd;
            public uint AttachBtfObjFd;
            public int* FdArray;
            public void* FuncInfo;
            public uint FuncInfoCnt;
            public uint FuncInfoRecSize;
            public void* LineInfo;
            public uint LineInfoCnt;
            public uint LineInfoRecSize;
            public uint LogLevel;
            public uint LogSize;
            public byte* LogBuf;
        }

        // struct bpf_test_run_opts
        [StructLayout(LayoutKind.Sequential)]
        internal struct BpfTestRunOpts
        {
            public nuint Sz;
            public void* DataIn;
            public void* DataOut;
            public uint DataSizeIn;
            public uint DataSizeOut;
            public void* CtxIn;
            public void* CtxOut;
            public uint CtxSizeIn;
            public uint CtxSizeOut;
            public uint Retval;
            public int Repeat;
            public uint Duration;
            public uint Flags;
            public uint Cpu;
            public uint BatchSize;
        }

        // struct bpf_map_batch_opts
        [StructLayout(LayoutKind.Sequential)]
        internal struct BpfMapBatchOpts
        {
            public nuint Sz;
            public ulong ElemFlags;
            public ulong Flags;
        }

        [InlineArray(BPF_OBJ_NAME_LEN)]
        internal struct ObjectName
        {
            private byte _element0;
        }

        [InlineArray(BPF_TAG_SIZE)]
        internal struct ProgramTag
        {
            private byte _element0;
        }

        // struct bpf_map_info (linux/bpf.h)
        [StructLayout(LayoutKind.Sequential)]
        internal struct BpfMapInfo
        {
            public uint Type;
            public uint Id;
            public uint KeySize;
            public uint ValueSize;
            public uint MaxEntries;
            public uint MapFlags;
            public ObjectName Name;
            public uint Ifindex;
            public uint BtfVmlinuxValueTypeId;
            public ulong NetnsDev;
            public ulong NetnsIno;
            public uint BtfId;
            public uint BtfKeyTypeId;
            public uint BtfValueTypeId;
            public uint UnusedPad;              // __u32 :32
            public ulong MapExtra;
        }

        // struct bpf_prog_info (linux/bpf.h)
        [StructLayout(LayoutKind.Sequential)]
        internal struct BpfProgInfo
        {
            public uint Type;
            public uint Id;
            public ProgramTag Tag;
            public uint JitedProgLen;
            public uint XlatedProgLen;
            public ulong JitedProgInsns;
            public ulong XlatedProgInsns;
            public ulong LoadTime;
            public uint CreatedByUid;
            public uint NrMapIds;
            public ulong MapIds;
            public ObjectName Name;
            public uint Ifindex;
            public uint GplCompatibleBits;      // __u32 gpl_compatible:1, :31
            public ulong NetnsDev;
            public ulong NetnsIno;
            public uint NrJitedKsyms;
            public uint NrJitedFuncLens;
            public ulong JitedKsyms;
            public ulong JitedFuncLens;
            public uint BtfId;
            public uint FuncInfoRecSize;
            public ulong FuncInfo;
            public uint NrFuncInfo;
            public uint NrLineInfo;
            public ulong LineInfo;
            public ulong JitedLineInfo;
            public uint NrJitedLineInfo;
            public uint LineInfoRecSize;
            public uint JitedLineInfoRecSize;
            public uint NrProgTags;
            public ulong ProgTags;
            public ulong RunTimeNs;
            public ulong RunCnt;
            public ulong RecursionMisses;
            public uint VerifiedInsns;
            public uint AttachBtfObjId;
            public uint AttachBtfId;
            public uint UnusedPad;              // __u32 :32
        }

        // int bpf_map_create(enum bpf_map_type map_type, const char *map_name, __u32 key_size,
        //                    __u32 value_size, __u32 max_entries, const struct bpf_map_create_opts *opts);
        [LibraryImport(Libraries.Libbpf, EntryPoint = "bpf_map_create", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int MapCreate(uint mapType, string? mapName, uint keySize, uint valueSize, uint maxEntries, BpfMapCreateOpts* opts);

        // int bpf_map_update_elem(int fd, const void *key, const void *value, __u64 flags);
        [LibraryImport(Libraries.Libbpf, EntryPoint = "bpf_map_update_elem")]
        internal static partial int MapUpdateElem(SafeFileDescriptor fd, void* key, void* value, ulong flags);

        // int bpf_map_update_batch(int fd, const void *keys, const void *values, __u32 *count,
        //                         const struct bpf_map_batch_opts *opts);
        // *count is in: elements given, out: elements written (also on failure).
        [LibraryImport(Libraries.Libbpf, EntryPoint = "bpf_map_update_batch")]
        internal static partial int MapUpdateBatch(SafeFileDescriptor fd, void* keys, void* values, uint* count, BpfMapBatchOpts* opts);

        // int bpf_map_lookup_elem(int fd, const void *key, void *value);
        [LibraryImport(Libraries.Libbpf, EntryPoint = "bpf_map_lookup_elem")]
        internal static partial int MapLookupElem(SafeFileDescriptor fd, void* key, void* value);

        // int bpf_map_delete_elem(int fd, const void *key);
        [LibraryImport(Libraries.Libbpf, EntryPoint = "bpf_map_delete_elem")]
        internal static partial int MapDeleteElem(SafeFileDescriptor fd, void* key);

        // int bpf_map_get_next_key(int fd, const void *key, void *next_key);
        [LibraryImport(Libraries.Libbpf, EntryPoint = "bpf_map_get_next_key")]
        internal static partial int MapGetNextKey(SafeFileDescriptor fd, void* key, void* nextKey);

        // int bpf_obj_pin(int fd, const char *pathname);
        [LibraryImport(Libraries.Libbpf, EntryPoint = "bpf_obj_pin", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int ObjPin(SafeFileDescriptor fd, string pathname);

        // int bpf_obj_get(const char *pathname);
        [LibraryImport(Libraries.Libbpf, EntryPoint = "bpf_obj_get", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int ObjGet(string pathname);

        // int bpf_obj_get_info_by_fd(int bpf_fd, void *info, __u32 *info_len);
        // (bpf_map_get_info_by_fd and bpf_prog_get_info_by_fd arrived in libbpf 1.2.)
        [LibraryImport(Libraries.Libbpf, EntryPoint = "bpf_obj_get_info_by_fd")]
        internal static partial int ObjGetInfoByFd(SafeFileDescriptor bpfFd, void* info, uint* infoLen);

        // int bpf_map_get_fd_by_id(__u32 id);
        [LibraryImport(Libraries.Libbpf, EntryPoint = "bpf_map_get_fd_by_id")]
        internal static partial int MapGetFdById(uint id);

        // int bpf_prog_get_fd_by_id(__u32 id);
        [LibraryImport(Libraries.Libbpf, EntryPoint = "bpf_prog_get_fd_by_id")]
        internal static partial int ProgGetFdById(uint id);

        // int bpf_prog_load(enum bpf_prog_type prog_type, const char *prog_name, const char *license,
        //                   const struct bpf_insn *insns, size_t insn_cnt, const struct bpf_prog_load_opts *opts);
        [LibraryImport(Libraries.Libbpf, EntryPoint = "bpf_prog_load", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int ProgLoad(uint progType, string? progName, string license, BpfInstruction* insns, nuint insnCnt, BpfProgLoadOpts* opts);

        // int bpf_prog_test_run_opts(int prog_fd, struct bpf_test_run_opts *opts);
        [LibraryImport(Libraries.Libbpf, EntryPoint = "bpf_prog_test_run_opts")]
        internal static partial int ProgTestRunOpts(SafeFileDescriptor progFd, BpfTestRunOpts* opts);
    }
}
