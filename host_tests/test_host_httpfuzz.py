# Malformed HTTP against the running firmware (issue 18, item 10): a seeded generator
# makes ~290 requests of 13 kinds (bad request lines, huge headers, bad Content-Length,
# bodies shorter or longer than announced, non-UTF-8, NUL bytes, invalid JSON in
# commands, wrong methods, path traversal, percent-encoding garbage, pipelined requests,
# half-closed sockets, header syntax), sent three at a time in random pieces. Each must
# get a 4xx/5xx answer or a close (a few well-formed ones, marked, may get their 200);
# none may show a secret; afterwards /api/state answers, metering goes on, no task
# counted an exception, nothing in the log says one did, and the configuration is
# unchanged (not one of them was a change).
import base64
import json
import os
import random
import re
import socket
import struct
import time
from concurrent.futures import ThreadPoolExecutor

import sim
from fwrun import get, near, password, start, state_when, stop

POSTS = ("/api/reset", "/api/config", "/api/password", "/api/zero")


def head(line, *headers):
    return line + b"\r\n" + b"".join(h + b"\r\n" for h in headers) + b"\r\n"


def post(path, body, length=None, auth=b"", ctype=b"application/json", extra=()):
    n = str(len(body) if length is None else length).encode()
    return head(b"POST " + path.encode() + b" HTTP/1.1", b"Host: m", b"Content-Type: " + ctype,
                b"Content-Length: " + n, *(([auth] if auth else []) + list(extra))) + body


