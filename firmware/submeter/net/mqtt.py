# MQTT: the meter's figures for Home Assistant (discovery) and for fleets of meters.
#
# Every byte goes through an asyncio stream, so a broker that is down, slow or gone
# half-way never holds up the metering or the page. umqtt.simple builds each PUBLISH's
# head (its MQTTClient.publish, writing into a collector set as its `sock`, never
# connected: publish_head); CONNECT is built here from the MQTT 3.1.1 spec (umqtt's
# connect() opens its own socket and blocks for the answer); the task reads the broker's
# CONNACK from the stream.
# Reconnects back off from 1 s to 2 min. A message is never made whole: its JSON is made
# as a list of small pieces (one a key), counted (MQTT's remaining length comes before
# the payload), then written piece by piece: no block of the message's size is needed
# (the state message, ~600 B, made whole with its copies, was skipped 500 times in 2,255
# in a week's soak for want of one).
#
# Topics: <prefix>/<id>/availability ("online", retained; "offline" as the last will),
# <prefix>/<id>/state (JSON, every mqtt_interval_s), and Home Assistant's discovery
# configs under <discovery>/sensor/<id>/<object>/config (retained), by Home Assistant's
# rules of 2025.10 (default_entity_id, a device block; docs/mqtt.md). The object ids the
# broker holds a config of are kept in a small file (mqtt.json beside the counters): one
# not published any more (a usage no longer wired, the grid meter's kind changed) gets
# an empty retained config, which removes it from Home Assistant.
import asyncio
import gc
import json
import struct

from micropython import const

from .. import VERSION
from ..config import USAGES
from ..grid.reading import import_total
from ..view.labels import labels

KEEPALIVE_S = const(60)
BACKOFF_MAX_S = const(120)
MEM_TRIES = const(5)  # a discovery config the heap has no room for: tried this often


def _field(b):
    """A string or binary field (MQTT 3.1.1, 1.5.3): its length in two bytes, then its bytes."""
    return struct.pack("!H", len(b)) + b


def connect_packet(client_id, keepalive, will=None, user=None, password=None):
    """CONNECT (MQTT 3.1.1, 3.1), a clean session: `client_id`, `user`, `password` bytes
    (their length counted in bytes), `will` (topic, message, retain) or None."""
    flags = 0x02
    payload = _field(client_id)
    if will:
        flags |= 0x24 if will[2] else 0x04  # a will, QoS 0, retained or not
        payload += _field(will[0]) + _field(will[1])
    if user is not None:
        flags |= 0x80
        payload += _field(user)
    if password is not None:
        flags |= 0x40
        payload += _field(password)
    rest = b"\x00\x04MQTT\x04" + bytes((flags, keepalive >> 8, keepalive & 0xFF)) + payload
    n = len(rest)
    head = bytearray(b"\x10")
    while True:  # the remaining length, 7 bits a byte, the lowest first (2.2.3)
        head.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(head) + rest


def grid_power(src):
    """The grid power sensor of a reading's source: (object id, unit, device class). A P1
    meter's 1-0:1.7.0 is active power (W); a TIC's PAPP/SINSTS apparent power (VA); None
    before a reading says which (no config sent for it yet)."""
    if src == "p1":
        return "grid_w", "W", "power"
    if src:
        return "grid_va", "VA", "apparent_power"
    return None


def sensors(cfg, src=None):
    """(object id, name, value key, unit, device class, state class) of every sensor; the
    grid power's by the grid reading's source `src` (grid_power)."""
    out = [("total_w", "Power", "total_w", "W", "power", "measurement"),
           ("total_kwh", "Energy", "total_kwh", "kWh", "energy", "total_increasing")]
    for u in USAGES:
        if any(i["usage"] == u for i in cfg["inputs"]):
            name = u.replace("_", " ")
            name = name[0].upper() + name[1:]
            out.append((u + "_w", name + " power", u + "_w", "W", "power", "measurement"))
            out.append((u + "_kwh", name + " energy", u + "_kwh", "kWh", "energy", "total_increasing"))
    out.append(("meter_alert", "Meter alert", "meter_alert", None, None, None))  # counters restored...
    out += [("gas_m3", "Gas", "gas_m3", "m\u00b3", "gas", "total_increasing"),
            ("gas_kwh", "Gas energy", "gas_kwh", "kWh", "energy", "total_increasing"),
            ("water_m3", "Water", "water_m3", "m\u00b3", "water", "total_increasing")]
    g = grid_power(src)
    if g:
        out.append((g[0], "Grid power", g[0], g[1], g[2], "measurement"))
    out += [("grid_kwh", "Grid import", "grid_kwh", "kWh", "energy", "total_increasing"),
            ("tariff", "Tariff period", "tariff", None, None, None),
            ("grid_alerts", "Grid meter alerts", "grid_alerts", None, None, None),
            ("notices", "Meter notices", "notices", None, None, None)]
    return out


