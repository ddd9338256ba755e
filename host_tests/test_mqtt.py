# The MQTT messages: Home Assistant's discovery configs and the state, and the packets
# made for them (lengths counted in bytes: "m³" is 3 of them), streamed in pieces.
import json

from compat import fresh_dir, raises
from submeter import config
from submeter.net.mqtt import Publisher, discovery, meter_sig, pieces, sensors, state

# What Home Assistant's sensor entity accepts (its sensor docs: each device class, its
# units, its state classes; None: no device class, a text or a plain number). A config
# outside this table gets a warning or is refused by HA (a unit it does not know for the
# class, "measurement" on an energy or money sensor...). (device class: (units, state classes))
ACCEPTED = {
    "power": (("W", "kW", "MW"), ("measurement",)),
    "apparent_power": (("VA", "kVA"), ("measurement",)),
    "energy": (("Wh", "kWh", "MWh"), ("total", "total_increasing")),
    "gas": (("m\u00b3", "L", "ft\u00b3", "CCF"), ("total", "total_increasing")),
    "water": (("m\u00b3", "L", "gal", "ft\u00b3", "CCF"), ("total", "total_increasing")),
    "monetary": (("EUR", "USD", "GBP", "CHF"), ("total", None)),  # (None: no statistics; the yearly estimate)
    "power_factor": ((None, "%"), ("measurement",)),
    "frequency": (("Hz", "kHz", "MHz", "GHz"), ("measurement",)),
    "voltage": (("V", "mV"), ("measurement",)),
    "current": (("A", "mA"), ("measurement",)),
    "enum": ((None,), (None,)),
}
# Home Assistant's binary sensor device classes the meter uses (its binary_sensor docs)
BINARY = ("problem", "tamper", "safety", "power")
# the meter kinds the simulator has, by the grid reading's source (None: not read yet)
SOURCES = {"none": None, "standard": "tic_standard", "historic": "tic_historic", "c2000": "tic_historic",
           "p1": "p1", "t211": "p1"}


def accepted(d):
    """Why Home Assistant would not take this sensor config as it is, or None."""
    dc, unit, sc = d.get("device_class"), d.get("unit_of_measurement"), d.get("state_class")
    if d.get("default_entity_id", "").startswith("binary_sensor."):
        if dc not in BINARY or unit is not None or sc is not None:
            return "binary sensor %s %s %s" % (dc, unit, sc)
        return None if (d.get("payload_on"), d.get("payload_off")) == ("ON", "OFF") else "payloads"
    if dc == "enum" and not d.get("options"):
        return "an enum without options"
    if dc is None:
        return None if sc is None or unit is not None else "a state class on a text sensor"
    if dc not in ACCEPTED:
        return "device class %s unknown" % dc
    units, classes = ACCEPTED[dc]
    if unit not in units:
        return "%s in %s" % (dc, unit)
    if sc not in classes:
        return "%s with state class %s" % (dc, sc)
    return None


def check_config(d, node):
    """A config as Home Assistant 2025.10+ reads it: every key it needs, no deprecated one."""
    assert "object_id" not in d, d                                   # deprecated in 2025.10
    kind = d["default_entity_id"].partition(".")[0]
    assert kind in ("sensor", "binary_sensor"), d
    assert d["default_entity_id"] == kind + "." + d["unique_id"].replace("-", "_").lower(), d
    assert accepted(d) is None, (accepted(d), d)
    dev = d["device"]
    assert dev["identifiers"] == [node] and dev["sw_version"] and dev["hw_version"] and dev["model"], dev


def by_id(c, obj, src=None):
    return [s for s in sensors(c, src) if s[0] == obj][0]


def cfg(**kw):
    c = {"mqtt_host": "broker", "inputs": [{"usage": "heating"}, {"usage": "heating"}, {"usage": "sockets"},
                                           {"usage": "other"}, {"usage": "other"}]}
    c.update(kw)
    return config.validate(c)


def snap():
    ins = [{"usage": u, "w": w} for u, w in (("heating", 1000.0), ("heating", 500.0), ("sockets", 80.0),
                                             ("other", 20.0), ("other", 0.0))]
    return {"total_w": 1600.0, "total_kwh": "1234.567", "inputs": ins,
            "usages": {"heating": {"wh": 900000}, "sockets": {"wh": 300000}, "other": {"wh": 34567}},
            "gas": {"l": 92287, "kwh": 1033.6}, "water": {"l": 8579},
            "grid": {"reading": {"source": "tic_historic", "power_va": 1700, "import_wh": [1000, 2500],
                                 "import_total_wh": None,
                                 "period": "  HEURE  CREUSE  "}}, "sampling": {"rounds": 5}}


def test_one_sensor_pair_per_usage_wired():
    objs = [s[0] for s in sensors(cfg())]
    assert "heating_w" in objs and "sockets_kwh" in objs and "other_kwh" in objs
    assert "cooling_w" not in objs and "hot_water_kwh" not in objs   # nothing wired there


