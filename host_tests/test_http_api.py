# The page, the API and its commands over HTTP, on both runtimes: requests handed to the
# server in memory (httpclient.py) against the whole firmware on the simulated board. The
# server reaches the App only through what net/commands.py declares: every test here
# gives it nothing else.
import json

from compat import IS_MP, fresh_dir
from httpclient import exchange, get, parse, post, request
from submeter import config
from submeter.app import App
from submeter.clock import ManualClock
from submeter.net.commands import Commands
from submeter.net.server import Server
from submeter.sense import calib
import sim

DECLARED = [n for n in dir(Commands) if not n.startswith("_")]


class Declared:
    """The App as the server may see it: what net/commands.py declares, nothing else."""

    def __init__(self, app):
        self.app = app

    def __getattr__(self, name):
        if name not in DECLARED:
            raise AttributeError("not declared in net/commands.py: " + name)
        return getattr(self.app, name)


def meter(rounds=30, step_ms=10000):
    """(server, app, clock): the firmware on the simulated board, `rounds` rounds metered."""
    clock = ManualClock()
    board = sim.Board(scenario=sim.Steady(), clock=clock, term="0", display=IS_MP, data_dir=fresh_dir("http"))
    cfg = config.validate(board.CONFIG)
    board.configure(cfg)
    app = App(board, cfg)
    app.wall.set_utc(board.utc_s(), "rtc")  # (as the clock task does at boot: partial resets are dated)
    app.measure_round()
    later(app, clock, rounds, step_ms)
    return Server(app.state, cfg, Declared(app)), app, clock


def later(app, clock, rounds=1, step_ms=1000):
    """The metering goes on for `rounds` rounds (the snapshot made again each time), the
    simulated gas and water meters pulsing (the board's background task, when it runs)."""
    for _ in range(rounds):
        clock.advance(step_ms)
        app.board.pulse_step()
        app.measure_round()


def state(srv):
    status, headers, body = get(srv, "/api/state")
    assert status == 200 and headers["content-type"] == "application/json"
    return json.loads(body)


def password(app):
    """The made-up password, as the owner reads it on the meter's network screen."""
    with open(app.board.data_dir + "/auth.json") as f:
        return json.loads(f.read())["initial"]


def test_the_app_offers_every_command_the_server_may_ask_for():
    srv, app, clock = meter(0)
    for name in DECLARED:
        assert hasattr(app, name), name
    assert "cfg" in DECLARED and "auth" in DECLARED and "reset_partial" in DECLARED


def test_partial_counters_reset_from_the_api():
    srv, app, clock = meter()
    before = state(srv)
    assert before["password_set"] is False and before["gas"]["l"] > 0
    assert post(srv, "/api/reset", {"counter": 1})[0] == 401                      # no password
    assert post(srv, "/api/reset", {"counter": 1}, "nope")[0] == 401
    pw = password(app)
    status, headers, body = post(srv, "/api/reset", {"counter": 1}, pw)
    assert status == 200 and json.loads(body) == {"reset": 1}, body
    later(app, clock)
    s = state(srv)
    one, two = s["inputs"][0], s["inputs"][3]
    assert float(one["partial_kwh"]) < float(one["kwh"]) and one["partial_since"]  # reset, and when
    assert float(two["partial_kwh"]) >= float(before["inputs"][3]["partial_kwh"])  # the others go on
    assert post(srv, "/api/reset", {"counter": "gas"}, pw)[0] == 200
    s = state(srv)
    assert s["gas"]["partial_l"] < s["gas"]["l"] and s["gas"]["partial_since"]
    # commands that are not right get a clear error, and change nothing
    assert post(srv, "/api/reset", {"counter": 9}, pw)[0] == 400
    assert post(srv, "/api/reset", b"{nope", pw)[0] == 400
    assert post(srv, "/api/reset", {}, ctype=b"text/plain")[0] == 415  # what a form on another site sends
    assert post(srv, "/api/reset", b"x" * 5000)[0] == 413
    assert parse(exchange(srv, b"POST /api/reset HTTP/1.1\r\nContent-Type: application/json\r\n\r\n"))[0] == 411
    assert get(srv, "/api/history?days=7")[0] == 200
    assert json.loads(get(srv, "/api/history?days=7")[2]) == []  # no day has closed yet
    assert get(srv, "/api/history?days=9999")[0] == 400


