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
from ..grid.reading import import_total, index_name
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


TEMPO = ("blue", "white", "red")  # the enum's options (GridReading.tempo_today)
# the grid meter's alerts as binary sensors: (object id, name, device class, the codes
# that set it: GridReading.alerts()), each published where its source can say it
ALERTS = (("alert_overload", "Overload", "problem", ("overload",)),
          ("alert_phase", "Phase missing", "problem", ("phase_lost_1", "phase_lost_2", "phase_lost_3")),
          ("alert_breaker", "Breaker open", "problem", ("breaker_open",)),
          ("alert_cover", "Cover opened", "tamper", ("cover_opened",)),
          ("alert_overvoltage", "Overvoltage", "problem", ("overvoltage",)))


def _alerts_of(r):
    """The ALERTS a reading's meter can give: a TIC its overload (ADPS, STGE), a Linky
    also its overvoltage, cover and breaker; a three-phase meter a missing phase; a P1
    meter its breaker (96.3.10) when it sends its state."""
    src = r.get("source") or ""
    three = isinstance(r.get("current_a"), list) and len(r["current_a"]) == 3
    out = []
    for a in ALERTS:
        o = a[0]
        if o == "alert_overload":
            ok = src.startswith("tic")
        elif o == "alert_phase":
            ok = three and src.startswith("tic")
        elif o == "alert_breaker":
            ok = src == "tic_standard" or (src == "p1" and r.get("breaker") is not None)
        else:
            ok = src == "tic_standard"
        if ok:
            out.append(a)
    return out


def indexes(r):
    """How many of a reading's import indexes the meter uses: up to the last one that is
    named (index_name) or has counted (a Linky sends EASF01-10, most of them unused)."""
    imp = r.get("import_wh") or ()
    n = len(imp)
    while n and not imp[n - 1] and not index_name(r, n):
        n -= 1
    return n


def _n(v):
    """How many values a reading's list (or single value) holds."""
    return 0 if v is None else len(v) if isinstance(v, list) else 1


def grid_sig(r):
    """What of the grid meter's sensors a reading provides, as a small tuple: the configs
    go out again when it changes (a meter read at last, another kind, Tempo's colours or a
    phase appearing)."""
    if not r or not r.get("source"):
        return None
    return (r.get("source"), indexes(r), r.get("export_wh") is not None,
            r.get("export_tariff_wh") is not None, r.get("export_w") is not None or r.get("export_va") is not None,
            r.get("tempo_today") is not None or r.get("tempo_tomorrow") is not None,
            r.get("demand_w") is not None, r.get("peak_w") is not None, _n(r.get("voltage_v")),
            _n(r.get("current_a")), _n(r.get("power_w_phases") or r.get("power_va_phases")),
            r.get("gas_l") is not None, r.get("water_l") is not None, r.get("breaker") is not None)


def meter_sig(snap):
    """What of its own figures the meter provides (issue 22), as a small tuple: (the
    voltage reference seen: real power, VA, pf, "CT reversed?" per input and the mains;
    the inputs' export energy; the standby figures). The configs go out again (or are
    cleared) when it changes. None while the meter boots (fewer than 2 rounds: the
    reference not looked for yet), when nothing is decided."""
    if not snap or (snap.get("sampling") or {}).get("rounds", 1) < 2:
        return None
    ins = snap.get("inputs") or ()
    return (bool((snap.get("mains") or {}).get("reference")), any(i.get("export_wh") is not None for i in ins),
            snap.get("standby") is not None)


_ALL_M = (True, True, True)  # every figure of the meter's own (known_ids)


def own(obj):
    """Whether an object id is one of the meter's own figures of issue 22 (_own)."""
    return obj[:2] == "in" and obj[2:3].isdigit() or obj[:6] in ("mains_", "standb")


def in_label(t, cfg, k):
    """Input k's (from 1) words in a sensor's name: its own name, else "Input k"."""
    ins = cfg["inputs"]
    return (ins[k - 1].get("name") if k <= len(ins) else "") or "%s %d" % (t["input"], k)


