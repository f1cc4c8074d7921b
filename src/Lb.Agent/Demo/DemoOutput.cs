using Spectre.Console;

namespace Lb.Agent.Demo;

/// <summary>
/// Where the demo narrates: standard output, or standard error when standard output carries the JSON
/// summary. Lines and Spectre's progress bar and table go to the same writer, so they stay in order.
/// </summary>
public sealed class DemoOutput
{
    private readonly TextWriter _writer;
    private readonly Lock _lock = new();

    /// <param name="redirected">Whether the writer goes to a file or pipe: then no colours or cursor movement, so logs stay plain text.</param>
    public DemoOutput(TextWriter writer, bool redirected)
    {
        _writer = writer;
        Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = redirected ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = redirected ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
            Interactive = redirected ? InteractionSupport.No : InteractionSupport.Detect,
        });
    }

    public IAnsiConsole Console { get; }

    public void Line(string text)
    {
        lock (_lock)
        {
            _writer.WriteLine(text);
            _writer.Flush();
        }
    }
}