def known_ids():
    """Every object id this firmware can publish (what a meter with no record of its own
    clears, but the ones it publishes: the configs an earlier firmware left)."""
    ids = [s[0] for s in sensors({"inputs": [{"usage": u} for u in USAGES]}, "p1")]
    ids.append("grid_va")
    return ids


def sensor_name(t, obj, name):
    """A sensor's name in the meter's language (labels.py "mq_" rows; a usage's: its label
    in "%s power" / "Puissance %s"); one without a row keeps its English name."""
    for u in USAGES:
        if obj == u + "_w" or obj == u + "_kwh":
            f = t["mq_" + obj[len(u) + 1:]]
            return f % (t[u] if f[0] == "%" else t[u].lower())
    return t.get("mq_" + obj, name)


def entity_id(node, obj):
    """Home Assistant's entity id for a sensor: "sensor." and a slug ([a-z0-9_])."""
    return "sensor." + "".join(c if "a" <= c <= "z" or "0" <= c <= "9" else "_"
                               for c in ("%s_%s" % (node, obj)).lower())


def discovery(cfg, node, base, sensor, model, ip=None):
    """Topic and payload (a dict) of one sensor's Home Assistant discovery config, by the
    rules of HA 2025.10: default_entity_id ("sensor.<slug>", object_id is deprecated), a
    device named by the meter's hostname, with its model, hardware (the board) and
    software versions, and its page (configuration_url) once its IP is known."""
    obj, name, key, unit, dclass, sclass = sensor
    t = labels(cfg["lang"])
    dev = {"identifiers": [node], "name": cfg["hostname"], "model": t["title"], "hw_version": model,
           "manufacturer": "submeter (open firmware)", "sw_version": VERSION}
    if ip:
        dev["configuration_url"] = "http://%s/" % ip if cfg["http_port"] == 80 else "http://%s:%d/" % (
            ip, cfg["http_port"])
    d = {"name": sensor_name(t, obj, name), "unique_id": "%s_%s" % (node, obj), "default_entity_id": entity_id(node, obj),
         "state_topic": base + "/state", "value_template": "{{ value_json.%s }}" % key,
         "availability_topic": base + "/availability", "device": dev}
    if unit:
        d["unit_of_measurement"] = unit
    if dclass:
        d["device_class"] = dclass
    if sclass:
        d["state_class"] = sclass
    return "%s/sensor/%s/%s/config" % (cfg["mqtt_discovery"], node, obj), d


def pieces(d):
    """The JSON of a dict as a list of small strings, one a key, whose join is the JSON:
    ['{"a": 1', ', "b": 2', '}']."""
    out = []
    for k, v in d.items():
        out.append('%s"%s": %s' % ("," if out else "{", k, json.dumps(v)))
    out.append("}" if out else "{}")
    return out