def _own(cfg, m, cur):
    """The sensors of the meter's own figures that `m` (meter_sig) says it provides: with
    the voltage reference, per input its real power (signed: < 0 gives back), apparent
    power, power factor (0..1: no unit), energy given back (with the ledger's count) and
    "CT reversed?" (a problem), and the mains' voltage and frequency; the standby (the
    night's base load) in all and per input, and the total's kWh and cost a year: an
    estimate, not a growing total, so no energy class (HA's statistics would take it for
    a meter) and no state class on the money (HA takes monetary with "total" or none)."""
    if not m:
        return
    n = len(cfg["inputs"])
    if m[0]:
        for k in range(1, n + 1):
            # (an input's name: None here, made by sensor_name when its config is; the id
            # is its value's key: what a discovery holds of them, 4.5 KB, became ~2.5 KB)
            for o, unit, dc, sc in (("w", "W", "power", "measurement"),
                                    ("va", "VA", "apparent_power", "measurement"),
                                    ("pf", None, "power_factor", "measurement"),
                                    ("exp_kwh", "kWh", "energy", "total_increasing"),
                                    ("reversed", None, "problem", None)):
                if o == "exp_kwh" and not m[1]:
                    continue
                o = "in%d_%s" % (k, o)
                yield (o, None, o, unit, dc, sc, "binary" if dc == "problem" else None)
        yield ("mains_v", "Mains voltage", "mains_v", "V", "voltage", "measurement", None)
        yield ("mains_hz", "Mains frequency", "mains_hz", "Hz", "frequency", "measurement", None)
    if m[2]:
        yield ("standby_w", "Standby power", "standby_w", "W", "power", "measurement", None)
        yield ("standby_kwh_year", "Standby energy a year", "standby_kwh_year", "kWh", None, "measurement", None)
        yield ("standby_cost_year", "Standby cost a year", "standby_cost_year", cur, "monetary", None, None)
        for k in range(1, n + 1):
            o = "in%d_standby_w" % k
            yield (o, None, o, "W", "power", "measurement", None)


