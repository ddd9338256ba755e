# heapmap: what the heap holds at make memcheck's peak, against a quiet round and boot.
# Runs tools/bench/memcheck.py with "map" under memcheck's load (tools/bench/memrun.py: a
# client back to back, MQTT to mosquitto), reads the heap's maps it prints
# (micropython.mem_info(1): one character a 16-byte block) and says what each holds by
# kind of object, then the objects the peak holds more than the quiet round (by kind and
# size), and what was being answered or sent at each peak. Usage, from the repository:
#   build/venv/bin/python tools/bench/heapmap.py [METER [SECONDS]]
# The kinds, as 1.25's gc.c marks a block that starts an object: T tuple, L list, D dict,
# S str or bytes, A bytearray or array, F float, B function, M module, h anything else
# (an instance, a coroutine, a dict's table, a list's items, a bytearray's bytes).
import collections
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import memrun  # noqa: E402

KINDS = {"T": "tuple", "L": "list", "D": "dict", "S": "str/bytes", "A": "bytearray/array", "F": "float",
         "B": "function", "M": "module", "h": "other"}


def maps(out):
    """[(when, in use, what was under way, [(kind, blocks) of each object])] from memcheck's output."""
    found = []
    for when, used, busy, body in re.findall(r"@map (\w+) (\d+) ([^\n]*)\n(.*?)@end", out, re.S):
        cells = ""
        for line in body.split("GC memory layout", 1)[-1].splitlines()[1:]:
            m = re.match(r"[0-9a-f]{8}: (.*)", line)
            if m:
                cells += m.group(1)
            else:
                m = re.match(r"\s+\((\d+) lines all free\)", line)
                if m:
                    cells += "." * 64 * int(m.group(1))
        objs = []
        for c in cells:
            if c == "=":
                if objs and objs[-1] is not None:
                    objs[-1][1] += 1
            elif c == ".":
                if objs and objs[-1] is not None:
                    objs.append(None)
            else:
                objs.append([c, 1])
        found.append((when, int(used), busy, [tuple(o) for o in objs if o is not None]))
    return found


def by_kind(objs):
    n = collections.Counter()
    for kind, blocks in objs:
        n[kind] += 16 * blocks
    return n


def main():
    meter = sys.argv[1] if len(sys.argv) > 1 else "standard"
    secs = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    os.chdir(memrun.ROOT)
    f = memrun.run(tempfile.mkdtemp(prefix="heapmap-"), secs=secs, meter=meter, heap_map=True)
    found = maps(f["output"])
    boot = [m for m in found if m[0] == "boot"]
    quiet = [m for m in found if m[0] == "quiet"]
    peaks = [m for m in found if m[0] == "peak"]
    if not (boot and quiet and peaks):
        sys.exit("no heap map found: is build/bin/micropython-frozen up to date (make memcheck)?")
    top = max(peaks, key=lambda m: m[1])
    print("meter %s: peak in use %.1f KB (with the simulator)" % (meter, f.get("peak_live", 0) / 1024))
    print("\npeaks, in use after the App's collection, and what was under way:")
    for when, used, busy, _ in peaks:
        print("  %6d B  %s" % (used, busy))
    cols = [("boot", boot[0]), ("quiet round", quiet[0]), ("top peak", top)]
    print("\nbytes by kind: " + " / ".join("%s (%d B)" % (name, m[1]) for name, m in cols))
    counts = [by_kind(m[3]) for _, m in cols]
    for k in sorted(KINDS, key=lambda k: -counts[2][k]):
        print("  %-16s %7d %7d %7d" % (KINDS[k], counts[0][k], counts[1][k], counts[2][k]))
    more = collections.Counter(top[3])
    more.subtract(collections.Counter(quiet[0][3]))
    print("\nobjects the top peak holds more than the quiet round (kind, size: count, bytes):")
    for (kind, blocks), n in sorted(more.items(), key=lambda kv: -kv[1] * kv[0][1])[:20]:
        if n > 0:
            print("  %-16s %5d B: %3d  %6d B" % (KINDS[kind], 16 * blocks, n, 16 * blocks * n))


if __name__ == "__main__":
    main()
