# p1dump: run the firmware's P1 decoder over a captured telegram (or a stream of them),
# print what it made of the last complete one. Usage: tools/p1dump FILE
# Output (JSON): crc ("valid" | "invalid" | "absent"), header, objects (per OBIS code:
# value, unit, timestamp), reading (GridReading), and the decoder's counters.
import json
import sys

from submeter.grid.p1 import P1Decoder, update, split_unit, timestamp
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
            value, unit = split_unit(fields[-1]) if fields else ("", None)
            ts = fields[0] if len(fields) >= 2 and timestamp(fields[0]) else None
            out["objects"][obis] = {"value": value, "unit": unit, "timestamp": ts}
            if len(fields) > 2:
                out["objects"][obis]["fields"] = fields
        out["unknown_lines"] = d.unknown
        out["reading"] = update(d, GridReading()).to_dict()
    return out


if len(sys.argv) != 2:
    print("usage: p1dump FILE")
    sys.exit(2)
try:
    print(json.dumps(dump(sys.argv[1])))
except OSError as e:
    print("p1dump: cannot read %s: %s" % (sys.argv[1], e))
    sys.exit(1)
