# `make run` end to end (CPython drives, the firmware runs on the 32-bit unix port with
# the simulated board): the page and /api/state answer, show the simulated truth within
# 2 % (15 W for small loads), survive malformed requests and abuse over real sockets, and
# Ctrl-C stops the firmware cleanly. The commands over HTTP (reset, zero, configuration,
# password) run in memory on both runtimes: test_http_api.py.
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import time

import pytest
import sim
from sim import meter
from submeter import config
from fwrun import ROOT, free_port, get, kill, near, password, raw, served, start, state_when, stop

SPEED = 50


@pytest.fixture(scope="module")
def firmware():
    t0 = time.monotonic()
    proc = start(tempfile.mkdtemp(prefix="submeter-"), make=True, SUBMETER_SPEED=str(SPEED))
    served(proc)
    proc.ready_s = time.monotonic() - t0
    time.sleep(1.5)  # a few measurement rounds
    yield proc
    kill(proc)


def test_api_state_matches_simulated_truth(firmware):
    status, headers, body = get(firmware.port, "/api/state")
    assert status == 200 and headers["Content-Type"] == "application/json"
    s = json.loads(body)
    assert s["sampling"]["kernel"] == "viper"
    assert s["sampling"]["kernels"]["sums"] == s["sampling"]["kernels"]["ticscan"] == "viper"
    assert len(s["inputs"]) == 5
    for inp, truth in zip(s["inputs"], sim.Steady.watts):
        assert near(inp["w"], truth), (inp, truth)
    assert abs(s["total_w"] - sum(sim.Steady.watts)) <= 0.02 * sum(sim.Steady.watts)
    g = s["grid"]   # the simulated Linky, found on its own, agrees with the loads
    assert g["locked"] and g["mode"] == "standard" and g["checksum_errors"] == 0
    assert g["reading"]["power_va"] == int(sum(sim.Steady.watts) + meter.BASE_LOAD_W)


