# Configuration: defaults, overridden by the board, then by the JSON file on flash.
# A broken file never stops the meter: a refused value takes its default, the good ones
# are kept, and the error names each (see load).
from micropython import const
import json
import os

USAGES = ("heating", "cooling", "hot_water", "sockets", "other")
GRID_MODES = ("auto", "tic", "tic_standard", "tic_historic", "p1", "none")

DEFAULTS = {
    "lang": "en",             # "en" or "fr": screen and page labels
    "voltage": 230.0,         # nominal V used while no grid meter reports one
    "mains_hz": 50,
    "currency": "EUR",
    "price_kwh": 0.2516,      # price of a kWh, in every tariff period not priced below
    "prices_kwh": [],         # per tariff period (the grid meter's index 1, 2, ...), optional
    "period_ms": 1000,        # how often every input is measured
    "window_cycles": 0,       # mains cycles each round measures, every input interleaved (0: the
                              # whole period, so that every input is watched all the time)
    "vref_v_per_v": 460.0,    # the voltage reference: mains volts per volt at its ADC pin (docs/hardware.md:
                              # a 9 V adapter, 11.5 V unloaded, divided by 23; calibrated from the page)
    "max_gap_ms": 30000,      # longest interval one reading may cover
    "save_s": 300,            # counters saved to flash this often (and at a clean stop)
    "gas_l_per_pulse": 10,    # the gas meter's pulse (0.01 m3 on most)
    "gas_kwh_per_m3": 11.2,   # conversion factor: the one on the gas bill
    "gas_price_kwh": 0.1,
    "water_l_per_pulse": 1,
    "water_price_m3": 4.5,
    "pulse_min_ms": 50,       # pulses closer than this are contact bounce
    "grid": "auto",           # grid-meter input: auto, tic, tic_standard, tic_historic, p1, none
    "utc_offset_min": 60,     # local time from NTP or the RTC: this offset (Paris, Brussels) ...
    "dst": "eu",              # ... plus EU summer time ("eu") or not ("none"); a meter's clock is local already
    "ntp_host": "pool.ntp.org",  # "" for none: the grid meter's clock (Linky standard, P1) is used first
    "screen_home_s": 60,      # the panel goes back home after this long without a press
    "screen_sleep_s": 600,    # ... and the display sleeps after this long (0: never)
    "contrast": 255,          # display contrast, 0-255
    "mqtt_host": "",          # the MQTT broker ("" for none): Home Assistant finds the meter
    "mqtt_port": 1883,
    "mqtt_user": "",
    "mqtt_password": "",
    "mqtt_client_id": "",     # "" for submeter-<the board's id>
    "mqtt_prefix": "submeter",  # state on <prefix>/<client id>/state
    "mqtt_discovery": "homeassistant",  # Home Assistant's discovery prefix ("" for none)
    "mqtt_interval_s": 10,    # state published this often
    "standby_window": "01:00-05:00",  # standby (ledger/standby.py): the base load is measured over this
                              # local-time window each night ("HH:MM-HH:MM", may cross midnight) ...
    "standby_pct": 10,        # ... as this low percentile (1-50) of its 10-minute means
    "capacity_warn_w": 0,     # P1 capacity tariff: warn (MQTT capacity_warn) when the quarter-hour's demand
                              # reaches this many W (0: the month's peak so far)
    # MQTT over TLS (docs/mqtt.md): the broker's certificate checked against the CA in
    # mqtt_ca.pem beside config.json, and against this name ("": mqtt_host); the port
    # 8883 while mqtt_port is left at 1883
    "mqtt_tls": False,
    "mqtt_tls_name": "",
    "hostname": "submeter",   # the name the router (and its DHCP) shows
    "ip": "",                 # a static IPv4 address ("" for DHCP), with:
    "netmask": "255.255.255.0",
    "gateway": "",
    "dns": "",
    "http_host": "0.0.0.0",
    "http_port": 80,
    "http_max_clients": 4,
    "inputs": [  # no name of their own: the page shows each usage's label in the meter's language
        {"name": "", "usage": "heating"},
        {"name": "", "usage": "cooling"},
        {"name": "", "usage": "hot_water"},
        {"name": "", "usage": "sockets"},
        {"name": "", "usage": "other"},
    ],
}

