using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace Qinco.TorchSharp.Tests;

/// <summary>
/// Test-only work-around for Debian 12 (and other systems whose libstdc++ predates GCC 13): TorchSharp 0.107.0's
/// <c>libLibTorchSharp.so</c> asks for the symbol version <c>GLIBCXX_3.4.32</c>, which Debian 12's libstdc++ (3.4.30)
/// lacks, so the library does not load. Its only symbol of that version is <c>std::ios_base_library_init()</c>, which
/// GCC 13's &lt;iostream&gt; references (a bare <c>.globl</c>, no call and no relocation) only to pin the newer
/// libstdc++; iostreams are initialised anyway by libtorch, which loads first. The work-around marks that one version
/// requirement weak (<c>VER_FLG_WEAK</c> in <c>.gnu.version_r</c>) in the test output's copy of the library, so glibc
/// loads it; nothing else changes. It applies only when the process's libstdc++ lacks the version, and refuses (with
/// the reason, which the tests then report as their skip message) unless the file is exactly that case: an ELF64
/// little-endian file whose GLIBCXX_3.4.32 requirement covers only that symbol, referenced by no relocation.
/// </summary>
internal static class GlibcxxWorkaround
{
    private const string Version = "GLIBCXX_3.4.32";
    private const string Marker = "_ZSt21ios_base_library_initv";
    private const uint ShtRela = 4, ShtDynsym = 11, ShtGnuVerneed = 0x6ffffffe, ShtGnuVersym = 0x6fffffff;
    private const ushort VerFlgWeak = 2;

    /// <summary>The library in the test output, as the build copies it from the TorchSharp package.</summary>
    public static string LibraryPath => Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");

