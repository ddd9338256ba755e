# ticdump: run the firmware's TIC decoder over a raw capture, print what it made of it.
# Usage (from the repository): tools/capture/ticdump FILE   (runs on the 32-bit unix port)
# Output (JSON): mode, frames, groups_ok, groups_bad (checksum errors and malformed
# groups), malformed, eot, values (per label, from the last group seen with a good
# checksum: value, horodate, and unit from the label table), reading (the GridReading of the last complete frame).
import json
import sys

from submeter.grid.tic import TicDecoder
from submeter.grid.reading import GridReading
from ticlabels import unit  # (beside this file: a table for the tools, not on the device)


def dump(path):
    d = TicDecoder()
    values = {}

    def on_group(label, hd, value):
        values[label.decode()] = {"value": value.decode(), "horodate": hd.decode() if hd is not None else None,
                                  "unit": unit(label)}

    d.on_group = on_group
    with open(path, "rb") as f:
        while True:
            chunk = f.read(512)
            if not chunk:
                break
            d.feed(chunk)
    mode = d.mode
    if mode is None and values:  # no complete frame: the groups' separator tells
        mode = "historic"
        with open(path, "rb") as f:
            if b"\t" in f.read():
                mode = "standard"
    reading = d.update(GridReading()).to_dict() if d.frames else None
    return {"mode": mode, "frames": d.frames, "groups_ok": d.groups_ok,
            "groups_bad": d.groups_bad + d.malformed, "malformed": d.malformed, "eot": d.eot,
            "values": values, "reading": reading}


if len(sys.argv) != 2:
    print("usage: ticdump FILE")
    sys.exit(2)
try:
    print(json.dumps(dump(sys.argv[1])))
except OSError as e:
    print("ticdump: cannot read %s: %s" % (sys.argv[1], e))
    sys.exit(1)