def each_sensor(cfg, r=None, m=None):
    """(object id, name, value key, unit, device class, state class, kind) of every sensor
    and binary sensor; kind: None (a sensor), "binary" (a binary sensor, "ON"/"OFF"), or an
    enum's options. The grid meter's are those its reading `r` (to_dict(); a source's
    name alone in the tests) provides: power W for P1, VA for a TIC (grid_power), export,
    import per tariff period by the meter's names, Tempo's colours, the capacity tariff's
    demand and month peak with a warning, per-phase voltage, current and power, the gas and
    water a P1 meter relays (M-Bus), its alerts. The meter's own figures of issue 22 are
    those `m` (meter_sig) says it has (_own)."""
    if isinstance(r, str):
        r = {"source": r}
    r = r or {}
    cur = cfg["currency"]
    yield ("total_w", "Power", "total_w", "W", "power", "measurement", None)
    yield ("total_kwh", "Energy", "total_kwh", "kWh", "energy", "total_increasing", None)
    yield ("cost", "Energy cost", "cost", cur, "monetary", "total", None)
    for u in USAGES:
        if any(i["usage"] == u for i in cfg["inputs"]):
            name = u.replace("_", " ")
            name = name[0].upper() + name[1:]
            yield (u + "_w", name + " power", u + "_w", "W", "power", "measurement", None)
            yield (u + "_kwh", name + " energy", u + "_kwh", "kWh", "energy", "total_increasing", None)
            yield (u + "_cost", name + " cost", u + "_cost", cur, "monetary", "total", None)
    yield ("meter_alert", "Meter alert", "meter_alert", None, None, None, None)  # counters restored...
    yield ("gas_m3", "Gas", "gas_m3", "m\u00b3", "gas", "total_increasing", None)
    yield ("gas_kwh", "Gas energy", "gas_kwh", "kWh", "energy", "total_increasing", None)
    yield ("water_m3", "Water", "water_m3", "m\u00b3", "water", "total_increasing", None)
    src = r.get("source")
    g = grid_power(src)
    if g:
        yield (g[0], "Grid power", g[0], g[1], g[2], "measurement", None)
    yield ("grid_kwh", "Grid import", "grid_kwh", "kWh", "energy", "total_increasing", None)
    yield ("tariff", "Tariff period", "tariff", None, None, None, None)
    yield ("grid_alerts", "Grid meter alerts", "grid_alerts", None, None, None, None)
    yield ("notices", "Meter notices", "notices", None, None, None, None)
    yield from _own(cfg, m, cur)
    if not src:
        return
    n = indexes(r)
    if n > 1:  # one index is the total already (grid_kwh)
        for k in range(1, n + 1):
            yield ("grid_i%d_kwh" % k, "Grid import %s" % (index_name(r, k) or k), "grid_i%d_kwh" % k,
                   "kWh", "energy", "total_increasing", None)
    if r.get("export_wh") is not None or r.get("export_tariff_wh") is not None:
        yield ("grid_exp_kwh", "Grid export", "grid_exp_kwh", "kWh", "energy", "total_increasing", None)
    if r.get("export_w") is not None or r.get("export_va") is not None:
        u, dc = ("W", "power") if src == "p1" else ("VA", "apparent_power")
        yield ("grid_exp_" + u.lower(), "Grid export power", "grid_exp_" + u.lower(), u, dc, "measurement", None)
    if r.get("tempo_today") is not None or r.get("tempo_tomorrow") is not None:
        yield ("tempo_today", "Tempo today", "tempo_today", None, "enum", None, TEMPO)
        yield ("tempo_tomorrow", "Tempo tomorrow", "tempo_tomorrow", None, "enum", None, TEMPO)
    if r.get("demand_w") is not None:  # Belgium's capacity tariff (1-0:1.4.0, 1.6.0)
        yield ("demand_w", "Quarter-hour demand", "demand_w", "W", "power", "measurement", None)
        yield ("capacity_warn", "New monthly peak ahead", "capacity_warn", None, "problem", None, "binary")
    if r.get("peak_w") is not None:
        yield ("peak_w", "Month peak demand", "peak_w", "W", "power", "measurement", None)
    for k in range(1, _n(r.get("voltage_v")) + 1):
        yield ("grid_v%d" % k, "Voltage L%d" % k, "grid_v%d" % k, "V", "voltage", "measurement", None)
    if isinstance(r.get("current_a"), list):
        for k in range(1, len(r["current_a"]) + 1):
            yield ("grid_a%d" % k, "Current L%d" % k, "grid_a%d" % k, "A", "current", "measurement", None)
    ph = r.get("power_w_phases") or r.get("power_va_phases")
    if ph:
        u, dc = ("W", "power") if r.get("power_w_phases") else ("VA", "apparent_power")
        for k in range(1, len(ph) + 1):
            yield ("grid_p%d" % k, "Power L%d" % k, "grid_p%d" % k, u, dc, "measurement", None)
    if r.get("gas_l") is not None:
        yield ("mbus_gas_m3", "Gas (grid meter)", "mbus_gas_m3", "m\u00b3", "gas", "total_increasing", None)
    if r.get("water_l") is not None:
        yield ("mbus_water_m3", "Water (grid meter)", "mbus_water_m3", "m\u00b3", "water", "total_increasing", None)
    for a in _alerts_of(r):
        yield (a[0], a[1], a[0], None, a[2], None, "binary")


def sensors(cfg, r=None, m=None):
    """each_sensor's, as a list (what a discovery goes through twice: it iterates
    each_sensor instead, holding no list of them)."""
    return list(each_sensor(cfg, r, m))


_ALL = {"source": "p1", "import_wh": [0] * 10, "export_wh": 0, "export_w": 0, "tempo_today": "blue",
        "demand_w": 0, "peak_w": 0, "voltage_v": [0] * 3, "current_a": [0] * 3, "power_w_phases": [0] * 3,
        "gas_l": 0, "water_l": 0, "breaker": 0}  # a reading with every field (known_ids)