def test_page_shows_the_same_power(firmware):
    status, headers, body = get(firmware.port, "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    html = body.decode()
    rows = re.findall(r'<tr id="in(\d)"><td>([^<]*)</td><td class="w">([0-9.]+)</td>', html)
    assert [int(r[0]) for r in rows] == [1, 2, 3, 4, 5]
    for (_, label, w), truth in zip(rows, sim.Steady.watts):
        assert near(float(w), truth), (label, w, truth)
    assert "Heating" in rows[0][1]


def test_energy_follows_the_fast_clock(firmware):
    s1 = json.loads(get(firmware.port, "/api/state")[2])
    time.sleep(2.0)
    s2 = json.loads(get(firmware.port, "/api/state")[2])
    dt_h = (s2["uptime_s"] - s1["uptime_s"]) / 3600
    assert dt_h * 3600 >= SPEED  # the scenario clock runs faster than real time
    for a, b, truth in zip(s1["inputs"], s2["inputs"], sim.Steady.watts):
        assert b["wh"] >= a["wh"]
        expect = truth * dt_h
        assert abs((b["wh"] - a["wh"]) - expect) <= 0.05 * expect + 2, (a, b, expect)


def test_gas_and_water_follow_their_meters(firmware):
    s = json.loads(get(firmware.port, "/api/state")[2])
    hours = s["uptime_s"] / 3600
    for kind, per_pulse in (("water", 1), ("gas", 10)):
        v = s[kind]
        expect = sim.Steady.flows[kind] * hours
        assert v["l"] > 0 and abs(v["l"] - expect) <= 3 * per_pulse + 0.02 * expect, (kind, v, expect)
        assert v["m3"] == "%d.%03d" % divmod(v["l"], 1000) and v["partial_l"] == v["l"]
        assert abs(v["flow_l_h"] - sim.Steady.flows[kind]) <= 0.1 * sim.Steady.flows[kind], v
    # the default factor (MicroPython prints floats with up to 16 digits: 0.672 -> 0.6720000000000001)
    assert abs(s["gas"]["kwh"] - round(s["gas"]["l"] / 1000 * 11.2, 3)) < 1e-9


def test_the_screen_as_a_png_and_the_screenshot_tool(firmware, tmp_path):
    status, headers, body = get(firmware.port, "/screen.png")
    assert status == 200 and headers["Content-Type"] == "image/png" and body.startswith(b"\x89PNG")
    from montage import read  # tools/sim (conftest)
    path = tmp_path / "panel.png"
    path.write_bytes(body)
    w, h, rows = read(str(path))
    assert (w, h) == (128, 64) and sum(bin(b).count("1") for r in rows for b in r) > 300  # the home screen
    out = tmp_path / "shot.png"
    r = subprocess.run([os.path.join(ROOT, "tools", "sim", "screenshot"), "--url", "http://127.0.0.1:%d" % firmware.port,
                        str(out)], capture_output=True, text=True, timeout=20)
    assert r.returncode == 0, r.stderr
    assert read(str(out))[:2] == (512, 256)


def test_the_script_is_served_gzipped_and_the_page_is_small(firmware):
    import gzip
    port = firmware.port
    with open(os.path.join(ROOT, "firmware", "static", "app.js"), "rb") as f:
        src = f.read()
    gz = raw(port, b"GET /app.js HTTP/1.1\r\nAccept-Encoding: gzip, deflate\r\n\r\n")
    head, body = gz.split(b"\r\n\r\n", 1)
    assert b"Content-Encoding: gzip" in head and gzip.decompress(body) == src
    plain = raw(port, b"GET /app.js HTTP/1.1\r\n\r\n").split(b"\r\n\r\n", 1)[1]
    assert plain == src                                   # unpacked for a client without gzip
    page = get(port, "/")[2]
    assert len(page) + len(body) <= 30000  # the whole page as transferred: the HTML, the script gzipped


def test_malformed_requests_get_errors_not_a_crash(firmware):
    port = firmware.port
    assert raw(port, b"NONSENSE\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    assert raw(port, b"GET / HTTP/1.1\r\n" + b"X-Long: " + b"a" * 5000 + b"\r\n\r\n").startswith(b"HTTP/1.1 431 ")
    assert raw(port, b"GET /" + b"a" * 3000 + b" HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 414 ")
    raw(port, b"\x00\xff" * 50, read=False)  # binary junk, then hang up
    # a client that sends half a request and stalls does not hold up anyone else
    with socket.create_connection(("127.0.0.1", port), timeout=5) as slow:
        slow.sendall(b"GET / HT")
        assert get(port, "/api/state")[0] == 200
    s = json.loads(get(port, "/api/state")[2])
    assert s["errors"]["http_rejected"] >= 3  # 400, 431, 414 above, counted


def test_abuse_leaves_the_server_serving_and_the_heap_bounded(firmware):
    import threading
    port = firmware.port
    live0 = json.loads(get(port, "/api/state")[2])["mem"]["live"]
    # 20 half-open connections that never say a word: a real client still gets served
    idle = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(20)]
    try:
        time.sleep(2.5)
        assert get(port, "/api/state")[0] == 200
    finally:
        for s in idle:
            s.close()
    # 64 KB of headers: refused early, never read whole
    try:
        r = raw(port, b"GET / HTTP/1.1\r\n" + b"X-A: " + b"b" * 65536 + b"\r\n\r\n")
        assert r.startswith(b"HTTP/1.1 431 ")
    except ConnectionResetError:
        pass  # the meter answered and closed while the rest was still coming: also a refusal
    # 50 clients at once: each gets an answer (the page or "busy"), none hangs
    answers = []

    def one():
        try:
            answers.append(raw(port, b"GET /api/state HTTP/1.1\r\n\r\n", timeout=15)[:12])
        except OSError as e:
            answers.append(repr(e).encode())
    threads = [threading.Thread(target=one) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert len(answers) == 50 and all(a in (b"HTTP/1.1 200", b"HTTP/1.1 503") for a in answers), set(answers)
    assert answers.count(b"HTTP/1.1 200") >= 4
    time.sleep(2)  # a couple of rounds: the heap is collected every round
    s = json.loads(get(port, "/api/state")[2])
    assert s["errors"]["http_evicted"] >= 1  # a silent connection made room for the real client
    assert s["mem"]["live"] <= live0 + 16384, (live0, s["mem"])  # nothing held on to


def test_too_many_clients_get_503(firmware):
    port = firmware.port
    socks = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(6)]
    try:
        time.sleep(0.3)
        answers = []
        for s in socks[4:]:
            s.settimeout(3)
            try:
                answers.append(s.recv(100))
            except socket.timeout:
                answers.append(b"")
        assert any(a.startswith(b"HTTP/1.1 503 ") for a in answers), answers
    finally:
        for s in socks:
            s.close()
    time.sleep(0.2)
    assert get(port, "/api/state")[0] == 200


def test_broken_config_and_busy_port_do_not_stop_the_meter(tmp_path):
    # a truncated config.json: boots with defaults and says so; the web port taken by
    # another program: says so, keeps metering, and serves once the port is free
    (tmp_path / "config.json").write_text('{"voltage": 23')
    port = free_port()
    squatter = socket.socket()
    squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    squatter.bind(("127.0.0.1", port))
    squatter.listen(1)
    proc = start(tmp_path, port=port)
    try:
        lines = []
        t0 = time.monotonic()
        while time.monotonic() - t0 < 10 and not any(b"cannot serve" in x for x in lines):
            lines.append(proc.stdout.readline())
        text = b"".join(lines).decode()
        assert "config.json ignored" in text and "cannot serve on 127.0.0.1:%d" % port in text, text
        squatter.close()
        t0 = time.monotonic()
        while True:
            try:
                s = json.loads(get(port, "/api/state", timeout=1)[2])
                break
            except OSError:
                assert time.monotonic() - t0 < 15, "never served after the port was freed"
                time.sleep(0.3)
        assert s["errors"]["config"].startswith("config.json ignored")
        g = s["grid"]["reading"]  # the nominal 230 V, or the Linky's measured one
        assert s["voltage"] == (g["voltage_v"][0] if g and g.get("voltage_v") else 230.0), (s["voltage"], g)
        assert s["sampling"]["rounds"] > 3  # metering went on
    finally:
        squatter.close()
        stop(proc)


def test_sigterm_stops_as_q_does_and_loses_no_count(tmp_path):
    # `kill` (systemd, a container stopping) sends SIGTERM to the whole group of `make run`:
    # the firmware stops as `q` does, counters saved, and after a restart they are where
    # they were, although no scheduled save came (save_s: a day). Before, the unix port
    # died on the spot: back to the counters of the boot.
    (tmp_path / "config.json").write_text(json.dumps({"save_s": 86400}))
    proc = start(tmp_path, make=True, SUBMETER_SPEED="50")
    try:
        s = state_when(proc, lambda s: s["water"]["l"] >= 10 and s["gas"]["l"] >= 20, 30)
        assert s and s["water"]["l"] >= 10 and s["gas"]["l"] >= 20, s
        os.killpg(proc.pid, signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
    finally:
        kill(proc)
    assert b"submeter: SIGTERM, stopping" in out and b"submeter: stopped" in out, out
    assert b"Traceback" not in out, out
    again = start(tmp_path)
    try:
        s2 = state_when(again, lambda s: True, 20)
    finally:
        stop(again)
    assert s2["store"]["restored"] is True, s2["store"]
    for kind in ("water", "gas"):
        assert s2[kind]["l"] >= s[kind]["l"], (kind, s[kind], s2[kind])
    for a, b in zip(s["inputs"], s2["inputs"]):
        assert b["wh"] >= a["wh"] and (a["wh"] == 0 or b["wh"] > 0), (a, b)


def test_energy_is_split_and_priced_by_the_meters_tariff_period(tmp_path):
    # the simulated Linky goes off-peak (HC, its index 1) at 22:00: every circuit's energy
    # splits there, each part priced at its period's price
    (tmp_path / "config.json").write_text(json.dumps({"prices_kwh": [0.2068, 0.2700], "save_s": 60}))
    proc = start(tmp_path, SUBMETER_SPEED="100", SUBMETER_METER="standard", SUBMETER_START="21:58")
    try:
        s = state_when(proc, lambda s: s["period"] == 1 and all(
            len(i["periods_wh"]) == 2 and i["periods_wh"][0] > 20 for i in s["inputs"] if i["w"] > 1000), 30)
        assert s and s["period"] == 1, s and s["period"]  # off-peak now
        for i in s["inputs"]:
            hc, hp = i["periods_wh"]
            if i["w"] == 0:
                assert hc == hp == 0
                continue
            assert hp > 0 and hc > 0, i            # energy before and after 22:00
            assert abs(hc + hp - i["wh"]) <= 2
            assert abs(i["cost"] - (hc * 0.2068 + hp * 0.2700) / 1000) <= 0.011, i
        assert s["grid"]["reading"]["period"] == "HEURE  CREUSE"
    finally:
        stop(proc)


def test_a_belgian_p1_meter_is_found_on_its_own(tmp_path):
    # the same firmware, config untouched (grid: auto), wired to a Fluvius meter
    proc = start(tmp_path, SUBMETER_SPEED="50", SUBMETER_METER="p1")
    port = proc.port
    try:
        s = state_when(proc, lambda s: s["grid"]["reading"] and s["grid"]["reading"]["source"] == "p1", 20)
        g = s and s["grid"]
        assert g and g["reading"] and g["reading"]["source"] == "p1", g
        assert g["port"] == "p1" and g["locked"] and g["checksum_errors"] == 0
        assert g["reading"]["power_w"] == int(sum(sim.Steady.watts) + meter.BASE_LOAD_W)
        assert "%d W" % g["reading"]["power_w"] in get(port, "/")[2].decode()  # and the page says so
    finally:
        stop(proc)


def test_a_three_phase_p1_meter_drives_the_phase_view(tmp_path):
    # a Fluvius T211 (three-phase, fuse supervision at 25 A) and circuits the installer
    # put on L1 (heating, hot water, sockets) and L3 (other): the phase view shows the
    # meter's currents per phase, and says to move the heating to L2; the page shows it,
    # and its script keeps it live in a real browser
    names = ("Heating", "Cooling", "Hot water", "Sockets", "Other")
    inputs = [{"name": n, "usage": u, "phase": p} for n, u, p in zip(names, config.USAGES, (1, 2, 1, 1, 3))]
    (tmp_path / "config.json").write_text(json.dumps({"inputs": inputs}))
    proc = start(tmp_path, SUBMETER_SPEED="50", SUBMETER_METER="t211")
    try:
        s = state_when(proc, lambda s: s.get("phases") and s["phases"]["metered"], 30)
        ph = s and s["phases"]
        assert ph and ph["metered"], s and s.get("grid")
        truth = [meter.BASE_LOAD_W / 3] * 3
        for w, p in zip(sim.Steady.watts, (1, 2, 1, 1, 3)):
            truth[p - 1] += w
        volts = s["grid"]["reading"]["voltage_v"]  # the simulated mains' (it drifts: +-2 %)
        for p, w, v in zip(ph["phases"], truth, volts):
            assert abs(p["a"] - w / v) <= 0.011, (p, w, v)
            assert abs(p["w"] - w) <= 1
        assert [p["inputs"] for p in ph["phases"]] == [[1, 3, 4], [2], [5]]
        assert ph["limit_a"] == 25 and ph["limit_from"] == "fuse"
        assert ph["move"] and (ph["move"]["input"], ph["move"]["from"], ph["move"]["to"]) == (1, 1, 2)
        html = get(proc.port, "/")[2].decode()
        assert '<tr id="ph1"><td>L1</td>' in html and "Move input 1 (Heating) from L1 to L2" in html
        from playwright.sync_api import sync_playwright
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                errors = []
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.goto("http://127.0.0.1:%d/" % proc.port)
                page.evaluate("document.querySelector('#ph2 .a').textContent = 'x'")
                page.wait_for_function("document.querySelector('#ph2 .a').textContent !== 'x'", timeout=10000)
                assert abs(float(page.text_content("#ph2 .a")) - truth[1] / 230) <= 0.06 + 0.03 * truth[1] / 230
                assert page.text_content("#ph_move").startswith("Move input 1 (Heating) from L1 to L2")
                assert errors == []
            finally:
                browser.close()
    finally:
        stop(proc)


def test_midnight_closes_the_day_and_the_month(tmp_path):
    # the simulated Linky's clock says 30 November 23:55: five simulated minutes later the
    # day and the month are on flash, and nothing counted went missing on the way
    proc = start(tmp_path, SUBMETER_SPEED="100", SUBMETER_METER="standard", SUBMETER_START="2026-11-30 23:55")
    port = proc.port
    try:
        s = state_when(proc, lambda s: s["month"] and s["month"]["date"] == "2026-12" and s["today"]["wh"] > 100, 30)
        assert s and s["month"]["date"] == "2026-12", s and (s["time"], s["month"])
        assert s["time"]["source"] == "meter" and s["time"]["local"].startswith("2026-12-01 00:")
        days = json.loads(get(port, "/api/history?days=3")[2])
        months = json.loads(get(port, "/api/history?months=2")[2])
        assert [d["date"] for d in days] == ["2026-11-30"] and [m["date"] for m in months] == ["2026-11"]
        day = days[0]
        assert months[0]["usage"] == day["usage"] and months[0]["wh"] == day["wh"]
        # RT2012: the 2 kW heating ran for the minutes before midnight the meter was read
        assert 2000 * 200 / 3600 < day["usage"]["heating"]["wh"] <= 2000 * 305 / 3600
        assert day["usage"]["cooling"]["wh"] == 0
        csv = get(port, "/api/history.csv?days=3")[2].decode().splitlines()
        head, row = csv[0].split(","), csv[1].split(",")
        assert len(csv) == 2 and row[0] == "2026-11-30" and len(row) == len(head)
        assert float(row[head.index("heating_kwh")]) == round(day["usage"]["heating"]["wh"] / 1000, 3)
        s = json.loads(get(port, "/api/state")[2])
        for i, inp in enumerate(s["inputs"]):  # yesterday + today = all that was counted
            got = day["inputs_wh"][i] + s["today"]["inputs_wh"][i]
            assert inp["wh"] - 6 <= got <= inp["wh"], (i, got, inp["wh"])
    finally:
        stop(proc)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def test_page_in_a_real_browser_is_live(firmware):
    # what a user sees: the page in Chromium shows each circuit's power, and keeps
    # updating by itself (the figures come from /api/state every 2 s)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 720})  # a phone
            errors = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto("http://127.0.0.1:%d/" % firmware.port)
            up0 = int(page.get_attribute("#uptime", "data-s"))  # (the text: "2 min", in words)
            page.wait_for_function("(u) => parseInt(document.getElementById('uptime').dataset.s) > u",
                                   arg=up0 + SPEED, timeout=10000)
            for i, truth in enumerate(sim.Steady.watts):
                w = float(page.text_content("#in%d .w" % (i + 1)))
                assert near(w, truth), (i, w, truth)
            # the simulated Linky's TIC is decoded and shown
            page.wait_for_function("document.getElementById('grid').textContent.includes('TIC, standard mode')",
                                   timeout=10000)
            assert " VA" in page.text_content("#grid")
            # the panel's mirror: the screen as a 128x64 image, refreshed with the figures
            page.wait_for_function("document.getElementById('lcd').naturalWidth === 128", timeout=10000)
            src0 = page.get_attribute("#lcd", "src")
            page.wait_for_function("(s) => document.getElementById('lcd').getAttribute('src') !== s", arg=src0,
                                   timeout=10000)
            # no button pressed: after screen_sleep_s (600 s, 12 s at 50x) the display sleeps;
            # the mirror shows it asleep (the golden image) and the page says a press wakes it
            page.wait_for_function("document.getElementById('lcd_note').textContent.includes('a button press wakes')",
                                   timeout=20000)
            with open(os.path.join(ROOT, "host_tests", "screens", "asleep.png"), "rb") as f:
                assert get(firmware.port, "/screen.png")[2] == f.read()
            page.screenshot(path=os.path.join(ROOT, "build", "page.png"), full_page=True)
            assert page.is_visible("#pw_hint") and page.is_visible("#setpw")  # where the first password is
            # the reset button zeroes the partial counters, after the user says yes (confirm)
            # and gives the password in the page's dialog (masked; a wrong one said in words)
            answers = []
            seen = []

            def on_dialog(d):
                seen.append((d.type, d.message))
                d.accept() if answers.pop(0) else d.dismiss()
            page.on("dialog", on_dialog)
            part = float(page.text_content("#in1 .part"))
            answers[:] = [False]                          # "reset?" no
            page.click("#reset")
            page.wait_for_timeout(500)
            assert not page.is_visible("#pwd") and [t for t, _ in seen] == ["confirm"], seen
            answers[:] = [True]                           # yes; then no password given: nothing asked of the meter
            page.click("#reset")
            page.wait_for_selector("#pwd[open]")
            assert page.get_attribute("#pwd_in", "type") == "password" and "Network screen" in page.text_content("#pwd_hint")
            page.click("#pwd_cancel")
            page.wait_for_timeout(500)
            assert float(page.text_content("#in1 .part")) >= part and [t for t, _ in seen] == ["confirm"] * 2, seen
            answers[:] = [True]                           # yes; a wrong one; the right one
            page.click("#reset")
            page.wait_for_selector("#pwd[open]")
            page.fill("#pwd_in", "wrong guess")
            page.click("#pwd_ok")
            page.wait_for_function("document.getElementById('pwd_note') && "
                                   "document.getElementById('pwd_note').textContent === 'Wrong password: try again.'")
            page.fill("#pwd_in", password(firmware.data))
            page.click("#pwd_ok")
            page.wait_for_function("parseFloat(document.querySelector('#in1 .part').textContent) < %f" % part,
                                   timeout=10000)
            assert page.text_content("#since").startswith("Partial since ")
            assert [t for t, _ in seen] == ["confirm"] * 3, seen  # no alert, no prompt
            # no console error all along, but the browser's note of the refusals asked for above
            assert [e for e in errors if "status of 401" not in e] == [], errors
        finally:
            browser.close()


def test_ctrl_c_stops_cleanly(firmware):
    os.killpg(firmware.pid, signal.SIGINT)  # what Ctrl-C in the terminal sends
    out, _ = firmware.communicate(timeout=10)
    assert b"submeter: stopped" in out, out
    assert b"Traceback" not in out, out
