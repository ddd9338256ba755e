# The routes and their handlers: the page, the JSON API and the commands (docs/api.md).
#
# A handler is a plain function of (request, snapshot, commands): the request as the
# server read it, a dict as WSGI's environ is ("method", "path", "query": what follows
# "?", "headers": the ones the server reads (server.USED), names in lower case, "body": a
# command's JSON object, None for GET and HEAD; a dict, not a class: no class object
# made at boot), a function giving the snapshot of now (taken once by a handler that
# shows it, for the whole answer, made again the same if the heap makes the server start
# a chunk over; a function, not the snapshot itself: the answers that do not show it,
# the script, the screen, the history, never hold one, however long they stream), and
# the commands the application offers (commands.py, the App). It returns (content type,
# body) or (content type, body, again), the body being
#   bytes       the whole answer;
#   a function  that makes the answer's chunks (bytes), streamed: never whole in RAM, and
#               made again from the start if the heap had no room for one (server.py:
#               those already sent are skipped); again=False: not once begun (the live
#               screen: its rows would mix two frames);
#   a str       the name of a file kept gzipped in firmware/static/;
#   None        nothing (204 No Content).
# A handler raises HTTPError to refuse. The server does the rest: limits, the password
# for commands, the JSON of a command's body, streaming, a full heap's retries and 503s.
import json

from micropython import const

from .page import page_chunks, page_lang
from .server import HTTPError

JSON = "application/json"
# a calibration's known load, in watts: sense/calib.py's MIN_W and MAX_W (net/ may not
# import sense/: test_http_api checks the error names those)
_CAL_MIN_W = const(500)
_CAL_MAX_W = const(25000)


def json_chunks(v, depth=4):
    """The JSON of v in pieces: /api/state is ~5 KB, and after hours of work the heap's
    largest free block can be smaller than that even with half the heap free (measured:
    tools/bench/memcheck.py), so no one string may hold it all. Dicts and lists of dicts are
    opened `depth` levels down; what is below is one piece. (4: the grid reading's flag
    dicts, 3 levels down, made pieces of ~400 B, twice with their bytes: under make
    memcheck's load the heap's largest free block is sometimes smaller, and that answer
    was cut.)"""
    if depth and isinstance(v, dict):
        sep = b"{"
        for k, x in v.items():
            yield sep + json.dumps(k).encode() + b":"
            yield from json_chunks(x, depth - 1)
            sep = b","
        yield b"}" if sep == b"," else b"{}"
    elif depth and isinstance(v, list) and v and isinstance(v[0], dict):
        sep = b"["
        for x in v:
            yield sep
            yield from json_chunks(x, depth - 1)
            sep = b","
        yield b"]"
    else:
        yield json.dumps(v).encode()


def history_query(query):
    """(kind, count) from "days=N" (N <= 400) or "months=N" (N <= 120); HTTPError 400 else."""
    name, _, value = query.partition("=")
    limit = {"days": 400, "months": 120}.get(name)
    if limit is None or not value.isdigit() or not 1 <= int(value) <= limit:
        raise HTTPError(400, "ask for days=1..400 or months=1..120")
    return name, int(value)


# --- reading ---------------------------------------------------------------------------
def page(req, snapshot, commands):
    snap, cfg = snapshot(), commands.cfg
    lang = page_lang(req["query"], cfg)  # ?lang=fr: a viewer's choice
    return "text/html; charset=utf-8", lambda: page_chunks(snap, cfg, lang)


def state(req, snapshot, commands):
    snap = snapshot()
    return JSON, lambda: json_chunks(snap)


def script(req, snapshot, commands):
    return "text/javascript; charset=utf-8", "app.js"


def favicon(req, snapshot, commands):
    return "image/x-icon", None  # no icon, and no error in the console


def history(req, snapshot, commands):
    """The history's records (commands.history_records) as a JSON array, a record's keys
    a chunk or two each (never whole in RAM; a record whole is ~450 B, more than a busy
    heap's largest free block may be)."""
    kind, count = history_query(req["query"])

    def chunks():  # (made here, not at import: no heap held for it at boot)
        yield b"["
        first = True
        for r in commands.history_records(kind, count):
            if not first:
                yield b","
            yield from json_chunks(r.to_dict(kind == "days"), 2)
            first = False
        yield b"]"
    return JSON, chunks


