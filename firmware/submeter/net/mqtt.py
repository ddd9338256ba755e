# MQTT: the meter's figures for Home Assistant (discovery) and for fleets of meters.
#
# Every byte goes through an asyncio stream, so a broker that is down, slow or gone
# half-way never holds up the metering or the page. umqtt.simple is only a packet builder
# here: its MQTTClient writes each PUBLISH into a collector set as its `sock` (never
# connected), and the task sends the bytes. CONNECT is built here from the MQTT 3.1.1
# spec (umqtt's connect() opens its own socket and blocks for the answer); the task reads
# the broker's CONNACK from the stream. Reconnects back off from 1 s to 2 min.
#
# Topics: <prefix>/<id>/availability ("online", retained; "offline" as the last will),
# <prefix>/<id>/state (JSON, every mqtt_interval_s), and Home Assistant's discovery
# configs under <discovery>/sensor/<id>/<object>/config (retained).
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


class _Collect:
    """Where umqtt.simple's MQTTClient writes a packet (its `sock`): kept for the task to send."""

    def __init__(self):
        self.out = bytearray()

    def write(self, buf, n=None):
        if isinstance(buf, str):
            buf = buf.encode()
        self.out.extend(buf if n is None else memoryview(buf)[:n])
        return len(buf) if n is None else n

    def take(self):
        b = bytes(self.out)
        self.out = bytearray()
        return b

    def drop(self):
        """What a packet cut short by a full heap left: gone."""
        self.out = bytearray()


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


def sensors(cfg):
    """(object id, name, value key, unit, device class, state class) of every sensor."""
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
            ("water_m3", "Water", "water_m3", "m\u00b3", "water", "total_increasing"),
            ("grid_va", "Grid power", "grid_va", "VA", "apparent_power", "measurement"),
            ("grid_kwh", "Grid import", "grid_kwh", "kWh", "energy", "total_increasing"),
            ("tariff", "Tariff period", "tariff", None, None, None),
            ("grid_alerts", "Grid meter alerts", "grid_alerts", None, None, None),
            ("notices", "Meter notices", "notices", None, None, None)]
    return out


def sensor_name(t, obj, name):
    """A sensor's name in the meter's language (labels.py "mq_" rows; a usage's: its label
    in "%s power" / "Puissance %s"); one without a row keeps its English name."""
    for u in USAGES:
        if obj == u + "_w" or obj == u + "_kwh":
            f = t["mq_" + obj[len(u) + 1:]]
            return f % (t[u] if f[0] == "%" else t[u].lower())
    return t.get("mq_" + obj, name)


def discovery(cfg, node, base, sensor, model):
    """Topic and payload of one sensor's Home Assistant discovery config."""
    obj, name, key, unit, dclass, sclass = sensor
    t = labels(cfg["lang"])
    d = {"name": sensor_name(t, obj, name), "unique_id": "%s_%s" % (node, obj), "object_id": "%s_%s" % (node, obj),
         "state_topic": base + "/state", "value_template": "{{ value_json.%s }}" % key,
         "availability_topic": base + "/availability",
         "device": {"identifiers": [node], "name": "%s %s" % (t["title"], node), "model": model,
                    "manufacturer": "submeter (open firmware)", "sw_version": VERSION}}
    if unit:
        d["unit_of_measurement"] = unit
    if dclass:
        d["device_class"] = dclass
    if sclass:
        d["state_class"] = sclass
    return "%s/sensor/%s/%s/config" % (cfg["mqtt_discovery"], node, obj), json.dumps(d)


def state(snap):
    """The state message: every sensor's value, from the snapshot."""
    s = {"total_w": snap["total_w"], "total_kwh": float(snap["total_kwh"])}
    usages = snap.get("usages") or {}
    for i in snap["inputs"]:
        u = i["usage"]
        s[u + "_w"] = round(s.get(u + "_w", 0) + i["w"], 1)
    for u, v in usages.items():
        s[u + "_kwh"] = v["wh"] / 1000
    g, w = snap.get("gas") or {}, snap.get("water") or {}
    s["gas_m3"] = g.get("l", 0) / 1000
    s["gas_kwh"] = g.get("kwh", 0)
    s["water_m3"] = w.get("l", 0) / 1000
    grid = snap.get("grid") or {}
    r = grid.get("reading") or {}
    s["grid_va"] = r.get("power_va") if r.get("power_va") is not None else r.get("power_w")
    total = import_total(r)
    s["grid_kwh"] = total / 1000 if total is not None else None
    s["tariff"] = " ".join((r.get("period") or "").split()) or None
    s["grid_alerts"] = ",".join(r.get("alerts") or ()) or "none"  # codes: phase_lost_3, overvoltage...
    # what the meter must tell since it started: the kinds ("watchdog": reset by it;
    # "counters_lost"), and the words of one that has them (a sensor's state: 255 at most)
    notes = snap.get("notices") or ()
    s["notices"] = ",".join(n[0] for n in notes) or "none"
    s["meter_alert"] = "none"
    for _, data in notes:
        if isinstance(data, dict):
            s["meter_alert"] = data["text"][:255]
            break
    return json.dumps(s)


