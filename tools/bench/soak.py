# soak: the whole firmware on the simulated board for a simulated period (a week for
# `make soak`), faster than real time, in the heap a plain ESP32 leaves it, with faults
# injected on a schedule. Run on the device model by tools/bench/soakrun.py (CPython), which
# polls the web page and the API and restarts the MQTT broker now and then:
#   MICROPYPATH=.frozen build/bin/micropython-frozen -X heapsize=112k tools/bench/soak.py HOURS [--no-faults]
# The clock starts half an hour before its ticks wrap (2**30 ms, 12.4 days: a device
# that runs for years wraps every fortnight). Prints, at the end, one JSON line: per
# input the simulated truth and what was metered, gas and water, the heap floor per
# simulated hour, energy that went backwards (never), what each fault did, the flash
# writes a day, MQTT and web figures, and every exception a task let out: a JSON object
# per line ({"key": value}; a list as {"key": []} then {"+key": element} per element),
# which soakrun gathers.
import asyncio
import gc
import json
import sys
import time

import sim
from submeter import app as appm, config
from submeter.ledger import history as historym, store as storem
from submeter.view import snapshot
from submeter.clock import Clock, TICKS_PERIOD

HOURS = float(sys.argv[1]) if len(sys.argv) > 1 else 24
FAULTS = "--no-faults" not in sys.argv
OPEN_CT = 0       # the heating circuit's CT comes off its cable for a while
SAT_CT = 1        # the (idle) cooling input gets a load far beyond its CT's range
SAT_W = 60000.0


def _full_open(name, mode="r", *a):
    # the flash full: every file opened for writing fails as littlefs says (ENOSPC)
    if "w" in mode or "a" in mode or "+" in mode:
        raise OSError(28)
    return open(name, mode, *a)


