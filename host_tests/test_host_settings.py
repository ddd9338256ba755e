# The settings page in Chromium at a phone's width (390 px), as an installer sets up a
# fresh meter with nothing but the page: the password dialog (a wrong one and the
# lockout said in words), circuit names and usages, prices, the MQTT broker; a refused
# value shown by its field with the firmware's own message, and nothing changed; a zero
# calibration; the scale calibration against a known load (the firmware's own answers); the
# restart button restarts the meter (`make run`'s launcher starts it again) with its
# counters; the owner's own password; the page in French.
# One firmware start (through `make run`, whose launcher restarts it). The HTTP side of
# /api/restart (the password it needs) is in test_http_api.py, on both runtimes.
import json
import os
import re

import pytest

from fwrun import ROOT, free_port, get, kill, password, served, start, state_when, stop
from test_host_run import CHROMIUM, CHROMIUM_ARGS

SPEED = 10  # the clock 10 times faster: a zeroing's 20 rounds in 2 s


def config(proc):
    return json.loads(get(proc.port, "/api/config")[2])


def saved(proc):
    """The config as saved: the one in use, with the saved values that wait for a restart."""
    c = config(proc)
    for k, v in c.pop("pending", {}).items():
        m = re.match(r"inputs\[(\d)\]\.(\w+)$", k)
        if m:
            c["inputs"][int(m.group(1))][m.group(2)] = v
        else:
            c[k] = v
    return c


def state(proc):
    return json.loads(get(proc.port, "/api/state")[2])


def test_config_bounds_in_the_page_are_the_validators():
    # the settings page's min/max (settings.js) are config.py's _SPEC bounds, every one
    from submeter import config as cf
    with open(os.path.join(ROOT, "firmware", "static", "settings.js")) as f:
        js = f.read()
    page = {k: (float(a), float(b)) for k, a, b in re.findall(r"(\w+): \[(-?[\d.]+), (-?[\d.]+)\]", js)}
    longest = dict((k, int(n)) for k, n in re.findall(r"(\w+): (\d+)[,\s}]", js[js.index("const TXT"):js.index("const SEL")]))
    for key, kind, lo, hi in cf._SPEC:
        if kind in (cf._INT, cf._NUM):
            assert page.get(key) == (lo, hi), key
        elif kind == cf._BOOL:  # a choice of false, true
            assert re.search(r"\b%s: \[false, true\]" % key, js[js.index("const SEL"):]), key
        elif kind != cf._ONE:
            assert longest.get(key) == hi, key
        else:  # the choices, in the validator's order
            listed = re.search(r"\b%s: (\w+|\[[^]]*\])" % key, js[js.index("const SEL"):]).group(1)
            if listed == "USAGES":
                listed = re.search(r"const USAGES = (\[[^]]*\])", js).group(1)
            assert json.loads(listed) == list(lo), key
    # every setting a user may change has its field (http_host too: all but none)
    keys = set(re.findall(r"\w+", js[js.index("const GROUPS"):js.index("const S =")])) | set(
        re.findall(r'"(\w+)"', js[js.index("const INPUT ="):js.index("const GROUPS")]))
    missing = [k for k in list(cf.DEFAULTS) + list(cf.INPUT_DEFAULTS) if k not in keys and k not in ("inputs", "prices_kwh")]
    assert missing == []


@pytest.fixture(scope="module")
def meter(tmp_path_factory):
    data = tmp_path_factory.mktemp("settings")
    proc = start(data, make=True, SUBMETER_SPEED=str(SPEED))
    served(proc)
    yield proc
    kill(proc)


