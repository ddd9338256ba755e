# A fleet on one broker: 20 simulated meters, each its own process on the device model
# (build/bin/micropython-frozen, a 112 KB heap), its own flash folder, board id (SUBMETER_UID:
# client id submeter-simNN, its topics under submeter/submeter-simNN) and loads (SUBMETER_LOAD:
# meter k reads 0.5 + 0.1 k times the steady scenario), against one real mosquitto. What a
# fleet's owner would notice: a meter taking another's place on the broker (the same client
# id), a config missing or shared (the same unique_id), one meter's figures under another's
# topic, a live meter shown offline or a dead one online, counters going back or lost when
# the broker restarts. The broker keeps its retained messages on disk (persistence, as
# Debian's mosquitto does) and is restarted as an upgrade would.
import json
import os
import re
import shutil
import signal
import subprocess
import time

import soakrun  # tools/bench (conftest): the simulator's share of the heap
from fwrun import ROOT, free_port, get, until
from mqttsub import Subscriber

from test_mqtt import check_config

N = 20
DEAD = 7                            # the meter killed
KEEPALIVE_S = 60                    # the meter's MQTT keepalive (net/mqtt.py)
MP = os.path.join(ROOT, "build", "bin", "micropython-frozen")
USAGES = ("heating", "hot_water", "sockets", "other")  # (the steady scenario's cooling is 0 W)
STEADY_W = {"heating": 2000.0, "hot_water": 1500.0, "sockets": 450.0, "other": 230.0}  # sim.Steady.watts


def node(k):
    return "submeter-sim%02d" % k


def load(k):
    return 0.5 + 0.1 * k


