using System.CommandLine;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Lb.Agent.Demo;

/// <summary>
/// `lb demo`: the embedded default a new user runs first. It needs root (namespaces, BPF, XDP) and the
/// compiled lb_xdp.bpf.o. Exit codes: 0 the demo showed what it shows, 1 it ran but something fell short
/// (the summary says what), 2 it could not run (not root, no object, a setup step failed), 130 / 143
/// interrupted by SIGINT / SIGTERM. Every exit path removes what the demo made first.
/// </summary>
public static class DemoCommand
{
    public const int ExitSucceeded = 0;
    public const int ExitFellShort = 1;
    public const int ExitCouldNotRun = 2;
    public const int ExitSigint = 130;
    public const int ExitSigterm = 143;

    public static Command Create()
    {
        var requests = PositiveOption("--requests", "HTTP requests to send, each on a new TCP connection", 1000);
        var datagrams = PositiveOption("--datagrams", "UDP datagrams to send, each from a new socket", 1000);
        var connections = PositiveOption("--connections", "long-lived connections held open while a backend is removed", 30);
        var concurrency = PositiveOption("--concurrency", "requests in flight at once", 16);
        var output = new Option<string>("--output", "-o")
        {
            Description = "text: narrate on standard output; json: narrate on standard error and print a JSON summary on standard output",
            DefaultValueFactory = _ => "text",
        };
        output.AcceptOnlyFromAmong("text", "json");
        var bpfObject = new Option<string?>("--bpf-object")
        {
            Description = $"the compiled lb_xdp.bpf.o (default: ${XdpObjectLocator.EnvironmentVariable}, else next to lb, else build/bpf/ above lb or the working directory)",
        };

        var command = new Command("demo", "Build a client, Lb and three backends in network namespaces on this machine, send real HTTP and UDP traffic through Lb's XDP datapath, remove a backend under load, and clean up. Needs root.")
        {
            requests, datagrams, connections, concurrency, output, bpfObject,
        };
        command.SetAction(parse => Run(new DemoSettings
        {
            HttpRequests = parse.GetValue(requests),
            Datagrams = parse.GetValue(datagrams),
            LongLivedConnections = parse.GetValue(connections),
            Concurrency = parse.GetValue(concurrency),
            Json = parse.GetValue(output) == "json",
            BpfObject = parse.GetValue(bpfObject),
        }));
        return command;
    }

    /// <summary>
    /// Runs synchronously on purpose: System.CommandLine ends an asynchronous action a fixed time after a
    /// signal, which could cut the clean-up short. Here the signal only cancels, and the clean-up always finishes.
    /// </summary>
    public static int Run(DemoSettings settings)
    {
        var output = settings.Json ? new DemoOutput(Console.Error, Console.IsErrorRedirected) : new DemoOutput(Console.Out, Console.IsOutputRedirected);
        if (!Environment.IsPrivilegedProcess)
        {
            Console.Error.WriteLine("lb demo needs root: it creates network namespaces, loads BPF programs and attaches XDP. Run it with sudo.");
            return ExitCouldNotRun;
        }

        using var cancel = new CancellationTokenSource();
        var signal = 0;
        void OnSignal(PosixSignalContext context)
        {
            var name = context.Signal == PosixSignal.SIGINT ? "SIGINT" : "SIGTERM";
            if (Interlocked.CompareExchange(ref signal, (int)context.Signal, 0) == 0)
            {
                // Keep the process alive until the clean-up is done.
                context.Cancel = true;
                output.Line($"{name}: stopping, removing everything the demo made (signal again to quit at once)");
                cancel.Cancel();
            }
            else
            {
                // A second signal quits at once, as the user asked; the next `lb demo` removes what is left.
                output.Line($"{name} again: quitting now; the next `lb demo` removes what this one leaves");
            }
        }
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);

        try
        {
            var summary = new DemoRun(settings, output).Run(cancel.Token).GetAwaiter().GetResult();
            if (settings.Json)
                Console.Out.WriteLine(JsonSerializer.Serialize(summary, JsonOptions));
            return summary.Succeeded ? ExitSucceeded : ExitFellShort;
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            output.Line("interrupted; everything the demo made is removed");
            return (PosixSignal)signal == PosixSignal.SIGINT ? ExitSigint : ExitSigterm;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"lb demo failed: {e.Message}");
            if (e.InnerException is { } inner)
                Console.Error.WriteLine($"  because: {inner.Message}");
            return ExitCouldNotRun;
        }
    }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DictionaryKeyPolicy = null,
    };

    private static Option<int> PositiveOption(string name, string description, int defaultValue)
    {
        var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() < 1)
                result.AddError($"{name} must be at least 1");
        });
        return option;
    }
}