INPUT_DEFAULTS = {
    "name": "",
    "usage": "other",
    "ct_ratio": 1000,         # 90 A : 90 mA
    "burden_ohm": 8.2,        # one CT up to 90 mA rms inside the ESP32 ADC range (docs/hardware.md)
    "pf": 1.0,
    "cts": 1,                 # CTs wired in parallel on this input (1 or 2)
    "phase": 1,               # the phase this circuit is on (three-phase installations)
    "noise_floor_a": 0.05,    # below this the circuit reads 0 W
    # with the voltage reference (real power): the CT's phase lead in degrees (calibrated
    # from the page with a resistive load), the CT read the other way round (the fix for
    # one fitted backwards), and whether the circuit may give energy back (solar, a
    # battery, an EV): only a circuit that may not is flagged "CT reversed?"
    "phase_deg": 0.0,
    "ct_flip": False,
    "export": False,
}

N_INPUTS = const(5)

# the names the inputs had by default before they had none (issue 20), by usage: a config
# saved with one of them on an input of that usage reads as that input having no name
_OLD_NAMES = ("Heating", "Cooling", "Hot water", "Sockets", "Other")


class ConfigError(ValueError):
    """A setting refused: its text begins with the field's name ("mains_hz: ...")."""


# Every setting has a type, and the firmware uses exactly what the check passed: a
# whole-number setting takes a JSON integer only (50, not 50.0: range(), ports, the
# displays' contrast and list indexes refuse a float, so 50.0 is refused here, by name,
# rather than at the next boot in ct.py), a number setting an integer or a fraction;
# every text has a length bound and refuses control characters.
_INT = const(0)    # a whole number in lo..hi
_NUM = const(1)    # a number in lo..hi
_ONE = const(2)    # one of the texts in lo
_TEXT = const(3)   # printable text; for the kinds below too: lo 0 lets "" in, hi the longest
_HOST = const(4)   # a host name or an IPv4 address
_IPV4 = const(5)
_TOPIC = const(6)  # an MQTT topic prefix
_ID = const(7)     # letters, digits, - and _
_NAME = const(8)   # letters, digits and - (the DHCP host name)
_MONEY = const(9)  # the currency: letters or signs
_BOOL = const(10)  # true or false
_SPAN = const(11)  # a local-time window "HH:MM-HH:MM" (span)
# (key, kind, lo, hi), the top-level settings then an input's: one constant table (in
# flash once frozen, nothing made in the heap)
_SPEC = (
    ("mains_hz", _INT, 45, 65), ("period_ms", _INT, 100, 60000), ("window_cycles", _INT, 0, 3000),
    ("max_gap_ms", _INT, 1000, 3600000), ("save_s", _INT, 1, 86400), ("gas_l_per_pulse", _INT, 1, 1000),
    ("water_l_per_pulse", _INT, 1, 1000), ("pulse_min_ms", _INT, 1, 10000),
    ("utc_offset_min", _INT, -720, 840), ("screen_home_s", _INT, 5, 3600), ("screen_sleep_s", _INT, 0, 86400),
    ("contrast", _INT, 0, 255), ("http_port", _INT, 1, 65535), ("http_max_clients", _INT, 1, 16),
    ("mqtt_port", _INT, 1, 65535), ("mqtt_interval_s", _INT, 1, 3600), ("capacity_warn_w", _INT, 0, 1000000),
    ("standby_pct", _INT, 1, 50),
    ("voltage", _NUM, 90, 480), ("vref_v_per_v", _NUM, 10, 5000), ("price_kwh", _NUM, 0, 100), ("gas_kwh_per_m3", _NUM, 1, 20),
    ("gas_price_kwh", _NUM, 0, 100), ("water_price_m3", _NUM, 0, 100),
    ("lang", _ONE, ("en", "fr"), 0), ("dst", _ONE, ("eu", "none"), 0),
    ("grid", _ONE, ("auto", "tic", "tic_standard", "tic_historic", "p1", "none"), 0),
    ("currency", _MONEY, 1, 5), ("ntp_host", _HOST, 0, 128), ("mqtt_host", _HOST, 0, 128),
    ("mqtt_user", _TEXT, 0, 64), ("mqtt_password", _TEXT, 0, 64), ("mqtt_client_id", _ID, 0, 32),
    ("mqtt_prefix", _TOPIC, 1, 64), ("mqtt_discovery", _TOPIC, 0, 64), ("hostname", _NAME, 1, 32),
    ("ip", _IPV4, 0, 15), ("netmask", _IPV4, 1, 15), ("gateway", _IPV4, 0, 15), ("dns", _IPV4, 0, 15),
    ("http_host", _IPV4, 1, 15),
    ("mqtt_tls", _BOOL, 0, 0), ("mqtt_tls_name", _HOST, 0, 128), ("standby_window", _SPAN, 11, 11),
    # an input's
    ("ct_ratio", _INT, 1, 100000), ("cts", _INT, 1, 2), ("phase", _INT, 1, 3),
    ("burden_ohm", _NUM, 0.1, 10000), ("pf", _NUM, 0.1, 1.0), ("noise_floor_a", _NUM, 0, 10),
    ("phase_deg", _NUM, -30, 30), ("ct_flip", _BOOL, 0, 0), ("export", _BOOL, 0, 0),
    ("name", _TEXT, 0, 24), ("usage", _ONE, ("heating", "cooling", "hot_water", "sockets", "other"), 0),
)
_WHAT = ("", "", "", "printable text", "a host name or an IPv4 address", "an IPv4 address such as 192.168.1.50",
         "an MQTT topic without + # or a leading $", "letters, digits, - or _", "letters, digits or -",
         "letters or a sign, such as EUR or \u20ac", "", "a window HH:MM-HH:MM of two different times, such as 01:00-05:00")