def known_ids():
    """Every object id this firmware can publish (what a meter with no record of its own
    clears, but the ones it publishes: the configs an earlier firmware left)."""
    ids = [s[0] for s in sensors({"inputs": [{"usage": u} for u in USAGES], "currency": "EUR"}, _ALL, _ALL_M)]
    return ids + ["grid_va", "grid_exp_va"] + [a[0] for a in ALERTS if a[0] not in ids]


def component(obj):
    """Home Assistant's component of an object id: the binary sensors' ids are these."""
    return "binary_sensor" if obj == "capacity_warn" or obj[:6] == "alert_" or obj[-9:] == "_reversed" else "sensor"


def sensor_name(t, obj, name, cfg=None):
    """A sensor's name in the meter's language (labels.py "mq_" rows; a usage's: its label
    in "%s power" / "Puissance %s"; an input's: its name, else "Input k" / "Entrée k", in
    the "mq_in_" rows); one without a row keeps its English name."""
    if cfg and obj[:2] == "in" and obj[2:3].isdigit():
        return t["mq_in" + obj[3:]] % in_label(t, cfg, int(obj[2]))
    for u in USAGES:
        if obj == u + "_w" or obj == u + "_kwh" or obj == u + "_cost":
            f = t["mq_" + obj[len(u) + 1:]] if obj[-5:] != "_cost" else t["mq_ucost"]
            return f % (t[u] if f[0] == "%" else t[u].lower())
    for pre, n in _PATTERNS:  # a name with the meter's own part (an index's name, L1-L3)
        if obj[:6] == pre and obj[6:7].isdigit():
            return t["mq_" + pre] % name[n:]
    return t.get("mq_" + obj, name)


_PATTERNS = (("grid_i", 12), ("grid_v", 8), ("grid_a", 8), ("grid_p", 6))  # (the English name's prefix length)


def entity_id(node, obj):
    """Home Assistant's entity id: "sensor." (or "binary_sensor.") and a slug ([a-z0-9_])."""
    return component(obj) + "." + "".join(c if "a" <= c <= "z" or "0" <= c <= "9" else "_"
                               for c in ("%s_%s" % (node, obj)).lower())


def discovery(cfg, node, base, sensor, model, ip=None):
    """Topic and payload (a dict) of one sensor's Home Assistant discovery config, by the
    rules of HA 2025.10: default_entity_id ("sensor.<slug>", object_id is deprecated), a
    device named by the meter's hostname, with its model, hardware (the board) and
    software versions, and its page (configuration_url) once its IP is known."""
    obj, name, key, unit, dclass, sclass, kind = sensor
    t = labels(cfg["lang"])
    dev = {"identifiers": [node], "name": cfg["hostname"], "model": t["title"], "hw_version": model,
           "manufacturer": "submeter (open firmware)", "sw_version": VERSION}
    if ip:
        dev["configuration_url"] = "http://%s/" % ip if cfg["http_port"] == 80 else "http://%s:%d/" % (
            ip, cfg["http_port"])
    d = {"name": sensor_name(t, obj, name, cfg), "unique_id": "%s_%s" % (node, obj), "default_entity_id": entity_id(node, obj),
         "state_topic": base + "/state", "value_template": "{{ value_json.%s }}" % key,
         "availability_topic": base + "/availability", "device": dev}
    if unit:
        d["unit_of_measurement"] = unit
    if dclass:
        d["device_class"] = dclass
    if sclass:
        d["state_class"] = sclass
    if kind == "binary":
        d["payload_on"], d["payload_off"] = "ON", "OFF"
    elif kind:
        d["options"] = list(kind)
    return "%s/%s/%s/%s/config" % (cfg["mqtt_discovery"], component(obj), node, obj), d


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


class _Pieces:
    """Where state_values puts each value: straight into the message's pieces (no dict of
    ~50 values, whose table alone is a 536 B block: a TLS session's heap had none)."""

    def __init__(self):
        self.out = []

    def __setitem__(self, k, v):
        self.out.append('%s"%s": %s' % ("," if self.out else "{", k, v))