def history_csv(req, snapshot, commands):
    """The same records as CSV, a line per record, newest first. A text cell (RFC 4180)
    that a spreadsheet would take for a formula (=, +, -, @, and tab or CR, which some
    strip first) gets a leading ' (OWASP CSV injection); one holding a comma, a quote, CR
    or LF is quoted, quotes doubled. Numbers are written as numbers, never quoted (a
    negative one stays one)."""
    from ..config import USAGES
    kind, count = history_query(req["query"])
    cur = commands.cfg["currency"]

    def text(s):
        if s and s[0] in "=+-@\t\r":
            s = "'" + s
        if "," in s or '"' in s or "\r" in s or "\n" in s:
            s = '"' + s.replace('"', '""') + '"'
        return s

    def chunks():
        head = ["date", "total_kwh", "total_cost_" + cur]
        for u in USAGES:
            head += [u + "_kwh", u + "_cost_" + cur]
        head += ["gas_m3", "gas_cost_" + cur, "water_m3", "water_cost_" + cur]
        n = len(commands.cfg["inputs"])
        head += ["export_kwh_%d" % (k + 1) for k in range(n)]  # given back, input by input
        yield (",".join(text(h) for h in head) + "\r\n").encode()
        for r in commands.history_records(kind, count):
            d = r.to_dict(kind == "days")
            row = [text(d["date"]), "%.3f" % (d["wh"] / 1000), "%.2f" % d["cost"]]
            for u in USAGES:
                row += ["%.3f" % (d["usage"][u]["wh"] / 1000), "%.2f" % d["usage"][u]["cost"]]
            row += ["%.3f" % (d["gas_l"] / 1000), "%.2f" % d["gas_cost"], "%.3f" % (d["water_l"] / 1000),
                    "%.2f" % d["water_cost"]]
            ex = d["export_wh"]
            row += ["%d.%03d" % divmod(ex[k], 1000) if k < len(ex) else "" for k in range(n)]
            yield (",".join(row) + "\r\n").encode()
    return "text/csv; charset=utf-8", chunks


def config(req, snapshot, commands):
    return JSON, json.dumps(commands.public_config()).encode()


def screen(req, snapshot, commands):
    if commands.screen_png() is None:
        raise HTTPError(404, "this meter has no display")
    return "image/png", commands.screen_png, False


# --- commands (a JSON object each, the password checked: server.py) ------------------------
def reset(req, snapshot, commands):
    """{"counter": "all" | n | "gas" | "water"}: that partial counter starts again."""
    cmd = req["body"]
    which = cmd.get("counter", "all")
    if which == "all":
        which = None
    elif isinstance(which, int) and not isinstance(which, bool):
        which -= 1  # inputs are numbered from 1, as on the panel and the page
        if not 0 <= which < len(commands.cfg["inputs"]):
            raise HTTPError(400, "no such input")
    elif which not in ("gas", "water"):
        raise HTTPError(400, 'counter: "all", an input number, "gas" or "water"')
    commands.reset_partial(which)
    return _json({"reset": cmd.get("counter", "all")})


def set_config(req, snapshot, commands):
    try:
        return _json(commands.set_config(req["body"]))
    except ValueError as e:  # ConfigError: the field is named, nothing applied
        raise HTTPError(400, str(e))
    except OSError as e:  # config.SaveError: not written (the flash full), in words
        raise HTTPError(500, str(e))


def password(req, snapshot, commands):
    try:
        commands.auth.set(req["body"].get("password"))
    except ValueError as e:
        raise HTTPError(400, str(e))
    except OSError as e:  # config.SaveError: not saved, the old password holds
        raise HTTPError(500, str(e))
    return _json({"password": "set"})


def zero(req, snapshot, commands):
    """{"input": n}: zero input n (1-based; its circuit switched off)."""
    k = req["body"].get("input")
    n = len(commands.cfg["inputs"])
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= n:
        raise HTTPError(400, "input: a number from 1 to %d" % n)
    try:
        return _json(commands.start_zero([k - 1]))
    except ValueError as e:
        raise HTTPError(409, str(e))


def calibrate(req, snapshot, commands):
    """{"input": n, "watts": W}: calibrate input n's ct_ratio against a load of W watts
    running on its circuit now (docs/calibration.md)."""
    body = req["body"]
    k = body.get("input")
    n = len(commands.cfg["inputs"])
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= n:
        raise HTTPError(400, "input: a number from 1 to %d" % n)
    w = body.get("watts")
    if isinstance(w, bool) or not isinstance(w, (int, float)) or not _CAL_MIN_W <= w <= _CAL_MAX_W:
        raise HTTPError(400, "watts: the known load's watts, from %d to %d" % (_CAL_MIN_W, _CAL_MAX_W))
    try:
        return _json(commands.start_calibration(k - 1, w))
    except ValueError as e:
        raise HTTPError(409, str(e))


def phasecal(req, snapshot, commands):
    """{"input": n}: calibrate input n's phase against a resistive load running on its
    circuit now (docs/calibration.md); needs the voltage reference."""
    k = req["body"].get("input")
    n = len(commands.cfg["inputs"])
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= n:
        raise HTTPError(400, "input: a number from 1 to %d" % n)
    try:
        return _json(commands.start_phasecal(k - 1))
    except ValueError as e:
        raise HTTPError(409, str(e))


