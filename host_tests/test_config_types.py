# Config by type, whole (issue 18): every key of DEFAULTS and INPUT_DEFAULTS gets values
# of the wrong type, fractions where a whole number is needed, values below and above
# its range, huge values, over-long and unprintable text, and bytes that are not UTF-8.
# Over the network (config.change, POST /api/config) each is refused naming the field
# and the file is left as it was; at boot (config.load) none raises, the bad field takes
# its default, the good fields are kept and the error names the bad one. Then the
# firmware's own parts take every legal extreme the check passes.
import json

from compat import IS_MP, fresh_dir, raises
from submeter import config

# What each setting is, as its consumer needs it (the spec, written out: a key added to
# DEFAULTS without a line here fails test_every_key_has_a_kind)
WHOLE = ("mains_hz", "period_ms", "window_cycles", "max_gap_ms", "save_s", "gas_l_per_pulse",
         "water_l_per_pulse", "pulse_min_ms", "utc_offset_min", "screen_home_s", "screen_sleep_s",
         "contrast", "http_port", "http_max_clients", "mqtt_port", "mqtt_interval_s", "capacity_warn_w",
         "standby_pct")
NUMBER = ("voltage", "vref_v_per_v", "price_kwh", "gas_kwh_per_m3", "gas_price_kwh", "water_price_m3")
CHOICE = ("lang", "dst", "grid")
BOOL = ("mqtt_tls",)  # true or false only (not 0, 1 nor "true")
TEXT = {  # longest, and values of the right length that are still refused
    "currency": (5, ("E,R", "E;R", '"', "=1+1", "-1", "@A", "E R", "1EUR", "EU\tR")),
    "ntp_host": (128, ("not a host", "1.2.3", "300.1.1.1", "-a.b", "a..b", "a/b")),
    "mqtt_host": (128, ("not a host", "1.2.3.4.5", "host:1883", "a\u00e9b")),
    "mqtt_user": (64, ()),
    "mqtt_password": (64, ()),
    "mqtt_client_id": (32, ("a/b", "a b", "a+b", "a#b", "\u00e9")),
    "mqtt_prefix": (64, ("", "a/#", "a/+/b", "$SYS", "/a", "a/")),
    "mqtt_discovery": (64, ("ha/#", "+", "$x")),
    "hostname": (32, ("", "my meter", "a_b", "caf\u00e9")),
    "ip": (15, ("192.168.1", "300.1.1.1", "a.b.c.d", "1.2.3.4 ")),
    "netmask": (15, ("", "255.255.255")),
    "gateway": (15, ("router",)),
    "dns": (15, ("8.8.8",)),
    "http_host": (15, ("", "not a host", "localhost", "::1", "0.0.0.0.0")),
    "mqtt_tls_name": (128, ("not a host", "broker:8883", "a\u00e9b")),
    "standby_window": (11, ("", "01:00-01:00", "24:00-05:00", "01:60-05:00", "1:00-05:00", "01:00 05:00",
                            "01.00-05.00", "\u0661:00-05:00")),
}
LIST = ("prices_kwh", "inputs")
INPUT_WHOLE = ("ct_ratio", "cts", "phase")
INPUT_NUMBER = ("burden_ohm", "pf", "noise_floor_a", "phase_deg")
INPUT_BOOL = ("ct_flip", "export")
INPUT_TEXT = {"name": 24}
INPUT_CHOICE = ("usage",)

WRONG_TYPES = ("50", [], {}, True, False, None, [50], {"v": 50})
HUGE = (1e30, -1e30, 10 ** 20, -10 ** 20, 10 ** 40)
CONTROL = ("a\x00b", "a\nb", "a\rb", "\x1b[2J", "a\x7fb", "a\x85b", "a\u2028b")


def ranges(key):
    """lo, hi of a numeric setting, as the firmware has them."""
    s = config.spec(key)
    return s[2], s[3]


def bad_values(key, whole, lo, hi):
    """Wrong types, fractions (integral ones too: 50.0), out of range, huge."""
    out = list(WRONG_TYPES) + list(HUGE) + [lo - 1, hi + 1]
    if whole:
        out += [float(lo), float(hi), lo + 0.5, hi - 0.5]
    else:
        out += [lo - 0.001, hi + 0.001]
    return out


def bad_texts(most, extra):
    return [1, 1.5, True, None, [], {}, ["a"], "x" * (most + 1), "\u00e9" * (most + 1), "x" * 5000] + \
        list(CONTROL) + list(extra)