def test_zeroing_an_input_from_the_api():
    # the steady scenario's input 2 is idle: zeroed over the API, password-guarded, one
    # at a time, then shown in /api/state and kept on flash; no energy goes backwards
    srv, app, clock = meter(40, 1000)
    pw = password(app)
    assert post(srv, "/api/zero", {"input": 2})[0] == 401
    for bad in ({"input": 0}, {"input": 6}, {"input": "2"}, {}):
        status, _, body = post(srv, "/api/zero", bad, pw)
        assert status == 400 and b"input: a number from 1 to 5" in body, body
    before = state(srv)
    status, _, body = post(srv, "/api/zero", {"input": 2}, pw)
    assert status == 200 and json.loads(body)["zeroing"] == [2], body
    status, _, body = post(srv, "/api/zero", {"input": 3}, pw)
    assert status == 409 and b"being zeroed" in body, body
    for _ in range(200):
        later(app, clock)
        s = state(srv)
        assert all(a["wh"] >= b["wh"] for a, b in zip(s["inputs"], before["inputs"]))
        if s["zeroing"] is None:
            break
    assert s["zeroing"] is None
    two = s["inputs"][1]
    assert two["zeroed"] and two["w"] == 0.0 and s["adc"]["noise_a"][1] > 0 and s["errors"]["zero"] is None
    assert s["inputs"][0]["zeroed"] is None and s["adc"]["source"] == "adc"
    with open(app.board.data_dir + "/zero.json") as f:
        assert json.loads(f.read())["inputs"][1]["noise_var"] > 0


def test_calibrating_an_input_from_the_api():
    # the steady scenario's heater (input 1, 2 kW) against its own watts: password-guarded,
    # each bad field named, one at a time with zeroing; the result in /api/state, the
    # ratio in the config; a wrong circuit refused in words, the ratio kept
    srv, app, clock = meter(40, 1000)
    pw = password(app)
    assert state(srv)["calibration"] is None
    assert post(srv, "/api/calibrate", {"input": 1, "watts": 2000})[0] == 401
    for bad in ({"input": 0, "watts": 2000}, {"input": 6, "watts": 2000}, {"input": "1", "watts": 2000},
                {"input": True, "watts": 2000}, {"watts": 2000}):
        status, _, body = post(srv, "/api/calibrate", bad, pw)
        assert status == 400 and b"input: a number from 1 to 5" in body, body
    for bad in ({"input": 1, "watts": 100}, {"input": 1, "watts": 30000}, {"input": 1, "watts": "2000"},
                {"input": 1}):
        status, _, body = post(srv, "/api/calibrate", bad, pw)
        assert status == 400 and b"watts: the known load's watts, from 500 to 25000" in body, body
    assert (calib.MIN_W, calib.MAX_W) == (500, 25000)  # (the API's bounds are the calibration's)
    assert state(srv)["calibration"] is None
    status, _, body = post(srv, "/api/calibrate", {"input": 1, "watts": 2000}, pw)
    assert status == 200 and json.loads(body) == {"calibrating": 1, "seconds": 17}, body
    status, _, body = post(srv, "/api/calibrate", {"input": 3, "watts": 1500}, pw)
    assert status == 409 and b"input 1 is being calibrated" in body, body
    status, _, body = post(srv, "/api/zero", {"input": 2}, pw)
    assert status == 409 and b"being calibrated" in body, body
    c = state(srv)["calibration"]
    assert c == {"input": 1, "state": "running", "progress": 0, "true_w": 2000, "measured_w": None,
                 "ratio_before": 1000, "ratio_after": None, "error": None, "reason": None}, c
    for _ in range(30):
        later(app, clock)
        c = state(srv)["calibration"]
        if c["state"] != "running":
            break
    assert c["state"] == "done" and c["progress"] == 100 and c["error"] is None, c
    assert abs(c["measured_w"] / 2000 - 1) < 0.01 and abs(c["ratio_after"] / 1000 - 1) < 0.01, c
    status, _, body = get(srv, "/api/config")
    assert json.loads(body)["inputs"][0]["ct_ratio"] == c["ratio_after"]
    assert state(srv)["restart_needed"] == []
    status, _, body = post(srv, "/api/calibrate", {"input": 4, "watts": 2000}, pw)  # 450 W on it
    assert status == 200, body
    later(app, clock, 20)
    c = state(srv)["calibration"]
    assert c["state"] == "failed" and c["input"] == 4 and c["ratio_after"] is None, c
    assert "more than twice off" in c["error"] and app.cfg["inputs"][3]["ct_ratio"] == 1000