def spec(key):
    """(key, kind, lo, hi) of a setting (top-level or an input's), or None."""
    for s in _SPEC:
        if s[0] == key:
            return s
    return None


def _ok(c, more):
    return "a" <= c <= "z" or "A" <= c <= "Z" or "0" <= c <= "9" or c in more


def _ipv4(v):
    parts = v.split(".")
    return len(parts) == 4 and all(1 <= len(p) <= 3 and all("0" <= c <= "9" for c in p) and int(p) <= 255
                                   for p in parts)


def _printable(v):
    """No control character (C0, DEL, C1), no line separator, no lone surrogate (CPython's
    json makes them from "\\ud800"), no U+FFFD (_utf8 puts it where a byte was not UTF-8)."""
    for c in v:
        o = ord(c)
        if o < 0x20 or 0x7F <= o <= 0x9F or 0xD800 <= o <= 0xDFFF or o in (0xFFFD, 0x2028, 0x2029):
            return False
    return True


def _fits(v, kind):
    if kind == _HOST:  # labels of letters, digits, - and _ (not at an end of a label), or an IPv4 address
        labels = v.split(".")
        if all(p.isdigit() for p in labels):
            return _ipv4(v)
        return all(0 < len(p) <= 63 and p[0] != "-" and p[-1] != "-" and all(_ok(c, "-_") for c in p)
                   for p in labels)
    if kind == _IPV4:
        return _ipv4(v)
    if kind == _TOPIC:  # a prefix of the meter's topics: no wildcard, no $SYS-like, no empty level at an end
        return "+" not in v and "#" not in v and v[0] not in "$/" and v[-1] != "/"
    if kind == _ID:  # Home Assistant's node id, and a level of every topic
        return all(_ok(c, "-_") for c in v)
    if kind == _NAME:
        return all(_ok(c, "-") for c in v)
    if kind == _SPAN:
        return span(v) is not None
    if kind == _MONEY:  # it heads CSV columns and follows figures: no separator, no formula, no space
        for c in v:
            o = ord(c)
            if not (_ok(c, "$.") or o > 0xA0 and not 0x2000 <= o <= 0x206F and o != 0x3000 and o != 0xFEFF):
                return False
        return not "0" <= v[0] <= "9"
    return True


