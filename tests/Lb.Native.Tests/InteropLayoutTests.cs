using Lb.Testing;

namespace Lb.Native.Tests;

/// <summary>
/// The interop mirrors against libbpf 1.1's and the kernel's headers, compiled: the opts structs
/// (whose sz must be libbpf's), the info structs, xdp_md, bpf_insn, and every enum and constant.
/// </summary>
public sealed class InteropLayoutTests
{
    private static readonly Dictionary<string, string?> Skip = new();

    internal static CLayoutCheck BuildCheck() => new CLayoutCheck()
        .Define("_GNU_SOURCE")
        .Include("<bpf/libbpf.h>")
        .Include("<bpf/bpf.h>")
        .Include("<linux/bpf.h>")
        .Include("<linux/if_link.h>")
        .Include("<errno.h>")
        .Include("<fcntl.h>")
        .Include("<sched.h>")
        .Include("<net/if.h>")
        .Include("<sys/mman.h>")
        .Include("<time.h>")
        .Struct(typeof(Interop.Libbpf.BpfObjectOpenOpts), "struct bpf_object_open_opts",
            new Dictionary<string, string?> { ["UnusedAttachProgFd"] = null })
        .Struct(typeof(Interop.Libbpf.BpfXdpAttachOpts), "struct bpf_xdp_attach_opts")
        .Struct(typeof(Interop.Libbpf.BpfXdpQueryOpts), "struct bpf_xdp_query_opts")
        .Struct(typeof(Interop.Libbpf.BpfMapCreateOpts), "struct bpf_map_create_opts")
        .Struct(typeof(Interop.Libbpf.BpfProgLoadOpts), "struct bpf_prog_load_opts")
        .Struct(typeof(Interop.Libbpf.BpfTestRunOpts), "struct bpf_test_run_opts")
        .Struct(typeof(Interop.Libbpf.BpfMapBatchOpts), "struct bpf_map_batch_opts")
        .Struct(typeof(Interop.Libbpf.BpfMapInfo), "struct bpf_map_info",
            new Dictionary<string, string?> { ["UnusedPad"] = null })
        .Struct(typeof(Interop.Libbpf.BpfProgInfo), "struct bpf_prog_info",
            new Dictionary<string, string?> { ["GplCompatibleBits"] = null, ["UnusedPad"] = null })
        .Size(typeof(Interop.Libbpf.ObjectName), "char[BPF_OBJ_NAME_LEN]")
        .Size(typeof(Interop.Libbpf.ProgramTag), "__u8[BPF_TAG_SIZE]")
        .Struct(typeof(XdpMd), "struct xdp_md")
        .Struct(typeof(Interop.Libc.Timespec), "struct timespec", new Dictionary<string, string?> { ["Seconds"] = "tv_sec", ["Nanoseconds"] = "tv_nsec" })
        .Struct(typeof(BpfInstruction), "struct bpf_insn", new Dictionary<string, string?> { ["Registers"] = null })
        .Enum(typeof(BpfMapType), "BPF_MAP_TYPE_")
        .Enum(typeof(BpfProgramType), "BPF_PROG_TYPE_")
        .Enum(typeof(BpfMapFlags), "BPF_F_", new Dictionary<string, string?> { ["None"] = null })
        .Enum(typeof(BpfUpdateFlags), "", new Dictionary<string, string?> { ["Any"] = "BPF_ANY", ["NoExist"] = "BPF_NOEXIST", ["Exist"] = "BPF_EXIST" })
        .Enum(typeof(BpfTestRunFlags), "BPF_F_TEST_", new Dictionary<string, string?> { ["None"] = null })
        .Enum(typeof(BpfHelper), "BPF_FUNC_", lowerCase: true)
        .Enum(typeof(XdpAction), "XDP_")
        .Enum(typeof(XdpMode), "", new Dictionary<string, string?>
        {
            ["None"] = "XDP_ATTACHED_NONE", ["Native"] = "XDP_ATTACHED_DRV", ["Generic"] = "XDP_ATTACHED_SKB",
            ["Offloaded"] = "XDP_ATTACHED_HW", ["Multiple"] = "XDP_ATTACHED_MULTI",
        })
        .Enum(typeof(LibbpfLogLevel), "", new Dictionary<string, string?>
        {
            ["Warning"] = "LIBBPF_WARN", ["Info"] = "LIBBPF_INFO", ["Debug"] = "LIBBPF_DEBUG",
        })
        .Constants(typeof(Interop.Libbpf), name => name)
        .Constants(typeof(Interop.Libc), name => name)
        .Constants(typeof(Interop), name => name);

    [Fact]
    public void GeneratedAssertions_CompiledAgainstLibbpfAndKernelHeaders_AllHold()
    {
        var check = BuildCheck();

        var (success, output) = check.Compile();

        Assert.True(success, $"Lb.Native's interop declarations disagree with the installed headers:\n{output}");
        Assert.True(check.AssertionCount > 250, $"only {check.AssertionCount} assertions were generated");
    }

    [Fact]
    public void EveryInteropStruct_IsInTheCheckedList()
    {
        var structs = typeof(Interop.Libbpf).GetNestedTypes(System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public)
            .Where(t => t.IsValueType)
            .Append(typeof(XdpMd))
            .Append(typeof(BpfInstruction));

        var missing = structs.Except(BuildCheck().CoveredTypes).Select(t => t.Name).ToList();

        Assert.True(missing.Count == 0, $"interop structs left out of the layout check: {string.Join(", ", missing)}");
    }

    [Fact]
    public void OpenOpts_SizeIsLibbpf11s()
    {
        // libbpf rejects opts whose sz is larger than it knows unless the extra bytes are zero, and
        // ignores fields past a smaller sz: 80 bytes is struct bpf_object_open_opts in libbpf 1.1.
        Assert.Equal(80, CLayoutCheck.SizeOf(typeof(Interop.Libbpf.BpfObjectOpenOpts)));
        Assert.Equal(80, CLayoutCheck.SizeOf(typeof(Interop.Libbpf.BpfTestRunOpts)));
    }
}
