using System;
using System.IO;
using System.Linq;
using NUnit.Framework;
using Qinco.Core;
using Qinco.Core.IO;

namespace Qinco.Tests.IO;

/// <summary>Row ranges and chunks read only the bytes of their rows (plus the header), seeking past the rest.</summary>
public sealed class SeekingTests
{
    private sealed class CountingStream(Stream inner) : Stream
    {
        public long BytesRead { get; private set; }

        public override bool CanRead => inner.CanRead;

        public override bool CanSeek => inner.CanSeek;

        public override bool CanWrite => false;

        public override long Length => inner.Length;

        public override long Position { get => inner.Position; set => inner.Position = value; }

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = inner.Read(buffer, offset, count);
            BytesRead += n;
            return n;
        }

        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    [TestCase(VectorFileFormat.Fvecs, 4 + (16 * 4))]
    [TestCase(VectorFileFormat.Bvecs, 4 + 16)]
    [TestCase(VectorFileFormat.Npy, 16 * 4)]
    public void RowRange_ReadsOnlyItsRows(VectorFileFormat format, int rowBytes)
    {
        var set = new VectorSet(10000, 16);
        for (int i = 0; i < set.Data.Length; i++)
        {
            set.Data[i] = i % 200;
        }
        var memory = new MemoryStream();
        VectorFile.Write(memory, format, set);
        memory.Position = 0;
        var counting = new CountingStream(memory);
        VectorSet part = VectorFile.Read(counting, format, new RowRange(7000, 7010));
        Assert.That(part.Data, Is.EqualTo(set.Slice(7000, 10).Data));
        Assert.That(counting.BytesRead, Is.LessThanOrEqualTo((10 * rowBytes) + 256), "header + 10 rows, not the file");

        memory.Position = 0;
        counting = new CountingStream(memory);
        using var chunks = VectorFile.ReadChunks(counting, format, 100).GetEnumerator();
        Assert.That(chunks.MoveNext(), Is.True);
        Assert.That(chunks.Current.Count, Is.EqualTo(100));
        Assert.That(counting.BytesRead, Is.LessThanOrEqualTo((100 * rowBytes) + 256), "one chunk at a time");
    }

    [Test]
    public void NonSeekableStream_IsRejectedClearly()
    {
        using var pipe = new NonSeekable();
        var ex = Assert.Throws<ArgumentException>(() => VectorFile.Read(pipe, VectorFileFormat.Fvecs));
        Assert.That(ex!.Message, Does.Contain("seekable"));
    }

    private sealed class NonSeekable : MemoryStream
    {
        public override bool CanSeek => false;
    }
}
