# The MicroPython half of `make bench`: figures measured on the 32-bit unix port, each
# printed as one JSON line {"key", "label", "value", "unit", "target"}; tools/bench/bench_report.py
# runs this, adds the CPython side (reference libraries) and prints the table. The host
# is far faster than an ESP32: ratios, shares and memory carry over, absolute times don't.
import gc
import json
import time
from array import array

from submeter import config
from submeter.kernels import sums_py, sums_viper
from submeter.clock import ManualClock
from submeter.kernels import ticscan_py, ticscan_viper
from submeter.grid.tic import TicDecoder
from submeter.grid.reading import GridReading
from submeter.kernels import p1scan_py, p1scan_viper  # compiled first: the compiler needs free RAM
from submeter.grid.p1 import CRC_TABLE, P1Decoder

CORPUS = "host_tests/corpus/tic/"


def out(key, label, value, unit="", target=""):
    print(json.dumps({"key": key, "label": label, "value": value, "unit": unit, "target": target}))


def per_call_us(fn, args, rounds):
    t0 = time.ticks_us()
    for _ in range(rounds):
        fn(*args)
    return time.ticks_diff(time.ticks_us(), t0) / rounds


def memory_figures(key, unit, data, fns, rounds=5, drift_rounds=10000):
    """Bytes allocated per call of each fn(data) once in steady state (GC off), and the
    growth of the heap in use over the second half of drift_rounds calls of the last."""
    for label, fn in fns:
        fn(data)  # the reading takes its shape (texts decoded once): steady state from here
        gc.collect()
        gc.disable()
        a0 = gc.mem_alloc()
        for _ in range(rounds):
            fn(data)
        per = (gc.mem_alloc() - a0) / rounds
        gc.enable()
        out("%s_alloc_%s" % (key, label.replace(" ", "_")), "%s bytes allocated per %s, %s" % (key.upper(), unit, label),
            round(per), "B", "reported")
    fn = fns[-1][1]
    heap = []
    for _ in range(2):  # the trend: heap in use after 2N calls minus after N
        for _ in range(drift_rounds // 2):
            fn(data)
        gc.collect()
        heap.append(gc.mem_alloc())
    out("%s_heap_drift" % key, "%s heap in use after %d %ss minus after %d (%s)" % (
        key.upper(), drift_rounds, unit, drift_rounds // 2, fns[-1][0]), heap[1] - heap[0], "B", "flat (0)")


def bench_ct():
    # one slice as the meter sums it: 40 sets (a 50 Hz cycle) of the reference and 5 inputs
    n, nch = 40, 6
    buf = array("H", ((1700 + (i * 37) % 900) << 4 for i in range(n * nch)))
    centre = array("i", [1658] * nch)
    acc = array("i", bytes(40 * nch))
    args = (buf, n, nch, 0, centre, acc)
    v = per_call_us(sums_viper.slice_sums, args, 5000)
    p = per_call_us(sums_py.slice_sums, args, 500)
    pairs = n * (nch - 1)  # each input's sample with the reference's
    out("ct_sums_viper_us", "CT slice sums, %d sets of the reference + 5 inputs, viper" % n, round(v, 2), "us")
    out("ct_sums_py_us", "CT slice sums, %d sets of the reference + 5 inputs, pure-Python twin" % n, round(p, 2), "us")
    out("ct_pairs_per_s", "paired samples (an input's with the reference's) per second through the viper kernel",
        round(pairs / v * 1e6), "/s", ">= 500000 (10,000 needed on an ESP32, 30-50x slower)")
    out("ct_sums_ratio", "CT kernel: viper speed-up over its twin (same run)", round(p / v, 1), "x", ">= 5")


def bench_sampling():
    from submeter.sense.ct import CTChannel, Sampler, VRef, Scale
    from submeter.ledger.ledger import Ledger

    class FakeADC:  # as cheap as an ADC read can be: what is left is the firmware's cost
        uv_per_count = 806.0
        noise_counts = 1.0

        def __init__(self, k):
            self.v = k * 1000

        def read_u16(self):
            self.v = (self.v + 977) & 0xFFFF
            return self.v

    class Clock:  # the sampling clock, without waiting: what the sampler itself costs
        t = 0

        def tus(self):
            return self.t

        def wait(self, t):
            self.t = t

    c = Clock()
    s = Sampler(500, 50, 50, c.tus, c.wait)
    chans = [CTChannel(FakeADC(k)) for k in range(5)]
    vref = VRef(FakeADC(9), Scale(), 460.0)

    def window():
        for _ in s.window(chans, vref):
            pass
    us = per_call_us(window, (), 20)
    sets = s.per_cycle * s.cycles
    out("ct_sets_per_s", "CT window (50 cycles x 40 sets of the reference + 5 inputs, fake ADC): sets per second "
        "through reads + kernel", round(sets / us * 1e6), "/s", ">= 100000 (2,000 a second on an ESP32)")
    gc.collect()
    a0 = gc.mem_alloc()
    gc.disable()
    window()
    per = gc.mem_alloc() - a0
    gc.enable()
    out("ct_window_alloc", "bytes allocated by one window (%d sets; floats at its end)" % sets, per, "B", "reported")

    class FakeCalADC(FakeADC):
        def read_uv(self):
            return (150 + (self.read_u16() >> 4) * 4 // 5) * 1000

    cal = FakeCalADC(3)
    ch = CTChannel(cal, scale=Scale([cal]))

    def cal_window():
        for _ in s.window(chans[:4] + [ch], vref, ch):
            pass
    us_cal = per_call_us(cal_window, (), 10)
    out("ct_cal_sets_per_s", "CT calibration window (the same sets + one input's read_uv): sets per second",
        round(sets / us_cal * 1e6), "/s", ">= 100000")
    gc.collect()
    h0 = gc.mem_alloc()
    led = Ledger(5)
    gc.collect()
    out("ledger_heap", "heap held by the ledger (5 inputs x 10 tariff periods)", gc.mem_alloc() - h0, "B", "")
    bench_history(led)
    del led


def bench_history(led):
    from submeter import config
    from submeter.clock import day_number
    from submeter.ledger.history import History
    import os
    try:
        os.mkdir("build/bench-data")
    except OSError:
        pass
    cfg = config.validate({})
    gc.collect()
    h0 = gc.mem_alloc()
    h = History("build/bench-data", 5)
    h.prepare()
    day = day_number(2026, 11, 1)
    h.tick(led, day, cfg)
    for k in range(1, 23):  # three weeks of November: the month's record is the sum of its days
        led.by_period[0][0].wh += 1000 * k
        h.tick(led, day + k, cfg)
    h.month_so_far(led, cfg)
    gc.collect()
    out("history_heap", "heap held by the history (its base and this month's record)", gc.mem_alloc() - h0, "B", "")
    out("history_file", "history file: 403 days + 122 months, %d B a record" % h.rsize,
        os.stat(h.path)[6], "B", "")
    t0 = time.ticks_us()
    for k in range(23, 28):
        led.by_period[0][0].wh += 1000
        h.tick(led, day + k, cfg)
    out("history_close_us", "closing a day: its record, then the month's (sum of up to 31 days) written",
        time.ticks_diff(time.ticks_us(), t0) // 5, "us", "")
    t0 = time.ticks_us()
    for _ in range(20):
        h.month_so_far(led, cfg).to_dict(False)
    out("history_live_us", "this month so far, as each snapshot builds it", time.ticks_diff(time.ticks_us(), t0) // 20,
        "us", "")
    del h


def bench_app():
    gc.collect()
    before = gc.mem_alloc()
    import sim
    from submeter.app import App
    clock = ManualClock()
    try:
        import os
        os.mkdir("build/bench-data")
    except OSError:
        pass
    board = sim.Board(scenario=sim.Steady(), clock=clock, term="0", data_dir="build/bench-data")
    cfg = config.validate(board.CONFIG)
    board.configure(cfg)
    app = App(board, cfg)
    t0 = time.ticks_us()
    for _ in range(10):
        clock.advance(1000)
        app.measure_round()
    out("round_us", "one measuring round: 50 cycles of the reference + 5 inputs interleaved (simulated ADC)",
        round(time.ticks_diff(time.ticks_us(), t0) / 10), "us")
    gc.collect()
    out("app_heap", "heap in use by the app and the simulated board after collection",
        gc.mem_alloc() - before, "B", "< 110 KB, whole firmware")
    bench_panel(app)


class _NullI2C:
    """An I2C bus that takes the bytes and does nothing: what is left is the firmware's cost."""

    def writeto(self, addr, buf):
        return len(buf)

    def writevto(self, addr, bufs):
        return 0


def bench_panel(app):
    import asyncio
    from drivers.ssd1306 import SSD1306_I2C
    from submeter.panel.screens import Screens
    disp = SSD1306_I2C(_NullI2C())
    sc = Screens(disp, app.cfg)
    snap = app.state()
    worst = 0
    worst_page = None
    def redraw(s):
        sc.draw(s)
        while sc.pushing is not None:
            sc.push_step()
    for page in sc.pages:
        sc.go(page)
        us = per_call_us(redraw, (snap,), 20)
        if us > worst:
            worst, worst_page = us, page
    out("panel_redraw_ms", "panel: full redraw + push to an SSD1306 on a fake I2C bus (worst screen: %s)" % worst_page,
        round(worst / 1000, 2), "ms", "<= 20")
    # a once-a-second refresh of the home screen, its figures changed: pages on the bus
    sc.go("home")
    redraw(snap)
    moved = dict(snap)
    moved["total_w"] = snap["total_w"] + 123.4
    moved["uptime_s"] = snap["uptime_s"] + 1
    p0 = disp.pages_sent
    redraw(moved)
    pages = disp.pages_sent - p0
    out("panel_refresh_pages", "panel: pages sent by a refresh of the home screen with new figures (of 8)",
        pages, "", "")
    out("panel_refresh_bus_ms", "  their time on a 400 kHz I2C bus, sent a page (2.9 ms) per 20 ms poll",
        round(pages * 129 * 9 / 400, 1), "ms", "a few ms")
    most = 0
    for page in sc.pages:
        sc.go(page)
        gc.collect()
        h0 = gc.mem_alloc()
        redraw(snap)
        most = max(most, gc.mem_alloc() - h0)
    out("panel_alloc", "panel: heap allocated by one redraw (worst screen; freed at the next collection)",
        most, "B", "")
    # the metering's slices with and without the panel task: the longest wait between two
    # slices (one mains cycle of samples each) is the jitter the panel could add
    app.panel.screens = Screens(disp, app.cfg)

    async def slices(n_rounds, gaps):
        last = time.ticks_us()
        for _ in range(n_rounds):
            for _ in app.meter.round_slices():
                await asyncio.sleep_ms(0)
                now = time.ticks_us()
                gaps.append(time.ticks_diff(now, last))
                last = now

    async def panel():
        while True:
            app.panel.drawn_at = None  # draw at every poll: far more than the once a second it does
            app.panel.step(time.ticks_ms())
            await asyncio.sleep_ms(20)

    def run(with_panel):
        gaps = []

        async def main():
            t = asyncio.create_task(panel()) if with_panel else None
            await slices(20, gaps)
            if t:
                t.cancel()
        asyncio.run(main())
        gaps.sort()
        return gaps[len(gaps) // 2], gaps[-1]

    med0, max0 = run(False)
    med1, max1 = run(True)
    out("slice_gap_alone_us", "CT slices, longest gap between two (median %d us): metering alone" % med0, max0, "us")
    out("slice_gap_panel_us", "CT slices, longest gap between two (median %d us): with the panel redrawn every 20 ms"
        % med1, max1, "us", "<= one redraw")


def read(name):
    with open(CORPUS + name, "rb") as f:
        return f.read()


def bench_tic():
    std = read("13_std_tri_tempo_teleinfo-nom.tic")
    hist = read("01_hist_mono_tempo_pyteleinfo_bin.tic")
    d = TicDecoder()
    r = GridReading()
    n = 2000
    feed = per_call_us(d.feed, (std,), n)
    line_us = len(std) * 10 / 9600 * 1e6   # 7E1: 10 bits a character
    out("tic_std_feed_us", "TIC standard 3-phase frame (%d B): decode (frame + checksums)" % len(std),
        round(feed, 1), "us", "<= 150")
    out("tic_std_share", "  its share of the frame's line time at 9600 Bd", round(100 * feed / line_us, 4),
        "%", "<= 0.02")

    def feed_update(frame):
        d.feed(frame)
        d.update(r)

    def feed_values(frame):
        d.feed(frame)
        return d.values()

    out("tic_std_update_us", "  decode + GridReading update", round(per_call_us(feed_update, (std,), n), 1), "us")
    # the frames the reference libraries are compared on (tools/bench/bench_report.py)
    for key, name in (("12", "12_std_mono_hc_goteleinfo.tic"), ("13", "13_std_tri_tempo_teleinfo-nom.tic"),
                      ("01", "01_hist_mono_tempo_pyteleinfo_bin.tic")):
        f = read(name)
        out("ref_ours_%s" % key, "ours, frame %s: decode + GridReading" % key,
            round(per_call_us(feed_update, (f,), n), 1), "us")
        out("ref_ours_dec_%s" % key, "ours, frame %s: decode" % key, round(per_call_us(d.feed, (f,), n), 1), "us")

    # checksum kernel alone, viper vs twin, over the frame's groups
    d.feed(std)
    buf, idx, ng = d.groups()
    info = array("H", bytes(8 * 128))
    hashes = array("i", bytes(4 * 128))
    v = per_call_us(ticscan_viper.check_groups, (buf, idx, 0, ng, info, hashes), 2000)
    p = per_call_us(ticscan_py.check_groups, (buf, idx, 0, ng, info, hashes), 200)
    out("tic_check_ratio", "TIC checksum kernel (%d groups): viper speed-up over its twin" % ng,
        round(p / v, 1), "x", ">= 20")

    memory_figures("tic", "frame", std, (("decode", d.feed), ("decode + GridReading", feed_update)))


def bench_p1():
    gc.collect()
    P1 = "host_tests/corpus/p1/"
    d = P1Decoder()
    r = GridReading()

    def decode_update(t):
        d.feed(t)
        d.update(r)

    for key, name in (("t211", "be_t211_50217_13month_history.txt"), ("s211", "be_s211_50217_dsmrhub_stream_01.txt")):
        with open(P1 + name, "rb") as f:
            t = f.read()
        out("p1_%s_dec_us" % key, "P1 Fluvius telegram %s (%d B): decode, CRC included" % (key.upper(), len(t)),
            round(per_call_us(d.feed, (t,), 2000), 1), "us", "<= 300" if key == "t211" else "")
        out("ref_p1_ours_%s" % key, "  decode + GridReading", round(per_call_us(decode_update, (t,), 500), 1), "us")
    with open(P1 + "be_t211_50217_13month_history.txt", "rb") as f:
        t = f.read()  # the ~1.2 KB telegram of the target
    v = per_call_us(p1scan_viper.crc16, (t, 0, len(t), 0, CRC_TABLE), 5000)
    p = per_call_us(p1scan_py.crc16, (t, 0, len(t), 0, CRC_TABLE), 500)
    out("p1_crc_ratio", "P1 CRC-16 kernel (%d B): viper speed-up over its twin" % len(t), round(p / v, 1), "x", ">= 30")
    memory_figures("p1", "telegram", t, (("decode", d.feed), ("decode + GridReading", decode_update)))


bench_ct()
bench_sampling()
bench_app()
bench_tic()
bench_p1()