class _Sent:
    """Where state_values puts each value when the session sends the state: each piece
    (as _Pieces makes it) written as it comes (`write`), or only measured (`write` None):
    the message goes out in two passes, its length then its pieces, none of them held (its
    ~90 pieces, 3 KB with the voltage reference's sensors, were the heap's peak)."""

    def __init__(self, write=None):
        self.write = write
        self.n = 0

    def __setitem__(self, k, v):
        p = ('%s"%s": %s' % ("," if self.n else "{", k, v)).encode()  # (bytes: "m³" is 3)
        self.n += len(p)
        if self.write is not None:
            self.write(p)


def state_values(snap, cfg_warn=0, s=None):
    """The state message: every sensor's value from the snapshot, each the JSON text of
    its value (numbers rounded to the meter's resolution: W to 0.1, kWh and m³ to 0.001,
    money to 0.01), set by key in `s` (a dict by default; state_pieces': _Pieces; the session's: _Sent)."""
    if s is None:
        s = {}
    s["total_w"] = _num(snap["total_w"], 1)
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
    s["cost"] = _num(snap.get("total_cost"), 2)
    for u, v in usages.items():
        s[u + "_cost"] = _num(v.get("cost"), 2)
    if r:
        _grid_values(s, r, cfg_warn)
    _own_values(s, snap)
    return s


def _own_values(s, snap):
    """The meter's own figures of issue 22 (_own: the same conditions; a key not in the
    snapshot yet is left out)."""
    mn = snap.get("mains") or {}
    if mn.get("reference"):
        for k, i in enumerate(snap["inputs"]):
            p = "in%d_" % (k + 1)
            s[p + "w"] = _num(i["w"], 1)
            s[p + "va"] = _num(i.get("va"), 1)
            s[p + "pf"] = _num(i.get("pf"), 2)
            e = i.get("export_wh")
            if e is not None:
                s[p + "exp_kwh"] = _milli(e) if isinstance(e, int) else _num(e / 1000, 3)
            s[p + "reversed"] = _onoff(i.get("reversed"))
        s["mains_v"] = _num(mn.get("v"), 1)
        s["mains_hz"] = _num(mn.get("hz"), 2)
    sb = snap.get("standby")
    if sb:
        s["standby_w"] = _num(sb.get("w"), 1)
        s["standby_kwh_year"] = _num(sb.get("kwh_year"), 1)
        s["standby_cost_year"] = _num(sb.get("cost_year"), 2)
        for k, v in enumerate(sb.get("w_inputs") or ()):
            s["in%d_standby_w" % (k + 1)] = _num(v, 1)


def _onoff(b):
    return '"ON"' if b else '"OFF"'


def _grid_values(s, r, warn_w):
    """The grid meter's values its sensors read (sensors(): the same conditions)."""
    n = indexes(r)
    if n > 1:
        imp = r["import_wh"]
        for k in range(n):
            s["grid_i%d_kwh" % (k + 1)] = _milli(imp[k]) if imp[k] is not None else "null"
    e = r.get("export_wh")
    if e is None and r.get("export_tariff_wh") is not None:
        e = sum(x or 0 for x in r["export_tariff_wh"])
    if e is not None or r.get("export_tariff_wh") is not None:
        s["grid_exp_kwh"] = _milli(e)
    if r.get("export_w") is not None or r.get("export_va") is not None:
        p1 = r.get("source") == "p1"
        s["grid_exp_w" if p1 else "grid_exp_va"] = _num(r.get("export_w") if p1 else r.get("export_va"), 0)
    if r.get("tempo_today") is not None or r.get("tempo_tomorrow") is not None:
        s["tempo_today"] = json.dumps(r.get("tempo_today"))
        s["tempo_tomorrow"] = json.dumps(r.get("tempo_tomorrow"))
    d, pk = r.get("demand_w"), r.get("peak_w")
    if d is not None:
        s["demand_w"] = _num(d, 0)
        limit = warn_w or pk  # (0: the month's peak so far)
        s["capacity_warn"] = _onoff(limit and d >= limit)
    if pk is not None:
        s["peak_w"] = _num(pk, 0)
    for name, v, places in (("grid_v", r.get("voltage_v"), 0), ("grid_a", r.get("current_a"), 1),
                            ("grid_p", r.get("power_w_phases") or r.get("power_va_phases"), 0)):
        if name == "grid_a" and not isinstance(v, list):
            continue
        if v is not None and not isinstance(v, list):
            v = [v]
        for k, x in enumerate(v or ()):
            s["%s%d" % (name, k + 1)] = _num(x, places)
    if r.get("gas_l") is not None:
        s["mbus_gas_m3"] = _milli(r["gas_l"])
    if r.get("water_l") is not None:
        s["mbus_water_m3"] = _milli(r["water_l"])
    codes = r.get("alerts") or ()
    for a in _alerts_of(r):
        s[a[0]] = _onoff([c for c in codes if c in a[3]])