def span(v):
    """(start, length) in minutes of a local-time window "HH:MM-HH:MM" (the end after
    midnight when it comes before the start: "22:00-06:00" is 8 hours), or None when `v`
    is not one (the two times the same included)."""
    if len(v) != 11 or v[2] != ":" or v[5] != "-" or v[8] != ":":
        return None
    for k in (0, 1, 3, 4, 6, 7, 9, 10):
        if not "0" <= v[k] <= "9":
            return None
    h1, m1, h2, m2 = int(v[0:2]), int(v[3:5]), int(v[6:8]), int(v[9:11])
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59 or (h1, m1) == (h2, m2):
        return None
    a = h1 * 60 + m1
    return a, (h2 * 60 + m2 - a) % 1440


def check(key, v, name=None):
    """The checked value of one setting (a fresh copy of a list), or ConfigError naming
    it (`name`: "inputs[2].phase" for an input's)."""
    name = name or key
    if key == "prices_kwh":
        if not isinstance(v, list) or len(v) > 10:
            raise ConfigError("prices_kwh: a list of at most 10 prices")
        return [check("price_kwh", x, "prices_kwh[%d]" % k) for k, x in enumerate(v)]
    if key == "inputs":
        if not isinstance(v, list) or len(v) != N_INPUTS:
            raise ConfigError("inputs: a list of %d inputs is needed" % N_INPUTS)
        return [_input(x, i) for i, x in enumerate(v)]
    s = spec(key)
    if s is None:
        raise ConfigError("%s: unknown setting" % _shown(name))
    kind, lo, hi = s[1], s[2], s[3]
    if kind == _BOOL:
        if not isinstance(v, bool):
            raise ConfigError("%s: true or false" % name)
        return v
    if kind <= _NUM:
        if isinstance(v, bool) or not isinstance(v, int if kind == _INT else (int, float)):
            raise ConfigError("%s: %s" % (name, "a whole number is needed" if kind == _INT else "a number is needed"))
        if not lo <= v <= hi:  # NaN too (CPython's json reads it); a value shown only when short
            raise ConfigError("%s: %s is outside %s..%s" % (name, v if -1e9 < v < 1e9 else "the value", lo, hi))
        return v
    if kind == _ONE:
        if not isinstance(v, str) or v not in lo:
            raise ConfigError("%s: one of %s" % (name, ", ".join(lo)))
        return v
    if not isinstance(v, str):
        raise ConfigError("%s: text is needed" % name)
    if not v:
        if lo == 0:
            return v
        raise ConfigError("%s: %s is needed" % (name, _WHAT[kind]))
    if not _printable(v):
        raise ConfigError("%s: %s" % (name, "not UTF-8 text" if "\ufffd" in v else "a control character"))
    if len(v) > hi:
        raise ConfigError("%s: at most %d characters" % (name, hi))
    if not _fits(v, kind):
        raise ConfigError("%s: %s" % (name, _WHAT[kind]))
    return v


def _shown(key):
    """A key as an error names it: 24 characters at most, nothing unprintable."""
    return "".join(c if _printable(c) else "?" for c in key[:24])


def validate(cfg, bad=None, base=None):
    """Return a complete, checked config built from `cfg`. With `bad` None (a change over
    the network), the first refused value raises ConfigError naming the field. With a
    list (at boot), each refused value is named in `bad` and the field takes its value in
    `base` (the defaults with the board's overrides), else its default: the good fields
    are kept."""
    out = {}
    for key, dflt in DEFAULTS.items():
        v = cfg.get(key, dflt)
        if key == "inputs" and bad is not None and isinstance(v, list) and len(v) == N_INPUTS:
            was = base["inputs"] if base and isinstance(base.get("inputs"), list) else dflt
            out[key] = [_input(x, i, bad, was[i] if i < len(was) else None) for i, x in enumerate(v)]
            continue
        try:
            v = check(key, v)
        except ConfigError as e:
            if bad is None:
                raise
            bad.append(str(e))
            try:  # the board's value, else the default
                v = check(key, base[key] if base and key in base else dflt)
            except ConfigError:
                v = check(key, dflt)
        out[key] = v
    for key in cfg:
        if key not in DEFAULTS:
            e = "%s: unknown setting" % _shown(key)
            if bad is None:
                raise ConfigError(e)
            bad.append(e)
    return out


