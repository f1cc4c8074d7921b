using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Lb.Native;

/// <summary>enum libbpf_print_level.</summary>
public enum LibbpfLogLevel
{
    Warning = 0,
    Info = 1,
    Debug = 2,
}

/// <summary>
/// libbpf's own log (libbpf_set_print), rendered and routed to a managed sink. libbpf's hook is
/// process-wide, so the sink is too. Until a sink is set libbpf prints warnings to stderr itself.
/// </summary>
public static unsafe partial class LibbpfLog
{
    private const string Prefix = "libbpf: ";

    private static Action<LibbpfLogLevel, string>? s_sink;
    private static int s_installed;

    // Messages of the current thread's load, kept for the exception when the load fails.
    [ThreadStatic]
    private static StringBuilder? t_capture;

    /// <summary>Routes every libbpf message to <paramref name="sink"/>; null sends warnings and info to stderr, as libbpf does.</summary>
    public static void SetSink(Action<LibbpfLogLevel, string>? sink)
    {
        Volatile.Write(ref s_sink, sink);
        EnsureInstalled();
    }

    /// <summary>Routes libbpf's messages to <paramref name="logger"/> (debug messages at Debug, warnings at Warning).</summary>
    public static void SetLogger(ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(logger);
        SetSink((level, message) => LogMessage(logger, ToLogLevel(level), level, message));
    }

    [LoggerMessage(EventId = 1100, Message = "libbpf {LibbpfLevel}: {Message}")]
    private static partial void LogMessage(ILogger logger, LogLevel level, LibbpfLogLevel libbpfLevel, string message);

    private static LogLevel ToLogLevel(LibbpfLogLevel level) => level switch
    {
        LibbpfLogLevel.Warning => LogLevel.Warning,
        LibbpfLogLevel.Info => LogLevel.Information,
        _ => LogLevel.Debug,
    };

    /// <summary>Collects this thread's libbpf warnings and info until disposed; a failed load quotes them.</summary>
    internal static CaptureScope Capture()
    {
        EnsureInstalled();
        var previous = t_capture;
        t_capture = new StringBuilder();
        return new CaptureScope(previous);
    }

    internal readonly struct CaptureScope(StringBuilder? previous) : IDisposable
    {
        public string Text => t_capture?.ToString() ?? "";

        public void Dispose() => t_capture = previous;
    }

    private static void EnsureInstalled()
    {
        if (Interlocked.Exchange(ref s_installed, 1) == 0)
            Interop.Libbpf.SetPrint(&OnPrint);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int OnPrint(int level, byte* format, nint args)
    {
        // An exception must not unwind through libbpf's C frames.
        try
        {
            // libbpf starts most messages with "libbpf: "; the sink knows where they come from.
            var message = Render(format, args).TrimEnd('\n');
            if (message.StartsWith(Prefix, StringComparison.Ordinal))
                message = message[Prefix.Length..];
            var libbpfLevel = (LibbpfLogLevel)level;
            if (libbpfLevel != LibbpfLogLevel.Debug)
                t_capture?.AppendLine(message);
            var sink = Volatile.Read(ref s_sink);
            if (sink is not null)
                sink(libbpfLevel, message);
            else if (libbpfLevel != LibbpfLogLevel.Debug)
                Console.Error.WriteLine(Prefix + message);
        }
        catch (Exception)
        {
        }
        return 0;
    }

    /// <summary>
    /// Formats libbpf's printf-style message with vsnprintf. On x86-64 a va_list is one 24-byte
    /// __va_list_tag that the callback receives by pointer; vsnprintf consumes it, so the first,
    /// sizing attempt runs on a byte copy (which is all va_copy does there). Elsewhere the format
    /// string is forwarded unrendered rather than guessing another ABI's va_list.
    /// </summary>
    internal static string Render(byte* format, nint args)
    {
        if (format is null)
            return "";
        if (RuntimeInformation.ProcessArchitecture != Architecture.X64)
            return Marshal.PtrToStringUTF8((nint)format) ?? "";

        const int vaListTagSize = 24;
        byte* copy = stackalloc byte[vaListTagSize];
        Buffer.MemoryCopy((void*)args, copy, vaListTagSize, vaListTagSize);

        const int smallSize = 512;
        byte* small = stackalloc byte[smallSize];
        var length = Interop.Libc.VsnPrintf(small, smallSize, format, (nint)copy);
        if (length < 0)
            return Marshal.PtrToStringUTF8((nint)format) ?? "";
        if (length < smallSize)
            return Encoding.UTF8.GetString(small, length);

        // Verifier logs arrive as one "%s" and can be megabytes long.
        var large = new byte[length + 1];
        fixed (byte* buffer = large)
        {
            var written = Interop.Libc.VsnPrintf(buffer, (nuint)large.Length, format, args);
            return Encoding.UTF8.GetString(buffer, Math.Min(Math.Max(written, 0), length));
        }
    }
}
