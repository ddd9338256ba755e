# Per-input zero calibration: the noise (and any idle pickup) and the DC offset of an
# input measured with its circuit switched off, kept on flash (zero.json) and applied
# by the input's CTChannel (set_zero). It never touches an energy count.
from micropython import const
import math

from ..config import settle, write_json

WINDOWS = const(20)          # windows measured (one a round: ~20 s at the default 1 s)
_MAX_NOISE_COUNTS = const(40)  # an "off" circuit above this (~4 A with a 90 A CT on 8.2 ohm) is on


def load(path, n):
    """(a zero dict or None per input, error or None): a missing file is no error; a
    broken one gives the board's figures and says why."""
    settle(path, lambda z: isinstance(z, dict) and isinstance(z.get("inputs"), list))
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return [None] * n, None
    try:
        import json
        got = json.loads(text)
        inputs = got["inputs"]
        if not isinstance(inputs, list) or len(inputs) != n:
            raise ValueError("a list of %d inputs is needed" % n)
        out = []
        for z in inputs:
            if z is not None:
                z = {"noise_var": float(z["noise_var"]), "noise_sd": float(z["noise_sd"]),
                     "offset": float(z["offset"]), "at": z.get("at")}
                if not (0 <= z["noise_var"] < 1e6 and 0 <= z["noise_sd"] < 1e6):
                    raise ValueError("noise out of range")
            out.append(z)
        return out, None
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        return [None] * n, "zero.json ignored (inputs not zeroed): %s" % e


def save(path, zeros):
    """Write every input's zero atomically (raises OSError)."""
    write_json(path, {"inputs": zeros})


class Zeroing:
    """One zeroing in progress: `inputs` (indices from 0) measured over `windows`
    windows each; the window under way when it starts is not taken."""

    def __init__(self, inputs, windows=WINDOWS):
        self.inputs = inputs
        self.windows = windows
        self.vars = {k: [] for k in inputs}
        self.offsets = {k: [] for k in inputs}
        self.n = 400
        self._started = {k: False for k in inputs}

    def add(self, k, ch):
        if k not in self.vars:
            return
        if not self._started[k]:
            self._started[k] = True  # this window may have begun before the circuit went off
            return
        if len(self.vars[k]) < self.windows:
            self.vars[k].append(ch.var)
            self.offsets[k].append(ch.offset)
            self.n = ch.n

    def progress(self):
        """Percent done."""
        got = sum(len(v) for v in self.vars.values())
        return 100 * got // (self.windows * len(self.inputs))

    def done(self):
        return all(len(v) >= self.windows for v in self.vars.values())

    def result(self, k, at=None):
        """(zero dict, None), or (None, why) when the circuit was not off."""
        v = self.vars[k]
        m = sum(v) / len(v)
        sd = math.sqrt(sum((x - m) * (x - m) for x in v) / (len(v) - 1))
        if m > _MAX_NOISE_COUNTS * _MAX_NOISE_COUNTS:
            return None, "input %d is not off (%.0f counts rms): not zeroed" % (k + 1, math.sqrt(m))
        # the spread of an idle window's variance: measured, and never under what the
        # noise itself gives (20 windows tell it only to ~+-16 %)
        sd = max(sd, m * math.sqrt(2 / self.n))
        off = sum(self.offsets[k]) / len(self.offsets[k])
        return {"noise_var": round(m, 3), "noise_sd": round(sd, 3), "offset": round(off, 1), "at": at}, None