def flip(req, snapshot, commands):
    """POST /form/flip, the page's "CT reversed?" fix as a form that works without
    JavaScript (urlencoded: input=k&ct_flip=1|0&lang=en|fr): input k's ct_flip set through
    the config's change path, as POST /api/config; the answer a short page back to the
    meter's (issue 22, slice "page")."""
    from .page import esc
    from ..view.labels import labels
    b = req["body"]
    n = len(commands.cfg["inputs"])
    k, v = b.get("input", ""), b.get("ct_flip")
    if not k.isdigit() or not 1 <= int(k) <= n or v not in ("0", "1"):
        raise HTTPError(400, "input: a number from 1 to %d; ct_flip: 0 or 1" % n)
    ins = [{} for _ in range(n)]
    ins[int(k) - 1]["ct_flip"] = v == "1"
    set_config({"body": {"inputs": ins}}, snapshot, commands)  # (its refusals, in words)
    lang = b.get("lang") if b.get("lang") in ("en", "fr") else commands.cfg["lang"]
    return "text/html; charset=utf-8", (
        '<!doctype html><html lang="%s"><meta charset="utf-8"><meta http-equiv="refresh" content="2;url=/?lang=%s">'
        '<title>OK</title><p>%s <a href="/?lang=%s">&larr;</a></p></html>' % (
            lang, lang, esc(labels(lang)["ct_fixed"] % k), lang)).encode()


_UNIX_TO_2000 = const(946684800)


def set_time(req, snapshot, commands):
    """{"utc": seconds since 1970 (a browser's Date.now() / 1000)}: the meter's clock set by
    hand, for a meter with no clock of its grid meter's and no NTP."""
    t = req["body"].get("utc")
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not 1704067200 <= t <= 4102444800:
        raise HTTPError(400, "utc: seconds since 1970, UTC, from 2024 to 2100")
    try:
        return _json({"time": commands.set_time(int(t) - _UNIX_TO_2000)})
    except ValueError as e:  # a better source holds the clock
        raise HTTPError(409, str(e))


def restart(req, snapshot, commands):
    """{}: the meter saves its counters and restarts (half a second after this answer)."""
    return _json(commands.restart())


def metrics(req, snapshot, commands):
    """The snapshot for Prometheus (metrics.py), streamed a line at a time; read-only, no
    password, as the page. Its module is imported for each scrape and let go at once (the
    answer's function holds what it needs until the answer ends): its 0.4 KB of heap held
    only while a scrape is answered, never at boot nor between scrapes."""
    import sys
    from .metrics import CONTENT_TYPE, chunks
    pkg = __name__.rpartition(".")[0]  # submeter.net
    sys.modules.pop(pkg + ".metrics", None)
    if hasattr(sys.modules[pkg], "metrics"):
        delattr(sys.modules[pkg], "metrics")
    snap, board = snapshot(), getattr(commands.board, "name", "") or "?"
    return CONTENT_TYPE, lambda: chunks(snap, board)


async def upgrade(req, snapshot, commands):
    """The body: a new app image (application/octet-stream), ?sha256=HEX&version=V: into
    the OTA slot not running, checked, and booted on probation (net/upgrade.py, imported
    for the upload and let go after)."""
    from . import _drop
    from .upgrade import receive
    _drop("upgrade")  # (the function holds what it needs)
    return _json(await receive(req, commands))


def static_file(req, snapshot, commands):
    """The settings page, its script and the password dialog's (/pw.js): files kept
    gzipped in firmware/static/ (no heap for them; no table made for them at boot)."""
    path = req["path"]
    if path == "/settings":
        return "text/html; charset=utf-8", "settings.html"
    return "text/javascript; charset=utf-8", path[1:]  # settings.js, pw.js


def _json(answer):
    return JSON, json.dumps(answer).encode()


# (method, path) -> handler; a GET route answers HEAD too (its head only)
ROUTES = {
    ("GET", "/"): page,
    ("GET", "/api/state"): state,
    ("GET", "/app.js"): script,
    ("GET", "/api/history"): history,
    ("GET", "/api/history.csv"): history_csv,
    ("GET", "/favicon.ico"): favicon,
    ("GET", "/api/config"): config,
    ("GET", "/screen.png"): screen,
    ("GET", "/settings"): static_file,
    ("GET", "/settings.js"): static_file,
    ("GET", "/pw.js"): static_file,
    ("GET", "/metrics"): metrics,
    ("POST", "/api/reset"): reset,
    ("POST", "/api/config"): set_config,
    ("POST", "/api/password"): password,
    ("POST", "/api/zero"): zero,
    ("POST", "/api/calibrate"): calibrate,
    ("POST", "/api/phasecal"): phasecal,
    ("POST", "/api/restart"): restart,
    ("POST", "/api/time"): set_time,
    ("POST", "/api/upgrade"): upgrade,
    ("POST", "/form/flip"): flip,
}
# the commands, and the largest body each takes
POSTS = {"/api/reset": 256, "/api/config": 4096, "/api/password": 256, "/api/zero": 256, "/api/calibrate": 256,
         "/api/phasecal": 256, "/api/restart": 256, "/api/time": 256, "/api/upgrade": None,
         "/form/flip": 256}  # None: an upload (server.Upload)