def start_broker(d, port, n, extra=""):
    """mosquitto on `port`, its retained messages saved in `d` (at its stop), its log (the
    clients it took, by id) in d/mosquitto-<n>.log, `extra` lines in its config (a bridge):
    (process, log path)."""
    conf = os.path.join(d, "mosquitto-%d.conf" % n)
    log = os.path.join(d, "mosquitto-%d.log" % n)
    with open(conf, "w") as f:
        f.write("listener %d 127.0.0.1\nallow_anonymous true\nuser root\npersistence true\n"
                "persistence_location %s/\nsys_interval 1\nlog_dest file %s\n"
                "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
                "connection_messages true\n%s" % (port, d, log, extra))
    p = subprocess.Popen(["/usr/sbin/mosquitto", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import socket
    t0 = time.monotonic()
    while time.monotonic() - t0 < 10:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return p, log
        except OSError:
            time.sleep(0.02)
    p.kill()
    raise RuntimeError("mosquitto did not start")


def clients(log):
    """The client ids the broker took, in order, and the ones it saw twice (one meter
    throwing another off: "already connected, closing old connection")."""
    with open(log) as f:
        text = f.read()
    return re.findall(r"New client connected from \S+ as (\S+) ", text), re.findall(r"Client (\S+) already connected", text)


def start_meter(d, k, mq_port):
    """Meter k: its flash folder `d` (config.json, main.py as on a device's flash), the device
    model with a 112 KB heap (and the simulator's share beside it), its own id, loads and
    HTTP port."""
    os.makedirs(d)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump({"mqtt_host": "127.0.0.1", "mqtt_port": mq_port, "mqtt_interval_s": 1,
                   "hostname": "meter-%02d" % k}, f)
    shutil.copy(os.path.join(ROOT, "firmware", "main.py"), d)
    env = dict(os.environ, MICROPYPATH=".frozen", SUBMETER_DATA=".", SUBMETER_TERM="0", SUBMETER_SCENARIO="steady",
               SUBMETER_SPEED="1", SUBMETER_HTTP_PORT=str(free_port()), SUBMETER_UID="sim%02d" % k,
               SUBMETER_LOAD="%.1f" % load(k), SUBMETER_START="12:00")
    with open(os.path.join(d, "out.log"), "wb") as out:  # (what it prints: a failure's evidence)
        p = subprocess.Popen([MP, "-X", "heapsize=%dk" % (112 + soakrun.SIM_SHARE_KB), "main.py"], cwd=d, env=env, stdout=out,
                             stderr=subprocess.STDOUT)
    p.port = int(env["SUBMETER_HTTP_PORT"])
    return p


def blips(avail, figures):
    """Count the "offline"s of live meters (the will of a session a meter ended itself and
    opened again: a second's "unavailable" in Home Assistant) in figures["blips"]."""
    n = sum(v[:-1].count(b"offline") for v in avail.values() if v[-1] == b"online")
    if n:
        figures["blips"] = figures.get("blips", 0) + n


def check_clients(meters, log, ks, figures):
    """The broker took meters `ks`, by their own ids, and never one id twice at once (a
    meter throwing another off, or its own connection left open); a meter that connected
    again (its session ended on its side: a full heap) is counted in figures["again"],
    with the reason it gives in /api/state."""
    ids, twice = clients(log)
    ids = [c for c in ids if c.startswith("submeter-")]
    assert sorted(set(ids)) == [node(k) for k in ks], ids
    assert not twice, twice
    for c in sorted(set(c for c in ids if ids.count(c) > 1)):
        try:
            e = json.loads(get(meters[int(c[-2:])].port, "/api/state", timeout=2)[2])["mqtt"]["last_error"]
        except OSError as x:
            e = str(x)
        figures.setdefault("again", []).append((c, ids.count(c) - 1, e))


def by_meter(messages, suffix):
    """{k: [payload, ...]} of the messages on submeter/<node k>/<suffix>, in order."""
    out = {}
    for topic, payload, _ in messages:
        parts = topic.split("/")
        if len(parts) == 3 and parts[0] == "submeter" and parts[2] == suffix:
            out.setdefault(int(parts[1][-2:]), []).append(payload)
    return out


def configs(messages):
    """{k: {object id: config}} of the discovery configs (empty ones, which clear, left out)."""
    out = {}
    for topic, payload, _ in messages:
        parts = topic.split("/")
        if parts[0] == "homeassistant" and payload:
            out.setdefault(int(parts[2][-2:]), {})[parts[3]] = json.loads(payload)
    return out


def retained(port, topic, n, cid, timeout=10):
    """What the broker holds under `topic`, read by a subscriber coming late (as Home
    Assistant at its start): once `n` messages came, or the timeout; every one retained."""
    late = Subscriber(port, topic, client_id=cid)
    try:
        t0 = time.monotonic()
        while len(late.messages) < n and time.monotonic() - t0 < timeout:
            time.sleep(0.1)
        time.sleep(0.3)  # (nothing more comes)
    finally:
        late.close()
    assert all(r for _, _, r in late.messages), [m for m in late.messages if not m[2]][:3]
    return late.messages


def check_own_figures(states, alive):
    """Every state message of meter k on its own topic carries its own figures: each usage
    near its load times the scenario's, nearer to its own than to any other meter's."""
    for k in alive:
        assert states.get(k), "meter %d published no state" % k
        for raw in states[k]:
            s = json.loads(raw)
            for u in USAGES:
                truth = STEADY_W[u] * load(k)
                assert abs(s[u + "_w"] - truth) <= max(0.02 * truth, 15.0), (k, u, s)
            nearest = min(range(N), key=lambda j: abs(s["heating_w"] - STEADY_W["heating"] * load(j)))
            assert nearest == k, (k, nearest, s["heating_w"])


def test_twenty_meters_on_one_broker(tmp_path):
    t_test = time.monotonic()
    port = free_port()
    mq, log1 = start_broker(str(tmp_path), port, 1)
    watch = Subscriber(port, "#", client_id="fleet-watch")  # everything, live, from the start
    meters = [start_meter(str(tmp_path / ("m%02d" % k)), k, port) for k in range(N)]
    figures = {}
    after = None
    try:
        # --- all 20 up: each online, its configs, its state ----------------------------
        t0 = time.monotonic()
        until(lambda: len(by_meter(watch.messages, "state")) == N, 60, "state from every meter")
        figures["all_publishing_s"] = round(time.monotonic() - t0, 1)
        until(lambda: len(set(c for c in clients(log1)[0] if c.startswith("submeter-"))) >= N, 5, "the log")
        check_clients(meters, log1, range(N), figures)
        avail = by_meter(watch.messages, "availability")
        assert all(avail[k][0] == avail[k][-1] == b"online" for k in range(N)), avail
        blips(avail, figures)
        # no message outside the 20 meters' own topics (the prefix, the discovery prefix)
        for topic, _, _ in watch.messages:
            parts = topic.split("/")
            assert parts[0] in ("submeter", "homeassistant"), topic
            name = parts[1] if parts[0] == "submeter" else parts[2]
            assert name in [node(k) for k in range(N)], topic

        # --- every meter's configs retained: unique ids, its own topics and device ------
        live = configs(watch.messages)
        per = len(live[0])
        assert per >= 19 and all(len(live[k]) == per for k in range(N)), {k: len(v) for k, v in live.items()}
        msgs = retained(port, "homeassistant/#", N * per, "fleet-late-1")
        held = configs(msgs)
        assert held == live, "the retained configs differ from the ones published"
        figures["configs_per_meter"] = per
        figures["config_bytes_per_meter"] = sum(len(p) for _, p, _ in msgs) // N
        uids = set()
        for k in range(N):
            assert set(held[k]) == set(held[0]), (k, sorted(held[k]))
            for obj, d in held[k].items():
                check_config(d, node(k))
                assert d["unique_id"] == "%s_%s" % (node(k), obj)
                assert d["state_topic"] == "submeter/%s/state" % node(k), d
                assert d["availability_topic"] == "submeter/%s/availability" % node(k), d
                assert d["device"]["name"] == "meter-%02d" % k, d["device"]
                uids.add(d["unique_id"])
        assert len(uids) == N * per
        # each meter's state: its own figures, under its own topic only
        until(lambda: all(len(v) >= 2 for v in by_meter(watch.messages, "state").values()), 20, "2 states each")
        check_own_figures(by_meter(watch.messages, "state"), range(N))

        # --- one meter dies: offline by its will, the others stay online ----------------
        n0 = len(watch.messages)
        t_kill = time.monotonic()
        meters[DEAD].send_signal(signal.SIGKILL)
        meters[DEAD].wait(timeout=10)
        topic = "submeter/%s/availability" % node(DEAD)
        until(lambda: watch.last(topic) == b"offline", KEEPALIVE_S * 1.5, "offline of the dead meter")
        i = next(i for i in range(n0, len(watch.messages)) if watch.messages[i][0] == topic)
        figures["offline_after_s"] = round(watch.times[i] - t_kill, 2)
        time.sleep(2)
        avail = by_meter(watch.messages, "availability")
        for k in range(N):
            assert avail[k][-1] == (b"offline" if k == DEAD else b"online"), (k, avail[k])
        assert avail[DEAD][-2:] == [b"online", b"offline"], avail[DEAD]
        assert retained(port, topic, 1, "fleet-late-2")[0][1] == b"offline"
        alive = [k for k in range(N) if k != DEAD]

        # --- the broker restarts: every meter back, nothing lost, nothing mixed ---------
        before = list(watch.messages)
        last_before = {k: json.loads(v[-1]) for k, v in by_meter(before, "state").items()}
        mq.send_signal(signal.SIGTERM)  # (its retained messages saved, as a restart for an upgrade)
        mq.wait(timeout=10)
        watch.close()
        mq, log2 = start_broker(str(tmp_path), port, 2)
        t_back = time.monotonic()
        after = Subscriber(port, "#", client_id="fleet-watch-2")
        until(lambda: all(any(p == b"online" and not r for t, p, r in after.messages
                              if t == "submeter/%s/availability" % node(k)) for k in alive), 60,
              "every meter online again")
        back = {}
        for k in alive:
            t = "submeter/%s/availability" % node(k)
            i = next(i for i, m in enumerate(after.messages) if m[0] == t and not m[2])
            back[k] = after.times[i] - t_back
        figures["reconnect_s"] = (round(min(back.values()), 2), round(max(back.values()), 2))
        until(lambda: all(len([1 for p in v if p]) >= 2 for k, v in by_meter(after.messages, "state").items()
                          if k != DEAD) and len(by_meter(after.messages, "state")) >= N - 1, 30,
              "2 states from every meter after the restart")
        until(lambda: len(set(c for c in clients(log2)[0] if c.startswith("submeter-"))) >= N - 1, 5, "the log")
        check_clients(meters, log2, alive, figures)
        # the dead meter: still offline (retained through the restart), its configs kept
        assert by_meter(after.messages, "availability")[DEAD] == [b"offline"]
        # (what a subscriber coming at the restart reads first: the broker kept the meters'
        # wills, "offline", at its stop, until each is back)
        figures["offline_kept_at_restart"] = sum(1 for k in alive if by_meter(after.messages, "availability")[k][0]
                                                 == b"offline")
        blips({k: v for k, v in by_meter([m for m in after.messages if not m[2]], "availability").items()
               if k != DEAD}, figures)
        # every live meter sent its configs again, the same ones
        again = configs([m for m in after.messages if not m[2]])
        assert all(again[k] == live[k] for k in alive), "configs sent again differ"
        # read back late: all 20 meters' configs retained, 19 online, the dead one offline
        held2 = configs(retained(port, "homeassistant/#", N * per, "fleet-late-3"))
        assert {k: set(v) for k, v in held2.items()} == {k: set(v) for k, v in held.items()}
        av = by_meter(retained(port, "submeter/+/availability", N, "fleet-late-4"), "availability")
        assert {k: v[-1] for k, v in av.items()} == {k: b"offline" if k == DEAD else b"online" for k in range(N)}
        count = retained(port, "$SYS/broker/retained messages/count", 1, "fleet-late-5")
        figures["retained"] = int(count[-1][1])
        assert figures["retained"] >= N * (per + 1), figures
        # states: own figures still, and no counter ever went back, across the restart
        states_after = by_meter(after.messages, "state")
        check_own_figures(states_after, alive)
        for k in alive:
            seq = [json.loads(p) for p in by_meter(before, "state")[k] + [p for p in states_after[k] if p]]
            for key in ["total_kwh"] + [u + "_kwh" for u in USAGES] + ["gas_m3", "water_m3"]:
                vals = [float(s[key]) for s in seq]
                assert all(b >= a for a, b in zip(vals, vals[1:])), (k, key, vals)
            first = json.loads(states_after[k][0])
            assert float(first["total_kwh"]) >= float(last_before[k]["total_kwh"])
            assert float(seq[-1]["total_kwh"]) > float(seq[0]["total_kwh"]), (k, seq[0], seq[-1])  # it counts
        figures["test_s"] = round(time.monotonic() - t_test, 1)
        print("fleet:", json.dumps(figures))
    finally:
        watch.close()
        if after is not None:
            after.close()
        for p in meters:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for p in meters:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        mq.kill()
        mq.wait()


# The bridge of docs/mqtt.md ("A fleet"), as a site's broker would have it: the meters'
# topics forwarded unchanged to a central broker, retained flags kept, the bridge's own
# state on a topic of its own.
BRIDGE = """connection central
address 127.0.0.1:%d
remote_clientid site-a-bridge
bridge_protocol_version mqttv311
topic submeter/# out 0
topic homeassistant/sensor/# out 0
notifications true
notification_topic bridges/site-a/state
"""


def test_meters_on_a_site_broker_bridged_to_a_central_one(tmp_path):
    central_port, site_port = free_port(), free_port()
    os.makedirs(str(tmp_path / "central"))
    os.makedirs(str(tmp_path / "site"))
    central = start_broker(str(tmp_path / "central"), central_port, 1)[0]
    site = start_broker(str(tmp_path / "site"), site_port, 1, BRIDGE % central_port)[0]
    meters = []
    try:
        watch = Subscriber(central_port, "#", client_id="central-watch")
        meters = [start_meter(str(tmp_path / ("m%02d" % k)), k, site_port) for k in (0, 1)]
        until(lambda: len(by_meter(watch.messages, "state")) == 2, 30, "the states at the central broker")
        check_own_figures(by_meter(watch.messages, "state"), (0, 1))
        # Home Assistant on the central broker, starting later: every config retained there
        live = configs(watch.messages)
        per = len(live[0])
        held = configs(retained(central_port, "homeassistant/#", 2 * per, "central-late-1"))
        assert held == live and len(held[1]) == per, sorted(held)
        # a meter dies: the site broker publishes its will, the bridge carries it, retained
        meters[1].send_signal(signal.SIGKILL)
        meters[1].wait(timeout=10)
        until(lambda: watch.last("submeter/%s/availability" % node(1)) == b"offline", 10, "offline at the central broker")
        av = by_meter(retained(central_port, "submeter/+/availability", 2, "central-late-2"), "availability")
        assert av == {0: [b"online"], 1: [b"offline"]}, av
        assert retained(central_port, "bridges/site-a/state", 1, "central-late-3")[0][1] == b"1"  # the bridge up
        # the site cut off (its broker gone): the bridge's will says so; the central broker
        # keeps the site's meters as they last were
        site.kill()
        site.wait()
        until(lambda: watch.last("bridges/site-a/state") == b"0", 10, "the bridge's will")
        av = by_meter(retained(central_port, "submeter/+/availability", 2, "central-late-4"), "availability")
        assert av == {0: [b"online"], 1: [b"offline"]}, av
        watch.close()
    finally:
        for p in meters:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
                p.wait(timeout=10)
        site.kill()
        central.kill()
        site.wait()
        central.wait()
