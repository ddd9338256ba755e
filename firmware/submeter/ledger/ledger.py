# The ledger: the single owner of every energy counter.
#
# Energy is kept as whole Wh plus a remainder in mJ (W x ms), in integers: a float on
# the ESP32 has 24 bits of mantissa, so adding one second of 100 W (0.03 Wh) to a
# float of 10 MWh would add nothing at all. Counters only ever go up, except a partial
# counter, which only a reset command (from a button or the web page) sets to zero.
#
# Power is signed (the voltage reference tells direction): > 0 the circuit takes energy
# (import: total, partial, per tariff period), < 0 it gives energy back (a solar
# inverter, a battery, an EV: export, total and partial, counted apart, never netted).
from micropython import const

from ..clock import ticks_diff

MJ_PER_WH = const(3600000)


class Counter:
    """Energy as (wh, mj) with 0 <= mj < MJ_PER_WH."""

    __slots__ = ("wh", "mj")

    def __init__(self):
        self.wh = 0
        self.mj = 0

    def add_mj(self, mj):
        mj += self.mj
        if mj >= MJ_PER_WH:
            self.wh += mj // MJ_PER_WH
            mj %= MJ_PER_WH
        self.mj = mj

    def kwh(self):
        return self.wh / 1000 + self.mj / 3.6e9

    def kwh_str(self, decimals=3):
        # exact, from the integers: floats would round large totals
        k, frac = divmod(self.wh, 1000)
        if decimals >= 3:
            return "%d.%03d" % (k, frac)
        if decimals == 2:
            return "%d.%02d" % (k, frac // 10)
        return "%d.%d" % (k, frac // 100)

    def clear(self):
        self.wh = 0
        self.mj = 0


PERIODS = const(10)  # tariff periods kept apart: Tempo has 6, a Linky up to 10 (EASF01-10)


class Ledger:
    def __init__(self, n, max_gap_ms=30000, periods=PERIODS):
        self.n = n
        self.max_gap_ms = max_gap_ms
        self.total = [Counter() for _ in range(n)]
        self.partial = [Counter() for _ in range(n)]
        # energy per input and tariff period (0-based: the grid meter's index - 1)
        self.by_period = [[Counter() for _ in range(periods)] for _ in range(n)]
        self.period = 0
        self.periods_used = 1
        # volumes from the pulse inputs, in litres: [total, partial]
        self.gas_l = [0, 0]
        self.water_l = [0, 0]
        # energy given back (power < 0): total and partial per input
        self.export = [Counter() for _ in range(n)]
        self.export_partial = [Counter() for _ in range(n)]
        self.power = [0.0] * n  # the last power per input, signed
        self._last = [None] * n
        # what rounding to whole mJ left over, per input: import, then export (|x| <= 0.5),
        # carried to the next interval so that no rounding adds up over a day
        self._carry = [0.0] * (2 * n)
        self.late = 0           # readings whose interval was capped at max_gap_ms
        # when each partial counter was last reset (inputs, then gas, then water): the wall
        # clock's local seconds since 2000, or None (never, or the time was unknown)
        self.partial_since = [None] * (n + 2)

    def record(self, i, watts, now_ms):
        """Power `watts` (signed: < 0 the circuit gives back) measured on input i at clock
        time now_ms; returns the mJ imported minus the mJ exported.

        The interval since the previous reading is integrated with the trapezoid rule,
        so a load switching between two readings counts half-way; an interval longer
        than max_gap_ms (the loop was held up, or the clock jumped) counts max_gap_ms.
        Between readings of opposite signs the line crosses zero once: the part before
        the crossing and the part after are two triangles, one imported, one exported
        (their difference is the trapezoid's signed area: nothing lost, nothing counted twice).
        """
        last = self._last[i]
        prev = self.power[i]
        self._last[i] = now_ms
        self.power[i] = watts
        if last is None:
            return 0
        dt = ticks_diff(now_ms, last)
        if dt <= 0:
            return 0
        if dt > self.max_gap_ms:
            dt = self.max_gap_ms
            self.late += 1
        if prev >= 0 and watts >= 0:
            return self._count(i, (prev + watts) * dt / 2, 0)
        if prev <= 0 and watts <= 0:
            return self._count(i, 0, -(prev + watts) * dt / 2)
        # opposite signs: the crossing is at |prev| / (|prev| + |watts|) of the interval
        span = 2 * (abs(prev) + abs(watts))
        return self._count(i, prev * prev * dt / span if prev > 0 else watts * watts * dt / span,
                           watts * watts * dt / span if prev > 0 else prev * prev * dt / span)

    def _count(self, i, imp, exp):
        """Add `imp` mJ imported and `exp` mJ exported (>= 0, floats) to input i, each
        rounded to whole mJ with the remainder carried; returns imported - exported mJ."""
        carry = self._carry
        a = b = 0
        if imp:
            x = imp + carry[2 * i]
            a = int(x + 0.5)  # (x + 0.5 >= 0: the carry is at least -0.5)
            carry[2 * i] = x - a
            if a:
                self._add(i, a)
        if exp:
            x = exp + carry[2 * i + 1]
            b = int(x + 0.5)
            carry[2 * i + 1] = x - b
            if b:
                self.export[i].add_mj(b)
                self.export_partial[i].add_mj(b)
        return a - b

    def _add(self, i, mj):
        self.total[i].add_mj(mj)
        self.partial[i].add_mj(mj)
        self.by_period[i][self.period].add_mj(mj)

    def set_period(self, p, now_ms):
        """The grid meter changed tariff period at now_ms: energy up to now_ms goes to the
        old period (each input holding its last power: imported, or exported when it is
        negative), from now_ms to the new one. True when the period changed."""
        p = max(0, min(p, len(self.by_period[0]) - 1))
        if p == self.period:
            return False
        for i in range(self.n):
            last = self._last[i]
            if last is None:
                continue
            dt = ticks_diff(now_ms, last)
            if 0 < dt <= self.max_gap_ms:
                w = self.power[i]
                self._count(i, w * dt if w > 0 else 0, -w * dt if w < 0 else 0)
                self._last[i] = now_ms
        self.period = p
        if p + 1 > self.periods_used:
            self.periods_used = p + 1
        return True

    def add_volume(self, kind, litres):
        v = self.gas_l if kind == "gas" else self.water_l
        v[0] += litres
        v[1] += litres

    def reset_partial(self, which=None, since=None):
        """The one way a sink changes counters: a command to zero one partial counter
        (an input's index: its import and its export, "gas" or "water") or, with
        which=None, all of them."""
        n = self.n
        if which is None:
            ks = range(n + 2)
        elif which in ("gas", "water"):
            ks = (n if which == "gas" else n + 1,)
        elif isinstance(which, int) and 0 <= which < n:
            ks = (which,)
        else:
            raise ValueError("no such partial counter: %r" % (which,))
        for k in ks:
            if k < n:
                self.partial[k].clear()
                self.export_partial[k].clear()
            elif k == n:
                self.gas_l[1] = 0
            else:
                self.water_l[1] = 0
            self.partial_since[k] = since
