// Compiled layout checks, the Tmds.LibC StructTests way: C# mirror types are measured by reflection,
// turned into _Static_asserts about the C types they mirror, and the file is compiled with clang
// against the real headers. A mismatch fails the compile, and clang's message says where.

using System.Diagnostics;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace Lb.Testing;

public sealed class CLayoutCheck
{
    private readonly StringBuilder _source = new();
    private readonly HashSet<Type> _covered = [];
    private int _assertions;

    public IReadOnlyCollection<Type> CoveredTypes => _covered;

    public int AssertionCount => _assertions;

    public string Source => _source.ToString();

    public CLayoutCheck Define(string macro)
    {
        _source.Append("#define ").AppendLine(macro);
        return this;
    }

    public CLayoutCheck Include(string header)
    {
        _source.Append("#include ").AppendLine(header);
        return this;
    }

    /// <summary>
    /// sizeof the struct, and offsetof and sizeof of each field. C field names are the C# names in
    /// snake_case unless <paramref name="fieldNames"/> maps them (to null for a C bitfield, which has no offset).
    /// </summary>
    public CLayoutCheck Struct(Type type, string cType, IReadOnlyDictionary<string, string?>? fieldNames = null)
    {
        _covered.Add(type);
        var size = SizeOf(type);
        Assert($"sizeof({cType}) == {size}", $"sizeof {type.Name} is {size} in C#");
        foreach (var field in InstanceFields(type))
        {
            string? cField = fieldNames is not null && fieldNames.TryGetValue(field.Name, out var mapped) ? mapped : SnakeCase(field.Name).ToLowerInvariant();
            if (cField is null)
                continue;
            var (offset, fieldSize) = MeasureField(type, field);
            Assert($"__builtin_offsetof({cType}, {cField}) == {offset}", $"{type.Name}.{field.Name} is at offset {offset} in C#");
            Assert($"sizeof((({cType} *)0)->{cField}) == {fieldSize}", $"{type.Name}.{field.Name} is {fieldSize} bytes in C#");
        }
        return this;
    }

    /// <summary>A type whose C counterpart has no fields worth naming (a wrapper of __be16, a union, a pad array).</summary>
    public CLayoutCheck Size(Type type, string cType)
    {
        _covered.Add(type);
        var size = SizeOf(type);
        Assert($"sizeof({cType}) == {size}", $"sizeof {type.Name} is {size} in C#");
        return this;
    }

    /// <summary>Each enum member equals the C constant PREFIX + UPPER_SNAKE(name), unless <paramref name="names"/> maps it (to null: skip).</summary>
    public CLayoutCheck Enum(Type enumType, string prefix, IReadOnlyDictionary<string, string?>? names = null, bool lowerCase = false)
    {
        _covered.Add(enumType);
        foreach (var field in enumType.GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            string? cName = names is not null && names.TryGetValue(field.Name, out var mapped)
                ? mapped
                : prefix + (lowerCase ? SnakeCase(field.Name).ToLowerInvariant() : SnakeCase(field.Name).ToUpperInvariant());
            if (cName is null)
                continue;
            var value = Convert.ToUInt64(field.GetRawConstantValue());
            Assert($"{cName} == {value}ULL", $"{enumType.Name}.{field.Name} is {value} in C#");
        }
        return this;
    }