def _input(x, i, bad=None, was=None):
    if not isinstance(x, dict):
        e = "inputs[%d]: an object is needed" % i
        if bad is None:
            raise ConfigError(e)
        bad.append(e)
        x = was if isinstance(was, dict) else {}  # the board's (the default) input
    out = {}
    for key, dflt in INPUT_DEFAULTS.items():
        name = "inputs[%d].%s" % (i, key)
        try:
            v = check(key, x.get(key, dflt), name)
        except ConfigError as e:
            if bad is None:
                raise
            bad.append(str(e))
            try:
                v = check(key, was.get(key, dflt) if isinstance(was, dict) else dflt, name)
            except ConfigError:
                v = dflt
        out[key] = v
    if out["name"] == _OLD_NAMES[USAGES.index(out["usage"])]:
        out["name"] = ""  # the old English default: the usage's label, in the meter's language
    for key in x:
        if key not in INPUT_DEFAULTS:
            e = "inputs[%d].%s: unknown setting" % (i, _shown(key))
            if bad is None:
                raise ConfigError(e)
            bad.append(e)
    return out


# what applies at once when changed over the network; anything else at the next start
LIVE = ("lang", "voltage", "currency", "price_kwh", "prices_kwh", "period_ms", "max_gap_ms",
        "save_s", "gas_l_per_pulse", "gas_kwh_per_m3", "gas_price_kwh", "water_l_per_pulse",
        "water_price_m3", "screen_home_s", "screen_sleep_s", "contrast", "capacity_warn_w", "vref_v_per_v")
LIVE_INPUT = ("name", "usage", "pf", "phase", "ct_ratio", "burden_ohm", "phase_deg", "ct_flip", "export")  # (the ratios: Metering.set_ratios)
SECRET = ("mqtt_password",)


MAX_FILE = const(8192)  # a whole config is under 3 KB; a larger file is not read into the heap


def _utf8(data):
    """`data` as text, each byte that is not part of a UTF-8 character taken as U+FFFD,
    which every text check refuses: a bad byte in one name costs that name only."""
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        b = data[i]
        k = 0 if b < 0x80 else 1 if 0xC2 <= b <= 0xDF else 2 if 0xE0 <= b <= 0xEF else 3 if 0xF0 <= b <= 0xF4 else -1
        ok = 0 <= k and i + k < n
        j = 1
        while ok and j <= k:
            ok = 0x80 <= data[i + j] <= 0xBF
            j += 1
        if ok and k >= 2:  # no surrogate, no overlong form, nothing past U+10FFFF
            c = data[i + 1]
            ok = not (b == 0xE0 and c < 0xA0 or b == 0xED and c > 0x9F or b == 0xF0 and c < 0x90
                      or b == 0xF4 and c > 0x8F)
        if ok:
            out += data[i:i + k + 1]
            i += k + 1
        else:
            out += b"\xef\xbf\xbd"
            i += 1
    return out.decode()


def _read(path):
    """(the JSON object in the file at `path`, None), or (None, why it cannot be used);
    OSError when there is no file."""
    with open(path, "rb") as f:
        data = f.read(MAX_FILE + 1)
    if len(data) > MAX_FILE:
        return None, "larger than %d bytes" % MAX_FILE
    try:
        try:
            text = data.decode()
            if len(text) != len(data):  # not ASCII: MicroPython lets overlong forms and surrogates through
                text = _utf8(data)
        except ValueError:  # UnicodeError: not UTF-8
            text = _utf8(data)
        data = None
        if text[:1] == "\ufeff":  # the mark Windows' Notepad puts first
            text = text[1:]
        if text.rstrip()[-1:] != "}":  # MicroPython's json takes a text cut short
            return None, "not JSON (cut short, or not a settings file)"
        user = json.loads(text)
    except ValueError:  # json's bad syntax (UnicodeError is one too)
        return None, "not JSON (cut short, or not a settings file)"
    except RuntimeError:  # CPython: nested too deep
        return None, "not JSON (nested too deep)"
    if not isinstance(user, dict):
        return None, "the file is not a JSON object"
    return user, None


def _read_user(path):
    try:
        return _read(path)[0] or {}
    except Exception:  # no file (OSError), no memory for it
        return {}


