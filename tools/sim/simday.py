# simday: the firmware on the simulated board for a simulated period, as fast as the
# host goes, then per input the simulated truth and the metered energy (kWh, per tariff
# period) and the error in %. Usage (from the repository): tools/sim/simday [--hours 24]
# [--start "YYYY-MM-DD HH:MM" or HH:MM] [--period-ms 1000] [--scenario house|steady]
# [--meter standard|historic|p1]. Every day that closes in the run is also checked in the
# history the firmware kept: per input, that day's truth and what the history says.
import json
import os
import sys

import sim
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


def main():
    hours = float(arg("--hours", "24"))
    period = int(arg("--period-ms", "1000"))
    day0, start = sim.parse_start(arg("--start", "2026-11-23 00:00"), day_number(2026, 11, 23))
    meter = arg("--meter", "standard")
    clock = ManualClock()
    board = sim.Board(scenario=sim.SCENARIOS[arg("--scenario", "house")](), clock=clock, term="0",
                      display=False, meter=meter, data_dir=fresh("build/simday-data"))
    board.time.start = start
    board.time.day0 = day0
    cfg = config.validate(dict(board.CONFIG, period_ms=period))
    board.configure(cfg)
    app = App(board, cfg)
    app.wall.set_utc(board.utc_s(), "rtc")  # as the app's clock task does at boot
    kind = "p1" if meter == "p1" else "tic_" + meter
    grid = app.grid
    grid.use(kind)
    port = board.grid_port(kind)
    sc = board.scenario
    n = len(cfg["inputs"])
    truth = [[0.0, 0.0] for _ in range(n)]  # Wh per input: off-peak (period 1), peak (period 2)
    sub = 10                                 # truth: 10 slices of every measuring period
    day_truth = {}                           # Wh per input, per day of the calendar
    steps = int(hours * 3600 * 1000 / period)
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
        clock.advance(period)
        now = clock.ticks_ms()
        grid.poll(port, now)
        board.pulse_step()
        app.measure_round()
    out = {"hours": hours, "period_ms": period, "meter": meter, "inputs": []}
    worst = 0.0
    led = app.ledger
    for i in range(n):
        got = [led.by_period[i][p].wh + led.by_period[i][p].mj / 3.6e6 for p in (0, 1)]
        tw = sum(truth[i])
        gw = led.total[i].wh + led.total[i].mj / 3.6e6
        err = 100 * (gw - tw) / tw if tw > 0 else (0.0 if gw == 0 else 100.0)
        worst = max(worst, abs(err))
        out["inputs"].append({
            "input": i + 1, "name": cfg["inputs"][i]["name"],
            "truth_kwh": round(tw / 1000, 4), "metered_kwh": round(gw / 1000, 4), "error_pct": round(err, 3),
            "truth_kwh_periods": [round(x / 1000, 4) for x in truth[i]],
            "metered_kwh_periods": [round(x / 1000, 4) for x in got]})
    for kind2 in ("gas", "water"):
        sent = board.pulses_sent[kind2] * board.PULSE_L[kind2]
        got = led.gas_l[0] if kind2 == "gas" else led.water_l[0]
        out[kind2] = {"truth_l": sent, "metered_l": got}
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
    out["frames"] = grid.decoder.state()["frames"]
    print(json.dumps(out))


main()
