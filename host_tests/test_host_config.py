# A config.json the check refuses, end to end (issue 18): the firmware on the unix port
# boots with it, meters, and names every refused setting on /api/state and the page; a
# refused change over the network is a 400 naming the field and leaves the file as it
# was. Before, {"mains_hz": 50.0} killed every boot in ct.py (TypeError), and a byte that
# is not UTF-8 killed it in config.load (UnicodeError).
import json
import os

from fwrun import basic, get, password, post, start, state_when, stop

BAD = {"mains_hz": 50.0, "window_cycles": 10.5, "contrast": 3.5, "http_port": 18196.5,
       "http_host": "not a host", "currency": "=HYPERLINK(1)", "voltage": 240, "price_kwh": 0.3,
       "inputs": [{"name": "Boiler", "usage": "hot_water", "phase": 2.0}, {"usage": "cooling"},
                  {"usage": "heating"}, {"usage": "sockets"}, {"name": "NAME", "usage": "other"}]}
NAMED = ("mains_hz", "window_cycles", "contrast", "http_port", "http_host", "currency", "inputs[0].phase",
         "inputs[4].name")


def test_a_refused_config_boots_meters_and_names_each_field(tmp_path):
    text = json.dumps(BAD).encode().replace(b"NAME", b"Pompe \xe0 chaleur")  # Latin-1, not UTF-8
    (tmp_path / "config.json").write_bytes(text)
    proc = start(tmp_path, SUBMETER_SPEED="20")
    try:
        s = state_when(proc, lambda s: s["sampling"]["rounds"] >= 5, 30)
        assert s is not None, proc.stdout.read1(4096) if proc.poll() is not None else "no answer"
        err = s["errors"]["config"]
        for field in NAMED:
            assert field in err, (field, err)
        # the good fields kept, the refused ones at their default (the board's port and host)
        cfg = json.loads(get(proc.port, "/api/config")[2])
        assert cfg["voltage"] == 240 and cfg["price_kwh"] == 0.3 and s["currency"] == "EUR", cfg
        assert cfg["mains_hz"] == 50 and cfg["window_cycles"] == 0 and cfg["http_host"] == "127.0.0.1"
        ins = s["inputs"]
        assert ins[0]["name"] == "Boiler" and ins[0]["usage"] == "hot_water" and ins[0]["phase"] == 1
        assert ins[4]["name"] == ""  # its default: no name (the page shows its usage, "Other")
        assert ins[0]["w"] > 1500 and ins[2]["w"] > 1000, ins      # it meters (2000 W, 1500 W simulated)
        assert s["sampling"]["rounds"] >= 5 and s["tasks"]["metering"] == 0, s["tasks"]
        page = get(proc.port, "/")[2].decode()
        assert "mains_hz" in page and "inputs[4].name (not UTF-8 text)" in page
        # over the network: refused by name, the file untouched, the meter as it was
        auth = basic(password(str(tmp_path)))
        for change, field in (({"window_cycles": 10.5}, b"window_cycles"), ({"http_host": "not a host"}, b"http_host"),
                              ({"inputs": [{"phase": 2.0}]}, b"inputs[0].phase"), ({"contrast": 255.0}, b"contrast")):
            r = post(proc.port, "/api/config", change, extra=auth)
            assert r.startswith(b"HTTP/1.1 400 ") and field in r, r
        assert (tmp_path / "config.json").read_bytes() == text
        r = post(proc.port, "/api/config", b'{"currency": "\xff"}', extra=auth)
        assert r.startswith(b"HTTP/1.1 400 "), r
        assert (tmp_path / "config.json").read_bytes() == text
        s2 = state_when(proc, lambda x: x["sampling"]["rounds"] > s["sampling"]["rounds"] + 2, 20)
        assert s2["inputs"][0]["w"] > 1500 and s2["tasks"] == s["tasks"], s2["tasks"]
    finally:
        stop(proc)
    out = proc.stdout.read().decode(errors="replace")
    assert "Traceback" not in out and "mains_hz" in out, out   # the log says it too
