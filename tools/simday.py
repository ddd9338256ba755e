# simday: the firmware on the simulated board for a simulated period, as fast as the
# host goes, then per input the simulated truth and the metered energy (kWh, per tariff
# period) and the error in %. Usage (from the repository): tools/simday [--hours 24]
# [--start HH:MM] [--period-ms 1000] [--scenario house|steady] [--meter standard|historic|p1]
import json
import os
import sys

import sim
from submeter import config
from submeter.app import App
from submeter.clock import ManualClock
from submeter.grid.reader import _decoder


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
    hh, mm = arg("--start", "00:00").split(":")
    start = int(hh) * 3600 + int(mm) * 60
    meter = arg("--meter", "standard")
    clock = ManualClock()
    board = sim.Board(scenario=sim.SCENARIOS[arg("--scenario", "house")](), clock=clock, term="0",
                      display=False, meter=meter, data_dir=fresh("build/simday-data"))
    board.time.start = start
    cfg = config.validate(dict(board.CONFIG, period_ms=period))
    board.configure(cfg)
    app = App(board, cfg)
    kind = "p1" if meter == "p1" else "tic_" + meter
    grid = app.grid
    grid.kind = kind
    grid.decoder = _decoder(kind)
    port = board.grid_port(kind)
    sc = board.scenario
    n = len(cfg["inputs"])
    truth = [[0.0, 0.0] for _ in range(n)]  # Wh per input: off-peak (period 1), peak (period 2)
    sub = 10                                 # truth: 10 slices of every measuring period
    steps = int(hours * 3600 * 1000 / period)
    app.measure_round()
    for _ in range(steps):
        t0 = board.time.now_s()
        for k in range(sub):  # the loads' own energy over this period, finely
            t = t0 + (k + 0.5) * period / 1000 / sub
            p = 0 if sim.simtic.off_peak(t) else 1
            for i in range(n):
                truth[i][p] += sc.power(i, t) * period / 1000 / sub / 3600
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
    out["frames"] = grid.decoder.state()["frames"]
    print(json.dumps(out))


main()
