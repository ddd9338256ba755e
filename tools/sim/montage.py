# montage: the panel's screens side by side in one PNG, to look at them at once.
# Usage: python3 tools/sim/montage.py OUT.png IN.png... (1-bit PNGs as firmware/submeter/panel/png.py
# writes them; CPython)
import struct
import sys
import zlib


def read(path):
    d = open(path, "rb").read()
    i, idat = 8, b""
    while i < len(d):
        n = struct.unpack(">I", d[i:i + 4])[0]
        kind, body = d[i + 4:i + 8], d[i + 8:i + 8 + n]
        if kind == b"IHDR":
            w, h = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        i += 12 + n
    raw = zlib.decompress(idat)
    row = (w + 7) // 8
    return w, h, [raw[y * (row + 1) + 1:(y + 1) * (row + 1)] for y in range(h)]


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def main(out, paths, cols=3, gap=8):
    imgs = [read(p) for p in paths]
    w, h = imgs[0][0], imgs[0][1]
    rows = (len(imgs) + cols - 1) // cols
    W, H = cols * w + (cols + 1) * gap, rows * h + (rows + 1) * gap
    px = [bytearray([60]) * W for _ in range(H)]
    for n, (_, _, rr) in enumerate(imgs):
        ox, oy = gap + (n % cols) * (w + gap), gap + (n // cols) * (h + gap)
        for y in range(h):
            r = rr[y]
            for x in range(w):
                px[oy + y][ox + x] = 255 if (r[x >> 3] >> (7 - (x & 7))) & 1 else 0
    raw = b"".join(b"\0" + bytes(r) for r in px)
    with open(out, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", W, H, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
