# memcheck: the whole firmware in the heap a plain ESP32 leaves it. Run on the device model
# (build/bin/micropython-frozen: the firmware frozen in, as in the ESP32 image) with
# -X heapsize=112k, everything on: the simulated board (five CTs, pulses, display, the
# grid meter of SUBMETER_METER), the web server (the caller polls it), MQTT when the
# config names a broker. Usage, from the repository:
#   MICROPYPATH=.frozen build/bin/micropython-frozen -X heapsize=112k tools/bench/memcheck.py SECONDS
# Prints, at the end, one JSON line: the heap in use after the app's collections (peak),
# the free heap's low-water mark (sampled every 5 ms), the rounds measured; then
# micropython.mem_info() at the end, after a collection ("max free sz": the largest free
# block, in 16-byte blocks), which the caller reads. During the run, right after the App's
# own collections (a new peak in use, and one in 20), "@gc IN_USE" and mem_info(): the
# largest free block at the peak and its low over the run (tools/bench/memrun.py reads them).
# With "map" after SECONDS, the heap's maps too (tools/bench/memmap.py, heapmap.py).
import asyncio
import gc
import json
import sys
import time

import micropython
import sim
import submeter
from submeter import app as appm, config


class Watch:
    """The firmware's `gc` (the App's, and the task books' in submeter/__init__.py): each of its collections, then (at a new peak, and one in 20) the
    heap in use and mem_info(), whose "max free sz" is the largest free block then."""
    n = 0
    top = 0

    def collect(self):
        gc.collect()
        a = gc.mem_alloc()
        Watch.n += 1
        if a > Watch.top or Watch.n % 20 == 0:
            Watch.top = max(a, Watch.top)
            print("@gc", a)
            micropython.mem_info()

    def __getattr__(self, name):
        return getattr(gc, name)


def main():
    secs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    appm.gc = submeter.gc = Watch()  # (submeter.Tasks.collect: the collection once a metering round)
    if sys.argv[2:] == ["map"]:
        import memmap  # (only then: its code is in the heap it measures)
        appm.gc = submeter.gc = memmap.Watch(Watch)
    board = sim.Board()
    cfg, err = config.load(board.data_dir + "/config.json", board.CONFIG)
    board.configure(cfg)
    app = appm.App(board, cfg, err)
    fig = {"peak_live": 0, "low_free": gc.mem_free(), "samples": 0}

    async def probe():
        t0 = time.ticks_ms()
        while time.ticks_diff(time.ticks_ms(), t0) < secs * 1000:
            await asyncio.sleep_ms(5)
            f = gc.mem_free()
            if f < fig["low_free"]:
                fig["low_free"] = f
            if app.tasks.heap_live > fig["peak_live"]:
                fig["peak_live"] = app.tasks.heap_live
            fig["samples"] += 1
        board.stop()

    if sys.argv[2:] == ["map"]:
        appm.gc.map("boot")

    async def run():
        asyncio.create_task(probe())
        await app.main()

    asyncio.run(run())
    app.store.save(app.ledger)
    gc.collect()
    fig["heap"] = gc.mem_alloc() + gc.mem_free()
    fig["after_stop"] = gc.mem_alloc()
    fig["rounds"] = app.meter.rounds
    fig["late"] = app.ledger.late
    fig["grid_frames"] = app.grid.decoder.state()["frames"] if app.grid and app.grid.decoder else 0
    fig["grid_mem_errors"] = app.grid.mem_errors if app.grid else 0
    fig["mqtt"] = app.mqtt.status if app.mqtt else None
    fig["http_rejected"] = app.web.rejected
    fig["http_mem_errors"] = app.web.mem_errors
    fig["mem_errors"] = app.tasks.mem_errors
    fig["mem_where"] = app.tasks.mem_where
    print(json.dumps(fig))
    micropython.mem_info()


main()
