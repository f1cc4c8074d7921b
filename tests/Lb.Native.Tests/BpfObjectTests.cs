using Lb.Native.Tests.Infrastructure;
using Lb.Testing;

namespace Lb.Native.Tests;

/// <summary>Small BPF objects compiled once for the class with clang-14, removed afterwards.</summary>
public sealed class CompiledObjects : IDisposable
{
    private const string CountingSource = """
        // SPDX-License-Identifier: GPL-2.0
        // Test object: a pinned-by-name counter map, an array of maps, and an XDP program that counts.
        #include <linux/bpf.h>
        #include <bpf/bpf_helpers.h>

        struct {
            __uint(type, BPF_MAP_TYPE_ARRAY);
            __uint(max_entries, 16);
            __type(key, __u32);
            __type(value, __u64);
            __uint(pinning, LIBBPF_PIN_BY_NAME);
        } lbt_counts SEC(".maps");

        struct lbt_inner {
            __uint(type, BPF_MAP_TYPE_ARRAY);
            __uint(max_entries, 4);
            __type(key, __u32);
            __type(value, __u32);
        };

        struct {
            __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
            __uint(max_entries, 8);
            __type(key, __u32);
            __array(values, struct lbt_inner);
        } lbt_tables SEC(".maps");

        SEC("xdp")
        int lbt_count(struct xdp_md *ctx)
        {
            __u32 key = 0;
            __u64 *count = bpf_map_lookup_elem(&lbt_counts, &key);
            if (count)
                __sync_fetch_and_add(count, 1);
            return XDP_PASS;
        }

        char LICENSE[] SEC("license") = "GPL";
        """;

    private const string RejectedSource = """
        // SPDX-License-Identifier: GPL-2.0
        // Test object the verifier must reject: it reads packet data without a bounds check.
        #include <linux/bpf.h>
        #include <bpf/bpf_helpers.h>

        SEC("xdp")
        int lbt_unchecked(struct xdp_md *ctx)
        {
            return *(unsigned char *)(long)ctx->data;
        }

        char LICENSE[] SEC("license") = "GPL";
        """;

    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"lb-bpf-objects-{Guid.NewGuid():N}");

    public CompiledObjects()
    {
        Directory.CreateDirectory(_directory);
        Counting = Compile("counting", CountingSource);
        Rejected = Compile("rejected", RejectedSource);
    }

    public string Counting { get; }
    public string Rejected { get; }

    private string Compile(string name, string source)
    {
        var sourcePath = Path.Combine(_directory, $"{name}.bpf.c");
        var objectPath = Path.Combine(_directory, $"{name}.bpf.o");
        File.WriteAllText(sourcePath, source);
        var (success, output) = Clang.Run(null,
            ["-O2", "-g", "-target", "bpf", "-I/usr/include/x86_64-linux-gnu", "-c", sourcePath, "-o", objectPath]);
        if (!success)
            throw new InvalidOperationException($"clang failed on {name}.bpf.c:\n{output}");
        return objectPath;
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}

public sealed class BpfObjectTests(CompiledObjects objects) : IClassFixture<CompiledObjects>
{
    [Fact]
    public void Load_ResizedAndPinnedByName_MapHasNewSizeAndIsPinnedUnderTheRoot()
    {
        using var pins = new PinDirectory();
        using var obj = BpfObject.Open(objects.Counting, new BpfObjectOpenOptions { PinRootPath = pins.Path });
        obj.SetMaxEntries("lbt_counts", 1024);

        obj.Load();
        using var counts = obj.GetMap("lbt_counts");

        Assert.Equal(1024u, counts.MaxEntries);
        Assert.Equal(BpfMapType.Array, counts.Type);
        Assert.Equal(pins.Combine("lbt_counts"), obj.GetMapPinPath("lbt_counts"));
        Assert.True(obj.IsMapPinned("lbt_counts"));
        using var pinned = BpfMap.OpenPinned(pins.Combine("lbt_counts"));
        Assert.Equal(counts.Id, pinned.Id);
        Assert.Null(obj.GetMapPinPath("lbt_tables"));
    }

    [Fact]
    public void Load_SecondOpenWithSamePinRoot_ReusesThePinnedMap()
    {
        using var pins = new PinDirectory();
        uint firstId;
        using (var first = BpfObject.Open(objects.Counting, new BpfObjectOpenOptions { PinRootPath = pins.Path }))
        {
            first.Load();
            using var counts = first.GetMap("lbt_counts").As<uint, ulong>();
            counts.Update(3, 42);
            firstId = counts.Map.Id;
        }

        using var second = BpfObject.Open(objects.Counting, new BpfObjectOpenOptions { PinRootPath = pins.Path });
        second.Load();
        using var adopted = second.GetMap("lbt_counts").As<uint, ulong>();

        Assert.Equal(firstId, adopted.Map.Id);
        Assert.True(adopted.TryLookup(3, out var value));
        Assert.Equal(42ul, value);
    }

