# screenshot: the front panel of a running meter (make run, or a device on the LAN) saved
# as a PNG, enlarged. Usage: tools/sim/screenshot [--url http://127.0.0.1:8080] [--scale 4] OUT.png
import os
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from montage import chunk, read  # noqa: E402


def main(argv):
    url, scale, out = "http://127.0.0.1:8080", 4, None
    i = 0
    while i < len(argv):
        if argv[i] == "--url":
            url, i = argv[i + 1], i + 2
        elif argv[i] == "--scale":
            scale, i = int(argv[i + 1]), i + 2
        else:
            out, i = argv[i], i + 1
    if not out:
        sys.exit("usage: screenshot [--url URL] [--scale N] OUT.png")
    with urllib.request.urlopen(url.rstrip("/") + "/screen.png", timeout=5) as r:
        data = r.read()
    tmp = out + ".part"
    with open(tmp, "wb") as f:
        f.write(data)
    w, h, rows = read(tmp)
    os.remove(tmp)
    import struct
    import zlib
    big = []
    for r in rows:
        line = bytes(255 if (r[x >> 3] >> (7 - (x & 7))) & 1 else 0 for x in range(w) for _ in range(scale))
        big += [line] * scale
    raw = b"".join(b"\0" + line for line in big)
    with open(out, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w * scale, h * scale, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    print("%s: %dx%d" % (out, w * scale, h * scale))


if __name__ == "__main__":
    main(sys.argv[1:])
