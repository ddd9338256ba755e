# The phase calibration of one input against a resistive load (docs/calibration.md): with
# the voltage reference fitted, the user runs a load whose current is in phase with the
# voltage (a kettle, a heater, an oven: no motor, no electronics) on the input's circuit;
# the angle left between its current and the voltage, averaged over WINDOWS windows, is the
# CT's own phase lead not yet corrected: the input's phase_deg is changed by it, saved and
# applied. A current half a turn off says the CT reads backwards (state "reversed"). Imported while one runs, let go after (sense/__init__.py), as calib.py.
from micropython import const
import math

from .. import log
from . import ct

WINDOWS = const(10)         # windows averaged (one a round)
MIN_VA = const(300)         # a load of at least this: a few degrees need a clear signal
_STEADY_DEG = 1.0           # the windows' angles scatter less than this (standard deviation)
_MOST_DEG = 30              # phase_deg's range (config.py)


class PhaseCal:
    """One phase calibration in progress on input `k` (from 0); `state` is the dict
    /api/state shows as "phasecal" (docs/api.md), updated in place."""

    def __init__(self, k, before):
        self.k = k
        self.got = -1           # windows taken (the first one skipped: the load may have come on in it)
        self.s = self.q = 0.0   # sum of the angles (degrees), of their squares
        self.back = 0           # windows whose current was half a turn off: the CT backwards
        self.state = {"input": k + 1, "progress": 0, "done": False, "phase_deg_before": before,
                      "phase_deg": None, "reversed": False, "error": None}

    def step(self, m):
        """A window of the input measured by the metering `m` (sense.Metering)."""
        st = self.state
        k = self.k
        vr = m.vref
        inp = m.cfg["inputs"][k]
        if vr is None or not vr.present:
            return self._end(m, "no voltage reference is seen: phase calibration needs it")
        self.got += 1
        if self.got == 0:
            return
        if m.va[k] < MIN_VA:
            return self._end(m, "no load seen on input %d (%.0f VA, %d needed): is the resistive load on, on this"
                                " circuit?" % (k + 1, m.va[k], MIN_VA))
        s = m.sampler
        deg = math.degrees(ct.lag_angle(s.cov[2 * k], s.cov[2 * k + 1], m.lag(k), 2 * math.pi / s.per_cycle))
        if inp["ct_flip"]:  # read the other way round: the angle is half a turn off
            deg = (deg + 360) % 360 - 180
        if deg > 90 or deg < -90:  # the CT reads backwards (fitted the wrong way round)
            deg += -180 if deg > 0 else 180
            self.back += 1
        self.s += deg
        self.q += deg * deg
        st["progress"] = 100 * self.got // WINDOWS
        if self.got < WINDOWS:
            return
        n = self.got
        mean = self.s / n
        sd = math.sqrt(max(0.0, self.q / n - mean * mean))
        if sd > _STEADY_DEG:
            return self._end(m, "the angle is not steady (%.1f +- %.1f degrees): a load with a motor or electronics,"
                                " or other loads switching? phase_deg unchanged" % (mean, sd))
        new = round(inp["phase_deg"] - mean, 2)
        if not -_MOST_DEG <= new <= _MOST_DEG:
            return self._end(m, "the current is %.0f degrees off the voltage: not a resistive load, or the input is on"
                                " another phase than its setting says? phase_deg unchanged" % mean)
        try:
            m.save_ratio({"inputs": [{"phase_deg": new} if i == k else {} for i in range(len(m.channels))]}, False)
        except Exception as e:  # ConfigError, SaveError (the flash), MemoryError: unchanged
            return self._end(m, "not saved: %s" % e)
        st["phase_deg"] = new
        # a resistive load's current half a turn off: the CT reads backwards (its ct_flip
        # is the fix, the page offers it; the phase is right either way)
        st["reversed"] = self.back * 2 > n
        self._end(m, None)

    def _end(self, m, error):
        st = self.state
        st["error"] = error
        st["done"] = True
        m._pcal = None
        log("phase calibration of input", self.k + 1, "done:", error or "phase_deg %s -> %s%s" % (
            st["phase_deg_before"], st["phase_deg"], " (the CT reads backwards: set its ct_flip)" if st["reversed"] else ""))
        from . import _drop
        _drop("phasecal")
