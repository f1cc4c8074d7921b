using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using Lb.Core.Maglev;
using Lb.Core.Model;

// Usage: Lb.MaglevProbe TABLE_SIZE SEED IDENTITY,WEIGHT,ID...
// Prints the SHA-256 (hex) of the table's backend ids, each as 4 little-endian bytes in slot order.
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: Lb.MaglevProbe TABLE_SIZE SEED IDENTITY,WEIGHT,ID...");
    return 2;
}

try
{
    var tableSize = uint.Parse(args[0], CultureInfo.InvariantCulture);
    var backends = args[2..].Select(ParseBackend).ToArray();
    var table = new MaglevTableBuilder(new MaglevOptions(tableSize, args[1])).Build(backends);

    var bytes = new byte[table.BackendIds.Length * sizeof(uint)];
    var ids = table.BackendIds.Span;
    for (var slot = 0; slot < ids.Length; slot++)
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(slot * sizeof(uint)), ids[slot]);
    Console.WriteLine(Convert.ToHexStringLower(SHA256.HashData(bytes)));
    return 0;
}
catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
{
    Console.Error.WriteLine(e.Message);
    return 1;
}

static MaglevBackend ParseBackend(string text)
{
    // The identity may itself hold colons (IPv6), so the weight and id are the last two comma fields.
    var parts = text.Split(',');
    if (parts.Length != 3)
        throw new FormatException($"backend '{text}' is not IDENTITY,WEIGHT,ID");
    return new MaglevBackend(parts[0], ushort.Parse(parts[1], CultureInfo.InvariantCulture), uint.Parse(parts[2], CultureInfo.InvariantCulture));
}