def test_the_clock_set_by_hand_from_the_page():
    # a meter with no clock of its grid meter's and no NTP (an old TIC, no internet): the
    # installer sets it from the settings page (the browser's time), as a UTC second count
    srv, app, clock = meter(2)
    pw = password(app)
    assert state(srv)["time"]["source"] == "rtc"
    t = 1798761600 + 3 * 3600  # 2027-01-01 03:00 UTC: 04:00 in Paris
    assert post(srv, "/api/time", {"utc": t})[0] == 401                       # the password, as every change
    for bad in ({}, {"utc": "soon"}, {"utc": True}, {"utc": 86400}, {"utc": 10 ** 12}):
        status, _, body = post(srv, "/api/time", bad, pw)
        assert status == 400 and b"utc:" in body, (bad, body)
    status, _, body = post(srv, "/api/time", {"utc": t}, pw)
    assert status == 200 and json.loads(body)["time"] == {"local": "2027-01-01 04:00", "source": "set"}, body
    s = state(srv)
    assert s["time"] == {"local": "2027-01-01 04:00", "source": "set"}
    assert app.board.utc_s() is not None  # (the board's RTC set too: the simulator's follows its own calendar)
    # a better source (NTP, the grid meter's clock) is not overridden by hand
    app.wall.set_utc(t + 60, "ntp")
    status, _, body = post(srv, "/api/time", {"utc": t + 7200}, pw)
    assert status == 409 and b"ntp" in body, body
    later(app, clock)
    assert state(srv)["time"]["source"] == "ntp"


def test_configuration_over_the_api():
    srv, app, clock = meter(2)
    pw = password(app)
    cfg = json.loads(get(srv, "/api/config")[2])
    assert cfg["price_kwh"] == 0.2516 and cfg["mqtt_password"] is False  # secrets never shown
    # a bad value: 400 naming the field, and nothing changes
    status, _, body = post(srv, "/api/config", {"price_kwh": 0.3, "inputs": [{"pf": 7}]}, pw)
    assert status == 400 and b"inputs[0].pf" in body, body
    assert json.loads(get(srv, "/api/config")[2])["price_kwh"] == 0.2516
    assert post(srv, "/api/config", {"price_kwh": 0.3})[0] == 401
    # a good change: applied at once where it can be, the rest said to wait for a restart
    status, _, body = post(srv, "/api/config", {"price_kwh": 0.3, "inputs": [{"name": "Boiler"}], "http_port": 8099},
                           pw)
    assert status == 200, body
    assert json.loads(body) == {"saved": True, "restart": ["http_port"]}
    s = state(srv)
    assert s["inputs"][0]["name"] == "Boiler" and s["restart_needed"] == ["http_port"]
    cfg = json.loads(get(srv, "/api/config")[2])  # the port in use, and the one saved for the next start
    assert cfg["http_port"] != 8099 and cfg["pending"] == {"http_port": 8099}
    assert post(srv, "/api/config", {"inputs": [{}, {"cts": 2}], "mqtt_password": "x"}, pw)[0] == 200
    assert json.loads(get(srv, "/api/config")[2])["pending"] == {"http_port": 8099, "inputs[1].cts": 2,
                                                                 "mqtt_password": True}
    with open(app.board.data_dir + "/config.json") as f:
        assert json.loads(f.read())["price_kwh"] == 0.3       # on flash for the next start
    # the owner's own password: the made-up one stops working, the page stops asking
    assert post(srv, "/api/password", {"password": "short"}, pw)[0] == 400
    assert post(srv, "/api/password", {"password": "my own secret"}, pw)[0] == 200
    assert post(srv, "/api/reset", {"counter": 2}, pw)[0] == 401
    assert post(srv, "/api/reset", {"counter": 2}, "my own secret")[0] == 200
    later(app, clock)
    assert state(srv)["password_set"] is True
    assert b"pw_hint" not in get(srv, "/")[2]


def test_restart_needs_the_password_then_ends_the_run_for_a_restart():
    # POST /api/restart: refused without the password (nothing asked of the meter), then
    # answered at once; the run then ends half a second later (the answer sent first), the
    # counters saved, and main.py resets the board: test_host_settings.py sees the meter
    # come back with its counters
    srv, app, clock = meter(1)
    assert post(srv, "/api/restart", {})[0] == 401 and not app.restarting
    assert post(srv, "/api/restart", {}, "nope")[0] == 401 and not app.restarting
    status, _, body = post(srv, "/api/restart", {}, password(app))
    assert status == 200 and json.loads(body) == {"restarting": True}, body
    assert app.restarting