class Publisher:
    def __init__(self, cfg, node, model, snapshot):
        self.cfg = cfg
        self.node = node
        self.model = model
        self.snapshot = snapshot    # callable -> the current snapshot
        self.base = "%s/%s" % (cfg["mqtt_prefix"], node)
        self.status = {"state": "connecting", "connects": 0, "failures": 0, "published": 0, "skipped": 0,
                       "last_error": None, "broker": "%s:%d" % (cfg["mqtt_host"], cfg["mqtt_port"])}
        self._client = None         # umqtt.simple's MQTTClient, the PUBLISH builder (made at the first)
        self.errors = 0             # sessions ended by an unexpected exception (the task went on)
        self.last_error = None
        self._sock = _Collect()

    def _connect_packet(self):
        # bytes: lengths are counted in bytes, and "é" is 1 character, 2 bytes (a user
        # without a password: an empty one, both sent)
        user = self.cfg["mqtt_user"].encode() or None
        return connect_packet(self.node.encode(), KEEPALIVE_S, ((self.base + "/availability").encode(), b"offline", True),
                              user, self.cfg["mqtt_password"].encode() if user else None)

    def _publish_packet(self, topic, msg, retain=False):
        c = self._client
        if c is None:
            from umqtt.simple import MQTTClient
            c = self._client = MQTTClient(self.node.encode(), self.cfg["mqtt_host"])  # (never connected)
            c.sock = self._sock
        # bytes: umqtt counts the length of what it is given, and "m³" is 2 characters, 3 bytes
        c.publish(topic.encode(), msg.encode() if isinstance(msg, str) else msg, retain)
        return self._sock.take()

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
            except Exception as e:  # umqtt's MQTTException (a refused CONNECT), bad answers, bugs
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
                if self.cfg["mqtt_discovery"]:
                    await self._discover(writer)
                last_ping = 0
                while not lost.done():
                    # a state the heap has no room for is skipped (the next one comes); the
                    # snapshot is not kept in this task's frame over the sleep (a local
                    # would hold the old one, ~5 KB, beside the next for as long as the
                    # session lasts: measured, the session's heap floor 9 KB above the
                    # meter's without MQTT, 3.7 KB with this)
                    await self._state(writer)
                    await asyncio.sleep(self.cfg["mqtt_interval_s"])
                    self.status["connected_s"] += self.cfg["mqtt_interval_s"]
                    last_ping += self.cfg["mqtt_interval_s"]
                    if last_ping >= KEEPALIVE_S // 2:
                        writer.write(b"\xc0\x00")  # PINGREQ
                        await writer.drain()
                        last_ping = 0
                raise OSError("the broker closed the connection")
            finally:
                lost.cancel()
        finally:
            writer.close()

    async def _discover(self, writer):
        # (in its own frame: the sensors' list goes with it)
        for s in sensors(self.cfg):
            await self._publish(writer, None, s, True, MEM_TRIES)

    async def _state(self, writer):
        snap = self.snapshot()
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
        topic, a sensor (its discovery config). The packet is made whole before a byte is
        written: a heap with no room for it (MemoryError) leaves the session as it was;
        tried again after a collection and a pause, `tries` times, then skipped (counted
        in `skipped`); the session goes on."""
        for i in range(tries):
            try:
                if topic is None:
                    t, m = discovery(self.cfg, self.node, self.base, msg, self.model)
                    pkt = self._publish_packet(t, m, retain)
                elif isinstance(msg, dict):
                    pkt = self._publish_packet(topic, state(msg), retain)
                else:
                    pkt = self._publish_packet(topic, msg, retain)
                break
            except MemoryError:
                pkt = None
                gc.collect()
                self._sock.drop()  # what umqtt had written of it
                if i + 1 < tries:
                    await asyncio.sleep_ms(100)
        if pkt is None:
            self.status["skipped"] += 1
            return
        writer.write(pkt)
        pkt = None
        await writer.drain()
        self.status["published"] += 1
