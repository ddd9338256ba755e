# The screen as a PNG (1-bit greyscale, lit pixels white), for the web page's mirror of
# the panel, the screenshot tool and the golden images of the tests. The frame buffer is
# turned to rows by framebuf itself (blit from MONO_VLSB to MONO_HLSB, in C); the image
# data is stored, not compressed: 128x64 is 585 bytes of rows, no deflater needed.
import binascii
import struct

import framebuf


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", binascii.crc32(kind + data) & 0xFFFFFFFF)


def _adler32(data):
    a, b = 1, 0
    for x in data:
        a += x
        if a >= 65521:
            a -= 65521
        b = (b + a) % 65521
    return (b << 16) | a


def mono_png(buf, w, h, scale=1):
    """PNG bytes of a MONO_VLSB frame buffer `buf` (w x h), each pixel scale x scale."""
    sw, sh = w * scale, h * scale
    row = (sw + 7) // 8
    rows = bytearray(row * sh)
    dst = framebuf.FrameBuffer(rows, sw, sh, framebuf.MONO_HLSB)
    src = framebuf.FrameBuffer(buf, w, h, framebuf.MONO_VLSB)
    if scale == 1:
        dst.blit(src, 0, 0)
    else:
        for y in range(h):
            for x in range(w):
                if src.pixel(x, y):
                    dst.fill_rect(x * scale, y * scale, scale, scale, 1)
    raw = bytearray()
    for y in range(sh):
        raw.append(0)  # filter: none
        raw.extend(rows[y * row:(y + 1) * row])
    z = bytearray(b"\x78\x01")
    for i in range(0, len(raw), 65535):
        part = raw[i:i + 65535]
        final = 1 if i + 65535 >= len(raw) else 0
        z.extend(struct.pack("<BHH", final, len(part), len(part) ^ 0xFFFF))
        z.extend(part)
    z.extend(struct.pack(">I", _adler32(raw)))
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", sw, sh, 1, 0, 0, 0, 0))
            + _chunk(b"IDAT", bytes(z)) + _chunk(b"IEND", b""))