def top_cases():
    """(key, bad value) for every top-level key."""
    for key in WHOLE:
        lo, hi = ranges(key)
        for v in bad_values(key, True, lo, hi):
            yield key, v
    for key in NUMBER:
        lo, hi = ranges(key)
        for v in bad_values(key, False, lo, hi):
            yield key, v
    for key in CHOICE:
        for v in ("xx", "", "EN", config.DEFAULTS[key] + " ", 1, None, [], {}, True):
            yield key, v
    for key in BOOL:
        for v in (0, 1, "true", "", None, [], {}, 1.0):
            yield key, v
    for key, (most, extra) in TEXT.items():
        for v in bad_texts(most, extra):
            yield key, v
    for v in ("0.2", 0.2, {}, None, [0.2] * 11, [0.2, "x"], [0.2, -1], [1e30], [True], [[0.2]]):
        yield "prices_kwh", v
    for v in ("x", {}, None, 5, [], [{}] * 4, [{}] * 6, [{}] * 4 + [None], [{}] * 4 + ["x"], [[]] * 5):
        yield "inputs", v


def input_cases():
    """(field, bad value) for every key of an input."""
    for key in INPUT_WHOLE:
        lo, hi = ranges(key)
        for v in bad_values(key, True, lo, hi):
            yield key, v
    for key in INPUT_NUMBER:
        lo, hi = ranges(key)
        for v in bad_values(key, False, lo, hi):
            yield key, v
    for key in INPUT_BOOL:
        for v in (0, 1, "true", "", None, [], {}, 1.0):
            yield key, v
    for v in bad_texts(24, ()):
        yield "name", v
    for v in ("sauna", "", "Heating", 1, None, [], {}):
        yield "usage", v


def test_every_key_has_a_kind():
    kinds = set(WHOLE) | set(NUMBER) | set(CHOICE) | set(BOOL) | set(TEXT) | set(LIST)
    assert sorted(kinds) == sorted(config.DEFAULTS), sorted(set(config.DEFAULTS) ^ kinds)
    ikinds = set(INPUT_WHOLE) | set(INPUT_NUMBER) | set(INPUT_TEXT) | set(INPUT_CHOICE) | set(INPUT_BOOL)
    assert sorted(ikinds) == sorted(config.INPUT_DEFAULTS), sorted(set(config.INPUT_DEFAULTS) ^ ikinds)
    assert config.spec("grid")[2] == config.GRID_MODES and config.spec("usage")[2] == config.USAGES
    # every whole-number setting takes integers only, with its ends
    for key in WHOLE:
        lo, hi = ranges(key)
        for v in (lo, hi):
            got = config.validate({key: v})[key]
            assert got == v and type(got) is int, (key, v)


def good_for(key):
    """A good field kept beside a bad one: not the bad one itself."""
    return ("voltage", 240) if key != "voltage" else ("price_kwh", 0.3)


def check_change(path, cur, changes, field):
    with open(path, "rb") as f:
        before = f.read()
    e = raises(config.ConfigError, config.change, path, cur, changes)
    assert str(e).startswith(field + ":") or str(e).startswith(field + "["), (changes, field, str(e))
    with open(path, "rb") as f:
        assert f.read() == before, (changes, "the file changed")


def check_boot(path, doc, field, good):
    with open(path, "wb") as f:
        f.write(doc if isinstance(doc, bytes) else json.dumps(doc).encode())
    cfg, err = config.load(path, {"http_port": 8080})
    assert err is not None and field in err, (doc, field, err)
    gk, gv = good
    assert cfg[gk] == gv, (doc, "the good field was dropped", err)
    assert config.validate(cfg) == cfg, doc    # what boots passes the check itself
    return cfg, err