def change(path, current, changes, overrides=None):
    """Apply `changes` (a dict of settings, as in config.json) to the file at `path`:
    validated first (ConfigError names the field, and nothing is written), then written
    atomically. Returns (the new config, the keys that wait for a restart); raises
    SaveError (an OSError, in words) when the flash refuses, and then nothing changed."""
    for k, v in changes.items():  # the fields sent are named first (the file may hold others refused at boot)
        if k not in DEFAULTS:
            raise ConfigError("%s: unknown setting" % _shown(k))
        if k != "inputs" or not isinstance(v, list):
            check(k, v)
            continue
        for i, x in enumerate(v):
            if isinstance(x, dict):
                for f, y in x.items():
                    if f not in INPUT_DEFAULTS:
                        raise ConfigError("inputs[%d].%s: unknown setting" % (i, _shown(f)))
                    check(f, y, "inputs[%d].%s" % (i, f))
    user = _read_user(path)
    for k, v in changes.items():
        if k == "inputs" and isinstance(v, list) and isinstance(user.get("inputs", current["inputs"]), list):
            # inputs may be changed one field at a time: [{"name": "Boiler"}, {}, ...]
            base = user.get("inputs") or [dict(i) for i in current["inputs"]]
            merged = []
            for i in range(max(len(base), len(v))):
                d = dict(base[i]) if i < len(base) and isinstance(base[i], dict) else {}
                if i < len(v):
                    if not isinstance(v[i], dict):
                        raise ConfigError("inputs[%d]: an object is needed" % i)
                    d.update(v[i])
                merged.append(d)
            user["inputs"] = merged
        else:
            user[k] = v
    base = _base(overrides)
    for k, v in user.items():
        base[k] = v
    new = validate(base)
    try:
        write_json(path, user)
    except OSError as e:
        raise SaveError("config.json not saved: %s" % describe(e))
    restart = []
    for k in DEFAULTS:
        if k == "inputs":
            for i, (a, b) in enumerate(zip(current["inputs"], new["inputs"])):
                for f in a:
                    if a[f] != b[f] and f not in LIVE_INPUT:
                        restart.append("inputs[%d].%s" % (i, f))
        elif new[k] != current[k] and k not in LIVE:
            restart.append(k)
    return new, restart


def apply(path, cfg, changes, overrides, restart_needed, pending=None):
    """POST /api/config: `changes` validated and saved (change), then applied to `cfg` in
    place where they can be at once (LIVE, LIVE_INPUT); those that wait for a restart are
    added to `restart_needed` (a list) and returned, and their saved values put in
    `pending` (a dict, by the same names; a secret as whether it is set). ConfigError
    naming the field, or SaveError: nothing changed."""
    new, restart = change(path, cfg, changes, overrides)
    for k in LIVE:
        cfg[k] = new[k]
    for cur, upd in zip(cfg["inputs"], new["inputs"]):
        for k in LIVE_INPUT:
            cur[k] = upd[k]
    for k in restart:
        if k not in restart_needed:
            restart_needed.append(k)
    if pending is not None:
        for k in restart_needed:  # "mqtt_port", "inputs[2].ct_ratio"
            if k[:7] == "inputs[":
                v = new["inputs"][int(k[7:k.index("]")])][k[k.index(".") + 1:]]
            else:
                v = bool(new[k]) if k in SECRET else new[k]
            pending[k] = v
    return restart


def public(cfg):
    """The config as GET /api/config shows it: secrets replaced by whether they are set."""
    out = {}
    for k, v in cfg.items():
        out[k] = bool(v) if k in SECRET else v
    return out


def _base(overrides):
    """The defaults, with the board's overrides on top."""
    base = {}
    for k, v in DEFAULTS.items():
        base[k] = v
    if overrides:
        for k, v in overrides.items():
            base[k] = v
    return base


class SaveError(OSError):
    """A file the owner asked for (config.json, auth.json) was not written: its text says
    why in words; the file on flash is the one before."""


# errno -> what the page and the log say (littlefs gives the same numbers: 28 full, 5 I/O)
_WORDS = {28: "no space left on the flash", 5: "I/O error", 84: "the flash holds corrupt data",
          12: "out of memory", 2: "file or folder missing", 30: "the flash is read-only",
          27: "file too large", 13: "permission denied"}


