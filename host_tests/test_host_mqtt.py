# MQTT against a real broker (Debian's mosquitto, started here): Home Assistant's
# discovery finds every sensor with the classes its Energy dashboard needs, the state
# follows the meter, the broker going away neither stalls the metering nor the page,
# the meter reconnects when it is back, and a meter that dies is marked offline.
import json
import os
import signal
import time

from mqttsub import Subscriber
from fwrun import free_port, get, start, stop, until

import memrun  # tools/bench (conftest): the mosquitto launcher make memcheck uses too
import sim
from test_mqtt import check_config

NODE = "submeter-sim"
BASE = "submeter/" + NODE


def broker(tmp_path, port):
    return memrun.broker(str(tmp_path), port)[0]


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
        disc, cleared = {}, []
        for topic, payload, _ in sub.messages:
            if topic.startswith("homeassistant/sensor/%s/" % NODE):
                if payload:
                    disc[topic.split("/")[3]] = json.loads(payload)
                else:  # a meter with no record of what it published: what it knows and does not publish
                    cleared.append(topic.split("/")[3])
        assert "heating_w" not in cleared and "total_kwh" not in cleared, cleared
        for u in ("heating", "cooling", "hot_water", "sockets", "other"):
            e, w = disc[u + "_kwh"], disc[u + "_w"]
            assert (e["device_class"], e["state_class"], e["unit_of_measurement"]) == ("energy", "total_increasing", "kWh")
            assert (w["device_class"], w["state_class"], w["unit_of_measurement"]) == ("power", "measurement", "W")
            assert e["state_topic"] == BASE + "/state" and e["availability_topic"] == BASE + "/availability"
            assert e["device"]["identifiers"] == [NODE] and u + "_kwh" in e["value_template"]
        assert (disc["gas_m3"]["device_class"], disc["gas_m3"]["unit_of_measurement"]) == ("gas", "m\u00b3")
        assert disc["water_m3"]["device_class"] == "water"
        # by Home Assistant's rules of today: each config one it accepts, the device named
        # by the hostname, its page one click away
        for d in disc.values():
            check_config(d, NODE)
        dev = disc["total_w"]["device"]
        assert dev["name"] == "submeter" and dev["hw_version"] == "sim", dev
        ip = json.loads(get(fw.port, "/api/state")[2])["net"]["ip"]
        assert dev["configuration_url"].startswith("http://%s" % ip), (dev, ip)
        # values to the meter's resolution: no float noise on the wire
        assert b"00000000" not in raw and b"99999999" not in raw, raw
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


# What each simulated meter must give Home Assistant beyond the circuits (issue 21): the
# grid meter's import per tariff period (by its own names), export, the capacity tariff,
# per-phase figures, the gas a P1 meter relays, its alerts as binary sensors; and what it
# must not (a single-phase meter has no L2; a TIC no capacity tariff). The last one named
# is waited for in the state message.
TIC_ALERTS = ["alert_overload", "alert_breaker", "alert_cover", "alert_overvoltage"]
BARS = {
    "standard": ["cost", "heating_cost", "grid_i1_kwh", "grid_i2_kwh", "grid_v1", "grid_a1"] + TIC_ALERTS + ["grid_va"],
    "historic": ["cost", "grid_i1_kwh", "grid_i2_kwh", "grid_a1", "alert_overload", "grid_va"],
    "c2000": ["grid_i1_kwh", "grid_i2_kwh", "grid_a1", "grid_a2", "grid_a3", "alert_phase", "alert_overload",
              "grid_va"],
    "p1": ["grid_i1_kwh", "grid_i2_kwh", "grid_exp_kwh", "grid_exp_w", "demand_w", "capacity_warn", "peak_w",
           "grid_v1", "grid_a1", "grid_p1", "mbus_gas_m3", "alert_breaker", "grid_w"],
    "t211": ["grid_i1_kwh", "grid_i2_kwh", "grid_exp_kwh", "grid_exp_w", "demand_w", "capacity_warn", "peak_w",
             "grid_v1", "grid_v2", "grid_v3", "grid_a1", "grid_a2", "grid_a3", "grid_p1", "grid_p2", "grid_p3",
             "mbus_gas_m3", "alert_breaker", "grid_w"],
}
NOT = {"standard": ["grid_v2", "demand_w", "grid_w", "mbus_gas_m3"],
       "historic": ["grid_v1", "alert_cover", "grid_w", "demand_w", "capacity_warn", "mbus_gas_m3", "grid_exp_w"],
       "c2000": ["demand_w", "grid_w"], "p1": ["grid_v2", "grid_va", "alert_overload"],
       "t211": ["grid_va", "alert_overload", "tempo_today"]}


def test_each_meter_kind_publishes_what_ha_accepts_and_stale_configs_are_cleared(tmp_path):
    # one broker, the meter started again with another grid meter and one usage fewer
    # each time (as an installer rewires it): what the broker retains afterwards, read back
    # by a subscriber that comes late (as Home Assistant at its start), is exactly what the
    # meter publishes now: every config one HA accepts, the grid power in W for P1 and in
    # VA for a TIC, and nothing left of a usage no longer wired or of the meter before
    port = free_port()
    mq = broker(tmp_path, port)
    usages = ["heating", "cooling", "hot_water", "sockets", "other"]
    try:
        for meter, gone, grid in (("standard", None, "grid_va"), ("p1", "cooling", "grid_w"),
                                  ("historic", "hot_water", "grid_va"), ("c2000", None, "grid_va"),
                                  ("t211", None, "grid_w")):
            if gone:
                usages = [("other" if u == gone else u) for u in usages]
            (tmp_path / "config.json").write_text(json.dumps(
                {"mqtt_host": "127.0.0.1", "mqtt_port": port, "mqtt_interval_s": 1,
                 "inputs": [{"usage": u} for u in usages]}))
            fw = start(tmp_path, SUBMETER_SPEED="50", SUBMETER_METER=meter)
            sub = Subscriber(port, BASE + "/state")
            try:
                until(lambda: BARS[meter][-1] in json.loads(sub.last(BASE + "/state") or b"{}"), 40,
                      "a state with %s (%s)" % (BARS[meter][-1], meter))
                time.sleep(0.5)  # (the configs went before that state: QoS 0, in order)
                st = json.loads(sub.last(BASE + "/state"))
            finally:
                sub.close()
                stop(fw)
            late = Subscriber(port, "homeassistant/+/%s/+/config" % NODE)
            time.sleep(1)
            late.close()
            held = {}
            for topic, payload, retained in late.messages:
                assert retained and payload, (topic, payload)         # an empty config is not retained
                held[topic.split("/")[3]] = json.loads(payload)
            for d in held.values():
                check_config(d, NODE)
                key = d["value_template"].split("value_json.")[1].split()[0]
                assert key in st, (meter, key)                        # every sensor has its value
            # the sensors users ask for, as this kind of meter provides them (issue 21)
            assert set(BARS[meter]) <= set(held), (meter, sorted(set(BARS[meter]) - set(held)))
            assert not set(NOT[meter]) & set(held), (meter, sorted(set(NOT[meter]) & set(held)))
            want = {u + s for u in usages for s in ("_w", "_kwh", "_cost")}
            every = ("heating", "cooling", "hot_water", "sockets", "other")
            assert {o for o in held if o.rpartition("_")[0] in every} == want, (meter, sorted(held))
            assert grid in held and ({"grid_w", "grid_va"} - {grid}).isdisjoint(held), (meter, sorted(held))
            assert held[grid]["unit_of_measurement"] == ("W" if grid == "grid_w" else "VA")
    finally:
        mq.kill()
