using System.Buffers.Binary;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.FSharp.Core;

namespace Lb.Core.Tests.Hashing;

/// <summary>Property checks with a fixed random seed, so a run is repeatable.</summary>
internal static class Properties
{
    private static readonly FsCheck.Config Fixed = FsCheck.Config.QuickThrowOnFailure
        .WithMaxTest(500)
        .WithReplay(FSharpOption<Replay>.Some(new Replay(new Rnd(0x1b873593, 0x9e3779b97f4a7c15), FSharpOption<int>.None)));

    public static void Check(Property property) => FsCheck.Check.One(Fixed, property);

    public static Gen<byte> Byte { get; } = Gen.Choose(0, 255).Select(i => (byte)i);

    /// <summary>Full-range u32s (Gen.Choose stops at int.MaxValue).</summary>
    public static Gen<uint> UInt32 { get; } = Gen.ArrayOf(Byte, 4).Select(b => BinaryPrimitives.ReadUInt32LittleEndian(b));

    public static Gen<ushort> Port { get; } = Gen.Choose(0, ushort.MaxValue).Select(i => (ushort)i);

    public static Gen<byte[]> Bytes(int length) => Gen.ArrayOf(Byte, length);

    /// <summary>The raw bytes of an IPv4 or an IPv6 address.</summary>
    public static Gen<byte[]> Address { get; } = Gen.Elements(4, 16).SelectMany(Bytes);
}
