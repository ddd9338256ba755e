# The scale calibration of one input against a known load (docs/calibration.md): the user
# runs a load of known watts on the input's circuit (a kettle, a heater, or what a
# reference meter reads on it) and says its watts; the input's readings over WINDOWS
# windows (the metering goes on: one window a round) are averaged, and the new ct_ratio
# is the old one times true / measured. Imported while one runs, let go after
# (sense/__init__.py): only the result's small dict stays, until the next one.
from micropython import const
import math

from .. import log

WINDOWS = const(15)         # windows averaged (one a round: ~15 s at the default 1 s)
MIN_W = const(500)          # the known load: at least this (2.2 A: ~22 counts rms on a 90 A CT, a
                            # window scattering 1.6 % on a chip with 8 counts of noise)
MAX_W = const(25000)        # and at most this (90 A at 230 V is 20.7 kW)
_NO_LOAD_W = const(50)      # a circuit reading less than this has no load on it
_UNSTEADY_PCT = const(5)    # windows scattering more than this (standard deviation, %): unsteady
_FACTOR = const(2)          # a ratio changed more than this (either way): the wrong circuit or watts


class Calibrating:
    """One calibration in progress on input `k` (from 0), of a load of `true_w` watts;
    `state` is the dict /api/state shows (docs/api.md), updated in place; its "reason" is
    the failure's short code for the panel's words (clipped, no_load, unsteady, off,
    range, changed, not_saved).
    The window under way when it starts is not taken (the load may have come on in it)."""

    def __init__(self, k, true_w, ratio, windows=WINDOWS):
        self.k = k
        self.windows = windows
        self.got = -1           # windows taken (the first one skipped)
        self.s = self.q = 0.0   # sum of the watts, of their squares
        self.clipped = 0        # the channel's clipped windows when it started
        self.state = {"input": k + 1, "state": "running", "progress": 0, "true_w": true_w,
                      "measured_w": None, "ratio_before": ratio, "ratio_after": None, "error": None, "reason": None}

    def add(self, ch, watts):
        """One window of the input: the watts the meter read (its volts, irms, pf), and the
        channel (clipping). True once the last window is in."""
        self.got += 1
        if self.got == 0:
            self.clipped = ch.clipped
            return False
        self.s += watts
        self.q += watts * watts
        self.state["progress"] = 100 * self.got // self.windows
        if ch.clipped != self.clipped:
            return self.fail("clipped", "the input clips (CT or burden too big for this load): ct_ratio unchanged")
        if self.got < self.windows:
            return False
        n = self.got
        m = self.s / n
        st = self.state
        st["measured_w"] = round(m, 1)
        true_w = st["true_w"]
        if m < _NO_LOAD_W:
            return self.fail("no_load", "no load seen on input %d (%.0f W): is the load on, on this circuit? ct_ratio unchanged"
                             % (self.k + 1, m))
        sd = math.sqrt(max(0.0, self.q / n - m * m))
        if sd * 100 > _UNSTEADY_PCT * m:
            return self.fail("unsteady", "the load is not steady (%.0f W +- %.0f W): switch the circuit's other loads off;"
                             " ct_ratio unchanged" % (m, sd))
        r = true_w / m
        if r > _FACTOR or r * _FACTOR < 1:
            return self.fail("off", "input %d reads %.0f W for %.0f W, more than twice off: the wrong circuit or the"
                             " wrong watts? ct_ratio unchanged" % (self.k + 1, m, true_w))
        new = int(st["ratio_before"] * r + 0.5)
        if not 1 <= new <= 100000:
            return self.fail("range", "ct_ratio %d is out of range 1..100000: unchanged" % new)
        st["ratio_after"] = new
        return True

    def step(self, m, watts):
        """A window of the input measured by the metering `m` (sense.Metering): once the
        last is in, the new ratio saved and applied through m.save_ratio (the App's
        set_config, as POST /api/config), or the reason it was not; then this module is
        let go, and the panel told (m.notice)."""
        k = self.k
        if not self.add(m.channels[k], watts):
            return
        st = self.state
        if st["error"] is None and m.cfg["inputs"][k]["ct_ratio"] != st["ratio_before"]:
            st["ratio_after"] = None  # (POST /api/config while it ran: its windows mixed two ratios)
            self.fail("changed", "ct_ratio was changed while it ran: not calibrated")
        m._cal = None
        if st["error"] is None:
            try:  # (the panel shows the result: it is not made again)
                m.save_ratio({"inputs": [{"ct_ratio": st["ratio_after"]} if i == k else {}
                                         for i in range(len(m.channels))]}, False)
                st["state"] = "done"
            except Exception as e:  # ConfigError, SaveError (the flash), MemoryError: unchanged
                st["ratio_after"] = None
                self.fail("not_saved", "not saved: %s" % e)
        log("calibration of input", k + 1, "done:", st["error"] or "ct_ratio %d -> %d" % (
            st["ratio_before"], st["ratio_after"]))
        from . import _drop
        _drop("calib")
        if m.notice is not None:
            m.notice("cal_done" if st["state"] == "done" else "cal_bad")

    def fail(self, reason, why):
        st = self.state
        st["state"] = "failed"
        st["error"] = why
        st["reason"] = reason
        return True