def test_state_adds_up_inputs_of_one_usage():
    s = json.loads(state(snap()))
    assert s["heating_w"] == 1500.0 and s["heating_kwh"] == 900.0 and s["other_w"] == 20.0
    assert s["gas_m3"] == 92.287 and s["water_m3"] == 8.579 and s["grid_kwh"] == 3.5
    assert s["grid_va"] == 1700 and s["tariff"] == "HEURE CREUSE" and "grid_w" not in s
    for obj, _, key, _, _, _, _ in sensors(cfg(), "tic_historic"):
        assert key in s, key                                         # every sensor has its value
    p1 = snap()
    p1["grid"]["reading"].update(source="p1", power_va=None, power_w=261)
    s = json.loads(state(p1))
    assert s["grid_w"] == 261 and "grid_va" not in s                 # a P1 meter's power: W
    for obj, _, key, _, _, _, _ in sensors(cfg(), "p1"):
        assert key in s, key


def test_values_are_rounded_to_the_meters_resolution():
    # what HA shows and stores: 84.9 W, not 84.90000000000001; kWh and m³ to the Wh and
    # the litre, exact (from the integer counters: no float on the way, the ESP32's has 7 digits)
    sn = snap()
    sn["inputs"][2]["w"] = 84.90000000000001
    sn["inputs"][0]["w"] = 1000.04999
    sn["total_w"] = 1584.9500000000002
    sn["total_wh"] = 123456789
    sn["usages"]["heating"]["wh"] = 98765432
    sn["gas"] = {"l": 12345678, "kwh": 1033.6000000000001}
    sn["grid"]["reading"]["power_va"] = 1700.4
    text = state(sn)
    for noise in ("0000000", "9999999"):
        assert noise not in text, text
    s = json.loads(text)
    assert s["sockets_w"] == 84.9 and s["heating_w"] == 1500.0 and s["total_w"] == 1585.0
    assert '"total_kwh": 123456.789' in text and '"heating_kwh": 98765.432' in text
    assert '"gas_m3": 12345.678' in text and s["gas_kwh"] == 1033.6 and s["grid_va"] == 1700


class Writer:
    """An asyncio stream's writer that keeps what it is given."""

    def __init__(self):
        self.out = []

    def write(self, b):
        self.out.append(bytes(b))

    async def drain(self):
        pass

    def packets(self):
        """(first byte, topic, payload) of each whole packet written (MQTT 3.1.1 framing)."""
        data = b"".join(self.out)
        out = []
        while data:
            n, k, shift = 0, 1, 0
            while True:
                b = data[k]
                n |= (b & 0x7F) << shift
                shift += 7
                k += 1
                if not b & 0x80:
                    break
            body = data[k:k + n]
            assert len(body) == n, "a packet cut short"
            tl = body[0] * 256 + body[1]
            out.append((data[0], body[2:2 + tl].decode(), body[2 + tl:]))
            data = data[k + n:]
        return out


def test_the_state_message_is_streamed_in_pieces_its_content_unchanged():
    # made as small pieces, counted, then written one by one: no block of the message's size
    import asyncio
    p = Publisher(cfg(), "submeter-ab12", "sim", snap)
    w = Writer()
    asyncio.run(p._publish(w, p.base + "/state", snap()))
    assert len(w.out) > 10 and max(len(b) for b in w.out) < 100      # in pieces, none large
    (first, topic, payload), = w.packets()                           # one whole packet, its length right
    assert first == 0x30 and topic == "submeter/submeter-ab12/state"
    assert json.loads(payload) == json.loads(state(snap())) and p.status["published"] == 1
    # a config, beyond ASCII ("m³", "é"): its length in bytes
    c = cfg(lang="fr")
    p = Publisher(c, "submeter-ab12", "sim", snap)
    w = Writer()
    water = [x for x in sensors(c) if x[0] == "water_m3"][0]
    asyncio.run(p._publish(w, None, (water, "10.0.0.7"), True))
    (first, topic, payload), = w.packets()
    assert first == 0x31 and topic == "homeassistant/sensor/submeter-ab12/water_m3/config"
    assert json.loads(payload) == discovery(c, p.node, p.base, water, "sim", "10.0.0.7")[1]
    assert json.loads(payload)["unit_of_measurement"] == "m\u00b3"


