# Configuration: defaults, overridden by the board, then by the JSON file on flash.
# A broken file never stops the meter: it boots with defaults and says why (see `error`).
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
    "window_cycles": 10,      # mains cycles per measurement window
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
    "hostname": "submeter",   # the name the router (and its DHCP) shows
    "ip": "",                 # a static IPv4 address ("" for DHCP), with:
    "netmask": "255.255.255.0",
    "gateway": "",
    "dns": "",
    "http_host": "0.0.0.0",
    "http_port": 80,
    "http_max_clients": 4,
    "inputs": [
        {"name": "Heating", "usage": "heating"},
        {"name": "Cooling", "usage": "cooling"},
        {"name": "Hot water", "usage": "hot_water"},
        {"name": "Sockets", "usage": "sockets"},
        {"name": "Other", "usage": "other"},
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
}

N_INPUTS = const(5)


class ConfigError(ValueError):
    pass


def _num(v, key, lo, hi):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ConfigError("%s: a number is needed" % key)
    if not lo <= v <= hi:
        raise ConfigError("%s: %s is outside %s..%s" % (key, v, lo, hi))
    return v


_RANGES = {
    "voltage": (90, 480), "mains_hz": (45, 65), "price_kwh": (0, 100),
    "period_ms": (100, 60000), "window_cycles": (1, 50), "max_gap_ms": (1000, 3600000),
    "save_s": (1, 86400), "gas_l_per_pulse": (1, 1000), "gas_kwh_per_m3": (1, 20),
    "gas_price_kwh": (0, 100), "water_l_per_pulse": (1, 1000), "water_price_m3": (0, 100),
    "pulse_min_ms": (1, 10000), "utc_offset_min": (-720, 840),
    "screen_home_s": (5, 3600), "screen_sleep_s": (0, 86400), "contrast": (0, 255),
    "http_port": (1, 65535), "http_max_clients": (1, 16), "mqtt_port": (1, 65535),
    "mqtt_interval_s": (1, 3600),
}
_INPUT_RANGES = {
    "ct_ratio": (1, 100000), "burden_ohm": (0.1, 10000), "pf": (0.1, 1.0), "cts": (1, 2), "phase": (1, 3),
    "noise_floor_a": (0, 10),
}


def _ipv4(v):
    if not isinstance(v, str):
        return False
    parts = v.split(".")
    return len(parts) == 4 and all(p.isdigit() and len(p) <= 3 and int(p) <= 255 for p in parts)


def validate(cfg):
    """Return a complete, checked config built from `cfg`; raise ConfigError naming the field."""
    out = {}
    for key, dflt in DEFAULTS.items():
        v = cfg.get(key, dflt)
        if key in _RANGES:
            lo, hi = _RANGES[key]
            v = _num(v, key, lo, hi)
            if key.endswith("_per_pulse") and v != int(v):
                raise ConfigError("%s: a whole number of litres" % key)
        elif key == "lang":
            if v not in ("en", "fr"):
                raise ConfigError("lang: en or fr")
        elif key in ("ip", "netmask", "gateway", "dns"):
            if v != "" and not _ipv4(v) or key == "netmask" and not _ipv4(v):
                raise ConfigError("%s: an IPv4 address such as 192.168.1.50%s" % (key, "" if key == "netmask" else ', or ""'))
        elif key == "hostname":
            if not isinstance(v, str) or not 1 <= len(v) <= 32 or not all(c.isalpha() or c.isdigit() or c == "-" for c in v):
                raise ConfigError("hostname: 1 to 32 letters, digits or -")
        elif key == "dst":
            if v not in ("eu", "none"):
                raise ConfigError("dst: eu or none")
        elif key == "grid":
            if v not in GRID_MODES:
                raise ConfigError("grid: one of %s" % ", ".join(GRID_MODES))
        elif key == "prices_kwh":
            if not isinstance(v, list) or len(v) > 10:
                raise ConfigError("prices_kwh: a list of at most 10 prices")
            v = [_num(x, "prices_kwh[%d]" % k, 0, 100) for k, x in enumerate(v)]
        elif key == "inputs":
            if not isinstance(v, list) or len(v) != N_INPUTS:
                raise ConfigError("inputs: a list of %d inputs is needed" % N_INPUTS)
            v = [_input(x, i) for i, x in enumerate(v)]
        elif not isinstance(v, str):
            raise ConfigError("%s: text is needed" % key)
        out[key] = v
    for key in cfg:
        if key not in DEFAULTS:
            raise ConfigError("%s: unknown setting" % key)
    return out


def _input(x, i):
    if not isinstance(x, dict):
        raise ConfigError("inputs[%d]: an object is needed" % i)
    out = {}
    for key, dflt in INPUT_DEFAULTS.items():
        v = x.get(key, dflt)
        name = "inputs[%d].%s" % (i, key)
        if key in _INPUT_RANGES:
            lo, hi = _INPUT_RANGES[key]
            v = _num(v, name, lo, hi)
        elif key == "usage":
            if v not in USAGES:
                raise ConfigError("%s: one of %s" % (name, ", ".join(USAGES)))
        elif not isinstance(v, str) or len(v) > 24:
            raise ConfigError("%s: text of at most 24 characters" % name)
        out[key] = v
    for key in x:
        if key not in INPUT_DEFAULTS:
            raise ConfigError("inputs[%d].%s: unknown setting" % (i, key))
    return out


# what applies at once when changed over the network; anything else at the next start
LIVE = ("lang", "voltage", "currency", "price_kwh", "prices_kwh", "period_ms", "max_gap_ms",
        "save_s", "gas_l_per_pulse", "gas_kwh_per_m3", "gas_price_kwh", "water_l_per_pulse",
        "water_price_m3", "screen_home_s", "screen_sleep_s", "contrast")
LIVE_INPUT = ("name", "usage", "pf", "phase")
SECRET = ("mqtt_password",)


def _read_user(path):
    try:
        with open(path) as f:
            user = json.loads(f.read())
        return user if isinstance(user, dict) else {}
    except (OSError, ValueError):
        return {}


def change(path, current, changes, overrides=None):
    """Apply `changes` (a dict of settings, as in config.json) to the file at `path`:
    validated first (ConfigError names the field, and nothing is written), then written
    atomically. Returns (the new config, the keys that wait for a restart); raises
    SaveError (an OSError, in words) when the flash refuses, and then nothing changed."""
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
    except (ValueError, TypeError, KeyError, AttributeError):  # not JSON (UnicodeError is a ValueError)
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


def load(path, overrides=None):
    """(config, error): error is None, or a one-line reason the file was not used."""
    base = _base(overrides)
    settle(path, lambda user: isinstance(user, dict) and _merged(base, user))
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return validate(base), None  # no file yet: defaults are the config
    try:
        user = json.loads(text)
        if not isinstance(user, dict):
            raise ConfigError("the file is not a JSON object")
        return _merged(base, user), None
    except (ValueError, ConfigError) as e:  # json raises ValueError on bad syntax
        return validate(base), "config.json ignored: %s" % e