def integral(power, t0, t1):
    """Energy (Wh) of `power(t)` from t0 to t1 s: the scenarios are constant on 10 s cells
    (every switching time is a multiple of 10 s), so each cell counts at its midpoint."""
    wh = 0.0
    t = t0
    while t < t1:
        cell = (int(t // 10) + 1) * 10
        u = cell if cell < t1 else t1
        wh += power((t + u) / 2) * (u - t) / 3600
        t = u
    return wh


def main():
    clock = Clock(float(sim.env("SUBMETER_SPEED", "300")), start=TICKS_PERIOD - 1800000)
    board = sim.Board(clock=clock)
    cfg, err = config.load(board.data_dir + "/config.json", board.CONFIG)
    board.configure(cfg)
    app = appm.App(board, cfg, err)
    now_s = board.time.now_s
    excs = []
    out = {"hours": HOURS, "speed": clock.speed, "faults": []}
    n = len(cfg["inputs"])
    masks = []         # (input, t0, t1): time a CT saw nothing of its circuit
    app.measure_round()
    t_begin = now_s()
    t_end = t_begin + HOURS * 3600

    def energy(i):
        c = app.ledger.total[i]
        return c.wh * 3600000 + c.mj

    last_wh = [app.ledger.total[i].wh for i in range(n)]
    last_mj = [app.ledger.total[i].mj for i in range(n)]
    fig = {"backwards": 0, "low_free": gc.mem_free(), "probe_mem_errors": 0}

    def handler(loop, ctx):
        e = ctx.get("exception")
        excs.append(repr(e))
        print("task exception:", repr(e))
        sys.print_exception(e)

    hour = {"end": t_begin + 3600, "floor": None, "k": 0}
    floors = [0] * (int(HOURS) + 1)  # the heap floor of each simulated hour (made now)

    async def probe():
        while True:
            await asyncio.sleep_ms(20)
            try:
                if now_s() >= t_end:
                    break
                look()
            except MemoryError:  # (this tool's own: the heap is the firmware's)
                fig["probe_mem_errors"] += 1
        board.stop()

    async def until(t):
        while safe(now_s) < t:
            await asyncio.sleep_ms(20)

    def look():
        f = gc.mem_free()
        if f < fig["low_free"]:
            fig["low_free"] = f
        if hour["floor"] is None or app.tasks.heap_live < hour["floor"]:
            hour["floor"] = app.tasks.heap_live
        if now_s() >= hour["end"]:
            if hour["k"] < len(floors):
                floors[hour["k"]] = hour["floor"]
                hour["k"] += 1
            hour["floor"] = None
            hour["end"] += 3600
        for i in range(n):
            c = app.ledger.total[i]
            if c.wh < last_wh[i] or (c.wh == last_wh[i] and c.mj < last_mj[i]):
                fig["backwards"] += 1
            last_wh[i] = c.wh
            last_mj[i] = c.mj

    def safe(f, *a):
        # a fault's own bookkeeping (this tool's): tried again if the heap is full now
        for _ in range(20):
            try:
                return f(*a)
            except MemoryError:
                fig["probe_mem_errors"] += 1
                gc.collect()
        return f(*a)

    async def window(name, at, mins, on, off, check):
        """A fault from `at` (a fraction of the run) for `mins` simulated minutes (at most
        a twentieth of the run): on() starts it, off() ends it; check(before, during, after)
        says whether the firmware took it as it should."""
        t0 = t_begin + at * HOURS * 3600
        span = min(mins * 60, HOURS * 3600 / 20)
        await until(t0)
        before = safe(lambda: {"rounds": app.meter.rounds, "t": now_s()})
        safe(on, before)
        while safe(now_s) < t0 + span:
            await asyncio.sleep_ms(20)
            safe(during, before)
        mid = safe(lambda: {"rounds": app.meter.rounds, "t": now_s()})
        safe(off, before)
        t1 = safe(now_s)
        await until(t1 + min(span, 1800))  # and a while after, for it to recover
        after = safe(lambda: {"rounds": app.meter.rounds})
        ok, what = safe(check, before, mid, after)
        safe(out["faults"].append, {"fault": name, "ok": ok, "what": what,
                                    "metering_rounds_during": mid["rounds"] - before["rounds"],
                                    "sim_minutes": round((mid["t"] - before["t"]) / 60, 1)})

    def during(state):
        g = app.state().get("grid")
        if g and g.get("hint"):
            state["hint"] = g["hint"]
        if app.fault():
            state["fault_seen"] = True

    meter = board.meter
    dec = lambda: app.grid.decoder.state() if app.grid and app.grid.decoder else {}

    # -- the faults -------------------------------------------------------------------
    def unplug_on(s):
        meter.silent = True

    def unplug_off(s):
        meter.silent = False
        s["frames_at_replug"] = dec().get("frames", 0)

    def unplug_check(b, m, a):
        fr = dec().get("frames", 0)
        ok = b.get("hint") in ("tic_silent", "silent", "p1_silent") and fr > b["frames_at_replug"]
        return ok, "hint %s while unplugged; %d frames after the cable was back" % (
            b.get("hint"), fr - b["frames_at_replug"])

    def noise_on(s):
        d = dec()
        s["bad"] = d.get("checksum_errors", 0) + d.get("malformed", 0)
        meter.garble = 40

    def noise_off(s):
        meter.garble = 0
        d = dec()
        s["bad_end"] = d.get("checksum_errors", 0) + d.get("malformed", 0)
        s["frames_end"] = d.get("frames", 0)

    def noise_check(b, m, a):
        d = dec()
        fr = d.get("frames", 0)
        rejected = b["bad_end"] - b["bad"]
        return rejected > 0 and fr > b["frames_end"], "%d groups or telegrams rejected (checksum, shape); %d frames after" % (
            rejected, fr - b["frames_end"])

    ct_open = board.ct[OPEN_CT]

    def open_on(s):
        s["t0"] = now_s()
        ct_open.truth_w = lambda: 0.0

    def open_off(s):
        del ct_open.truth_w
        masks.append((OPEN_CT, s["t0"], now_s()))

    def open_check(b, m, a):
        return m["rounds"] > b["rounds"], "the other inputs metered on; input %d read 0 W" % (OPEN_CT + 1)

    ct_sat = board.ct[SAT_CT]
    ch_sat = app.meter.channels[SAT_CT]

    def sat_on(s):
        s["clipped"] = ch_sat.clipped
        ct_sat.truth_w = lambda: SAT_W

    def sat_off(s):
        del ct_sat.truth_w
        s["clipped_end"] = ch_sat.clipped

    def sat_check(b, m, a):
        seen = b["clipped_end"] - b["clipped"]
        api = app.state()["inputs"][SAT_CT]["clipped"]
        return seen > 0 and api >= seen, "%d windows clipped, reported as inputs[%d].clipped = %d" % (
            seen, SAT_CT, api)

    def full_on(s):
        s["errors"] = app.store.errors
        storem.open = _full_open
        historym.open = _full_open

    def full_off(s):
        storem.open = historym.open = open  # room again
        s["errors_end"] = app.store.errors
        s["saves_end"] = app.store.saves

    def full_check(b, m, a):
        refused = b["errors_end"] - b["errors"]
        saved = app.store.saves - b["saves_end"]
        return refused > 0 and b.get("fault_seen") and saved > 0, (
            "%d saves refused (counted, power LED blinking: %s), %d saves once it had room" % (
                refused, bool(b.get("fault_seen")), saved))

    def net_on(s):
        s["events"] = app.net_events
        board.net.up = False

    def net_off(s):
        board.net.up = True

    def net_check(b, m, a):
        ev = app.net_events - b["events"]
        return ev == 2 and app.state()["net"]["link"], "link down and up noted (%d events)" % ev

    def jump_on(s):
        board.time.day0 += 1  # the RTC and the meter's clock a day ahead (the loads keep their hours)

    def jump_off(s):
        board.time.day0 -= 1

    def jump_check(b, m, a):
        return a["rounds"] > m["rounds"] > b["rounds"], "the clock a day ahead and back: metering on"

    async def run():
        asyncio.get_event_loop().set_exception_handler(handler)
        asyncio.create_task(probe())
        if FAULTS:
            for args in (("tic_unplugged", 0.10, 60, unplug_on, unplug_off, unplug_check),
                         ("tic_line_noise", 0.20, 30, noise_on, noise_off, noise_check),
                         ("ct_open", 0.30, 60, open_on, open_off, open_check),
                         ("ct_saturated", 0.40, 10, sat_on, sat_off, sat_check),
                         ("flash_full", 0.50, 60, full_on, full_off, full_check),
                         ("ethernet_down", 0.60, 10, net_on, net_off, net_check),
                         ("clock_jump", 0.70, 60, jump_on, jump_off, jump_check)):
                asyncio.create_task(window(*args))
        await app.main()

    asyncio.run(run())
    app.snap = None
    gc.collect()
    for _ in app.meter.round_slices():  # the last reading: the truth ends here
        pass
    t_stop = now_s()
    app.store.save(app.ledger)
    gc.collect()
    # the firmware's figures first, then its big parts let go, and only then the report's
    # own lists and the truth's integrals: after a week the heap is fragmented, and the
    # report's first try (a 668 B list) found no room while they were still held
    led = app.ledger
    out["rounds"] = app.meter.rounds
    out["late"] = led.late
    out["backwards"] = fig["backwards"]
    out["probe_mem_errors"] = fig["probe_mem_errors"]
    out["mem_errors"] = app.tasks.mem_errors
    out["mem_where"] = app.tasks.mem_where
    out["low_free"] = fig["low_free"]
    out["exceptions"] = excs
    out["store"] = {"saves": app.store.saves, "errors": app.store.errors,
                    "writes_per_day": snapshot.writes_per_day(app, snapshot.uptime_s(app)), "history_writes": app.history.writes}
    out["mqtt"] = app.mqtt.status if app.mqtt else None
    out["web"] = {"requests": app.web.requests, "rejected": app.web.rejected, "mem_errors": app.web.mem_errors,
                  "mem_refused": app.web.mem_refused, "mem_retries": app.web.mem_retries,
                  "dropped_slow": app.web.dropped_slow, "evicted": app.web.evicted}
    g = app.grid
    out["grid"] = dict(dec(), mem_errors=g.mem_errors if g else 0)
    for kind in ("gas", "water"):
        got = led.gas_l[0] if kind == "gas" else led.water_l[0]
        out[kind] = {"truth_l": board.pulses_sent[kind] * board.PULSE_L[kind], "metered_l": got}
    app.grid = app.panel.screens = app.web = app.snap = app.mqtt = board.uart = board.display = None
    gc.collect()
    out["days_in_history"] = safe(lambda: len(list(app.history.daily(400))))
    del floors[hour["k"]:]  # (in place: no copy)
    out["heap_floor_by_hour"] = floors
    out["heap"] = gc.mem_alloc() + gc.mem_free()
    out["sim_hours"] = round((t_stop - t_begin) / 3600, 2)
    # the truth: each circuit's energy over the run, less what a CT could not see
    inputs = []
    sc = board.scenario
    for i in range(n):
        tw = safe(integral, lambda t: sc.power(i, t), t_begin, t_stop)
        for k, a, b in masks:
            if k == i:
                tw -= safe(integral, lambda t: sc.power(i, t), a, b)
        gw = energy(i) / 3600000
        skip = i == SAT_CT and FAULTS  # its truth is the overload it could not read
        inputs.append({"input": i + 1, "truth_kwh": round(tw / 1000, 4), "metered_kwh": round(gw / 1000, 4),
                       "error_pct": None if skip or tw == 0 else round(100 * (gw - tw) / tw, 3),
                       "idle": tw == 0})
    out["inputs"] = inputs
    # the firmware's big parts let go (the figures are taken), then a line per key, and a
    # line per element of the lists: no large string in what is left of the heap
    gc.collect()
    for k, v in out.items():
        if isinstance(v, list):
            print(json.dumps({k: []}))
            for x in v:
                print(json.dumps({"+" + k: x}))
        else:
            print(json.dumps({k: v}))


main()