def test_discovery_config():
    c = cfg(hostname="garage")
    topic, d = discovery(c, "submeter-ab12", "submeter/submeter-ab12", by_id(c, "heating_kwh"), "esp32-poe", "192.168.1.40")
    d = json.loads("".join(pieces(d)))                               # as it goes on the wire
    assert topic == "homeassistant/sensor/submeter-ab12/heating_kwh/config"
    assert (d["device_class"], d["state_class"], d["unit_of_measurement"]) == ("energy", "total_increasing", "kWh")
    assert d["unique_id"] == "submeter-ab12_heating_kwh" and d["default_entity_id"] == "sensor.submeter_ab12_heating_kwh"
    check_config(d, "submeter-ab12")
    dev = d["device"]
    assert d["name"] == "Heating energy" and dev["name"] == "garage"  # the device: the meter's hostname
    assert dev["configuration_url"] == "http://192.168.1.40/" and dev["hw_version"] == "esp32-poe"
    assert dev["model"] == "Energy sub-meter"
    # its IP not known yet: no link (HA refuses a config whose URL is not one); a page on another port
    assert "configuration_url" not in discovery(c, "n1", "b", by_id(c, "heating_kwh"), "sim")[1]["device"]
    c = cfg(http_port=8080)
    assert discovery(c, "n1", "b", by_id(c, "heating_kwh"), "sim", "10.0.0.7")[1]["device"]["configuration_url"] == \
        "http://10.0.0.7:8080/"


def test_every_config_of_every_meter_kind_is_one_home_assistant_accepts():
    c = cfg()
    for kind, src in SOURCES.items():
        objs = []
        for sen in sensors(c, src):
            topic, d = discovery(c, "submeter-ab12", "submeter/submeter-ab12", sen, "sim", "10.0.0.7")
            check_config(json.loads("".join(pieces(d))), "submeter-ab12")
            objs.append(sen[0])
        # the grid power: a P1 meter's is active power (W), a TIC's apparent power (VA)
        grid = [o for o in objs if o.startswith("grid_") and o != "grid_kwh" and o != "grid_alerts"]
        assert grid == ([] if src is None else ["grid_w"] if src == "p1" else ["grid_va"]), (kind, grid)
    p1 = dict((s[0], s) for s in sensors(c, "p1"))["grid_w"]
    tic = dict((s[0], s) for s in sensors(c, "tic_standard"))["grid_va"]
    assert (p1[3], p1[4]) == ("W", "power") and (tic[3], tic[4]) == ("VA", "apparent_power")
    # the table catches what HA refuses (the check itself can fail)
    assert accepted({"device_class": "apparent_power", "unit_of_measurement": "W", "state_class": "measurement"})
    assert accepted({"device_class": "energy", "unit_of_measurement": "kWh", "state_class": "measurement"})
    assert accepted({"device_class": "monetary", "unit_of_measurement": "EUR", "state_class": "measurement"})


def test_discovery_names_in_the_meters_language():
    # what Home Assistant shows: each sensor named in the meter's language, a usage's by
    # its label (an input without a name of its own shows the same word on the page)
    c = cfg()
    c["lang"] = "fr"
    names = {}
    for s in sensors(c):
        names[s[0]] = discovery(c, "n1", "submeter/n1", s, "sim")[1]["name"]
    assert names["heating_kwh"] == "\u00c9nergie chauffage" and names["heating_w"] == "Puissance chauffage"
    assert names["total_w"] == "Puissance" and names["gas_m3"] == "Gaz" and names["tariff"] == "P\u00e9riode tarifaire"
    d = discovery(c, "n1", "submeter/n1", sensors(c)[0], "sim")[1]
    assert d["device"]["name"] == "submeter" and d["device"]["model"] == "Sous-compteur"
    assert discovery(c, "n1", "b", by_id(c, "grid_w", "p1"), "sim")[1]["name"] == "Puissance r\u00e9seau"
    c["lang"] = "en"
    en = [discovery(c, "n1", "b", s, "sim")[1]["name"] for s in sensors(c)]
    assert en == [s[1] for s in sensors(c)]                          # English: the names as they were


def test_connect_packet_is_whole_mqtt():
    p = Publisher(cfg(), "submeter-ab12", "sim", snap)
    con = p._connect_packet()
    assert con[0] == 0x10 and con[1] == len(con) - 2                 # CONNECT, its length right
    assert b"MQTT\x04" in con and b"submeter/submeter-ab12/availability" in con and con.endswith(b"offline")


def test_a_connect_with_text_beyond_ascii_is_whole():
    # the config takes any printable user, password and prefix (64 characters): lengths
    # are counted in bytes ("é" is 2 of them)
    c = cfg(mqtt_user="\u00e9" * 64, mqtt_password="mot de passe \u00fc\u20ac", mqtt_prefix="maison/\u00e9tage")
    p = Publisher(c, "submeter-ab12", "sim", snap)
    con = p._connect_packet()
    n, k, shift = 0, 1, 0
    while True:
        b = con[k]
        n |= (b & 0x7F) << shift
        shift += 7
        k += 1
        if not b & 0x80:
            break
    assert con[0] == 0x10 and n == len(con) - k, (n, len(con) - k)   # CONNECT, its length in bytes
    def field(text):
        b = text.encode()
        return len(b).to_bytes(2, "big") + b
    assert con.endswith(field("\u00e9" * 64) + field(c["mqtt_password"]))
    assert field("maison/\u00e9tage/submeter-ab12/availability") + field("offline") in con
    con = Publisher(cfg(mqtt_user="meter"), "submeter-ab12", "sim", snap)._connect_packet()
    assert con.endswith(field("meter") + field("")) and con[9] & 0xC0 == 0xC0  # no password: an empty one


