# make bench: figures measured side by side in one run, on the 32-bit unix port.
# Prints a Markdown table and writes it to build/bench.md. Targets are the budgets of
# ../shared/ARCHITECTURE.md; the host is far faster than an ESP32, so the ratios (and
# memory, which has the ESP32's word size here) are what carry over, not the times.
import gc
import sys
import time
from array import array


from submeter import sums_py, sums_viper, config
from submeter.ct import ADC_CENTRE, ADC_SHIFT
from submeter.clock import ManualClock


def per_call_us(fn, buf, n, out, rounds=2000):
    t0 = time.ticks_us()
    for _ in range(rounds):
        fn(buf, n, ADC_SHIFT, ADC_CENTRE, out)
    return time.ticks_diff(time.ticks_us(), t0) / rounds


def main():
    rows = []
    buf = array("H", ((2048 + (i * 37) % 900) << 4 for i in range(40)))
    out = array("i", (0, 0, 0, 0))
    v = per_call_us(sums_viper.window_sums, buf, 40, out)
    p = per_call_us(sums_py.window_sums, buf, 40, out)
    rows.append(("window sums, 40 samples (one 50 Hz cycle): viper", "%.1f us" % v, ""))
    rows.append(("window sums, 40 samples: pure Python twin", "%.1f us" % p, ""))
    rows.append(("viper speed-up over Python (same run)", "%.1fx" % (p / v), ">= 5x"))

    gc.collect()
    before = gc.mem_alloc()
    import sim
    from submeter.app import App
    clock = ManualClock()
    board = sim.Board(scenario=sim.Steady(), clock=clock, term="0")
    cfg = config.validate(board.CONFIG)
    board.configure(cfg)
    app = App(board, cfg)
    t0 = time.ticks_us()
    for _ in range(10):
        clock.advance(1000)
        app.measure_round()
    round_us = time.ticks_diff(time.ticks_us(), t0) / 10
    gc.collect()
    used = gc.mem_alloc() - before
    rows.append(("one measuring round, 5 inputs x 10 cycles (sim ADC, host)", "%.0f us" % round_us, ""))
    rows.append(("heap in use by the app after collection (code included)", "%d B" % used, "< 110 KB whole firmware"))
    rows.append(("heap free of %d B" % (gc.mem_alloc() + gc.mem_free()), "%d B" % gc.mem_free(), ""))

    lines = ["| figure | measured | target |", "|---|---|---|"]
    for r in rows:
        lines.append("| %s | %s | %s |" % r)
    text = "\n".join(lines)
    print(text)
    try:
        with open("build/bench.md", "w") as f:
            f.write(text + "\n")
    except OSError as e:
        print("cannot write build/bench.md:", e)


main()
