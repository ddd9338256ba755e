# memparts: what each part of the firmware holds in the heap, on the device model
# (bytecode frozen: in flash, as in the ESP32 image), after collections. Run by
# tools/bench/bench_report.py (make bench): a JSON object per line {"part": ..., "bytes": ...}.
#   MICROPYPATH=.frozen build/bin/micropython-frozen -X heapsize=112k tools/bench/memparts.py
import gc
import json

_last = [0]


def part(name):
    gc.collect()
    a = gc.mem_alloc()
    if name:
        print(json.dumps({"part": name, "bytes": a - _last[0]}))
    _last[0] = a


part(None)
import asyncio  # noqa: E402
part("asyncio (frozen): its module objects")
import umqtt.simple  # noqa: E402,F401
part("umqtt.simple (frozen in every ESP32 image)")
import base  # noqa: E402,F401
part("board defaults (boards/base.py, frozen on a device too)")
import sim  # noqa: E402
part("simulator modules (not on a device)")
from submeter import app as appm, config  # noqa: E402
from submeter.grid.reader import GridReader  # noqa: E402
part("firmware modules: module and class objects (bytecode in flash)")
board = sim.Board()
part("simulated board: CT tables, UART ring, pins (not on a device)")
cfg, err = config.load(board.data_dir + "/config.json", board.CONFIG)
board.configure(cfg)
part("config")
gr = GridReader(board, board.clock, "auto")
part("of which the App's grid reader, grid: auto (a TIC and a P1 decoder, made at boot)")
gr = None
part(None)
app = appm.App(board, cfg, err)
part("App: ledger, history, store, channels, panel, web server, grid reader")
app.snap = None
part(None)
app.snap = app.build_snapshot()
part("one snapshot (the state the screens, the page and MQTT read)")
print(json.dumps({"part": "total in use at boot (no task, no client yet)", "bytes": gc.mem_alloc()}))