def test_a_connection_reset_by_the_broker_ends_the_session_quietly():
    # a broker restart resets the connection (ECONNRESET) under the task that reads what
    # it sends: that task ends (the session then reconnects), no exception escapes it
    import asyncio

    class Reset:
        async def read(self, n):
            raise OSError(104, "ECONNRESET")
    p = Publisher(cfg(), "submeter-ab12", "sim", snap)
    assert asyncio.run(p._drain(Reset())) is None


def test_a_message_the_heap_has_no_room_for_is_skipped_or_tried_again_the_session_goes_on():
    # a full heap while a message is made (a MemoryError: last week's soak ended with the
    # publisher down, its back-off grown by them) costs that state message, not the session;
    # a discovery config is made again after a pause; nothing half-made is sent
    import asyncio
    from submeter.net import mqtt
    p = Publisher(cfg(), "submeter-ab12", "sim", snap)
    w = Writer()
    real_state, real_disc = mqtt.state_values, mqtt.discovery
    calls = [0, 0]

    def full_state(s, *a):
        calls[0] += 1
        if calls[0] == 1:
            raise MemoryError
        return real_state(s, *a)

    def full_disc(*a):
        calls[1] += 1
        if calls[1] <= 2:
            raise MemoryError
        return real_disc(*a)
    mqtt.state_values, mqtt.discovery = full_state, full_disc
    try:
        asyncio.run(p._publish(w, p.base + "/state", snap()))          # no room: skipped
        asyncio.run(p._publish(w, p.base + "/state", snap()))          # the next one goes
        asyncio.run(p._publish(w, None, (sensors(p.cfg)[0], None), True, 5))  # no room twice, then sent
    finally:
        mqtt.state_values, mqtt.discovery = real_state, real_disc
    pk = w.packets()
    assert p.status["skipped"] == 1 and p.status["published"] == 2 and len(pk) == 2
    assert pk[0][0] == 0x30 and json.loads(pk[0][2]) == json.loads(state(snap()))
    d = real_disc(p.cfg, p.node, p.base, sensors(p.cfg)[0], "sim")[1]
    assert pk[1][0] == 0x31 and json.loads(pk[1][2]) == d and calls[1] == 3


def test_configs_not_published_any_more_are_cleared():
    # the meter keeps the ids the broker holds a config of (mqtt.json): a usage no longer
    # wired, or the grid meter's kind changed, gets an empty retained config (HA removes it)
    import asyncio
    d = fresh_dir("mqtt-stale")
    node = "submeter-ab12"
    conf = "homeassistant/sensor/%s/" % node

    def connect(c, src, what=None):
        sn = snap()
        sn["grid"]["reading"]["source"] = src
        p = Publisher(c, node, "sim", lambda: sn, d)
        w = Writer()
        asyncio.run(p._discover(w, sn))
        sent = dict((t.split("/")[-2], pl) for _, t, pl in w.packets() if t.startswith("homeassistant/"))
        return p, w, sent

    # a meter with no record (new, or an earlier firmware's): every id it knows and does not
    # publish is cleared; then only what changes
    p, w, sent = connect(cfg(), "tic_standard")
    assert sent["cooling_w"] == b"" and sent["hot_water_kwh"] == b"" and sent["grid_w"] == b""
    assert sent["heating_w"] and sent["grid_va"] and all(r == 0x31 for r, _, _ in w.packets())
    p, w, sent = connect(cfg(), "tic_standard")
    assert not [o for o, pl in sent.items() if not pl]                # nothing more to clear
    # heating no longer wired: its two configs cleared, once
    c2 = cfg(inputs=[{"usage": u} for u in ("sockets", "sockets", "other", "other", "other")])
    p, w, sent = connect(c2, "tic_standard")
    assert sent["heating_w"] == b"" and sent["heating_kwh"] == b"" and sent["sockets_w"]
    assert sorted(o for o, pl in sent.items() if not pl) == ["heating_cost", "heating_kwh", "heating_w"]
    # at connect the grid meter not read yet: its power's config is kept, not cleared
    p, w, sent = connect(c2, None)
    assert "grid_va" not in sent and "grid_w" not in sent
    # the meter changed to P1: once read, the config goes W, the VA one is cleared
    sn = snap()
    sn["grid"]["reading"].update(source="p1", power_w=300)
    p.snapshot = lambda: sn
    w = Writer()
    asyncio.run(p._state(w))
    pk = dict((t, pl) for _, t, pl in w.packets())
    assert pk[conf + "grid_va/config"] == b"" and json.loads(pk[conf + "grid_w/config"])["unit_of_measurement"] == "W"
    assert json.loads(pk["submeter/%s/state" % node])["grid_w"] == 300
    # only what changed, then the state: P1's T1/T2 indexes, its W; the TIC's VA and alerts cleared
    sent = sorted(t.split("/")[-2] for t, pl in pk.items() if t.endswith("/config") and pl)
    gone = sorted(t.split("/")[-2] for t, pl in pk.items() if t.endswith("/config") and not pl)
    assert sent == ["grid_i1_kwh", "grid_i2_kwh", "grid_w"], sent
    assert gone == ["alert_breaker", "alert_cover", "alert_overload", "alert_overvoltage", "grid_va"], gone
    assert len(pk) == len(sent) + len(gone) + 1
    # a clearing the heap had no room for is not forgotten: tried again at the next connect
    c3 = cfg(inputs=[{"usage": "other"}] * 5)
    p = Publisher(c3, node, "sim", lambda: sn, d)
    real = p._publish

    async def no_room_for_clearings(w, topic, msg, retain=False, tries=1):
        if msg == b"":
            return False
        return await real(w, topic, msg, retain, tries)
    p._publish = no_room_for_clearings
    asyncio.run(p._discover(Writer(), sn))
    p, w, sent = connect(c3, "p1")
    assert sorted(o for o, pl in sent.items() if not pl) == ["sockets_cost", "sockets_kwh", "sockets_w"]