def cases(rnd, auth):
    """[(kind, bytes, half_close, may_succeed)]: the requests, seeded."""
    out = []

    def add(kind, data, half=None, ok200=False):
        out.append((kind, data, rnd.random() < 0.5 if half is None else half, ok200))

    # 1 bad request lines (valid combinations may get their 200)
    methods = [b"GET", b"get", b"G3T", b"", b"GET GET", b"\x00GET", b"GE\xc3T", b"HEAD"]
    targets = [(b"/", True), (b"", False), (b"*", False), (b"api/state", False), (b"/ /", False),
               (b"http://x", True), (b"http://", True), (b"/\x00", False), (b"/\xff", False), (b"/api/state", True)]
    versions = [(b"HTTP/1.1", True), (b"HTTP/2", False), (b"HTTP/9.9", False), (b"HTTX/1.1", False), (b"", False),
                (b"HTTP/1.1 x", False), (b"http/1.1", False), (b"HTTP/1.0", True)]
    for _ in range(30):
        m = rnd.choice(methods)
        t, tok = rnd.choice(targets)
        v, vok = rnd.choice(versions)
        sep = rnd.choice([b" ", b" ", b"  ", b"\t"])
        add("request line", head(m + sep + t + sep + v), ok200=m in (b"GET", b"HEAD") and sep == b" " and tok and vok)
    # 2 huge headers
    for _ in range(15):
        k = rnd.randint(0, 2)
        if k == 0:
            add("huge header", head(b"GET / HTTP/1.1", b"X-A: " + b"a" * rnd.randint(2100, 70000)))
        elif k == 1:
            add("huge header", head(b"GET / HTTP/1.1", *[b"X-%d: %s" % (i, b"v" * 20) for i in range(rnd.randint(90, 300))]))
        else:
            add("huge header", b"GET / HTTP/1.1\r\nX-B: " + b"b" * rnd.randint(2100, 9000), half=True)
    # 3 bad Content-Length
    lengths = [b"abc", b"-1", b"-99999", b"99999999999999999999999", b"1e3", b"0x10", b"", b" ", b"4097", b"1 2",
               b"+5", b"5000000"]
    for _ in range(20):
        path = rnd.choice(POSTS)
        n = rnd.choice(lengths)
        extra = [rnd.choice([b"Content-Length: 3", b"Transfer-Encoding: chunked", b"X-Y: z"])] if rnd.random() < 0.4 else []
        add("bad length", head(b"POST " + path.encode() + b" HTTP/1.1", b"Content-Type: application/json",
                               b"Content-Length: " + n, *extra) + b"{x}", half=True)
    # 4 bodies shorter (then half-closed, or two left to time out) or longer than announced
    for i in range(30):
        path = rnd.choice(POSTS)
        if i < 20:
            add("short body", post(path, b'{"counter": 1', length=rnd.randint(20, 250),
                                   auth=auth if rnd.random() < 0.5 else b""), half=i >= 2)
        else:
            add("long body", post(path, b"{x" + b"y" * rnd.randint(10, 3000), length=2, auth=auth if i % 2 else b""))
    # 5 non-UTF-8 bytes: request line, header, command body (values that must be refused)
    for _ in range(20):
        junk = bytes(rnd.randint(0x80, 0xFF) for _ in range(rnd.randint(1, 6)))
        k = rnd.randint(0, 3)
        if k == 0:
            add("non-UTF-8", head(b"GET /" + junk + b" HTTP/1.1"))
        elif k == 1:
            add("non-UTF-8", head(b"GET / HTTP/1.1", b"X-" + junk + b": v"))
        elif k == 2:
            add("non-UTF-8", post("/api/reset", b'{"counter": "' + junk + b'"}', auth=auth))
        else:
            add("non-UTF-8", post(rnd.choice(POSTS), junk + b"{}", auth=auth))
    # 6 NUL bytes
    for _ in range(15):
        k = rnd.randint(0, 3)
        nul = b"\x00" * rnd.randint(1, 40)
        if k == 0:
            add("NUL", head(b"GET /" + nul + b" HTTP/1.1"))
        elif k == 1:
            # a header the server does not use: RFC 9110 5.5 lets it read a NUL as a space
            add("NUL", head(b"GET / HTTP/1.1", b"Host: " + nul), ok200=True)
        elif k == 2:
            add("NUL", nul + head(b"GET / HTTP/1.1"))
        else:
            add("NUL", post(rnd.choice(POSTS), b'{"a"' + nul + b"}", auth=auth))
    # 7 invalid JSON in commands (with the right password, so the JSON is read)
    bad = [b"{", b"}", b"[", b"nul", b"{'a': 1}", b'{"a":}', b"[1, 2, 3]", b'"str"', b"1", b"true", b"null",
           b"\xef\xbb\xbf{}", b'{"a": 1,}', b"{" * 200, b"[" * 250,
           # MicroPython's json.loads takes these as {} (or {"counter": 1}): refused all the same
           b'{"counter"}', b'{"a":}', b"{,}", b'{"counter" 1}', b'{"a"\x00}']
    for _ in range(35):
        path = rnd.choice(POSTS)
        body = rnd.choice(bad + ([b"[" * 4000, b'{"a":' * 600] if path == "/api/config" else []))
        add("bad JSON", post(path, body, auth=auth if rnd.random() < 0.8 else b""))
    wrong = {"/api/reset": [b'{"counter": 1e999}', b'{"counter": -1}', b'{"counter": [1]}', b'{"counter": {}}',
                            b'{"counter": 99999999999999999999999}', b'{"counter": "\\u0000"}'],
             "/api/zero": [b'{"input": 1.5}', b'{"input": 99999999999999999999}', b'{"input": "1"}', b"{}",
                           b'{"input": null}', b'{"input": true}']}
    for _ in range(10):
        path = rnd.choice(sorted(wrong))
        add("bad command", post(path, rnd.choice(wrong[path]), auth=auth))
    # 8 wrong methods
    for _ in range(20):
        m = rnd.choice([b"PUT", b"DELETE", b"PATCH", b"OPTIONS", b"TRACE", b"CONNECT", b"PROPFIND", b"BREW", b"POST"])
        path = rnd.choice([b"/", b"/api/state", b"/app.js", b"/api/history?days=1", b"/screen.png"])
        add("method", head(m + b" " + path + b" HTTP/1.1", b"Content-Length: 0"))
    # 9 path traversal: never a file outside what the page serves
    paths = [b"/../auth.json", b"/..%2fauth.json", b"/%2e%2e/%2e%2e/etc/passwd", b"/static/../../auth.json",
             b"/app.js/../auth.json", b"/auth.json", b"/config.json", b"/ledger.json", b"//etc/passwd",
             b"/app.js%00.txt", b"/./app.js", b"/APP.JS", b"/app.js.gz", b"/main.py", b"/\\..\\auth.json",
             b"/....//....//auth.json", b"/static/app.js.gz", b"/%2Fetc%2Fpasswd", b"/api/../auth.json"]
    for _ in range(25):
        add("traversal", head(b"GET " + rnd.choice(paths) + b" HTTP/1.1"))
    # 10 percent-encoding garbage
    pct = [(b"/%", False), (b"/%%", False), (b"/%zz", False), (b"/%0", False), (b"/%00", False), (b"/%ff%fe", False),
           (b"/api/state%3f", False), (b"/api/history?days=%31", False), (b"/api/history?days=-1", False),
           (b"/api/history?days=0", False), (b"/api/history?days=401", False), (b"/api/history?days=1e3", False),
           (b"/api/history?days=99999999999999999999", False), (b"/api/history?months=", False),
           (b"/api/history?=", False), (b"/api/history?days=1&days=2", False), (b"/api/history.csv?months=%ff", False),
           (b"/api/state?%ff%00", True), (b"/api/history?days=%", False)]
    for _ in range(25):
        p, ok = rnd.choice(pct)
        add("percent", head(b"GET " + p + b" HTTP/1.1"), ok200=ok)
    # 11 pipelined requests: one connection, one answer, then closed
    good = head(b"GET /api/state HTTP/1.1")
    for _ in range(20):
        k = rnd.randint(0, 3)
        if k == 0:
            add("pipelined", good + b"NONSENSE\r\n\r\n" + good, ok200=True)
        elif k == 1:
            add("pipelined", b"NONSENSE\r\n\r\n" + good)
        elif k == 2:
            add("pipelined", post("/api/zero", b'{"input": 0}', auth=auth) + good * 3)
        else:
            add("pipelined", head(b"GET /nope HTTP/1.1") + good)
    # 12 half-closed sockets: part of a request, then no more
    parts = [b"", b"G", b"GET", b"GET /", b"GET / HTTP/1.1", b"GET / HTTP/1.1\r\n", b"GET / HTTP/1.1\r\nHost: x",
             b"POST /api/reset HTTP/1.1\r\nContent-Length: 10\r\n"]
    for _ in range(20):
        add("half-closed", rnd.choice(parts), half=True)
    add("reset", b"GET / HT", half="rst")
    add("reset", b"", half="rst")
    # 13 header syntax
    syntax = [(b"Host x",), (b" Host: x",), (b"Host : x",), (b"Host: x", b" folded"), (b":",), (b": v",),
              (b"Ho\x00st: x",), (b"Host:\tx\t",)]
    for _ in range(15):
        h = rnd.choice(syntax)
        add("header syntax", head(b"GET / HTTP/1.1", *h), ok200=h in ((b"Host:\tx\t",), (b"Ho\x00st: x",)))
    for _ in range(5):
        add("line ends", rnd.choice([b"GET / HTTP/1.1\n\n", b"GET / HTTP/1.1\r\r", b"GET / HTTP/1.1\n\r\n\r\n"]),
            half=True)
    add("line ends", b"\r\n\r\nGET / HTTP/1.1\r\n\r\n", ok200=True)
    return out


