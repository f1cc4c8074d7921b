using Lb.Datapath.Abi;
using Lb.Native;

namespace Lb.Agent;

/// <summary>
/// The `lb` executable. The full command line (run, demo, service list, status) is composed elsewhere;
/// this entry point offers what exists so far: `lb down`.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args is ["demo", ..])
            return new System.CommandLine.RootCommand("lb") { Demo.DemoCommand.Create() }.Parse(args).Invoke();
        if (args.Length >= 1 && args[0] == "down")
            return Down(args[1..]);
        Console.Error.WriteLine("usage: lb demo [--output json] | lb down [--interface IF]... [--pin-root DIR]");
        return 2;
    }

    /// <summary>`lb down`: detach Lb's XDP program from the given interfaces and remove Lb's pins.</summary>
    private static int Down(string[] args)
    {
        var interfaces = new List<string>();
        var pinRoot = LbAbi.PinRoot;
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--interface" when value is not null:
                    interfaces.Add(value);
                    i++;
                    break;
                case "--pin-root" when value is not null:
                    pinRoot = value;
                    i++;
                    break;
                default:
                    Console.Error.WriteLine($"lb down: unexpected argument '{args[i]}'");
                    return 2;
            }
        }

        var result = LbDatapath.Down(interfaces, pinRoot);
        Console.WriteLine($"detached from: {(result.DetachedInterfaces.Count == 0 ? "none" : string.Join(", ", result.DetachedInterfaces))}");
        Console.WriteLine($"removed pins: {(result.RemovedPins.Count == 0 ? "none" : string.Join(", ", result.RemovedPins))}");
        return 0;
    }
}