def test_every_key_refused_over_the_network_and_defaulted_at_boot():
    d = fresh_dir("cfgtypes")
    path = d + "/config.json"
    keep = '{"price_kwh": 0.2, "voltage": 240}'
    cur = config.validate(json.loads(keep))
    dflt = config.validate({})
    n = 0
    for key, v in top_cases():
        with open(path, "w") as f:
            f.write(keep)
        if not (key == "inputs" and isinstance(v, list) and len(v) < 5 and all(isinstance(x, dict) for x in v)):
            check_change(path, cur, {key: v}, key)  # (a shorter list changes the first inputs only)
        gk, gv = good_for(key)
        cfg, err = check_boot(path, {key: v, gk: gv}, key, (gk, gv))
        want = 8080 if key == "http_port" else dflt[key]  # the board's value, else the default
        if key == "inputs" and isinstance(v, list) and len(v) == 5:  # each input on its own
            for i, x in enumerate(v):
                assert isinstance(x, dict) or cfg["inputs"][i] == want[i], (v, i, cfg["inputs"][i])
        else:
            assert cfg[key] == want, (key, v, cfg[key])
        n += 1
    for field, v in input_cases():
        with open(path, "w") as f:
            f.write(keep)
        changes = [{}, {}, {field: v}, {}, {}]
        check_change(path, cur, {"inputs": changes}, "inputs[2].%s" % field)
        doc = {"voltage": 240, "inputs": [{"name": "Boiler", "usage": "hot_water"}, {}, {field: v}, {}, {}]}
        cfg, err = check_boot(path, doc, "inputs[2].%s" % field, ("voltage", 240))
        assert cfg["inputs"][2][field] == dflt["inputs"][2][field], (field, v)
        assert cfg["inputs"][0]["name"] == "Boiler" and cfg["inputs"][0]["usage"] == "hot_water"
        n += 1
    assert n > 600, n


