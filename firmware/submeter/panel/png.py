# The screen as a PNG (1-bit greyscale, lit pixels white), for the web page's mirror of
# the panel, the screenshot tool and the golden images of the tests. The frame buffer is
# turned to rows by framebuf itself (blit from MONO_VLSB to MONO_HLSB, in C); the image
# data is stored, not compressed: 128x64 is 1088 bytes of rows, no deflater needed.
import binascii
import struct

import framebuf


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", binascii.crc32(kind + data) & 0xFFFFFFFF)


def png_chunks(buf, w, h, scale=1):
    """The PNG of a MONO_VLSB frame buffer `buf` (w x h, each pixel scale x scale), in
    pieces of at most a row (17 bytes for 128 pixels): no allocation holds the image, so a
    fragmented heap serves it as well as a fresh one. The rows are one stored deflate
    block (w * h * scale^2 / 8 + h * scale < 65536 bytes), checksums kept as they go."""
    sw, sh = w * scale, h * scale
    row = (sw + 7) // 8
    line = bytearray(row + 1)          # filter byte 0 (none), then the row
    dst = framebuf.FrameBuffer(memoryview(line)[1:], sw, 1, framebuf.MONO_HLSB)
    src = framebuf.FrameBuffer(buf, w, h, framebuf.MONO_VLSB)
    n = (row + 1) * sh
    yield b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", sw, sh, 1, 0, 0, 0, 0))
    head = b"IDAT\x78\x01" + struct.pack("<BHH", 1, n, n ^ 0xFFFF)
    yield struct.pack(">I", n + 11) + head
    crc = binascii.crc32(head)
    a, b = 1, 0
    for y in range(sh):
        if scale == 1:
            dst.blit(src, 0, -y)       # row y of the screen: framebuf converts it, in C
        else:
            dst.fill(0)
            for x in range(w):
                if src.pixel(x, y // scale):
                    dst.fill_rect(x * scale, 0, scale, 1, 1)
        for x in line:
            a += x
            if a >= 65521:
                a -= 65521
            b = (b + a) % 65521
        crc = binascii.crc32(line, crc)
        yield bytes(line)
    tail = struct.pack(">I", (b << 16) | a)
    yield tail + struct.pack(">I", binascii.crc32(tail, crc) & 0xFFFFFFFF)
    yield _chunk(b"IEND", b"")


def mono_png(buf, w, h, scale=1):
    """PNG bytes of a MONO_VLSB frame buffer (tests, tools): png_chunks joined."""
    return b"".join(png_chunks(buf, w, h, scale))
