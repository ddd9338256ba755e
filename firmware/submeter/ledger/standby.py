# Standby: the night-time base load, per input and in total: what the house draws when
# nobody uses anything (the box, the fridge between its cycles, the appliances left on).
#
# Each night, over a local-time window (config standby_window, "01:00-05:00" by default,
# crossing midnight when its end comes first), the ledger's own energy counters are read
# at the first round of each slot (10 minutes; longer for a window over 8 hours, so that
# a night holds 48 of them at most) and the slot's mean power is its energy over its
# duration. From the energy, not from each round's power: the ledger has integrated every
# round already (a late round, a load switching between two rounds), nothing is added
# per round, and the slot's figure is exactly what the counters count. At the window's
# end each input's figure is a low percentile (standby_pct, 10 by default) of its slots'
# means: a fridge's compressor (on in some slots, off for whole others) and a kettle's
# spike (a slot or two) are above it. The total is the sum of the inputs' figures: what
# is always on is on at once, so they add, and the page's rows add up to it (the
# percentile of the summed means would count the cycles of independent loads, which
# seldom all rest in the same 10 minutes).
#
# Memory: one array of unsigned 16-bit means (W, up to 65535), a slot of the window per
# input (24 for the default 4 hours, 48 at most), made once; a round compares a few
# numbers and a slot's close reads each counter, neither makes anything (test_standby
# locks the heap); the night's close sorts each input's means in place. The last complete night's figure is kept
# in standby.json beside the counters, written once a night (a restart does not lose
# it); until a night is complete there is none (None). A night counts when its slots
# cover at least half of the window (a restart or a clock set mid-window costs the slots
# before it, not the night).
from array import array

from micropython import const

from .. import log
from ..clock import date_str, ticks_diff
from ..config import describe, span, write_json

_SLOTS = const(48)      # slots in a night, at most (10 minutes each up to an 8-hour window)
_SLOT_MIN = const(10)   # a slot's minutes, at least
_MAX_W = const(65535)   # a slot's mean, capped (an unsigned 16-bit array)
HOURS_YEAR = 8.766      # thousands of hours in a year (365.25 days): W x this = kWh a year


class Standby:
    """feed(local_s, now_ms, ledger) after each metering round (App._day); `result` is the
    last complete night's figure: None, or {"night": "YYYY-MM-DD" (the date the window
    began), "w": [W per input], "window", "pct", "period" (the tariff
    period, 0-based, most in force over the night: the one whose price it is costed at)}."""

    # (class attributes until set: the instance's table is made at its boot size)
    count = 0           # slots measured this night
    night = None        # the day number the night being measured began, or None
    slot = -1           # the slot being measured (its index in the window), -1 none
    _at = 0             # the ticks at its start
    result = None
    errors = 0          # standby.json not written (the flash refused), or damaged at boot

    def __init__(self, n, window, pct, folder=None):
        self.n = n
        self.window = window
        self.pct = pct
        self.start, self.length = span(window)  # (minutes: the config's check passed it)
        self.slot_min = max(_SLOT_MIN, -(-self.length // _SLOTS))
        self.slots = k = -(-self.length // self.slot_min)  # in a whole window (48 at most)
        self.means = array("H", bytes(2 * k * n))  # input i's slot j at i * slots + j
        self._wh = [0] * n      # each input's counter at the slot's start
        self._mj = [0] * n
        self.in_period = array("H", bytes(20))  # slots closed in each tariff period (ledger.PERIODS)
        self.path = (folder + "/standby.json") if folder else "standby.json"
        self._load()

    def feed(self, local_s, now, ledger):
        """A metering round's end: local_s the wall clock's local seconds (None while no
        source has set it: nothing is measured), now the ticks."""
        if local_s is None:
            return
        day = local_s // 86400  # (no divmod: its tuple would be made every round)
        m = (local_s - day * 86400) // 60
        k = (m - self.start) % 1440  # minutes since the window's start
        if k >= self.length:  # outside the window: a night measured ends
            if self.night is not None:
                self._close(now, ledger)
                self._finish()
            return
        night = day - 1 if m < self.start else day  # (after midnight, in a window that crossed it)
        if night != self.night:  # a night begins (or the clock jumped to another one)
            if self.night is not None:
                self._close(now, ledger)
                self._finish()
            self.night = night
        j = k // self.slot_min
        if j != self.slot:
            self._close(now, ledger)
            self.slot = j
            self._at = now
            for i in range(self.n):
                c = ledger.total[i]
                self._wh[i] = c.wh
                self._mj[i] = c.mj

    def _close(self, now, ledger):
        """The slot measured ends: each input's mean over it kept (a slot shorter than half
        its length, as the one a boot began late in, is not)."""
        if self.slot < 0:
            return
        self.slot = -1
        dms = ticks_diff(now, self._at)
        k = self.slots
        if dms < self.slot_min * 30000 or self.count >= k:  # (a clock set back may bring more)
            return
        d = dms // 100  # (tenths of a second: J x 20 stays a small integer up to 40 kW)
        means, j = self.means, self.count
        for i in range(self.n):
            c = ledger.total[i]
            joules = (c.wh - self._wh[i]) * 3600 + (c.mj - self._mj[i]) // 1000
            means[i * k + j] = min(max(0, (joules * 20 + d) // (2 * d)), _MAX_W)
        p = ledger.period
        if p < len(self.in_period):
            self.in_period[p] += 1
        self.count += 1

    def _finish(self):
        """The night measured ends: its figure when its slots cover half the window at
        least (then saved), else the last one stays."""
        count, night = self.count, self.night
        self.count, self.night, self.slot = 0, None, -1
        per = self.in_period
        period = 0
        for p in range(len(per)):
            if per[p] > per[period]:
                period = p
        for p in range(len(per)):
            per[p] = 0
        if 2 * count < self.slots:
            return
        rank = max(1, (self.pct * count + 99) // 100)  # the nearest rank
        w = [0] * self.n
        for i in range(self.n):
            w[i] = self._pick(i * self.slots, count, rank)
        self.result = {"night": date_str(night), "w": w, "window": self.window, "pct": self.pct, "period": period}
        try:
            write_json(self.path, self.result)
        except OSError as e:
            self.errors += 1
            log("standby.json not saved:", describe(e))

    def _pick(self, base, count, rank):
        """The rank-th smallest of one series' `count` means (sorted in place: nothing made)."""
        a = self.means
        for x in range(base + 1, base + count):
            v = a[x]
            y = x - 1
            while y >= base and a[y] > v:
                a[y + 1] = a[y]
                y -= 1
            a[y + 1] = v
        return a[base + rank - 1]

    def _load(self):
        """The last night's figure as saved, if whole and of this meter's inputs."""
        import json
        try:
            with open(self.path) as f:
                r = json.loads(f.read())
        except OSError:
            return  # none yet
        except Exception:  # not JSON (a power cut in write_json leaves the old file, not half a one)
            r = None
        try:
            w = r["w"]
            ok = (len(w) == self.n and all(isinstance(x, int) and 0 <= x <= _MAX_W for x in w)
                  and isinstance(r["night"], str) and isinstance(r["window"], str)
                  and isinstance(r["pct"], int) and isinstance(r["period"], int) and 0 <= r["period"] < 10)
        except (TypeError, KeyError, IndexError):
            ok = False
        if ok:
            self.result = r
        else:
            self.errors += 1
            log("standby.json is damaged: no standby figure until the next night")


def kwh_year(w):
    """A standing load of `w` W over a year, in kWh, to a tenth."""
    return round(w * HOURS_YEAR, 1)
