# simday: the firmware on the simulated board for a simulated period, as fast as the
# host goes, then per input the simulated truth and the metered energy (kWh, per tariff
# period) and the error in %; the energy taken and given back (Wh, each counted apart by
# the ledger: error_pct is the taken's, export_wh has its own) and the power factor, each
# measured and true. Every day that closes in the run is also checked in the history the
# firmware kept: per input, that day's truth and what the history says. A scenario with
# segments (pf, pv, reversed, burst) also gets, per segment, each input's mean power and
# power factor, measured and true, away from the segment's edges.
# Usage (from the repository): tools/sim/simday
#   [--hours 24] [--start "YYYY-MM-DD HH:MM" or HH:MM] [--period-ms 1000]
#   [--window-cycles N]   mains cycles a round measures (0, the default: the whole period)
#   [--scenario house|steady|pf|pv|reversed|burst]   (boards/sim/scenario.py)
#   [--meter standard|historic|p1|none]
#   [--vref 0|1]          the voltage reference fitted (1, the default) or not
#   [--vref-error F]      its adapter's ratio off its nominal one by this factor
#   [--phasecal 0|1]      1 (the default): each input's phase calibrated first against a
#                         resistive load, as an installer does from the page
#   [--fix 1]             an input flagged "CT reversed?" is fixed as the page's button does
#   [--data DIR]          the simulated flash (build/simday-data: give each run its own
#                         when several run at once)
import json
import os
import sys

import sim
from sim.adc import true_pf
from submeter import config
from submeter.app import App
from submeter.clock import ManualClock, date_str, day_number


def arg(name, default):
    if name in sys.argv:
        return sys.argv[sys.argv.index(name) + 1]
    return default


def fresh(path):
    try:
        os.mkdir(path)
    except OSError:
        for f in os.listdir(path):
            os.remove(path + "/" + f)
    return path


class _Kettle:
    """A resistive load on every circuit (a 2 kW kettle), to calibrate the phases with."""

    shapes = ("resistive",) * 5
    pf = (1.0,) * 5

    def power(self, i, t):
        return 2000.0

    def flow(self, kind, t):
        return 0.0


def phase_calibrated(board, cfg, sc, period):
    """As an installer does from the page: each input's phase calibrated in turn against a
    kettle on its circuit (POST /api/phasecal), before the run: the config it leaves."""
    kettle = _Kettle()
    for ct in board.ct:
        ct.scenario = kettle
        ct.use_shape("resistive")
    app = App(board, cfg)
    clock = board.clock
    for _ in range(3):  # the reference seen
        clock.advance(period)
        app.measure_round()
    for k in range(len(cfg["inputs"])):
        app.start_phasecal(k)
        while app.meter._pcal is not None:
            clock.advance(period)
            app.measure_round()
        st = app.meter.phasecal
        if st["error"]:
            raise SystemExit("phase calibration of input %d: %s" % (k + 1, st["error"]))
    shapes = getattr(sc, "shapes", None)
    for i, ct in enumerate(board.ct):
        ct.scenario = sc
        ct.use_shape(shapes[i] if shapes else "resistive")
    return app.cfg


