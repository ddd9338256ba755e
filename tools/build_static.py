# build_static: firmware/static/*.js (and .css, .html) gzipped beside themselves as the
# meter serves them (and as deploy copies them to the flash). Reproducible: no time or
# name in the gzip header, so the .gz only changes when its source does.
# Usage: python3 tools/build_static.py   (make static)
import gzip
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STATIC = os.path.join(ROOT, "firmware", "static")


def packed(data):
    return gzip.compress(data, compresslevel=9, mtime=0)


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