def test_a_fresh_meter_set_up_from_the_page_on_a_phone(meter):
    from playwright.sync_api import sync_playwright
    url = "http://127.0.0.1:%d" % meter.port
    pw = password(meter.data)
    mqtt_port = free_port()  # a broker nobody runs: the meter tries it and goes on metering
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 800})
            errors = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(url + "/")
            page.click("#settings_link")  # the main page's header links to the settings
            page.wait_for_selector("#form:not([hidden])")
            assert page.text_content("h1") == "Settings"
            # an input without a name of its own: its usage's, in the page's language, shown as the placeholder
            assert page.input_value("#in0_name") == "" and page.get_attribute("#in0_name", "placeholder") == "Heating"
            assert page.input_value("#in0_ct_ratio") == "1000"
            assert page.get_attribute("#in0_ct_ratio", "min") == "1" and page.get_attribute("#in0_pf", "max") == "1"

            def password_dialog(typed, note=None):
                page.wait_for_selector("#pwd[open]")
                if note is not None:
                    assert page.text_content("#pwd_note") == note
                assert page.get_attribute("#pwd_in", "type") == "password"  # masked
                page.fill("#pwd_in", typed)
                page.click("#pwd_ok")

            # a wrong password is said in words, and asked again; after five in a row the
            # meter makes this address wait: said in words, with how long; then the right one saves
            page.fill("#in0_name", "Boiler")
            page.click("#save")
            password_dialog("wrong guess")
            for k in range(12):
                page.wait_for_selector("#pwd[open]")
                note = page.text_content("#pwd_note")
                if note.startswith("Too many"):
                    break
                assert note == "Wrong password: try again."
                password_dialog("wrong guess %d" % k)
            m = re.match(r"Too many wrong passwords: wait (\d+) s, then try again\.$", note)
            assert m and k >= 4, (k, note)
            page.wait_for_timeout(int(m.group(1)) * 1000 + 300)
            password_dialog(pw)
            page.wait_for_function("document.getElementById('status').textContent === 'Saved.'")
            assert config(meter)["inputs"][0]["name"] == "Boiler"

            # refused values: the validator's message by its field, and nothing saved
            page.fill("#f_hostname", "garage-meter")
            page.fill("#in2_ct_ratio", "0")
            page.click("#save")  # (the password is kept for the session: not asked again)
            page.wait_for_function("document.getElementById('e_in2_ct_ratio').textContent !== ''")
            assert page.text_content("#e_in2_ct_ratio") == "0 is outside 1..100000"
            assert page.text_content("#status").startswith("Nothing saved: Input 3 \u00b7 CT ratio: ")
            page.fill("#in2_ct_ratio", "1000")
            page.select_option("#f_dhcp", "static")
            page.fill("#f_ip", "192.168.1.50")
            page.fill("#f_gateway", "192.168.1.300")
            page.click("#save")
            page.wait_for_function("document.getElementById('e_f_gateway').textContent !== ''")
            assert "IPv4 address" in page.text_content("#e_f_gateway")
            assert page.text_content("#e_in2_ct_ratio") == ""  # (the old message gone)
            cfg = config(meter)
            assert cfg["hostname"] == "submeter" and cfg["ip"] == "" and cfg["inputs"][2]["ct_ratio"] == 1000

            # the whole setup: names and usages, prices (the base and period 1's), the broker
            page.fill("#f_gateway", "192.168.1.1")
            page.select_option("#f_dhcp", "dhcp")  # (back to DHCP: the static address not sent)
            page.fill("#in1_name", "Heat pump")
            page.select_option("#in1_usage", "heating")
            page.fill("#in3_name", "Kitchen")
            page.fill("#f_price_kwh", "0.2")
            page.fill("#pr0", "0.15")
            page.fill("#f_mqtt_host", "127.0.0.1")
            page.fill("#f_mqtt_port", str(mqtt_port))
            page.fill("#f_mqtt_password", "broker secret")
            page.click("#save")
            page.wait_for_function("document.getElementById('status').textContent.startsWith('Saved.')")
            assert config(meter)["mqtt_host"] == ""  # (in use until the restart)
            cfg = saved(meter)
            assert [i["name"] for i in cfg["inputs"]][:4] == ["Boiler", "Heat pump", "", "Kitchen"]  # (3: its usage's name)
            assert cfg["inputs"][1]["usage"] == "heating" and cfg["price_kwh"] == 0.2 and cfg["prices_kwh"] == [0.15]
            assert cfg["mqtt_host"] == "127.0.0.1" and cfg["mqtt_port"] == mqtt_port and cfg["mqtt_password"] is True
            assert cfg["hostname"] == "garage-meter" and cfg["ip"] == "" and cfg["gateway"] == "192.168.1.1"
            s = state(meter)
            assert s["inputs"][1]["name"] == "Heat pump" and s["inputs"][1]["usage"] == "heating"  # applied at once
            # the fields show what was saved, the pending ones included: nothing left to send
            assert page.input_value("#f_mqtt_host") == "127.0.0.1" and page.input_value("#f_hostname") == "garage-meter"
            page.click("#save")
            page.wait_for_function("document.getElementById('status').textContent === 'Nothing changed.'")
            assert set(s["restart_needed"]) == {"hostname", "gateway", "mqtt_host", "mqtt_port", "mqtt_password"}
            # what waits for a restart is said, by its name on the page, beside the button
            page.wait_for_selector("#restart_box:not([hidden])")
            assert "Broker" in page.text_content("#restart_list") and "Host name" in page.text_content("#restart_list")

            # the zero calibration of input 2 (idle in the steady scenario), from the page
            page.click("#z1")
            page.wait_for_function("document.getElementById('cw1').textContent.includes('\u00b7 zeroed')", timeout=30000)
            assert state(meter)["inputs"][1]["zeroed"]

            # the CT scale calibration against a known load, from the page: input 1's 2,000 W heater
            # (the steady scenario's truth); a missing figure refused by the firmware, by its field
            page.click("#cb0")
            page.wait_for_function("document.getElementById('ce0').textContent.startsWith('watts:')")
            page.fill("#kw0", "2000")
            page.click("#cb0")
            page.wait_for_function("document.getElementById('cs0').textContent.startsWith('calibrated')", timeout=60000)
            c = state(meter)["calibration"]
            assert c["state"] == "done" and c["input"] == 1 and abs(c["measured_w"] - 2000) < 40, c
            assert abs(c["ratio_after"] - 1000) <= 20 and config(meter)["inputs"][0]["ct_ratio"] == c["ratio_after"]
            assert page.text_content("#cs0") == "calibrated: %d W measured for 2000 W; CT ratio 1000 \u2192 %d" % (
                round(c["measured_w"]), c["ratio_after"])
            assert page.text_content("#ce0") == ""
            cfg["inputs"][0]["ct_ratio"] = c["ratio_after"]  # (the config compared after the restart)

            # the meter's clock, with where it comes from; set by hand from the phone's time only
            # where no better source holds it (here the Linky's own clock: refused, in words)
            page.wait_for_function("document.getElementById('clock_now').textContent.includes('from the grid meter')")
            page.click("#setclock")
            page.wait_for_function("document.getElementById('clock_said').textContent.includes('better source (meter)')")
            assert state(meter)["time"]["source"] == "meter"

            # the restart: the meter goes, comes back with its counters and the new settings
            before = state(meter)
            page.click("#restart")
            page.wait_for_function("document.getElementById('status').textContent === 'The meter restarted.'",
                                   timeout=60000)
            after = state(meter)
            assert after["uptime_s"] < before["uptime_s"] + 30 * SPEED and after["restart_needed"] == []
            assert after["boot"]["cause"] == "power" and after["inputs"][1]["zeroed"]
            assert all(a["wh"] >= b["wh"] for a, b in zip(after["inputs"], before["inputs"]))  # counters kept
            assert after["total_wh"] >= before["total_wh"] > 0
            assert after["mqtt"] is not None and after["net"]["hostname"] == "garage-meter"
            assert config(meter) == dict(cfg, mqtt_password=True)  # all in use now, nothing pending
            page.wait_for_selector("#restart_box[hidden]", state="attached")

            # the owner's own password, typed twice in the dialog (masked), the session's one sending it
            page.click("#setpw")
            page.wait_for_selector("#pwd[open]")
            assert page.get_attribute("#pwd_in2", "type") == "password"
            page.fill("#pwd_in", "installer pass 1")
            page.fill("#pwd_in2", "installer pass 2")
            page.click("#pwd_ok")
            assert page.text_content("#pwd_note") == "The two are not the same."
            page.fill("#pwd_in2", "installer pass 1")
            page.click("#pwd_ok")
            page.wait_for_function("document.getElementById('pw_said').textContent === 'The new password is set.'")
            assert state_when(meter, lambda s: s["password_set"], 10)["password_set"] is True  # (at the next round)

            # the page in French, ?lang=fr: every word of it, with its accents
            page.goto(url + "/settings?lang=fr")
            page.wait_for_selector("#form:not([hidden])")
            assert page.text_content("h1") == "Réglages" and page.text_content("#g_calib legend") == "Étalonnage"
            assert page.text_content("label[for=in0_ct_ratio]").startswith("Rapport du TC")
            assert page.get_attribute("#back", "href") == "/?lang=fr"
            r = state(meter)["grid"]["reading"]  # the running tariff period's price, by the meter's own name for it
            assert r["period"] and page.text_content("label[for=pr%d]" % (r["period_index"] - 1)).startswith(
                r["period"] + " (Période %d)" % r["period_index"])
            page.screenshot(path=os.path.join(ROOT, "build", "settings-fr-390.png"), full_page=True)
            # no console error but the browser's notes of the refusals above and of the restart
            assert [e for e in errors if not re.search("status of (400|401|409|429)|ERR_CONNECTION_REFUSED", e)] == [], errors
        finally:
            browser.close()
    stop(meter)
    out = meter.stdout.read().decode(errors="replace")
    # the host draws no screen here: its log says the first password; the launcher restarted it
    assert "submeter: the first password" in out and pw in out and "hostrun: the firmware restarts" in out, out
    assert "Traceback" not in out, out
