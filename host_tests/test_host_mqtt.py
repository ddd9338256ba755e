# MQTT against a real broker (Debian's mosquitto, started here): Home Assistant's
# discovery finds every sensor with the classes its Energy dashboard needs, the state
# follows the meter, the broker going away neither stalls the metering nor the page,
# the meter reconnects when it is back, and a meter that dies is marked offline.
import json
import os
import signal
import time

from mqttsub import Subscriber
from fwrun import free_port, get, start, stop

import memrun  # tools/bench (conftest): the mosquitto launcher make memcheck uses too
import sim

NODE = "submeter-sim"
BASE = "submeter/" + NODE


def broker(tmp_path, port):
    return memrun.broker(str(tmp_path), port)[0]


def until(fn, timeout, what):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        v = fn()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError("no %s within %d s" % (what, timeout))


def test_home_assistant_discovery_state_and_a_broker_restart(tmp_path):
    port = free_port()
    mq = broker(tmp_path, port)
    (tmp_path / "config.json").write_text(json.dumps(
        {"mqtt_host": "127.0.0.1", "mqtt_port": port, "mqtt_interval_s": 1}))
    fw = start(tmp_path, SUBMETER_SPEED="50")
    sub = Subscriber(port)
    try:
        raw = until(lambda: sub.last(BASE + "/state"), 20, "state message")
        s = json.loads(raw)
        assert abs(s["heating_w"] - sim.Steady.watts[0]) <= 0.02 * sim.Steady.watts[0], s
        assert sub.last(BASE + "/availability") == b"online"
        # discovery: every usage wired has a power and an energy sensor, for HA's Energy dashboard
        disc = {}
        for topic, payload, _ in sub.messages:
            if topic.startswith("homeassistant/sensor/%s/" % NODE):
                disc[topic.split("/")[3]] = json.loads(payload)
        for u in ("heating", "cooling", "hot_water", "sockets", "other"):
            e, w = disc[u + "_kwh"], disc[u + "_w"]
            assert (e["device_class"], e["state_class"], e["unit_of_measurement"]) == ("energy", "total_increasing", "kWh")
            assert (w["device_class"], w["state_class"], w["unit_of_measurement"]) == ("power", "measurement", "W")
            assert e["state_topic"] == BASE + "/state" and e["availability_topic"] == BASE + "/availability"
            assert e["device"]["identifiers"] == [NODE] and u + "_kwh" in e["value_template"]
        assert (disc["gas_m3"]["device_class"], disc["gas_m3"]["unit_of_measurement"]) == ("gas", "m\u00b3")
        assert disc["water_m3"]["device_class"] == "water"
        # every value a sensor points at is in the state message
        for d in disc.values():
            key = d["value_template"].split("value_json.")[1].split()[0]
            assert key in s, key
        # a subscriber coming later gets the configs at once: they are retained
        late = Subscriber(port, "homeassistant/#")
        until(lambda: len(late.messages) >= len(disc), 5, "retained discovery")
        assert all(r for _, _, r in late.messages)
        late.close()
        st = json.loads(get(fw.port, "/api/state")[2])
        assert st["mqtt"]["state"] == "connected" and st["mqtt"]["connects"] == 1
        assert abs(json.loads(sub.last(BASE + "/state"))["total_kwh"] - float(st["total_kwh"])) < 0.1

        # the broker goes away: metering and the page go on
        sub.close()
        mq.send_signal(signal.SIGTERM)
        mq.wait(timeout=10)
        r0 = json.loads(get(fw.port, "/api/state")[2])["sampling"]["rounds"]
        until(lambda: json.loads(get(fw.port, "/api/state")[2])["mqtt"]["state"] == "down", 10, "broker seen down")
        time.sleep(2)
        st = json.loads(get(fw.port, "/api/state")[2])
        assert st["sampling"]["rounds"] >= r0 + 2 * 50 / 2, (r0, st["sampling"])  # still a round a second of clock
        # ... and it comes back: the meter reconnects by itself, discovery and state again
        mq = broker(tmp_path, port)
        sub = Subscriber(port)
        until(lambda: sub.last(BASE + "/state"), 30, "state after the broker came back")
        st = json.loads(get(fw.port, "/api/state")[2])
        assert st["mqtt"]["connects"] == 2 and st["mqtt"]["failures"] >= 1
        # the meter dies without a word: the broker says it is offline (the last will)
        os.kill(fw.pid, signal.SIGKILL)
        fw.wait(timeout=10)
        until(lambda: sub.last(BASE + "/availability") == b"offline", 10, "offline")
    finally:
        sub.close()
        if fw.poll() is None:
            stop(fw)
        mq.kill()
