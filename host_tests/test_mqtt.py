# The MQTT messages: Home Assistant's discovery configs and the state, and the packets
# umqtt.simple builds for them (lengths counted in bytes: "m³" is 3 of them).
import json

from compat import IS_MP, skip
from submeter import config
from submeter.net.mqtt import Publisher, discovery, sensors, state


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
            "grid": {"reading": {"power_va": 1700, "import_wh": [1000, 2500], "import_total_wh": None,
                                 "period": "  HEURE  CREUSE  "}}, "sampling": {"rounds": 5}}


def test_one_sensor_pair_per_usage_wired():
    objs = [s[0] for s in sensors(cfg())]
    assert "heating_w" in objs and "sockets_kwh" in objs and "other_kwh" in objs
    assert "cooling_w" not in objs and "hot_water_kwh" not in objs   # nothing wired there


def test_state_adds_up_inputs_of_one_usage():
    s = json.loads(state(snap()))
    assert s["heating_w"] == 1500.0 and s["heating_kwh"] == 900.0 and s["other_w"] == 20.0
    assert s["gas_m3"] == 92.287 and s["water_m3"] == 8.579 and s["grid_kwh"] == 3.5
    assert s["grid_va"] == 1700 and s["tariff"] == "HEURE CREUSE"
    for obj, _, key, _, _, _ in sensors(cfg()):
        assert key in s, key                                         # every sensor has its value


def test_discovery_config():
    c = cfg()
    topic, payload = discovery(c, "submeter-ab12", "submeter/submeter-ab12", sensors(c)[3], "sim")
    d = json.loads(payload)
    assert topic == "homeassistant/sensor/submeter-ab12/heating_kwh/config"
    assert (d["device_class"], d["state_class"], d["unit_of_measurement"]) == ("energy", "total_increasing", "kWh")
    assert d["unique_id"] == "submeter-ab12_heating_kwh" and d["device"]["identifiers"] == ["submeter-ab12"]
    assert d["name"] == "Heating energy" and d["device"]["name"] == "Energy sub-meter submeter-ab12"


def test_discovery_names_in_the_meters_language():
    # what Home Assistant shows: each sensor named in the meter's language, a usage's by
    # its label (an input without a name of its own shows the same word on the page)
    c = cfg()
    c["lang"] = "fr"
    names = {}
    for s in sensors(c):
        names[s[0]] = json.loads(discovery(c, "n1", "submeter/n1", s, "sim")[1])["name"]
    assert names["heating_kwh"] == "\u00c9nergie chauffage" and names["heating_w"] == "Puissance chauffage"
    assert names["total_w"] == "Puissance" and names["gas_m3"] == "Gaz" and names["tariff"] == "P\u00e9riode tarifaire"
    d = json.loads(discovery(c, "n1", "submeter/n1", sensors(c)[0], "sim")[1])
    assert d["device"]["name"] == "Sous-compteur n1"
    c["lang"] = "en"
    en = [json.loads(discovery(c, "n1", "b", s, "sim")[1])["name"] for s in sensors(c)]
    assert en == [s[1] for s in sensors(c)]                          # English: the names as they were


def test_packets_are_whole_mqtt():
    if not IS_MP:
        skip("umqtt.simple is MicroPython's")
    p = Publisher(cfg(), "submeter-ab12", "sim", snap)
    con = p._connect_packet()
    assert con[0] == 0x10 and con[1] == len(con) - 2                 # CONNECT, its length right
    assert b"MQTT\x04" in con and b"submeter/submeter-ab12/availability" in con and con.endswith(b"offline")
    topic, payload = discovery(p.cfg, p.node, p.base, sensors(p.cfg)[-4], "sim")  # water: "m³"
    pkt = p._publish_packet(topic, payload, True)
    n, k, shift = 0, 1, 0
    while True:
        b = pkt[k]
        n |= (b & 0x7F) << shift
        shift += 7
        k += 1
        if not b & 0x80:
            break
    assert pkt[0] == 0x31 and n == len(pkt) - k                      # PUBLISH, retained, length in bytes
    assert pkt.endswith(payload.encode())


def test_a_connect_with_text_beyond_ascii_is_whole():
    # the config takes any printable user, password and prefix (64 characters): umqtt
    # counts the length of what it is given, so they go as bytes ("é" is 2 of them)
    if not IS_MP:
        skip("umqtt.simple is MicroPython's")
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
    if not IS_MP:
        skip("umqtt.simple is MicroPython's")

    class Writer:
        def __init__(self):
            self.out = []

        def write(self, b):
            self.out.append(bytes(b))

        async def drain(self):
            pass
    p = Publisher(cfg(), "submeter-ab12", "sim", snap)
    p._connect_packet()
    w = Writer()
    real_state, real_disc = mqtt.state, mqtt.discovery
    calls = [0, 0]

    def full_state(s):
        calls[0] += 1
        if calls[0] == 1:
            raise MemoryError
        return real_state(s)

    def full_disc(*a):
        calls[1] += 1
        if calls[1] <= 2:
            raise MemoryError
        return real_disc(*a)
    mqtt.state, mqtt.discovery = full_state, full_disc
    try:
        asyncio.run(p._publish(w, p.base + "/state", snap()))          # no room: skipped
        asyncio.run(p._publish(w, p.base + "/state", snap()))          # the next one goes
        asyncio.run(p._publish(w, None, sensors(p.cfg)[0], True, 5))  # no room twice, then sent
    finally:
        mqtt.state, mqtt.discovery = real_state, real_disc
    assert p.status["skipped"] == 1 and p.status["published"] == 2 and len(w.out) == 2
    assert w.out[0][0] == 0x30 and w.out[0].endswith(real_state(snap()).encode())
    topic, payload = real_disc(p.cfg, p.node, p.base, sensors(p.cfg)[0], "sim")
    assert w.out[1][0] == 0x31 and w.out[1].endswith(payload.encode()) and calls[1] == 3
