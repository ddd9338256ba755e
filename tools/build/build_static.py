# build_static: firmware/static/*.js (and .css, .html) gzipped beside themselves as the
# meter serves them (and as deploy copies them to the flash). Reproducible: no time or
# name in the gzip header, so the .gz only changes when its source does.
# Usage: python3 tools/build/build_static.py   (make static)
import os
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STATIC = os.path.join(ROOT, "firmware", "static")


# The deflate window: 512 B (2**9), so that the meter can unpack a file for a client that
# takes no gzip with a 512 B window (MicroPython's deflate needs the compressor's window;
# the default 32 KB one could never be had from its heap).
WBITS = 9


def packed(data):
    z = zlib.compressobj(9, zlib.DEFLATED, 16 + WBITS)  # a gzip header: no name, time 0
    return z.compress(data) + z.flush()


def main():
    for name in sorted(os.listdir(STATIC)):
        if name.endswith((".js", ".css", ".html")):
            with open(os.path.join(STATIC, name), "rb") as f:
                data = f.read()
            gz = packed(data)
            with open(os.path.join(STATIC, name + ".gz"), "wb") as f:
                f.write(gz)
            print("%s: %d -> %d bytes" % (name, len(data), len(gz)))


if __name__ == "__main__":
    main()
