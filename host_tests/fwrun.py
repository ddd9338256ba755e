# The firmware running on the 32-bit unix port with the simulated board, as the CPython
# host tests start it, ask it and stop it: one module for all of them (test_host_run,
# test_host_slowweb, test_host_httpfuzz, test_host_config, test_host_replay, test_host_mqtt
# and the others that start the firmware).
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MICROPYPATH = "firmware:boards:build/lib:.frozen"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def near(w, truth):
    """One reading (a 200 ms window) against the truth: 2 %, or 15 W for small loads (the
    simulated ESP32's 4-8 counts of noise scatter one 230 W reading by ~2-4 % rms)."""
    return abs(w - truth) <= max(0.02 * truth, 15.0)


# --- starting and stopping -------------------------------------------------------------
def start(data, make=False, port=None, out=subprocess.PIPE, model=False, heap="112k", **env):
    """The firmware serving on a free port (proc.port), its files in `data` (proc.data), the
    simulated board set by `env` (SUBMETER_*: the steady scenario and no terminal unless
    said). make=True: through `make -s run`, as a user starts it, in a session of its own
    (stop and kill reach the whole group); model=True: the device model (the firmware
    frozen in, a 112 KB heap, the ssl module); else build/bin/micropython firmware/main.py.
    Returns at once: `served` waits for the page."""
    port = port or free_port()
    full = dict(os.environ, SUBMETER_HTTP_PORT=str(port), SUBMETER_SCENARIO="steady", SUBMETER_DATA=str(data),
                SUBMETER_TERM="0")
    if make:
        cmd = ["make", "-s", "run"]
    elif model:
        # (main.py as a module: run as a script, its folder would come first on the path
        # and the firmware's sources would load over the frozen modules)
        cmd = [os.path.join(ROOT, "build", "bin", "micropython-frozen"), "-X", "heapsize=" + heap, "-m", "main"]
        full["MICROPYPATH"] = ".frozen:firmware"
    else:
        cmd = [os.path.join(ROOT, "build", "bin", "micropython"), "firmware/main.py"]
        full["MICROPYPATH"] = MICROPYPATH
    full.update(env)
    proc = subprocess.Popen(cmd, cwd=ROOT, env=full, stdout=out,
                            stderr=subprocess.STDOUT if out == subprocess.PIPE else out, start_new_session=make)
    proc.port = port
    proc.data = str(data)
    proc.group = make
    return proc


def served(proc, timeout=60):
    """Waits until the firmware's /api/state answers; its first state. Fails the test (with
    the firmware's output) if it exits or does not answer within `timeout` seconds."""
    import pytest
    t0 = time.monotonic()
    while True:
        try:
            return json.loads(get(proc.port, "/api/state", timeout=1)[2])
        except OSError:
            if proc.poll() is not None:
                out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                pytest.fail("the firmware exited: %s" % out)
            if time.monotonic() - t0 > timeout:
                kill(proc)
                pytest.fail("the page did not answer within %d s" % timeout)
            time.sleep(0.1)


def stop(proc):
    """Ctrl-C (SIGINT, to the whole group of `make run`), and the end waited for."""
    if proc.group:
        os.killpg(proc.pid, signal.SIGINT)
    else:
        proc.send_signal(signal.SIGINT)
    proc.wait(timeout=10)


def kill(proc):
    if proc.poll() is None:
        if proc.group:
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
        proc.wait(timeout=10)


# --- asking -----------------------------------------------------------------------------
def get(port, path, timeout=5):
    """(status, headers, body) of GET path."""
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=timeout) as r:
        return r.status, r.headers, r.read()


def raw(port, data, timeout=5, read=True):
    """What the firmware answers to the bytes `data` sent as they are, until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        if not read:
            return b""
        out = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                return out
            out += chunk


def state_when(proc, done, timeout):
    """/api/state once done(state) holds, or the last one seen after `timeout` seconds."""
    t0 = time.monotonic()
    s = None
    while time.monotonic() - t0 < timeout:
        try:
            s = json.loads(get(proc.port, "/api/state", timeout=1)[2])
            if done(s):
                break
        except OSError:
            pass
        time.sleep(0.3)
    return s


def password(data):
    """The made-up password, as the owner reads it on the meter's network screen."""
    with open(os.path.join(str(data), "auth.json")) as f:
        return json.load(f)["initial"]


def basic(pw):
    import base64
    return b"Authorization: Basic " + base64.b64encode(b"owner:" + pw.encode()) + b"\r\n"


def post(port, path, body, ctype="application/json", extra=b""):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    head = b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s\r\n" % (
        path.encode(), ctype.encode(), len(data), extra)
    return raw(port, head + data)


def until(fn, timeout, what):
    """fn()'s first true value within `timeout` seconds (polled every 0.1 s); else the test
    fails naming `what` and fn()'s last answer."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        v = fn()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError("no %s within %d s: %s" % (what, timeout, fn()))