def main():
    import submeter
    submeter.log_to(lambda *a: print(*a, file=sys.stderr))  # stdout: the JSON alone
    hours = float(arg("--hours", "24"))
    period = int(arg("--period-ms", "1000"))
    day0, start = sim.parse_start(arg("--start", "2026-11-23 00:00"), day_number(2026, 11, 23))
    meter = arg("--meter", "standard")
    clock = ManualClock()
    sc = sim.SCENARIOS[arg("--scenario", "house")]()
    board = sim.Board(scenario=sc, clock=clock, term="0", display=False, meter=None if meter == "none" else meter,
                      data_dir=fresh(arg("--data", "build/simday-data")))
    board.time.start = start
    board.time.day0 = day0
    if meter == "none":
        board.meter = None
    if arg("--vref", "1") == "0":
        board.vref = None
    else:
        board.vref.v_per_v *= float(arg("--vref-error", "1"))
    board.mains.s = board.time.now_s()
    cfg = dict(board.CONFIG, period_ms=period, window_cycles=int(arg("--window-cycles", "0")))
    inputs = [dict(inp) for inp in config.DEFAULTS["inputs"]]
    for k in getattr(sc, "exporting", ()):  # circuits that may give back
        inputs[k]["export"] = True
    cfg["inputs"] = inputs
    cfg = config.validate(cfg)
    board.configure(cfg)
    if board.vref is not None and arg("--phasecal", "1") == "1":
        cfg = phase_calibrated(board, cfg, sc, period)
        fresh(board.data_dir)
        board.time.start -= board.time.now_s() - start  # the run itself starts at --start
    app = App(board, cfg)
    app.wall.set_utc(board.utc_s(), "rtc")  # as the app's clock task does at boot
    kind = "p1" if meter == "p1" else "tic_" + meter
    grid = app.grid
    port = None
    if meter != "none":
        grid.use(kind)
        port = board.grid_port(kind)
    n = len(cfg["inputs"])
    mt = app.meter
    power = app.ledger.power                 # each input's power, as the last round measured it (signed)
    truth = [[0.0, 0.0] for _ in range(n)]  # Wh per input: off-peak (period 1), peak (period 2)
    # truth: slices of every measuring period, 10 or the scenario's step (burst: 5 ms)
    sub = max(10, period // getattr(sc, "truth_ms", period))
    day_truth = {}                           # Wh per input, per day of the calendar
    flows = [[0.0, 0.0] for _ in range(n)]   # Wh per input: imported, exported (truth)
    pfs = [[0.0, 0] for _ in range(n)]       # power factor: sum over the rounds with a load, rounds
    seg_s = getattr(sc, "segment_s", None)
    margin = 5                               # seconds left out at each end of a segment
    segs = {}                                # segment start -> per input [truth Wh, metered W sum, rounds, pf sum, pf rounds]
    steps = int(hours * 3600 * 1000 / period)
    fix = arg("--fix", "0") == "1"
    fixed = {}                               # input -> seconds into the run its fix was clicked
    start_s = board.time.now_s()
    app.measure_round()
    for _ in range(steps):
        t0 = board.time.now_s()
        for k in range(sub):  # the loads' own energy over this period, finely
            t = t0 + (k + 0.5) * period / 1000 / sub
            p = 0 if sim.meter.off_peak(t) else 1
            dt = day_truth.setdefault(day0 + int(t // 86400), [0.0] * n)
            for i in range(n):
                e = sc.power(i, t) * period / 1000 / sub / 3600
                truth[i][p] += e
                dt[i] += e
                flows[i][0 if e >= 0 else 1] += abs(e)
        clock.advance(period)
        now = clock.ticks_ms()
        if port is not None:
            grid.poll(port, now)
        board.pulse_step()
        app.measure_round()
        t1 = board.time.now_s()
        if fix:  # the page's one-click fix of "CT reversed?", as soon as it shows
            for i in range(n):
                if mt.reversed(i) and i not in fixed:
                    fixed[i] = round(t1 - start_s)
                    app.set_config({"inputs": [{"ct_flip": not cfg["inputs"][i]["ct_flip"]} if j == i else {}
                                               for j in range(n)]})
        for i in range(n):  # (the round measured the period from t1 on)
            w = power[i]
            if w:  # (a window with no power seen has no power factor)
                pfs[i][0] += mt.pf[i]
                pfs[i][1] += 1
        if seg_s:
            g = int(t1 // seg_s) * seg_s
            if g + margin <= t1 and t1 + period / 1000 <= g + seg_s - margin:
                rec = segs.setdefault(g, [[0.0, 0.0, 0, 0.0, 0] for _ in range(n)])
                for i in range(n):
                    r = rec[i]
                    r[0] += sum(sc.power(i, t1 + (k + 0.5) * period / 1000 / sub) for k in range(sub)) / sub
                    r[1] += power[i]
                    r[2] += 1
                    if power[i]:
                        r[3] += mt.pf[i]
                        r[4] += 1
    out = {"hours": hours, "period_ms": period, "meter": meter, "scenario": arg("--scenario", "house"),
           "window_cycles": app.meter.sampler.cycles, "reference": app.meter.vref_on,
           "mains_v": app.meter.mains_v, "mains_hz": app.meter.mains_hz, "inputs": []}
    shapes = getattr(sc, "shapes", ("resistive",) * n)
    worst = 0.0
    led = app.ledger
    for i in range(n):
        got_p = [led.by_period[i][p].wh + led.by_period[i][p].mj / 3.6e6 for p in (0, 1)]
        tw = flows[i][0]  # the energy taken (a circuit giving back: its export apart)
        gw = led.total[i].wh + led.total[i].mj / 3.6e6
        ge = led.export[i].wh + led.export[i].mj / 3.6e6
        err = 100 * (gw - tw) / tw if tw > 0 else (0.0 if gw == 0 else 100.0)
        te = flows[i][1]
        err_x = 100 * (ge - te) / te if te > 0 else (0.0 if ge == 0 else 100.0)
        worst = max(worst, abs(err), abs(err_x))
        out["inputs"].append({
            "input": i + 1, "name": cfg["inputs"][i]["name"],
            "truth_kwh": round(tw / 1000, 4), "metered_kwh": round(gw / 1000, 4), "error_pct": round(err, 3),
            "truth_kwh_periods": [round(x / 1000, 4) for x in truth[i]],
            "metered_kwh_periods": [round(x / 1000, 4) for x in got_p],
            "import_wh": {"measured": round(gw, 2), "true": round(tw, 2)},
            "export_wh": {"measured": round(ge, 2), "true": round(te, 2), "error_pct": round(err_x, 3)},
            "pf": {"measured": round(pfs[i][0] / pfs[i][1], 3) if pfs[i][1] else None,
                   "true": round(true_pf(shapes[i]), 3)},
            "method": mt.method(), "reversed": mt.reversed(i)})
    for kind2 in ("gas", "water"):
        sent = board.pulses_sent[kind2] * board.PULSE_L[kind2]
        vol = led.gas_l[0] if kind2 == "gas" else led.water_l[0]
        out[kind2] = {"truth_l": sent, "metered_l": vol}
    out["worst_error_pct"] = round(worst, 3)
    days = []
    worst_day = 0.0
    for rec in app.history.daily(400):
        tw = day_truth.get(rec.index)
        if tw is None:
            continue
        ins = []
        for i in range(n):
            err = 100 * (rec.wh[i] - tw[i]) / tw[i] if tw[i] > 0 else (0.0 if rec.wh[i] == 0 else 100.0)
            worst_day = max(worst_day, abs(err))
            ins.append({"input": i + 1, "truth_kwh": round(tw[i] / 1000, 4),
                        "history_kwh": rec.wh[i] / 1000, "error_pct": round(err, 3)})
        days.append({"date": date_str(rec.index), "inputs": ins, "cost": sum(rec.cost) / 1000})
    out["days"] = days
    out["worst_day_error_pct"] = round(worst_day, 3)
    out["fixed_at_s"] = {str(i + 1): t for i, t in fixed.items()}
    out["frames"] = grid.decoder.state()["frames"] if port is not None else 0
    out["segments"] = [{"t": g, "inputs": [{"truth_w": round(r[0] / r[2], 1), "metered_w": round(r[1] / r[2], 1),
                                             "pf": round(r[3] / r[4], 3) if r[4] else None,
                                             "pf_true": round(true_pf(shapes[i]), 3)} for i, r in enumerate(rec)]}
                       for g, rec in sorted(segs.items()) if rec[0][2]]
    print(json.dumps(out))


main()