    [Fact]
    public void Load_PinnedMapOfAnotherSize_IsRefusedWithLibbpfsReason()
    {
        using var pins = new PinDirectory();
        using (var first = BpfObject.Open(objects.Counting, new BpfObjectOpenOptions { PinRootPath = pins.Path }))
            first.Load();

        using var resized = BpfObject.Open(objects.Counting, new BpfObjectOpenOptions { PinRootPath = pins.Path });
        resized.SetMaxEntries("lbt_counts", 2048);
        var error = Assert.Throws<BpfException>(resized.Load);

        Assert.Contains("parameter mismatch", error.Message);
        Assert.Contains(pins.Combine("lbt_counts"), error.Message);
    }

    [Fact]
    public void Program_FoundByName_CountsIntoTheObjectsMap()
    {
        using var pins = new PinDirectory();
        using var obj = BpfObject.Open(objects.Counting, new BpfObjectOpenOptions { PinRootPath = pins.Path });
        obj.Load();
        using var program = obj.GetProgram("lbt_count");
        using var counts = obj.GetMap("lbt_counts").As<uint, ulong>();

        var result = program.TestRun(new byte[64], default, repeat: 3);

        Assert.Equal(XdpAction.Pass, result.Action);
        Assert.Equal("lbt_count", program.Name);
        Assert.True(counts.TryLookup(0, out var count));
        Assert.Equal(3ul, count);
    }

    [Fact]
    public void SetInnerMapMaxEntries_InnerMapsMustHaveTheNewSize()
    {
        using var pins = new PinDirectory();
        using var obj = BpfObject.Open(objects.Counting, new BpfObjectOpenOptions { PinRootPath = pins.Path });
        obj.SetInnerMapMaxEntries("lbt_tables", 64);
        obj.Load();
        using var tables = obj.GetMap("lbt_tables");
        using var sized = BpfMap.Create(BpfMapType.Array, "lbt_m64", sizeof(uint), sizeof(uint), 64);
        using var declared = BpfMap.Create(BpfMapType.Array, "lbt_m4", sizeof(uint), sizeof(uint), 4);

        tables.SetInnerMap(1, sized);
        var error = Assert.Throws<BpfException>(() => tables.SetInnerMap(2, declared));

        Assert.True(tables.TryGetInnerMapId(1, out var id));
        Assert.Equal(sized.Id, id);
        Assert.Equal("EINVAL", error.ErrnoName);
    }

    [Fact]
    public void SetMaxEntries_AfterLoad_IsRefused()
    {
        using var pins = new PinDirectory();
        using var obj = BpfObject.Open(objects.Counting, new BpfObjectOpenOptions { PinRootPath = pins.Path });
        obj.Load();

        Assert.Throws<InvalidOperationException>(() => obj.SetMaxEntries("lbt_counts", 32));
    }

    [Fact]
    public void GetMap_UnknownName_ListsTheObjectsMaps()
    {
        using var obj = BpfObject.Open(objects.Counting);

        var error = Assert.Throws<ArgumentException>(() => obj.SetMaxEntries("lbt_nope", 1));

        Assert.Contains("lbt_counts", error.Message);
        Assert.Contains("lbt_tables", error.Message);
        Assert.Equal(["lbt_count"], obj.ProgramNames);
    }

    [Fact]
    public void Load_VerifierRejects_ExceptionQuotesTheVerifier()
    {
        using var obj = BpfObject.Open(objects.Rejected);

        var error = Assert.Throws<BpfException>(obj.Load);

        Assert.Equal("bpf_object__load", error.Operation);
        Assert.Contains("invalid access to packet", error.Message);
    }

    [Fact]
    public void MapsAndPrograms_OutliveTheObject()
    {
        using var pins = new PinDirectory();
        BpfMap counts;
        BpfProgram program;
        using (var obj = BpfObject.Open(objects.Counting, new BpfObjectOpenOptions { PinRootPath = pins.Path }))
        {
            obj.Load();
            counts = obj.GetMap("lbt_counts");
            program = obj.GetProgram("lbt_count");
        }

        using (counts)
        using (program)
        {
            program.TestRun(new byte[64], default);
            Assert.True(counts.As<uint, ulong>().TryLookup(0, out var count));
            Assert.Equal(1ul, count);
        }
    }
}