def test_the_grid_meters_sensors_follow_what_its_reading_provides():
    # issue 21: export, import per tariff period by the meter's names, Tempo's colours (an
    # enum), the capacity tariff with its warning (a binary sensor), per-phase figures, the
    # gas a P1 meter relays, the alerts; costs per usage and in all
    c = cfg(hostname="garage")
    sn = snap()
    r = sn["grid"]["reading"]
    r.update(source="tic_standard", tariff_option="TEMPO", import_wh=[10, 20, 30, 40, 50, 60, 0, 0, 0, 0],
             tempo_today="blue", tempo_tomorrow="red", voltage_v=[231, 229, 230], current_a=[5, 0, 2],
             power_va_phases=[1150, 0, 460], export_wh=1234, export_va=0, alerts=["phase_lost_2"])
    sn["total_cost"] = 12.345
    sn["usages"]["heating"]["cost"] = 7.5
    by = dict((s[0], s) for s in sensors(c, r))
    assert [by["grid_i%d_kwh" % k][1] for k in (1, 6)] == ["Grid import HC BLEU", "Grid import HP ROUGE"]
    assert "grid_i7_kwh" not in by                                   # EASF07-10: unused, no sensor
    assert by["tempo_today"][6] == ("blue", "white", "red")
    for s in by.values():
        check_config(json.loads("".join(pieces(discovery(c, "n1", "submeter/n1", s, "sim")[1]))), "n1")
    st = json.loads(state(sn))
    assert st["grid_i6_kwh"] == 0.06 and st["grid_exp_kwh"] == 1.234 and st["tempo_tomorrow"] == "red"
    assert (st["grid_v2"], st["grid_a1"], st["grid_p3"]) == (229, 5, 460)
    assert st["alert_phase"] == "ON" and st["alert_overload"] == "OFF" and st["cost"] == 12.35
    assert st["heating_cost"] == 7.5
    topic, d = discovery(c, "n1", "submeter/n1", by["alert_phase"], "sim")
    assert topic == "homeassistant/binary_sensor/n1/alert_phase/config" and d["payload_on"] == "ON"
    # Belgium's capacity tariff: warned from the month's peak, or from the installer's threshold
    p1 = snap()
    p1["grid"]["reading"] = {"source": "p1", "power_w": 2100, "demand_w": 2400, "peak_w": 2500, "breaker": 1,
                             "gas_l": 1234567, "import_wh": [100, 200], "alerts": []}
    assert json.loads(state(p1))["capacity_warn"] == "OFF"
    p1["grid"]["reading"]["demand_w"] = 2600                         # a new peak this month
    assert json.loads(state(p1))["capacity_warn"] == "ON"
    p1["grid"]["reading"]["demand_w"] = 2000
    assert json.loads(state(p1, 1800))["capacity_warn"] == "ON"       # capacity_warn_w: 1800 W
    st = json.loads(state(p1))
    assert st["mbus_gas_m3"] == 1234.567 and st["alert_breaker"] == "OFF" and st["peak_w"] == 2500
    ids = [s[0] for s in sensors(c, p1["grid"]["reading"])]
    assert "alert_overload" not in ids and "tempo_today" not in ids and "grid_v1" not in ids


