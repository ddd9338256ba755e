# make bench: one report with every figure against its target, as a Markdown table,
# printed and written to build/bench.md. Runs the MicroPython figures (tools/bench/bench.py on
# the 32-bit unix port, 512 KB heap: run from source, the compiler needs more than the
# device's 110 KB; the .mpy budget is issue 9) and, in the same run, the reference TIC libraries
# from PyPI on CPython over the same frames; then memory on the device model (the firmware
# frozen in, 112 KB heap): what each part holds, the whole firmware under load (and the same
# loads on the stock SPIRAM case: the deploy bundle's .mpy files), a short soak with every
# fault, and the last `make soak` (a simulated week) if there is one.
import json
import logging
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "host_tests", "corpus", "tic")
REF_FRAMES = (("12", "12_std_mono_hc_goteleinfo.tic"), ("13", "13_std_tri_tempo_teleinfo-nom.tic"),
              ("01", "01_hist_mono_tempo_pyteleinfo_bin.tic"))


def micropython_rows():
    env = dict(os.environ, MICROPYPATH="firmware:boards:build/lib:.frozen")
    r = subprocess.run([os.path.join(ROOT, "build", "bin", "micropython"), "-X", "heapsize=512k",
                        "tools/bench/bench.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    rows = []
    for line in r.stdout.splitlines():
        if line.startswith("{"):
            rows.append(json.loads(line))
        else:
            print(line)
    if r.returncode:
        print(r.stderr)
        sys.exit("bench: the MicroPython side failed")
    return rows


def time_us(fn, arg, rounds=1000):
    t0 = time.perf_counter()
    for _ in range(rounds):
        fn(arg)
    return (time.perf_counter() - t0) / rounds * 1e6


def reference_rows(ours):
    logging.disable(logging.CRITICAL)  # the libraries log every frame they reject
    rows = []
    libs = []
    try:
        from enedis_tic.link_layer import FrameFactory
        libs.append(("enedis-tic 0.2.0", lambda text: FrameFactory(text).to_dict()))
    except ImportError as e:
        rows.append({"label": "enedis-tic not installed: %s" % e, "value": "-", "unit": "", "target": ""})
    try:
        from teleinfo.parser import Parser
        from teleinfo.base_vendor import BASE_vendor

        class Replay(BASE_vendor):  # the library reads a serial port a character at a time
            def __init__(self, text):
                self.text = text
                self.i = 0

            def read_char(self):
                c = self.text[self.i % len(self.text)]
                self.i += 1
                return c

        def teleinfo_frame(text, cache={}):
            p = cache.get(text)
            if p is None:
                p = cache[text] = Parser(Replay(text))
            frame = p.get_frame()
            if len(frame) == 0:
                raise ValueError("no group decoded")
            return frame

        libs.append(("teleinfo 1.3.1", teleinfo_frame))
    except ImportError as e:
        rows.append({"label": "teleinfo not installed: %s" % e, "value": "-", "unit": "", "target": ""})
    for key, name in REF_FRAMES:
        with open(os.path.join(CORPUS, name), "rb") as f:
            text = f.read().decode("ascii")
        mine = ours.get("ref_ours_%s" % key)
        best = None
        for lib, fn in libs:
            try:
                fn(text)
                us = time_us(fn, text, 300)
            except Exception as e:  # the library cannot read this frame at all
                rows.append({"label": "%s, frame %s (CPython)" % (lib, key), "value": "fails",
                             "unit": type(e).__name__, "target": ""})
                continue
            rows.append({"label": "%s, frame %s (CPython)" % (lib, key), "value": round(us, 1), "unit": "us",
                         "target": ""})
            best = us if best is None else min(best, us)
        if best is not None and mine:
            rows.append({"label": "frame %s: our throughput (decode + GridReading, unix port) over the "
                                  "fastest library (CPython)" % key,
                         "value": round(best / mine, 1), "unit": "x", "target": ">= 5"})
    return rows


def p1_reference_rows(ours):
    rows = []
    try:
        from dsmr_parser.parsers import TelegramParser
        from dsmr_parser import telegram_specifications
    except ImportError as e:
        return [{"label": "dsmr_parser not installed: %s" % e, "value": "-", "unit": "", "target": ""}]
    parser = TelegramParser(telegram_specifications.BELGIUM_FLUVIUS)
    for key, name in (("t211", "be_t211_50217_13month_history.txt"), ("s211", "be_s211_50217_dsmrhub_stream_01.txt")):
        with open(os.path.join(ROOT, "host_tests", "corpus", "p1", name), "rb") as f:
            text = f.read().decode("latin-1")
        us = time_us(parser.parse, text, 200)
        rows.append({"label": "dsmr_parser 1.11.2, telegram %s (CPython)" % key.upper(), "value": round(us, 1),
                     "unit": "us", "target": ""})
        mine = ours.get("ref_p1_ours_%s" % key)
        if mine:
            rows.append({"label": "telegram %s: our throughput (decode + GridReading, unix port) over "
                                  "dsmr_parser (CPython)" % key.upper(),
                         "value": round(us / mine, 1), "unit": "x", "target": ">= 4"})
    return rows


def web_load_rows():
    """The firmware as `make run` starts it (simulated board, real time): /api/state
    latency with 10 clients asking back to back, and the measuring rounds with and
    without that load (the firmware reports their mean and longest over ~5 s)."""
    import socket
    import threading
    import urllib.request
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = os.path.join(ROOT, "build", "bench-web")
    os.makedirs(data, exist_ok=True)
    env = dict(os.environ, MICROPYPATH="firmware:boards:build/lib:.frozen", SUBMETER_HTTP_PORT=str(port),
               SUBMETER_SCENARIO="steady", SUBMETER_TERM="0", SUBMETER_DATA=data)
    proc = subprocess.Popen([os.path.join(ROOT, "build", "bin", "micropython"), "firmware/main.py"], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = "http://127.0.0.1:%d/api/state" % port

    def state():
        with urllib.request.urlopen(url, timeout=5) as r:
            return json.loads(r.read())
    try:
        t0 = time.monotonic()
        while True:
            try:
                state()
                break
            except OSError:
                if time.monotonic() - t0 > 30:
                    return [{"label": "web load: the firmware did not start", "value": "-", "unit": "", "target": ""}]
                time.sleep(0.2)
        time.sleep(11)
        alone = state()["sampling"]
        lat = []
        stop = time.monotonic() + 11
        busy = [0]

        def client():
            while time.monotonic() < stop:
                t = time.perf_counter()
                try:
                    with urllib.request.urlopen(url, timeout=5) as r:
                        r.read()
                    lat.append((time.perf_counter() - t) * 1000)
                except OSError:
                    busy[0] += 1
        threads = [threading.Thread(target=client) for _ in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        loaded = state()["sampling"]
    finally:
        proc.kill()
        proc.wait()
    lat.sort()
    p = lambda q: round(lat[min(len(lat) - 1, int(q * len(lat)))], 1) if lat else "-"
    return [
        {"label": "/api/state with 10 clients asking back to back: %d answers in 11 s (%d refused busy), p50"
                  % (len(lat), busy[0]), "value": p(0.5), "unit": "ms", "target": ""},
        {"label": "  p99", "value": p(0.99), "unit": "ms", "target": "<= 50"},
        {"label": "measuring round (50 cycles of the reference + 5 inputs), mean / longest: alone",
         "value": "%d / %d" % (alone["round_ms"], alone["round_max_ms"]), "unit": "ms", "target": ""},
        {"label": "  the same under that web load", "value": "%d / %d" % (loaded["round_ms"], loaded["round_max_ms"]),
         "unit": "ms", "target": "rounds keep their 1 s period"},
    ]


SIM_PARTS = ("simulator modules (not on a device)", "simulated board: CT tables, UART ring, pins (not on a device)")
UMQTT = "umqtt.simple (frozen in every ESP32 image)"
# A stock ESP32 SPIRAM image (1.25, ports/esp32/main.c, MICROPY_GC_SPLIT_HEAP_AUTO) starts
# with 56 KB of internal RAM and doubles the heap into PSRAM as it needs (malloc there:
# CONFIG_SPIRAM_USE_MALLOC), up to the 4 MB of PSRAM an ESP32 maps.
STOCK_HEAP = "4m"


def case_rows(case, parts, run_args, peak_target, frozen=None):
    """One case of issue 17's memory figures: heap in use after boot, then under make
    memcheck's load (15 s, back to back, no gzip) and under a browser's (20 s: the page,
    then /api/state and the screen every 2 s, as app.js asks), MQTT to mosquitto in both:
    peak in use after the App's collections, the largest free block (at the peak / its
    low over the run), answers cut short. The simulator's share (measured at boot by
    tools/bench/memparts.py: its modules and board) is not on a device and is taken out; so,
    when `frozen` (the device model's parts) is given, is umqtt.simple's bytecode, which
    this case loads from .mpy and a stock image has frozen."""
    import tempfile
    import memrun
    sim = sum(parts.get(k, 0) for k in SIM_PARTS)
    if frozen:
        sim += parts.get(UMQTT, 0) - frozen.get(UMQTT, 0)
    boot = parts.get("total in use at boot (no task, no client yet)", 0)
    kb = lambda n: round(n / 1024, 1)
    rows = [{"label": "memory, %s: heap in use after boot, without the simulator (its share: %.1f KB%s)"
                      % (case, sim / 1024, ", umqtt's bytecode included" if frozen else ""),
             "value": kb(boot - sim), "unit": "KB", "target": ""}]
    for load, client, secs in (("make memcheck's load (back to back, no gzip)", "heavy", 15),
                               ("a browser's load (page polled every 2 s)", "browser", 20)):
        f = memrun.run(tempfile.mkdtemp(prefix="memcheck-"), secs=secs, client=client, **run_args)
        ok = sum(v[0] for v in f["polls"].values())
        bad = sum(v[1] for v in f["polls"].values())
        busy = sum(v[2] for v in f["polls"].values() if len(v) > 2)  # 503/429: "come back"
        peak = f.get("peak_live", 0)
        rows += [
            {"label": "  under %s: peak in use without the simulator (with it)" % load,
             "value": "%.1f (%.1f)" % (kb(peak - sim), kb(peak)), "unit": "KB", "target": peak_target},
            {"label": "    largest free block after a collection: at the peak / its low over the run",
             "value": "%s / %s" % (f.get("max_free_at_peak"), f.get("max_free_min")), "unit": "B", "target": ""},
            {"label": "    answers cut short by a full heap (server's count / seen incomplete or failed by the "
                      "client, of %d asked); told busy; MemoryErrors in the tasks" % (ok + bad + busy),
             "value": "%s / %d; %s; %s" % (f.get("http_mem_errors"), bad, f.get("http_rejected"), f.get("mem_errors")),
             "unit": "", "target": "0 / 0" if peak_target else ""},
            {"label": "    exceptions escaping a task", "value": f["output"].count("Traceback"), "unit": "",
             "target": "0"},
        ]
    return rows


def memory_rows():
    """The device model (firmware frozen in, 112 KB heap): what each part holds at boot;
    the whole firmware under load, standard TIC (case_rows: our image, the stock SPIRAM
    image); a few simulated hours of soak with every fault, the week of the last
    `make soak`, and the bundle."""
    import tempfile
    sys.path.insert(0, os.path.join(ROOT, "tools", "bench"))
    import memrun
    import soakrun
    rows = []
    frozen = memrun.parts()
    for name, n in frozen.items():
        rows.append({"label": "heap at boot: " + name, "value": round(n / 1024, 1), "unit": "KB", "target": ""})
    stock = dict(binary="build/bin/micropython", path=memrun.stock_path(), heap=STOCK_HEAP)
    rows += case_rows("our image (device model: the firmware frozen in, 112 KB heap)", frozen, {},
                      "<= 80 KB without the simulator")
    rows += case_rows("stock SPIRAM image (the deploy bundle's .mpy for this host, a 4 MB heap)",
                      memrun.parts(**stock), stock, "", frozen)
    code, total = memrun.bundle_size()
    rows.append({"label": "bundle make deploy sends: .mpy bytecode (xtensawin) / all files", "value":
                 "%.1f / %.1f" % (code / 1024, total / 1024), "unit": "KB",
                 "target": "frozen into the image (boards/manifest.py): not in the heap"})
    s = soakrun.run(tempfile.mkdtemp(prefix="soak-"), 3, start="2026-11-23 05:00")
    bad = soakrun.verdict(s)
    rows.append({"label": "soak, 3 simulated hours at 300x with every fault (tools/bench/soak.py): verdict",
                 "value": "passed" if not bad else "FAILED: " + "; ".join(bad)[:300], "unit": "",
                 "target": "passed"})
    week = os.path.join(ROOT, "build", "soak.json")
    if os.path.exists(week):
        with open(week) as fh:
            w = json.load(fh)
        wbad = soakrun.verdict(dict(w, output=""))
        rows.append({"label": "last make soak (%s simulated hours, %s s real): verdict; heap floor growth; "
                              "flash writes a day" % (w.get("sim_hours"), w.get("real_s")),
                     "value": "%s; %s B; %s" % ("passed" if not wbad else "FAILED: " + "; ".join(wbad)[:200],
                                               soakrun.heap_growth(w["heap_floor_by_hour"]),
                                               w["store"]["writes_per_day"]),
                     "unit": "", "target": "passed; <= %d B; <= %d" % (soakrun.HEAP_GROWTH_MAX,
                                                                      soakrun.WRITES_PER_DAY_MAX)})
    else:
        rows.append({"label": "make soak (a simulated week, ~35 min): not run yet", "value": "-", "unit": "",
                     "target": "passed"})
    return rows


def main():
    rows = micropython_rows()
    rows += web_load_rows()
    rows += memory_rows()
    ours = {r["key"]: r["value"] for r in rows if "key" in r}
    rows += reference_rows(ours)
    rows += p1_reference_rows(ours)
    lines = ["| figure | measured | target |", "|---|---|---|"]
    for r in rows:
        lines.append("| %s | %s %s | %s |" % (r["label"].strip(), r["value"], r["unit"], r["target"]))
    text = "\n".join(lines) + "\n"
    print(text)
    with open(os.path.join(ROOT, "build", "bench.md"), "w") as f:
        f.write(text)


main()