    /// <summary>
    /// Applies the work-around to <see cref="LibraryPath"/> when this process's libstdc++ lacks GLIBCXX_3.4.32.
    /// </summary>
    /// <returns>What was done, for the test log; null when nothing was needed.</returns>
    /// <exception cref="InvalidOperationException">It is needed but cannot apply; the message says why.</exception>
    public static string? ApplyIfNeeded()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists(LibraryPath))
        {
            return null;
        }
        string? libstdcxx = LoadedLibstdcxx();
        if (libstdcxx is null || Contains(File.ReadAllBytes(libstdcxx), Encoding.ASCII.GetBytes(Version + "\0")))
        {
            return null;
        }
        byte[] image = File.ReadAllBytes(LibraryPath);
        if (!MakeVersionWeak(image, out string outcome))
        {
            return outcome;
        }
        string temporary = LibraryPath + ".patching";
        File.WriteAllBytes(temporary, image);
        File.Move(temporary, LibraryPath, overwrite: true);
        return $"{outcome} ({libstdcxx} lacks {Version}).";
    }

    /// <summary>
    /// Marks the <see cref="Version"/> requirement of <paramref name="image"/> weak, in place.
    /// </summary>
    /// <returns>False when it already was (nothing to write).</returns>
    /// <exception cref="InvalidOperationException">The image is not the case this work-around is for; the message says why.</exception>
    public static bool MakeVersionWeak(byte[] image, out string outcome)
    {
        ReadOnlySpan<byte> elf = image;
        Require(elf.Length > 64 && elf[0] == 0x7f && elf[1] == (byte)'E' && elf[2] == (byte)'L' && elf[3] == (byte)'F', "it is not an ELF file");
        Require(elf[4] == 2 && elf[5] == 1, "it is not a 64-bit little-endian ELF file");
        long sectionTable = (long)U64(elf, 0x28);
        int entrySize = U16(elf, 0x3a), count = U16(elf, 0x3c);
        var sections = new List<(uint Type, long Offset, long Size, int Link, long EntrySize)>();
        for (int i = 0; i < count; i++)
        {
            int at = checked((int)(sectionTable + (long)i * entrySize));
            sections.Add((U32(elf, at + 4), (long)U64(elf, at + 24), (long)U64(elf, at + 32), (int)U32(elf, at + 40), (long)U64(elf, at + 56)));
        }
        var verneed = sections.Find(s => s.Type == ShtGnuVerneed);
        var versym = sections.Find(s => s.Type == ShtGnuVersym);
        var dynsym = sections.Find(s => s.Type == ShtDynsym);
        Require(verneed.Offset > 0 && versym.Offset > 0 && dynsym.Offset > 0, "it has no symbol versioning sections");
        long strings = sections[verneed.Link].Offset;

        // Find the vernaux entry named GLIBCXX_3.4.32 and its version index.
        int entry = -1, index = -1;
        long need = verneed.Offset;
        while (true)
        {
            int auxCount = U16(elf, (int)need + 2);
            long aux = need + U32(elf, (int)need + 8);
            for (int a = 0; a < auxCount; a++)
            {
                if (Name(elf, strings + U32(elf, (int)aux + 8)) == Version)
                {
                    entry = (int)aux;
                    index = U16(elf, (int)aux + 6);
                }
                aux += U32(elf, (int)aux + 12);
            }
            uint next = U32(elf, (int)need + 12);
            if (next == 0)
            {
                break;
            }
            need += next;
        }
        Require(entry >= 0, $"it does not require {Version}");
        if ((U16(elf, entry + 4) & VerFlgWeak) != 0)
        {
            outcome = $"{Version} requirement already weak";
            return false;
        }

        // Every dynamic symbol of that version must be the iostream marker, and no relocation may use it.
        long symbolStrings = sections[dynsym.Link].Offset;
        var markers = new HashSet<long>();
        long symbols = dynsym.Size / dynsym.EntrySize;
        for (long s = 0; s < symbols; s++)
        {
            if ((U16(elf, (int)(versym.Offset + (2 * s))) & 0x7fff) != index)
            {
                continue;
            }
            string name = Name(elf, symbolStrings + U32(elf, (int)(dynsym.Offset + (s * dynsym.EntrySize))));
            Require(name == Marker, $"its {Version} symbol {name} is not GCC 13's iostream marker {Marker}, so the requirement is real");
            markers.Add(s);
        }
        foreach (var rela in sections.FindAll(s => s.Type == ShtRela))
        {
            for (long r = 0; r < rela.Size / 24; r++)
            {
                long symbol = (long)(U64(elf, (int)(rela.Offset + (r * 24) + 8)) >> 32);
                Require(!markers.Contains(symbol), $"a relocation uses {Marker}, so the symbol is really called");
            }
        }
        BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(entry + 4), (ushort)(U16(elf, entry + 4) | VerFlgWeak));
        outcome = $"marked the {Version} requirement of libLibTorchSharp.so weak (its only symbol, {Marker}, is never called)";
        return true;
    }

    /// <summary>The libstdc++ this process loaded (the .NET runtime links it), from /proc/self/maps.</summary>
    private static string? LoadedLibstdcxx()
    {
        foreach (string line in File.ReadLines("/proc/self/maps"))
        {
            int at = line.IndexOf('/', StringComparison.Ordinal);
            if (at >= 0 && line.AsSpan(at).EndsWith("libstdc++.so.6", StringComparison.Ordinal) || (at >= 0 && line.Contains("/libstdc++.so.6.", StringComparison.Ordinal)))
            {
                return line[at..];
            }
        }
        return null;
    }

    private static void Require(bool condition, string why)
    {
        if (!condition)
        {
            throw new InvalidOperationException($"The GLIBCXX work-around for libLibTorchSharp.so cannot apply: {why}.");
        }
    }

    private static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;

    private static string Name(ReadOnlySpan<byte> elf, long offset)
    {
        int start = checked((int)offset);
        int end = elf[start..].IndexOf((byte)0);
        return Encoding.ASCII.GetString(elf.Slice(start, end));
    }

    private static ushort U16(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt16LittleEndian(b[at..]);

    private static uint U32(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt32LittleEndian(b[at..]);

    private static ulong U64(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt64LittleEndian(b[at..]);
}