def test_bytes_that_are_not_utf8_cost_their_field_only():
    d = fresh_dir("cfgutf8")
    path = d + "/config.json"
    for key in list(TEXT) + list(CHOICE):
        for bad in (b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf8\x88\x80\x80\x80", b"\x80"):
            doc = b'{"voltage": 240, "%s": "a%sb"}' % (key.encode(), bad)
            cfg, err = check_boot(path, doc, key, ("voltage", 240))
            assert cfg[key] == config.DEFAULTS[key], (key, bad)
            if key in TEXT:
                assert "not UTF-8" in err, err
    doc = b'{"voltage": 240, "inputs": [{"name": "Chauffe-eau \xe9lectrique"}, {"name": "S\xc3\xa9jour"}, {}, {}, {}]}'
    cfg, err = check_boot(path, doc, "inputs[0].name (not UTF-8", ("voltage", 240))
    assert cfg["inputs"][0]["name"] == "" and cfg["inputs"][1]["name"] == "S\u00e9jour"  # UTF-8 is kept (the bad one: no name)
    cfg, err = check_boot(path, b'{"voltage": 240, "volt\xffage": 1}', "volt?age (unknown setting)", ("voltage", 240))
    # a change over the network with such a file: the bad name is named until it is fixed
    cur = cfg
    with open(path, "wb") as f:
        f.write(doc)
    check_change(path, cur, {"price_kwh": 0.3}, "inputs[0].name")
    new, _ = config.change(path, cur, {"inputs": [{"name": "Boiler"}]})
    assert new["inputs"][0]["name"] == "Boiler" and new["inputs"][1]["name"] == "S\u00e9jour" and new["voltage"] == 240


def test_files_that_cannot_be_read_boot_on_defaults_and_say_why():
    d = fresh_dir("cfgjunk")
    path = d + "/config.json"
    for junk, why in ((b"\xff\xfe\x00{", "not JSON"), (b'\xef\xbb\xbf{"voltage": 240', "not JSON"),
                      (b"[1, 2]", "not a settings file"), (b'"text"', "not a settings file"),
                      (b'["a"] {}', "not JSON"), (b"", "not JSON"),
                      (b"{" * 4000 + b"}" * 4000, "not JSON"), (b"[" * 3000 + b"}", "not JSON"),
                      (b'{"voltage": 1' + b"0" * 9000 + b"}", "larger than"),
                      (b'{"voltage": 240, "x": "' + b"\xff" * 8000 + b'"}', None)):
        with open(path, "wb") as f:
            f.write(junk)
        cfg, err = config.load(path)
        assert err is not None, junk[:20]
        if why:
            assert err.startswith("config.json ignored: ") and why in err, (junk[:20], err)
            assert cfg == config.validate({}), junk[:20]
        else:  # the good field kept, the unknown one named
            assert cfg["voltage"] == 240 and "x (unknown setting)" in err, err
        assert config.first(err), err
    with open(path, "wb") as f:                 # as Windows' Notepad saves it: taken
        f.write(b'\xef\xbb\xbf{"voltage": 240}\r\n')
    assert config.load(path) == (config.validate({"voltage": 240}), None)


def test_load_never_raises():
    # the heap too fragmented for the file: the board's settings, and the reason
    d = fresh_dir("cfgoom")
    path = d + "/config.json"
    with open(path, "w") as f:
        f.write('{"voltage": 240}')

    def no_memory(text):
        raise MemoryError()
    real = config.json
    config.json = type("J", (), {"loads": staticmethod(no_memory), "dumps": staticmethod(real.dumps)})
    try:
        cfg, err = config.load(path, {"http_port": 8080})
    finally:
        config.json = real
    assert cfg["http_port"] == 8080 and cfg["voltage"] == 230.0 and err.startswith("config.json ignored"), err


def test_each_bad_field_is_named_at_boot_and_on_the_panel():
    d = fresh_dir("cfgnamed")
    path = d + "/config.json"
    doc = {"mains_hz": 50.0, "contrast": 3.5, "http_port": 18196.5, "http_host": "not a host",
           "window_cycles": 10.5, "currency": "=1+1", "price_kwh": 0.3,
           "inputs": [{"phase": 2.0}, {}, {}, {}, {"name": "Heat\npump"}]}
    with open(path, "w") as f:
        f.write(json.dumps(doc))
    cfg, err = config.load(path, {"http_host": "127.0.0.1", "http_port": 8080})
    for field in ("mains_hz (a whole number", "contrast", "http_port", "http_host (an IPv4", "window_cycles",
                  "currency", "inputs[0].phase", "inputs[4].name (a control character)"):
        assert field in err, (field, err)
    assert cfg["price_kwh"] == 0.3 and cfg["mains_hz"] == 50 and cfg["http_host"] == "127.0.0.1"
    assert cfg["http_port"] == 8080 and cfg["inputs"][0]["phase"] == 1 and cfg["currency"] == "EUR"
    assert config.first(err) in ("mains_hz", "contrast", "http_port", "http_host", "window_cycles", "currency",
                                 "inputs[0].phase", "inputs[4].name")  # the panel's bottom line
    assert config.first("config.json ignored: not JSON (cut short)") == "not JSON"


def test_a_change_keeps_the_whole_file_when_refused():
    d = fresh_dir("cfgkeep")
    path = d + "/config.json"
    with open(path, "w") as f:
        f.write('{"price_kwh": 0.2}')
    cur = config.validate({"price_kwh": 0.2})
    for changes, field in (({"mains_hz": 50.0}, "mains_hz"), ({"window_cycles": 10.5}, "window_cycles"),
                           ({"http_port": 18196.5}, "http_port"), ({"http_host": "not a host"}, "http_host"),
                           ({"inputs": [{"phase": 2.0}]}, "inputs[0].phase"), ({"contrast": 255.0}, "contrast"),
                           ({"price_kwh": 0.3, "currency": "EUR,"}, "currency")):
        check_change(path, cur, changes, field)
    new, restart = config.change(path, cur, {"currency": "\u20ac", "mqtt_prefix": "home/meter",
                                             "mqtt_host": "broker.lan", "ntp_host": "192.168.1.1"})
    assert new["currency"] == "\u20ac" and config.load(path) == (new, None)


# --- what the check passes, the firmware takes -----------------------------------------

def extreme(end):
    """A config with every whole number, number and text at one end of what is legal."""
    k = 0 if end == "lo" else 1
    cfg = {}
    for key in WHOLE:
        cfg[key] = ranges(key)[k]
    for key in NUMBER:
        cfg[key] = ranges(key)[k]
    inp = {}
    for key in INPUT_WHOLE:
        inp[key] = ranges(key)[k]
    for key in INPUT_NUMBER:
        inp[key] = ranges(key)[k]
    cfg["http_host"] = "127.0.0.1"
    cfg["mqtt_host"] = "127.0.0.1" if k == 0 else "b" * 63 + "." + "c" * 60 + ".lan"
    cfg["prices_kwh"] = [] if k == 0 else [100] * 10
    if k:
        cfg["currency"] = "\u20ac$.zl"
        cfg["mqtt_prefix"] = "p" * 64
        cfg["mqtt_discovery"] = "d" * 64
        cfg["mqtt_client_id"] = "c" * 32
        cfg["mqtt_user"] = "\u00e9" * 64
        cfg["mqtt_password"] = "\u00e9" * 64
        cfg["hostname"] = "h" * 32
        cfg["ntp_host"] = "n" * 63 + "." + "t" * 63
        inp["name"] = "\u00c9" * 24
    cfg["inputs"] = [dict(inp, usage=u) for u in config.USAGES]
    return config.validate(cfg)


def test_the_firmware_takes_every_legal_extreme():
    import sim
    from submeter.app import App
    from submeter.clock import ManualClock
    from submeter.net.mqtt import Publisher, discovery, pieces, sensors
    for end in ("lo", "hi"):
        cfg = extreme(end)
        clock = ManualClock()
        board = sim.Board(scenario=sim.Steady(), clock=clock, term="0", display=IS_MP,
                          data_dir=fresh_dir("cfgext"))
        board.configure(cfg)
        app = App(board, cfg)
        w = app.measure_round()
        # it meters, every window a whole number of cycles (at "hi" every circuit is under
        # its 10 A noise floor: 0 W)
        assert len(w) == 5 and (w[0] > 0) == (end == "lo"), (end, w)
        clock.advance(cfg["period_ms"])
        app.measure_round()
        for t in range(0, 3000, 20):
            app.panel.step(clock.ticks_ms() + t)       # draws, sleeps, goes home
        app.snap = app.build_snapshot()
        s = json.loads(json.dumps(app.state()))
        assert s["currency"] == cfg["currency"] and s["inputs"][0]["name"] == cfg["inputs"][0]["name"]
        from submeter.net.page import page_chunks
        html = b"".join(bytes(x) for x in page_chunks(s, cfg)).decode()
        assert cfg["inputs"][0]["name"] in html
        pub = Publisher(cfg, cfg["mqtt_client_id"] or "submeter-x", board.name, app.state)
        for sensor in sensors(cfg):
            topic, payload = discovery(cfg, "node", pub.base, sensor, "m")
            assert "+" not in topic and "#" not in topic and json.loads("".join(pieces(payload)))
        from submeter.net import api
        csv = b"".join(api.history_csv({"query": "days=3"}, app.state, app)[1]()).decode()
        assert csv.split("\n")[0].count(",") >= 5, csv[:200]
        app.store.save(app.ledger)


def test_the_displays_take_every_legal_contrast():
    try:
        import framebuf  # noqa: F401
    except ImportError:
        return  # the drivers are MicroPython's framebufs (test_displays.py)
    from test_displays import I2C, SPI, Pin, HorizontalRAM, PageRAM
    from drivers.ssd1306 import SSD1306_I2C
    from drivers.st7567 import ST7567_SPI
    for c in (ranges("contrast")[0], ranges("contrast")[1]):
        c = config.validate({"contrast": c})["contrast"]
        ram = HorizontalRAM()
        SSD1306_I2C(I2C(ram)).contrast(c)
        assert ram.cmds[-2:] == [0x81, c]
        ram = PageRAM(132)
        cs, dc, rst = Pin(), Pin(), Pin()
        ST7567_SPI(SPI(ram, dc, cs), cs, dc, rst).contrast(c)
        assert ram.cmds[-2] == 0x81
    for bad in (3.5, 255.0):
        raises(config.ConfigError, config.validate, {"contrast": bad})


def test_the_findings_values_at_boot_leave_a_meter_that_meters():
    # issue 18: each of these was saved, then stopped the meter (ct.py's TypeError at
    # every boot, metering dead on three-phase, 0 W on every input, the web task dead)
    import sim
    from submeter.app import App
    from submeter.clock import ManualClock
    d = fresh_dir("cfgfind")
    with open(d + "/config.json", "w") as f:
        f.write(json.dumps({"mains_hz": 50.0, "window_cycles": 10.5, "contrast": 3.5, "http_port": 18196.5,
                            "http_host": "not a host", "period_ms": 1000.0,
                            "inputs": [{"phase": 2.0, "name": "Boiler"}, {}, {"usage": "hot_water"}, {}, {}]}))
    clock = ManualClock()
    board = sim.Board(scenario=sim.Steady(), clock=clock, term="0", display=IS_MP, data_dir=d)
    cfg, err = config.load(d + "/config.json", board.CONFIG)
    board.configure(cfg)
    app = App(board, cfg, err)
    app.grid.reading.voltage_v = [240, 236, 232]  # a three-phase meter's voltages
    app.grid.last_frame_ms = clock.ticks_ms()
    w = app.measure_round()
    assert w[0] > 1900 and w[2] > 1400, w          # 2000 W, 1500 W simulated
    assert app.state()["inputs"][0]["name"] == "Boiler" and app.fault()
    assert cfg["http_port"] == board.CONFIG["http_port"] and cfg["http_host"] == "127.0.0.1"
    for field in ("mains_hz", "window_cycles", "contrast", "http_port", "http_host", "period_ms", "inputs[0].phase"):
        assert field in err, (field, err)