def describe(e):
    """An OSError (or any error) in words, not a bare errno: "no space left on the flash"."""
    code = e.args[0] if e.args else None
    if isinstance(code, int) and code in _WORDS:
        return _WORDS[code]
    if isinstance(code, int):
        return "error %d" % code
    return str(e) or type(e).__name__


def write_json(path, obj):
    """Write `obj` as JSON to `path` atomically: a whole new file (`path`.new), then one
    rename over the old one (littlefs and POSIX replace in one step), so a cut at any
    instant leaves the old file or the new one. Raises OSError, and then `path` is as it
    was and no half-written file is left to fill the flash."""
    tmp = path + ".new"
    try:
        with open(tmp, "w") as f:
            f.write(json.dumps(obj) + "\n")  # the end mark: json.dumps writes no newline
        os.rename(tmp, path)
    except OSError:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise


NOTES = []  # what settle() did at boot (App.main logs them)


def settle(path, valid):
    """At boot: a `path`.new left by a cut in write_json is judged. When it ends with the
    newline write_json puts last (MicroPython's json takes a text cut short of its final
    "}"), parses and `valid(obj)` holds, it is whole (the cut came before the rename): it
    replaces `path`; else it is dropped. What was done goes to NOTES (the log)."""
    tmp = path + ".new"
    try:
        with open(tmp) as f:
            text = f.read()
    except OSError:
        return  # none: the usual case
    except ValueError:  # not UTF-8 (UnicodeError)
        text = ""
    name = path.rpartition("/")[2]
    try:
        ok = text.endswith("\n") and bool(valid(json.loads(text)))
    except Exception:  # not JSON (UnicodeError is a ValueError), a value refused, nested too deep
        ok = False
    try:
        if ok:
            os.rename(tmp, path)
            NOTES.append("%s: the new copy a power cut left behind is whole: used" % name)
        else:
            os.remove(tmp)
            NOTES.append("%s: a partial copy left by a power cut was dropped" % name)
    except OSError as e:
        NOTES.append("%s: the copy a power cut left behind cannot be settled (%s)" % (name, describe(e)))



def _merged(base, user):
    merged = {}
    for k, v in base.items():
        merged[k] = v
    for k, v in user.items():
        merged[k] = v
    return validate(merged)  # raises ConfigError


SHOWN = const(8)  # refused fields named in the error, at most
_REFUSED = "defaults used for refused settings: "


def load(path, overrides=None):
    """(config, error) at boot; never raises. error is None, or one line that says why
    the file was ignored (not UTF-8 is taken byte by byte: see _utf8) or names each
    refused field, which then has its default (the board's, else DEFAULTS): the good
    fields are kept, and the meter meters."""
    base = _base(overrides)
    bad = []
    why = None
    try:
        settle(path, lambda user: isinstance(user, dict) and _merged(base, user))
        try:
            user, why = _read(path)
        except OSError:
            user = None  # no file yet: the defaults are the config
        merged = base
        if user:
            merged = {}
            for k, v in base.items():
                merged[k] = v
            for k, v in user.items():
                merged[k] = v
        cfg = validate(merged, bad, base)
    except Exception as e:  # MemoryError on a fragmented heap, or a fault not foreseen
        try:
            cfg = validate(base, [])  # the board's settings, those it has that pass
        except Exception:
            cfg = validate(DEFAULTS)
        return cfg, "config.json ignored: %s" % describe(e)
    if why:
        return cfg, "config.json ignored: %s" % why
    if not bad:
        return cfg, None
    parts = []
    for e in bad[:SHOWN]:
        field, _, reason = e.partition(": ")
        parts.append("%s (%s)" % (field, reason))
    more = " and %d more" % (len(bad) - SHOWN) if len(bad) > SHOWN else ""
    return cfg, "config.json: %s%s%s" % (_REFUSED, "; ".join(parts), more)


def first(error):
    """What the panel shows of a config error (16 characters): the first field that took
    its default, or why the file was ignored."""
    s = error.partition(": ")[2]
    if s.startswith(_REFUSED):
        s = s[len(_REFUSED):]
    return s.partition(" (")[0][:16]