def state_pieces(snap, warn_w=0):
    """The state message as pieces (see pieces()), its values' text as state_values made it;
    `warn_w`: the capacity warning's threshold (config capacity_warn_w; 0: the month's peak)."""
    s = _Pieces()
    state_values(snap, warn_w, s)
    s.out.append("}")
    return s.out


def state(snap, warn_w=0):
    """The state message whole (the tests' reference: the meter sends its pieces as
    state_values makes them, _Sent)."""
    return "".join(state_pieces(snap, warn_w))


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


def _mem_file(data_dir, name="mqtt.json"):
    return (data_dir + "/" if data_dir else "") + name


# --- MQTT over TLS (cfg mqtt_tls; docs/mqtt.md) ----------------------------------------
CA_FILE = "mqtt_ca.pem"  # the CA certificate(s) the broker's is checked against, beside config.json
TLS_PORT = const(8883)
TLS_HEAP_MIN = const(262144)  # MicroPython heap a board needs for MQTT over TLS: a PSRAM board's
# (measured on the device model: in our image's 112 KB, with TLS on, the session's messages
# and the snapshots found no 512-536 B block, 11-18 connects a minute failed, 190 snapshots
# were skipped in 30 s; with a SPIRAM image's heap, none)


def heap_total():
    """MicroPython's heap, in bytes (a large figure on CPython, which has no such heap)."""
    import gc
    try:
        return gc.mem_free() + gc.mem_alloc()
    except AttributeError:
        return 1 << 30