def test_the_settings_page_and_its_scripts_are_served_from_flash():
    # as kept gzipped in firmware/static/ (no heap for the page): a browser takes them as they are
    srv, app, clock = meter(0)
    from submeter.net.server import STATIC
    for path, ctype, name in (("/settings", "text/html", "settings.html"), ("/settings.js", "text/javascript", "settings.js"),
                              ("/pw.js", "text/javascript", "pw.js")):
        status, headers, body = get(srv, path, [b"Accept-Encoding: gzip"])
        with open(STATIC + name + ".gz", "rb") as f:
            assert status == 200 and headers["content-type"].startswith(ctype) and body == f.read(), (path, status)
        assert headers["content-encoding"] == "gzip"


def test_what_is_not_there_or_not_allowed_gets_its_status():
    srv, app, clock = meter(1)
    status, headers, body = get(srv, "/nope")
    assert status == 404 and body == b"404 Not Found: no such page\n"
    status, headers, body = request(srv, "POST", "/api/state", b"", [b"Content-Length: 0"])
    assert status == 405 and b"/api/reset" in body
    assert request(srv, "PUT", "/api/config", b"{}", [b"Content-Length: 2"])[0] == 405
    assert request(srv, "HEAD", "/nope")[:2] == (404, {"content-type": "text/plain; charset=utf-8",
                                                       "cache-control": "no-store", "connection": "close",
                                                       "content-length": "28"})
    assert request(srv, "HEAD", "/nope")[2] == b""                    # HEAD: the head only
    assert get(srv, "/favicon.ico")[:2] == (204, {"content-type": "image/x-icon", "cache-control": "no-store",
                                                  "connection": "close", "content-length": "0"})


def test_the_page_and_the_state_show_the_same_power():
    srv, app, clock = meter(2)
    s = state(srv)
    status, headers, body = get(srv, "/")
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    html = body.decode()
    for i, inp in enumerate(s["inputs"]):  # each circuit's row: its power, from the same snapshot
        row = html[html.index('<tr id="in%d"><td>' % (i + 1)):]
        cell = row[row.index('<td class="w">') + 14:]
        assert abs(float(cell[:cell.index("<")]) - inp["w"]) <= 0.5, (i, cell[:20], inp["w"])  # whole W
    assert "Heating" in html
    status, headers, body = get(srv, "/screen.png")
    if IS_MP:  # (the simulated board has a display on MicroPython: framebuf)
        assert status == 200 and headers["content-type"] == "image/png" and body.startswith(b"\x89PNG")
    else:
        assert status == 404 and b"this meter has no display" in body


# --- issue 22, slice "page": "CT reversed?"'s fix as a form that works without JavaScript
def test_the_ct_fix_form_flips_the_input_through_the_config_behind_the_password():
    srv, app, clock = meter(1)
    pw = password(app)
    form = b"application/x-www-form-urlencoded"
    body = b"input=2&ct_flip=1&lang=fr"
    # no password: the browser is asked for it (its own dialog: the page's script is not there)
    status, headers, _ = post(srv, "/form/flip", body, None, form)
    assert status == 401 and headers["www-authenticate"].startswith("Basic ")
    assert post(srv, "/form/flip", body, "nope", form)[0] == 401
    assert app.cfg["inputs"][1]["ct_flip"] is False
    # a form posted from another site (the browser would send the password it remembers): refused
    status, _, why = post(srv, "/form/flip", body, pw, form, [b"Origin: http://evil.example"])
    assert status == 403 and b"another site" in why and app.cfg["inputs"][1]["ct_flip"] is False
    # JSON is not a form, nor a form JSON; a bad input is named
    assert post(srv, "/form/flip", {"input": 2}, pw)[0] == 415
    assert post(srv, "/api/config", body, pw, form)[0] == 415
    for bad in (b"input=9&ct_flip=1", b"input=2&ct_flip=yes", b"ct_flip=1", b"input=%zz&ct_flip=1"):
        status, _, why = post(srv, "/form/flip", bad, pw, form)
        assert status == 400, bad
    assert app.cfg["inputs"][1]["ct_flip"] is False
    # from the meter's own page (its Origin): flipped and saved, the answer a page back to it
    status, headers, page = post(srv, "/form/flip", body, pw, form, [b"Origin: http://meter"])
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert "l\u2019entr\u00e9e 2 est lue dans l\u2019autre sens" in page.decode() and b'url=/?lang=fr' in page
    assert app.cfg["inputs"][1]["ct_flip"] is True
    assert json.loads(get(srv, "/api/config")[2])["inputs"][1]["ct_flip"] is True
    # and back (curl sends no Origin)
    assert post(srv, "/form/flip", b"input=2&ct_flip=0", pw, form)[0] == 200
    assert app.cfg["inputs"][1]["ct_flip"] is False