    /// <summary>Each const field of <paramref name="holder"/> equals a C macro or constant (strings compared with strcmp).</summary>
    public CLayoutCheck Constants(Type holder, Func<string, string> cName)
    {
        _covered.Add(holder);
        foreach (var field in holder.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static).Where(f => f.IsLiteral))
        {
            var name = cName(field.Name);
            switch (field.GetRawConstantValue())
            {
                case string text:
                    var literal = text.Replace("\\", "\\\\").Replace("\"", "\\\"");
                    Assert($"__builtin_strcmp({name}, \"{literal}\") == 0", $"{holder.Name}.{field.Name} is '{literal}' in C#");
                    break;
                case var number when number is not null && number.GetType().IsPrimitive:
                    var value = Convert.ToInt64(number) < 0 ? $"({number}LL)" : $"{number}ULL";
                    Assert($"{name} == {value}", $"{holder.Name}.{field.Name} is {number} in C#");
                    break;
                default:
                    throw new InvalidOperationException($"{holder.Name}.{field.Name}: unsupported constant type.");
            }
        }
        return this;
    }

    /// <summary>Compiles the generated file with clang-14 -fsyntax-only; returns clang's output on failure.</summary>
    public (bool Success, string Output) Compile(params string[] clangArguments) =>
        Clang.Run(Source, ["-fsyntax-only", "-Werror", .. clangArguments, "-x", "c", "-"]);

    private void Assert(string condition, string message)
    {
        _assertions++;
        _source.Append("_Static_assert(").Append(condition).Append(", \"").Append(message).AppendLine("\");");
    }

    public static IEnumerable<FieldInfo> InstanceFields(Type type) =>
        type.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance).OrderBy(f => f.MetadataToken);

    /// <summary>Splits PascalCase at each capital that follows a lower-case letter or a digit: AffinityTimeoutS → Affinity_Timeout_S, IPv4 → IPv4.</summary>
    public static string SnakeCase(string name)
    {
        var builder = new StringBuilder();
        for (var i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i]) && (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1])))
                builder.Append('_');
            builder.Append(name[i]);
        }
        return builder.ToString();
    }

    public static int SizeOf(Type type) =>
        (int)typeof(CLayoutCheck).GetMethod(nameof(SizeOfT), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(type).Invoke(null, null)!;

    /// <summary>
    /// The field's offset and size in the managed layout, which is what MemoryMarshal hands to the
    /// kernel: start from a struct of 0xFF bytes, set only this field to its default, and find the zeros.
    /// </summary>
    public static (int Offset, int Size) MeasureField(Type type, FieldInfo field)
    {
        var fill = typeof(CLayoutCheck).GetMethod(nameof(BoxFilled), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(type);
        var bytesOf = typeof(CLayoutCheck).GetMethod(nameof(BytesOf), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(type);
        var boxed = fill.Invoke(null, null)!;
        field.SetValue(boxed, null);
        var bytes = (byte[])bytesOf.Invoke(null, [boxed])!;
        var offset = Array.IndexOf(bytes, (byte)0);
        if (offset < 0)
            throw new InvalidOperationException($"{type.Name}.{field.Name}: could not locate the field.");
        var end = offset;
        while (end < bytes.Length && bytes[end] == 0)
            end++;
        if (Array.IndexOf(bytes, (byte)0, end) >= 0)
            throw new InvalidOperationException($"{type.Name}.{field.Name}: the field's bytes are not contiguous.");
        return (offset, end - offset);
    }

    private static int SizeOfT<T>() where T : unmanaged => Unsafe.SizeOf<T>();

    private static object BoxFilled<T>() where T : unmanaged
    {
        var bytes = new byte[Unsafe.SizeOf<T>()];
        Array.Fill(bytes, (byte)0xFF);
        return MemoryMarshal.Read<T>(bytes);
    }

    private static byte[] BytesOf<T>(object boxed) where T : unmanaged
    {
        var value = (T)boxed;
        return MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)).ToArray();
    }
}

public static class Clang
{
    public const string Executable = "clang-14";

    /// <summary>Runs clang with <paramref name="stdin"/> as its input; success and everything it printed.</summary>
    public static (bool Success, string Output) Run(string? stdin, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(Executable)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {Executable}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
            process.StandardInput.Write(stdin);
        process.StandardInput.Close();
        process.WaitForExit();
        return (process.ExitCode == 0, stdout.Result + stderr.Result);
    }
}

public static class RepositoryRoot
{
    /// <summary>The directory holding Lb.sln, found by walking up from the test binaries.</summary>
    public static string Path
    {
        get
        {
            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(System.IO.Path.Combine(directory.FullName, "Lb.sln")))
                    return directory.FullName;
            }
            throw new InvalidOperationException($"No Lb.sln above {AppContext.BaseDirectory}.");
        }
    }

    public static string NativeInclude => System.IO.Path.Combine(Path, "native", "include");
}