def tls_room():
    """None when this board's heap can hold MQTT over TLS, else why not, in words."""
    n = heap_total()
    if n >= TLS_HEAP_MIN:
        return None
    return ("MQTT over TLS needs a board with PSRAM (a heap of %d KB at least); this one has %d KB: "
            "TLS is off here (docs/mqtt.md)" % (TLS_HEAP_MIN // 1024, n // 1024))


class TLSError(ValueError):
    """A TLS session that could not be set up, in words (the status's last_error)."""


def ca_certs(f):
    """The DER certificates of a CA file (open, binary): each PEM CERTIFICATE block decoded
    a line at a time (MicroPython's own mbedtls configuration parses DER only; no block of
    the file's size is made), or the file as it is when it is DER already. TLSError when
    it holds none."""
    first = f.read(1)
    if first == b"\x30":  # a DER SEQUENCE
        return [first + f.read()]
    from binascii import a2b_base64
    out, lines = [], None
    for line in f:
        if b"-BEGIN CERTIFICATE-" in line:  # (the first line's first dash read above)
            lines = []
        elif b"-END CERTIFICATE-" in line and lines is not None:
            out.append(b"".join(lines))
            lines = None
        elif lines is not None:
            try:
                lines.append(a2b_base64(line))
            except ValueError:
                raise TLSError("%s: a certificate that is not base64" % CA_FILE)
    if not out:
        raise TLSError("%s holds no PEM certificate" % CA_FILE)
    return out


def tls_context(path):
    """A TLS client context that requires the broker's certificate to be signed by the
    CA(s) in the file at `path` (parsed into mbedtls's memory, the C heap: the context
    holds 1.7 KB of MicroPython's heap, in one block). TLSError, in words, when it cannot
    be made."""
    try:
        import tls  # MicroPython's ssl module in C (the `ssl` of stock images wraps it)
    except ImportError:
        raise TLSError("this image has no TLS (no tls module)")
    try:
        f = open(path, "rb")
    except OSError:
        raise TLSError("no CA certificate on the meter (%s)" % CA_FILE)
    with f:
        certs = ca_certs(f)
    ctx = tls.SSLContext(tls.PROTOCOL_TLS_CLIENT)
    ctx.verify_mode = tls.CERT_REQUIRED
    for der in certs:
        try:
            ctx.load_verify_locations(der)
        except ValueError:
            raise TLSError("%s: a certificate mbedtls cannot read" % CA_FILE)
    return ctx


def tls_words(e):
    """A TLS handshake's failure in words: mbedtls's verification result ("The
    certificate is not correctly signed by the trusted CA") or its error."""
    text = " ".join(str(e).split()) or type(e).__name__
    if isinstance(e, ValueError):
        return "TLS: the broker's certificate was refused: " + text
    return "TLS handshake failed: " + text


class Publisher:
    def __init__(self, cfg, node, model, snapshot, data_dir=None, ip=None):
        self.cfg = cfg
        self.node = node
        self.model = model
        self.snapshot = snapshot    # callable -> the current snapshot
        self.base = "%s/%s" % (cfg["mqtt_prefix"], node)
        self.port = cfg["mqtt_port"]
        if cfg["mqtt_tls"] and self.port == 1883:
            self.port = TLS_PORT  # TLS on, the port left at plain MQTT's: MQTT over TLS's
        self.status = {"state": "connecting", "connects": 0, "failures": 0, "published": 0, "skipped": 0,
                       "last_error": None, "broker": "%s:%d" % (cfg["mqtt_host"], self.port)}
        if cfg["mqtt_tls"]:
            self.status["tls"] = True
        self.errors = 0             # sessions ended by an unexpected exception (the task went on)
        self.last_error = None
        self.path = _mem_file(data_dir)
        self.ca_path = _mem_file(data_dir, CA_FILE)
        self.tls = None             # the TLS context, made once (at boot: its 1.7 KB block is
        self.no_tls = cfg["mqtt_tls"] and tls_room()  # (easily found then, seldom later) and kept
        if self.no_tls:
            self.status["last_error"] = self.no_tls
        elif cfg["mqtt_tls"]:
            try:
                self.tls = tls_context(self.ca_path)
            except (TLSError, MemoryError):
                pass  # made again at each connect until it can be, the error in the status
        self.ip = ip                # callable -> the meter's IP (None before the network is up)
        self._sig = None            # what the grid meter's reading provided at the last discovery (grid_sig)
        self._msig = None           # what the meter's own figures were then (meter_sig)
        self._ids = None            # the object ids published this session

    def _connect_packet(self):
        # bytes: lengths are counted in bytes, and "é" is 1 character, 2 bytes (a user
        # without a password: an empty one, both sent)
        user = self.cfg["mqtt_user"].encode() or None
        return connect_packet(self.node.encode(), KEEPALIVE_S, ((self.base + "/availability").encode(), b"offline", True),
                              user, self.cfg["mqtt_password"].encode() if user else None)

    def _conf_base(self):
        """Where this meter's configs are, the component left as "+" (a wildcard, never in a
        published topic): "<discovery>/+/<node>" (the component follows from the id)."""
        return "%s/+/%s" % (self.cfg["mqtt_discovery"], self.node)

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
        if self.no_tls:  # (a board without the heap for it: said, never tried)
            raise TLSError(self.no_tls)
        if self.cfg["mqtt_tls"] and not self.tls:
            self.tls = tls_context(self.ca_path)
        reader, writer = await asyncio.wait_for(asyncio.open_connection(
            self.cfg["mqtt_host"], self.port, ssl=self.tls, server_hostname=self.cfg["mqtt_tls_name"] or None), 10)
        try:
            try:  # with TLS, the handshake: at the first write, ended by the CONNACK's read
                writer.write(self._connect_packet())
                await writer.drain()
                ack = await asyncio.wait_for(reader.readexactly(4), 10)
            except (OSError, ValueError) as e:
                if self.cfg["mqtt_tls"] and not isinstance(e, asyncio.TimeoutError):
                    raise TLSError(tls_words(e))
                raise
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
            try:  # the socket closed now (with TLS, mbedtls's buffers freed)
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
        again), or only the ones not sent yet this session (what the grid meter's reading
        provides changed: grid_sig); then an empty retained config for each one the broker
        held and the meter publishes no more (its file says which). The grid meter's
        configs wait for a reading that says what it sends: until then the ones the broker
        held are kept; so do those of the meter's own figures while it boots (meter_sig:
        the voltage reference not looked for yet)."""
        r = ((snap or {}).get("grid") or {}).get("reading") or {}
        ip = self.ip and self.ip()  # (the session runs once the network is up: known, but
        # an IP that changes later goes out at the next connect)
        msig = meter_sig(snap)
        ids = [s[0] for s in each_sensor(self.cfg, r, msig)]  # (the sensors' tuples, 2-4 KB, never held at once)
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
        sent = self._ids or ()
        self._sig = grid_sig(r)
        self._msig = msig
        self._ids = ids
        for s in each_sensor(self.cfg, r, msig):
            if full or s[0] not in held or s[0] not in sent:
                await self._publish(writer, None, (s, ip), True, MEM_TRIES)
        now = self._conf_base()
        keep = ids[:]
        ours = [s[0] for s in sensors(self.cfg)]  # (the ones that never depend on the grid meter, with own())
        known = None
        for obj in held:
            if base == now and obj in ids:
                continue
            if base == now and (not r.get("source") and obj not in ours and not own(obj) or msig is None and own(obj)):
                if known is None:
                    known = known_ids()
                if obj in known:
                    keep.append(obj)  # the grid meter not read yet, or the meter booting: its configs stay
                    continue
            if not await self._publish(writer, "%s/%s/config" % (base.replace("+", component(obj), 1), obj), b"",
                                       True, MEM_TRIES):
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
            r = (snap.get("grid") or {}).get("reading")
            m = meter_sig(snap)
            if r and r.get("source") and grid_sig(r) != self._sig or m is not None and m != self._msig:
                # the grid meter read at last, or it sends more (or less); the voltage
                # reference seen or lost, the export or standby figures come
                await self._discover(writer, snap, False)
        if snap.get("sampling", {}).get("rounds", 1) < 2:  # the zeros of a boot: not sent
            return
        snap = None  # (the newest, held by _publish until its pieces are made, not while they drain)
        await self._publish(writer, self.base + "/state", self.snapshot())

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
        Then its length is counted, the header written, and the pieces one by one (the
        state's made again as they are written: none held); a heap that fails between them
        (a packet cut) ends the session (the broker would read the next packet out of
        step). True once sent, False when skipped."""
        parts = None
        for i in range(tries):
            try:
                if topic is None:
                    t, d = discovery(self.cfg, self.node, self.base, msg[0], self.model, msg[1])
                    parts = pieces(d)
                    d = None
                elif isinstance(msg, dict):  # the state: measured now, its pieces made again as they are sent
                    t, parts = topic, ()
                    c = _Sent()
                    state_values(msg, self.cfg.get("capacity_warn_w", 0), c)
                    head = publish_head(t.encode(), c.n + 1, retain)  # (and its closing "}")
                    break
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
            if isinstance(msg, dict):  # the state's pieces, made again and written one by one
                state_values(msg, self.cfg.get("capacity_warn_w", 0), _Sent(writer.write))
                writer.write(b"}")
            for p in parts:
                writer.write(p if isinstance(p, bytes) else p.encode())
        except MemoryError:
            raise OSError("a message cut short by a full heap")
        msg = None  # (a snapshot, 5 KB: not held while the pieces drain, when newer ones are made)
        parts = None
        await writer.drain()
        self.status["published"] += 1
        return True
