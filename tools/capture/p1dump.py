# p1dump: run the firmware's P1 decoder over a captured telegram (or a stream of them),
# print what it made of the last complete one. Usage: tools/capture/p1dump FILE
# Output (JSON): crc ("valid" | "invalid" | "absent"), header, objects (per OBIS code:
# value, unit, timestamp; objects not UTF-8 are left out, counted in unknown_lines),
# reading (GridReading), and the decoder's counters (rejected_objects: objects of the
# telegram left out of the reading for their content).
import json
import sys

from submeter.grid.p1 import P1Decoder, split_unit, timestamp
from submeter.grid.reading import GridReading


def dump(path):
    d = P1Decoder(crc_required=False)  # show a CRC-less telegram; "crc" says it had none
    with open(path, "rb") as f:
        while True:
            chunk = f.read(512)
            if not chunk:
                break
            d.feed(chunk)
    out = {"crc": d.last_crc, "header": None, "objects": {}, "reading": None,
           "telegrams": d.telegrams, "crc_errors": d.crc_errors, "overflows": d.overflows,
           "restarts": d.restarts}
    if d.telegrams:
        out["header"] = d.header()
        objs = d.objects()
        for obis, fields in objs.items():
            # value and timestamp by their form, in any order: a number with a unit, a time
            withunit = [f for f in fields if "*" in f]
            value, unit = split_unit(withunit[-1] if withunit else fields[-1]) if fields else ("", None)
            stamps = [f for f in fields if timestamp(f)] if len(fields) >= 2 else []
            ts = stamps[0] if stamps else None
            out["objects"][obis] = {"value": value, "unit": unit, "timestamp": ts}
            if len(fields) > 2:
                out["objects"][obis]["fields"] = fields
        out["unknown_lines"] = d.unknown
        out["reading"] = d.update(GridReading()).to_dict()
        out["rejected_objects"] = d.rejected  # there, but not UTF-8 or not a number: left out
    return out


if len(sys.argv) != 2:
    print("usage: p1dump FILE")
    sys.exit(2)
try:
    print(json.dumps(dump(sys.argv[1])))
except OSError as e:
    print("p1dump: cannot read %s: %s" % (sys.argv[1], e))
    sys.exit(1)