# --- MQTT over TLS (issue 21, slice "tls"): the CA file and the port --------------------
def test_the_ca_file_is_read_as_pem_or_der_and_a_bad_one_is_said_in_words():
    from submeter.net.mqtt import TLSError, ca_certs
    import binascii
    d = fresh_dir("mqtt-ca")
    a, b = bytes(range(48)) * 3, b"\x30\x82" + bytes(range(200))
    b64 = lambda x: binascii.b2a_base64(x).strip()  # noqa: E731
    pem = b"subject=CN = test\r\n" + b"".join(
        b"-----BEGIN CERTIFICATE-----\r\n" + b64(x[:48]) + b"\r\n" + b64(x[48:]) + b"\r\n-----END CERTIFICATE-----\r\n"
        for x in (a, b))  # a chain, CRLF line ends, text before it (openssl x509 -text)

    def certs(data):
        with open(d + "/ca", "wb") as f:
            f.write(data)
        with open(d + "/ca", "rb") as f:
            return ca_certs(f)
    assert certs(pem) == [a, b]
    assert certs(b) == [b]                                   # DER, as it is
    for bad, words in ((b"hello\n", "holds no PEM certificate"),
                       (b"-----BEGIN CERTIFICATE-----\nab*\n-----END CERTIFICATE-----\n", "not base64"),
                       (b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "holds no PEM certificate")):
        try:
            certs(bad)
            assert False, bad
        except TLSError as e:
            assert words in str(e), e


def test_tls_takes_mqtt_over_tls_port_unless_one_is_set():
    d = fresh_dir("mqtt-tls")
    p = Publisher(cfg(mqtt_tls=True), "n", "sim", lambda: None, d)
    assert p.port == 8883 and p.status["broker"].endswith(":8883") and p.status["tls"] is True
    assert p.tls is None  # no CA file (nor, on CPython, the tls module): made at each connect, said then
    p = Publisher(cfg(mqtt_tls=True, mqtt_port=18883), "n", "sim", lambda: None, d)
    assert p.port == 18883
    p = Publisher(cfg(), "n", "sim", lambda: None, d)
    assert p.port == 1883 and "tls" not in p.status


def test_the_keepalive_is_kept_whatever_the_interval_and_a_broker_gone_is_seen_at_once():
    # a state every 100 s: the broker must still hear from the meter within its keepalive
    # (60 s; the broker drops a client silent for 1.5 x that, and publishes its "offline"
    # will), and a broker that closes the connection between two states ends the session
    # within a second, not at the next state, its connection closed (a connection left open
    # is a second client of the same id to the broker; test_host_fleet). Virtual seconds: the
    # module's asyncio.sleep counts them instead of waiting.
    import asyncio
    from submeter.net import mqtt
    now = [0]
    CLOSE_AT = 250

    class Shim:
        wait_for = staticmethod(asyncio.wait_for)
        create_task = staticmethod(asyncio.create_task)

        @staticmethod
        async def sleep(s):
            now[0] += s
            await asyncio.sleep(0)

        @staticmethod
        async def open_connection(host, port, **kw):
            return Reader(), w

    class Reader:
        async def readexactly(self, n):
            return b"\x20\x02\x00\x00"  # CONNACK, accepted

        async def read(self, n):
            while now[0] < CLOSE_AT:
                await asyncio.sleep(0)
            return b""  # the broker closed the connection

    class TimedWriter(Writer):
        def __init__(self):
            Writer.__init__(self)
            self.at = []

        def write(self, b):
            self.at.append(now[0])
            Writer.write(self, b)

        def close(self):
            pass

        async def wait_closed(self):  # (MicroPython's stream closes its socket here, not in close())
            self.closed = True

    w = TimedWriter()
    p = Publisher(cfg(mqtt_interval_s=100, mqtt_discovery=""), "submeter-ab12", "sim", snap)
    real = mqtt.asyncio
    mqtt.asyncio = Shim
    try:
        e = raises(OSError, asyncio.run, p._session())
    finally:
        mqtt.asyncio = real
    assert "closed" in str(e)
    gaps = [b - a for a, b in zip(w.at, w.at[1:])]
    assert max(gaps) <= mqtt.KEEPALIVE_S // 2, w.at          # a PINGREQ between states
    assert b"\xc0\x00" in w.out
    states = [t for t, b in zip(w.at, w.out) if b[0] == 0x30]  # PUBLISH heads, QoS 0, not retained
    assert states == [0, 100, 200], states
    assert CLOSE_AT <= now[0] <= CLOSE_AT + 1, now[0]        # the end seen within a second
    assert getattr(w, "closed", False)                       # and the connection closed