def send(port, case, rnd):
    kind, data, half, ok200 = case
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    try:
        if half == "rst":  # sent, then the connection reset (SO_LINGER 0)
            s.sendall(data)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return "reset"
        cut = sorted(rnd.randint(0, len(data)) for _ in range(rnd.randint(0, 2)))
        at = 0
        try:
            for c in cut + [len(data)]:  # in random pieces
                s.sendall(data[at:c])
                at = c
                if c < len(data):
                    time.sleep(0.005)
            if half:
                s.shutdown(socket.SHUT_WR)
        except OSError:  # answered and closed (or reset) while the rest was coming: read what came
            pass
        out = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        except socket.timeout:
            return "no answer"
        except OSError:  # reset after (or instead of) an answer
            pass
        return out
    finally:
        s.close()


def test_malformed_http_gets_errors_and_the_meter_goes_on(tmp_path):
    proc = start(tmp_path, SUBMETER_SPEED="10")
    port = proc.port
    try:
        s0 = state_when(proc, lambda s: s["sampling"]["rounds"] >= 3, 30)
        pw = password(str(tmp_path))
        auth = b"Authorization: Basic " + base64.b64encode(b"owner:" + pw.encode())
        cfg0 = get(port, "/api/config")[2]
        rnd = random.Random(18)
        todo = cases(rnd, auth)
        seeds = [rnd.randint(0, 1 << 30) for _ in todo]
        t0 = time.monotonic()
        with ThreadPoolExecutor(3) as pool:
            answers = list(pool.map(lambda a: send(port, a[0], random.Random(a[1])), zip(todo, seeds)))
        took = time.monotonic() - t0
        counts = {}
        wrong = []  # (kind, request, answer) of every request not refused as it should be
        for (kind, data, half, ok200), a in zip(todo, answers):
            if a in ("reset", b""):
                outcome = "closed"
            elif a == "no answer":
                outcome = a
                wrong.append((kind, data[:80], a))
            else:
                m = re.match(rb"HTTP/1\.1 (\d\d\d) ", a)
                outcome = int(m.group(1)) if m else "garbled"
                if not m or not (400 <= outcome <= 599 or (ok200 and outcome == 200)):
                    wrong.append((kind, data[:80], a[:60]))
                if pw.encode() in a or b'"initial"' in a:
                    wrong.append((kind, data[:80], "a secret shown"))
            counts.setdefault(kind, {}).setdefault(outcome, 0)
            counts[kind][outcome] += 1
        for kind in sorted(counts):
            print("%-14s %s" % (kind, counts[kind]))
        print("%d malformed requests in %.1f s" % (len(todo), took))
        assert len(todo) >= 200
        assert wrong == [], "\n".join(repr(w) for w in wrong)
        # the meter after them: serving, metering, no task hurt, nothing changed
        s1 = state_when(proc, lambda s: s["sampling"]["rounds"] > s0["sampling"]["rounds"] + 3, 10)
        assert s1["sampling"]["rounds"] > s0["sampling"]["rounds"] + 3
        for inp, truth in zip(s1["inputs"], sim.Steady.watts):
            assert near(inp["w"], truth), (inp, truth)
        assert all(v == 0 for v in s1["tasks"].values()) and s1["task_error"] is None, (s1["tasks"], s1["task_error"])
        assert s1["errors"]["http_rejected"] > s0["errors"]["http_rejected"] + 150
        assert get(port, "/api/config")[2] == cfg0
        assert password(str(tmp_path)) == pw and not os.path.exists(str(tmp_path / "auth.json.new"))
    finally:
        stop(proc)
    log = proc.stdout.read().decode(errors="replace")
    for bad in ("Traceback", "error in", "exception", "Error"):
        assert bad not in log, log
