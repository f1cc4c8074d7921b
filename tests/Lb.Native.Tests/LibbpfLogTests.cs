namespace Lb.Native.Tests;

/// <summary>libbpf's print hook is process-wide, so these tests do not run beside others.</summary>
[CollectionDefinition(nameof(LibbpfLogCollection), DisableParallelization = true)]
public sealed class LibbpfLogCollection;

[Collection(nameof(LibbpfLogCollection))]
public sealed class LibbpfLogTests
{
    [Fact]
    public void SetSink_LibbpfWarning_ArrivesRenderedWithItsArguments()
    {
        var messages = new List<(LibbpfLogLevel Level, string Message)>();
        var missing = Path.Combine(Path.GetTempPath(), $"lb-missing-{Guid.NewGuid():N}.bpf.o");
        LibbpfLog.SetSink((level, message) =>
        {
            lock (messages)
                messages.Add((level, message));
        });
        try
        {
            Assert.Throws<BpfException>(() => BpfObject.Open(missing));
        }
        finally
        {
            LibbpfLog.SetSink(null);
        }

        // libbpf logs "elf: failed to open %s: %s": the path must appear, not the format directive.
        lock (messages)
        {
            var warning = Assert.Single(messages, m => m.Message.Contains($"failed to open {missing}"));
            Assert.Equal(LibbpfLogLevel.Warning, warning.Level);
            Assert.StartsWith("elf: failed to open", warning.Message);
            Assert.DoesNotContain("%s", warning.Message);
        }
    }

    [Fact]
    public void OpenMissingObject_ExceptionCarriesLibbpfsOwnMessage()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"lb-missing-{Guid.NewGuid():N}.bpf.o");

        var error = Assert.Throws<BpfException>(() => BpfObject.Open(missing));

        Assert.Equal("ENOENT", error.ErrnoName);
        Assert.Contains("libbpf log", error.Message);
        Assert.Contains($"failed to open {missing}", error.Message);
    }
}