def test_a_full_heap_when_reading_what_the_broker_holds_is_tried_again():
    # at a reconnect the file of the configs the broker holds is read (a 512 B block): a
    # heap with no such block at that moment ended the session (the fleet test, after a
    # broker restart: the meter's "offline" will, then a reconnect); tried again after a
    # collection, the configs go out and nothing is cleared that should not be
    import asyncio
    d = fresh_dir("mqtt-mem")
    sn = snap()
    p = Publisher(cfg(), "submeter-ab12", "sim", lambda: sn, d)
    asyncio.run(p._discover(Writer(), sn))                     # the file written: what it holds
    real, calls = p._sent, [0]

    def full_once():
        calls[0] += 1
        if calls[0] == 1:
            raise MemoryError
        return real()
    p._sent = full_once
    w = Writer()
    asyncio.run(p._discover(w, sn))
    sent = [(t, pl) for _, t, pl in w.packets()]
    assert calls[0] == 2 and len(sent) == len(sensors(p.cfg, sn["grid"]["reading"]))
    assert all(pl for _, pl in sent)                            # configs, none cleared


# --- issue 22, slice "mqtt": real power, pf, export, "CT reversed?", mains, standby ------
def ref_snap(ref=True, export=True, standby=True):
    """A snapshot of a meter with the voltage reference: a solar inverter giving back on
    input 2, a CT fitted backwards on input 3; the keys other slices add, when asked."""
    sn = snap()
    figs = ((1000.0, 1149.4, 0.87, False), (-850.0, 862.0, 0.986, False), (-80.0, 95.0, 0.842, True),
            (20.0, 40.0, 0.5, False), (0.0, 0.0, 0.0, False))
    for k, (i, (w, va, pf, rev)) in enumerate(zip(sn["inputs"], figs)):
        i.update(id=k + 1, w=w, va=va, pf=pf, method="vi" if ref else "v_pf", reversed=rev and ref)
        if export:
            i["export_wh"] = (0, 12345, 0, 0, 7)[k]
    sn["total_w"] = 90.0
    sn["mains"] = {"reference": ref, "v": 231.42 if ref else None, "hz": 50.016 if ref else None}
    if standby:
        sn["standby"] = {"w": 143.26, "kwh_year": 1254.9, "cost_year": 315.73, "w_inputs": [60.0, 0.0, 3.5, 79.8, None],
                         "kwh_year_inputs": [525.6, 0, 30.7, 699.0, None], "cost_year_inputs": [132.2, 0, 7.7, 175.8, None],
                         "window": "01:00-05:00", "night": "2026-11-27"}
    return sn


def test_with_the_reference_home_assistant_gets_each_inputs_real_power_pf_export_and_orientation():
    c = cfg(hostname="garage")
    c["inputs"][1]["name"] = "Solar"
    sn = ref_snap()
    sen = sensors(c, sn["grid"]["reading"], meter_sig(sn))
    by = dict((x[0], x) for x in sen)
    for k in range(1, 6):
        for o in ("w", "va", "pf", "exp_kwh", "reversed", "standby_w"):
            assert "in%d_%s" % (k, o) in by, (k, o)
    name = lambda o: discovery(c, "n1", "b", by[o], "sim")[1]["name"]  # noqa: E731
    assert name("in2_w") == "Solar power" and name("in1_pf") == "Input 1 power factor"
    for o in ("mains_v", "mains_hz", "standby_w", "standby_kwh_year", "standby_cost_year", "heating_w"):
        assert o in by, o
    # every config one Home Assistant takes: W signed, VA, pf with no unit, export a
    # growing energy total (the Energy dashboard's "return"), the orientation a problem
    confs = {}
    for x in sen:
        topic, d = discovery(c, "n1", "submeter/n1", x, "sim", "10.0.0.7")
        d = json.loads("".join(pieces(d)))
        check_config(d, "n1")
        confs[x[0]] = (topic, d)
    topic, d = confs["in3_reversed"]
    assert topic == "homeassistant/binary_sensor/n1/in3_reversed/config" and d["device_class"] == "problem"
    assert d["default_entity_id"] == "binary_sensor.n1_in3_reversed" and d["name"] == "Input 3 CT reversed?"
    d = confs["in2_exp_kwh"][1]
    assert (d["device_class"], d["state_class"], d["unit_of_measurement"]) == ("energy", "total_increasing", "kWh")
    d = confs["in1_pf"][1]
    assert d["device_class"] == "power_factor" and "unit_of_measurement" not in d
    # the standby's year: an estimate, never a total HA's statistics would sum as a meter's
    d = confs["standby_kwh_year"][1]
    assert "device_class" not in d and d["state_class"] == "measurement" and d["unit_of_measurement"] == "kWh"
    d = confs["standby_cost_year"][1]
    assert d["device_class"] == "monetary" and "state_class" not in d and d["unit_of_measurement"] == "EUR"
    assert (confs["mains_hz"][1]["device_class"], confs["mains_hz"][1]["unit_of_measurement"]) == ("frequency", "Hz")
    # the state: what HA shows
    st = json.loads(state(sn))
    assert st["in2_w"] == -850.0 and st["in1_va"] == 1149.4 and st["in2_pf"] == 0.99 and st["in1_pf"] == 0.87
    assert st["in2_exp_kwh"] == 12.345 and st["in5_exp_kwh"] == 0.007 and st["in1_exp_kwh"] == 0.0
    assert st["in3_reversed"] == "ON" and st["in1_reversed"] == "OFF"
    assert st["mains_v"] == 231.4 and st["mains_hz"] == 50.02
    assert st["standby_w"] == 143.3 and st["standby_kwh_year"] == 1254.9 and st["standby_cost_year"] == 315.73
    assert st["in4_standby_w"] == 79.8 and st["in5_standby_w"] is None
    assert st["heating_w"] == 150.0 and st["sockets_w"] == -80.0   # a usage's power: signed, summed
    for x in sen:
        assert x[2] in st, x[2]                                      # every sensor has its value
    # French: the input's name or "Entrée k", in the meter's language
    c["lang"] = "fr"
    names = dict((x[0], discovery(c, "n1", "b", x, "sim")[1]["name"]) for x in sen)
    assert names["in2_w"] == "Puissance Solar" and names["in1_pf"] == "Facteur de puissance Entr\u00e9e 1"
    assert names["in3_reversed"] == "TC invers\u00e9 ? Entr\u00e9e 3" and names["mains_v"] == "Tension secteur"
    assert names["standby_kwh_year"] == "\u00c9nergie de veille par an"