def _milli(n):
    """An int in thousandths as exact decimal text ("1234.567"): kWh from Wh, m³ from
    litres, with no float on the way (a single-precision float, the ESP32's, has 7 digits)."""
    if n < 0:
        return "-" + _milli(-n)
    return "%d.%03d" % (n // 1000, n % 1000)


def _num(v, places):
    """`v` (int or float, or None) rounded to `places` decimals, as JSON text."""
    if v is None:
        return "null"
    if isinstance(v, int):
        return str(v)
    return ("%%.%df" % places) % v if places else "%d" % round(v)


def state_values(snap):
    """The state message: every sensor's value from the snapshot, each the JSON text of
    its value (numbers rounded to the meter's resolution: W to 0.1, kWh and m³ to 0.001,
    money to 0.01), in a dict by key."""
    s = {"total_w": _num(snap["total_w"], 1)}
    tw = snap.get("total_wh")
    s["total_kwh"] = _milli(tw) if isinstance(tw, int) else _num(float(snap["total_kwh"]), 3)
    usages = snap.get("usages") or {}
    w = {}
    for i in snap["inputs"]:
        w[i["usage"]] = w.get(i["usage"], 0) + i["w"]
    for u, v in w.items():
        s[u + "_w"] = _num(v, 1)
    for u, v in usages.items():
        s[u + "_kwh"] = _milli(v["wh"])
    g, wa = snap.get("gas") or {}, snap.get("water") or {}
    s["gas_m3"] = _milli(g.get("l", 0))
    s["gas_kwh"] = _num(g.get("kwh", 0), 3)
    s["water_m3"] = _milli(wa.get("l", 0))
    grid = snap.get("grid") or {}
    r = grid.get("reading") or {}
    gp = grid_power(r.get("source"))
    if gp:
        s[gp[0]] = _num(r.get("power_w") if gp[1] == "W" else r.get("power_va"), 0)
    total = import_total(r)
    s["grid_kwh"] = _milli(total) if total is not None else "null"
    s["tariff"] = json.dumps(" ".join((r.get("period") or "").split()) or None)
    s["grid_alerts"] = json.dumps(",".join(r.get("alerts") or ()) or "none")  # codes: phase_lost_3, overvoltage...
    # what the meter must tell since it started: the kinds ("watchdog": reset by it;
    # "counters_lost"), and the words of one that has them (a sensor's state: 255 at most)
    notes = snap.get("notices") or ()
    s["notices"] = json.dumps(",".join(n[0] for n in notes) or "none")
    alert = "none"
    for _, data in notes:
        if isinstance(data, dict):
            alert = data["text"][:255]
            break
    s["meter_alert"] = json.dumps(alert)
    return s


def state_pieces(snap):
    """The state message as pieces (see pieces()), its values' text as state_values made it."""
    out = []
    for k, v in state_values(snap).items():
        out.append('%s"%s": %s' % ("," if out else "{", k, v))
    out.append("}")
    return out


def state(snap):
    """The state message whole (the tests' reference: the meter streams state_pieces)."""
    return "".join(state_pieces(snap))


class _Sized:
    """A payload that umqtt.simple's publish() only measures (len): its pieces are written
    by the session after the head, never made whole."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n


class _Head:
    """umqtt.simple's MQTTClient writes a PUBLISH here (its `sock`): the fixed header and
    the topic kept, the payload (a _Sized) left for the session to stream."""

    def __init__(self):
        self.out = bytearray()

    def write(self, buf, n=None):
        if isinstance(buf, _Sized):
            return len(buf)
        self.out.extend(buf if n is None else memoryview(buf)[:n])
        return len(buf) if n is None else n


_client = []  # umqtt.simple's MQTTClient, the packet builder (made at the first message)


def publish_head(topic, n, retain=False):
    """A PUBLISH's fixed header and topic (MQTT 3.1.1, 3.3), QoS 0, for a payload of `n`
    bytes that follows: `topic` bytes. Built by umqtt.simple's MQTTClient.publish."""
    if not _client:
        from umqtt.simple import MQTTClient
        _client.append(MQTTClient(b"", ""))
    c = _client[0]
    c.sock = _Head()
    try:
        c.publish(topic, _Sized(n), retain)
        return bytes(c.sock.out)
    finally:
        c.sock = None


def _mem_file(data_dir):
    return (data_dir + "/" if data_dir else "") + "mqtt.json"


class Publisher:
    def __init__(self, cfg, node, model, snapshot, data_dir=None, ip=None):
        self.cfg = cfg
        self.node = node
        self.model = model
        self.snapshot = snapshot    # callable -> the current snapshot
        self.base = "%s/%s" % (cfg["mqtt_prefix"], node)
        self.status = {"state": "connecting", "connects": 0, "failures": 0, "published": 0, "skipped": 0,
                       "last_error": None, "broker": "%s:%d" % (cfg["mqtt_host"], cfg["mqtt_port"])}
        self.errors = 0             # sessions ended by an unexpected exception (the task went on)
        self.last_error = None
        self.path = _mem_file(data_dir)
        self.ip = ip                # callable -> the meter's IP (None before the network is up)
        self._grid = None           # the grid power's object id published this session (grid_power)

    def _connect_packet(self):
        # bytes: lengths are counted in bytes, and "é" is 1 character, 2 bytes (a user
        # without a password: an empty one, both sent)
        user = self.cfg["mqtt_user"].encode() or None
        return connect_packet(self.node.encode(), KEEPALIVE_S, ((self.base + "/availability").encode(), b"offline", True),
                              user, self.cfg["mqtt_password"].encode() if user else None)

    def _conf_base(self):
        return "%s/sensor/%s" % (self.cfg["mqtt_discovery"], self.node)

    def _sent(self):
        """What the broker holds: (topic base, [object id]) from the file; none yet (a meter
        new to it, or the file lost): every id this firmware knows, under today's base."""
        try:
            with open(self.path) as f:
                d = json.load(f)  # (from the stream: no block of the file's size needed)
            return d["base"], d["ids"]
        except (OSError, ValueError, KeyError, TypeError):
            return self._conf_base(), known_ids()

    async def run(self):
        delay = 1
        while True:
            try:
                await self._session()
            except (OSError, asyncio.TimeoutError, ValueError) as e:
                self.status["last_error"] = "%s: %s" % (type(e).__name__, e)
            except MemoryError as e:  # the meter's heap, not the broker: no back-off for it
                self.status["last_error"] = "MemoryError: %s" % e
                self.status["state"] = "down"
                self.status["failures"] += 1
                await asyncio.sleep(1)
                continue
            except Exception as e:  # bad answers, bugs
                self.status["last_error"] = "%s: %s" % (type(e).__name__, e)
                self.errors += 1
                self.last_error = self.status["last_error"]
            self.status["state"] = "down"
            self.status["failures"] += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX_S)
            if self.status.get("connected_s", 0) > 60:
                delay = 1  # it had been up a while: a fresh failure, start from 1 s again

    async def _session(self):
        self.status["state"] = "connecting"
        self.status["connected_s"] = 0
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(self.cfg["mqtt_host"], self.cfg["mqtt_port"]), 10)
        try:
            writer.write(self._connect_packet())
            await writer.drain()
            ack = await asyncio.wait_for(reader.readexactly(4), 10)
            if ack[0] != 0x20 or ack[1] != 0x02:
                raise ValueError("not an MQTT broker (no CONNACK)")
            if ack[3] != 0:
                raise ValueError("the broker refused the connection (code %d)" % ack[3])
            self.status["state"] = "connected"
            self.status["connects"] += 1
            lost = asyncio.create_task(self._drain(reader))
            try:
                await self._publish(writer, self.base + "/availability", b"online", True)
                if self.cfg["mqtt_discovery"]:  # (its own frame: the snapshot goes with it)
                    await self._discover(writer, self.snapshot())
                last_ping = 0
                while not lost.done():
                    # a state the heap has no room for is skipped (the next one comes); the
                    # snapshot is not kept in this task's frame over the sleep (a local
                    # would hold the old one, ~5 KB, beside the next for as long as the
                    # session lasts: measured, the session's heap floor 9 KB above the
                    # meter's without MQTT, 3.7 KB with this)
                    await self._state(writer)
                    last_ping = await self._wait(writer, lost, last_ping)
                raise OSError("the broker closed the connection")
            finally:
                lost.cancel()
        finally:
            # MicroPython's stream close() does nothing, wait_closed() closes the socket:
            # without it a session the meter ended (a full heap, a refused CONNACK) left
            # its connection open until a collection, and the broker took the next
            # connect for a second client of the same id (the fleet test's broker log:
            # "already connected, closing old connection")
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass

    async def _wait(self, writer, lost, last_ping):
        """The wait for the next state, a second at a time: the keepalive's ping goes on
        time whatever mqtt_interval_s (one of 100 s left the broker without a word beyond
        1.5 x the keepalive: it dropped the meter, "offline", at every state), and a broker
        gone is seen within a second. Returns the seconds since the last ping. (A call of
        its own, where the session had its sleep: written inline there, the loop measured
        2 KB more at memcheck's peak (three runs, two of this), likely the state message's
        call left referenced in the session's frame beside the next snapshot, as said of
        a local above.)"""
        n = self.cfg["mqtt_interval_s"]
        while n and not lost.done():
            await asyncio.sleep(1)
            n -= 1
            self.status["connected_s"] += 1
            last_ping += 1
            if last_ping >= KEEPALIVE_S // 2:
                writer.write(b"\xc0\x00")  # PINGREQ
                await writer.drain()
                last_ping = 0
        return last_ping

    async def _discover(self, writer, snap=None, full=True):
        """Every sensor's config (`full`, at connect: the device block and its IP go out
        again), or only the ones not sent yet this session (the grid meter's kind became
        known or changed); then an empty retained config for each one the broker held and
        the meter publishes no more (its file says which). The grid power's config waits
        for a reading that says its kind: until then one the broker held is kept."""
        src = ((snap or {}).get("grid") or {}).get("reading") or {}
        src = src.get("source")
        ip = self.ip and self.ip()  # (the session runs once the network is up: known, but
        # an IP that changes later goes out at the next connect)
        want = sensors(self.cfg, src)
        ids = [s[0] for s in want]
        held = None
        for i in range(MEM_TRIES):  # a heap with no room at that moment (the fleet test: 1
            try:                    # reconnect in ~15, f.read()'s 512 B block then): again
                base, held = self._sent()
                break
            except MemoryError:
                gc.collect()
                await asyncio.sleep_ms(100)
        if held is None:
            raise MemoryError("reading " + self.path)
        g = grid_power(src)
        self._grid = g and g[0]
        for s in want:
            if full or s[0] not in held or s[0] == self._grid:
                await self._publish(writer, None, (s, ip), True, MEM_TRIES)
        now = self._conf_base()
        keep = ids[:]
        for obj in held:
            if base == now and obj in ids:
                continue
            if base == now and not src and obj in ("grid_va", "grid_w"):
                keep.append(obj)  # the grid meter not read yet: its config stays
                continue
            if not await self._publish(writer, "%s/%s/config" % (base, obj), b"", True, MEM_TRIES):
                keep.append(obj)  # not cleared (a full heap): tried again at the next connect
        if base != now or sorted(keep) != sorted(held):
            try:
                from ..config import write_json
                write_json(self.path, {"base": now, "ids": keep})
            except OSError as e:  # a full flash: cleared again at the next connect
                self.status["last_error"] = "mqtt.json: %s" % e

    async def _state(self, writer):
        snap = self.snapshot()
        if self.cfg["mqtt_discovery"]:
            g = grid_power(((snap.get("grid") or {}).get("reading") or {}).get("source"))
            if g and g[0] != self._grid:  # the grid meter read at last, or another kind
                await self._discover(writer, snap, False)
        if snap.get("sampling", {}).get("rounds", 1) >= 2:  # not the zeros of a boot
            await self._publish(writer, self.base + "/state", snap)

    async def _drain(self, reader):
        # what the broker sends (PINGRESP) is read and dropped; the end of the stream ends the session
        while True:
            try:
                b = await reader.read(64)
            except OSError:  # reset by the broker (ECONNRESET at its restart): the session ends
                return
            if not b:
                return

    async def _publish(self, writer, topic, msg, retain=False, tries=1):
        """One message: `msg` bytes, a snapshot (the state message made from it) or, with no
        topic, (a sensor, the meter's IP) (its discovery config). The message is made as a
        list of small pieces, never whole (pieces()): a heap with no room for them
        (MemoryError) leaves the session as it was; tried again after a collection and a
        pause, `tries` times, then skipped (counted in `skipped`); the session goes on.
        Then its length is counted, the header written, and the pieces one by one; a heap
        that fails between them (a packet cut) ends the session (the broker would read
        the next packet out of step). True once sent, False when skipped."""
        parts = None
        for i in range(tries):
            try:
                if topic is None:
                    t, d = discovery(self.cfg, self.node, self.base, msg[0], self.model, msg[1])
                    parts = pieces(d)
                    d = None
                elif isinstance(msg, dict):
                    t, parts = topic, state_pieces(msg)
                else:
                    t, parts = topic, (msg,)
                n = 0
                for p in parts:
                    n += len(p) if isinstance(p, bytes) else len(p.encode())  # bytes: "m³" is 3
                head = publish_head(t.encode(), n, retain)
                break
            except MemoryError:
                parts = None
                gc.collect()
                if i + 1 < tries:
                    await asyncio.sleep_ms(100)
        if parts is None:
            self.status["skipped"] += 1
            return False
        try:
            writer.write(head)
            head = None
            for p in parts:
                writer.write(p if isinstance(p, bytes) else p.encode())
        except MemoryError:
            raise OSError("a message cut short by a full heap")
        parts = None
        await writer.drain()
        self.status["published"] += 1
        return True