def test_without_the_reference_or_the_other_slices_keys_nothing_new_is_announced_or_sent():
    c = cfg()
    plain = snap()                                                    # a snapshot of before issue 22
    sn = ref_snap(ref=False, export=False, standby=False)
    for s_ in (plain, sn):
        ids = [x[0] for x in sensors(c, s_["grid"]["reading"], meter_sig(s_))]
        assert not [o for o in ids if o[:2] == "in" or o[:5] in ("mains", "stand")], ids
        st = json.loads(state(s_))
        assert not [k for k in st if k[:2] == "in" or k[:5] in ("mains", "stand")], st
    assert sorted(json.loads(state(plain))) == sorted(json.loads(state(sn)))
    # the reference, but no export count yet (the ledger's branch): no export sensor, no value
    sn = ref_snap(export=False, standby=False)
    ids = [x[0] for x in sensors(c, sn["grid"]["reading"], meter_sig(sn))]
    st = json.loads(state(sn))
    assert "in1_w" in ids and "in1_exp_kwh" not in ids and "in1_exp_kwh" not in st and "standby_w" not in st
    # standby measured without the reference: the standby's sensors alone
    sn = ref_snap(ref=False, export=False)
    ids = [x[0] for x in sensors(c, sn["grid"]["reading"], meter_sig(sn))]
    assert "standby_w" in ids and "in1_standby_w" in ids and "in1_w" not in ids and "mains_v" not in ids
    # a booting meter (1 round): nothing decided
    sn["sampling"]["rounds"] = 1
    assert meter_sig(sn) is None


def test_the_configs_follow_the_reference_seen_or_lost_and_wait_while_the_meter_boots():
    import asyncio
    d = fresh_dir("mqtt-ref")
    node = "submeter-ab12"
    sn = [ref_snap(ref=False, export=False, standby=False)]
    p = Publisher(cfg(), node, "sim", lambda: sn[0], d)

    def step(first=False):
        w = Writer()
        asyncio.run(p._discover(w, sn[0]) if first else p._state(w))
        pk = [(t.split("/")[-2], pl) for _, t, pl in w.packets() if t.endswith("/config")]
        return sorted(o for o, pl in pk if pl), sorted(o for o, pl in pk if not pl), w.packets()

    sent, gone, _ = step(True)
    assert "in1_w" not in sent and "in1_w" in gone                    # a meter with no record clears them
    sent, gone, pk = step()
    assert sent == gone == [] and pk[-1][1].endswith("/state")        # nothing changed: the state alone
    sn[0] = ref_snap()                                                # the reference seen
    sent, gone, pk = step()
    assert "in1_w" in sent and "in5_reversed" in sent and "mains_hz" in sent and "standby_w" in sent and not gone
    assert "heating_w" not in sent                                    # only what is new
    assert json.loads(pk[-1][2])["in2_w"] == -850.0
    assert [t for _, t, _ in pk if "in3_reversed" in t] == ["homeassistant/binary_sensor/%s/in3_reversed/config" % node]
    # the meter restarts: while it boots (reference not looked for yet) its configs stay
    p = Publisher(cfg(), node, "sim", lambda: sn[0], d)
    sn[0] = ref_snap(ref=False, export=False, standby=False)
    sn[0]["sampling"]["rounds"] = 0
    sent, gone, _ = step(True)
    assert "in1_w" not in sent and gone == []
    sn[0]["sampling"]["rounds"] = 5                                   # it booted without the reference: cleared
    sent, gone, _ = step()
    assert "in1_w" in gone and "in3_reversed" in gone and "mains_v" in gone and "standby_w" in gone and sent == []
    assert "heating_w" not in gone
