# One clock for the whole firmware, so the host simulation can run faster than real time.
# Ticks follow MicroPython's convention: they wrap at 2**30 and are compared with ticks_diff.
import time

from micropython import const

TICKS_PERIOD = const(1 << 30)
_TICKS_MAX = const((1 << 30) - 1)
_TICKS_HALF = const(1 << 29)


def ticks_add(t, delta):
    return (t + delta) & _TICKS_MAX


def ticks_diff(a, b):
    return ((a - b + _TICKS_HALF) & _TICKS_MAX) - _TICKS_HALF


class Clock:
    """Monotonic ms ticks, `speed` times faster than the source clock.

    `source_ms` is a function returning MicroPython-style wrapping ticks (time.ticks_ms
    on the device); tests pass their own. Call ticks_ms() at least every 2**29 source ms
    (6 days): every task does, many times a second.
    """

    def __init__(self, speed=1, source_ms=None):
        self.speed = speed
        self._src = source_ms or time.ticks_ms
        self._last = self._src()
        self._ticks = 0
        self._frac = 0.0  # sub-ms remainder when speed is not an integer

    def ticks_ms(self):
        now = self._src()
        d = ticks_diff(now, self._last)
        if d > 0:
            self._last = now
            if self.speed == 1:
                self._ticks = ticks_add(self._ticks, d)
            else:
                f = d * self.speed + self._frac
                whole = int(f)
                self._frac = f - whole
                self._ticks = ticks_add(self._ticks, whole)
        return self._ticks

    def real_ms(self, ms):
        """Real milliseconds to sleep for `ms` of clock time."""
        return max(0, int(ms / self.speed))


class ManualClock:
    """A clock that moves only when told to: for tests."""

    speed = 1

    def __init__(self, start=0):
        self._ticks = start & _TICKS_MAX

    def ticks_ms(self):
        return self._ticks

    def advance(self, ms):
        self._ticks = ticks_add(self._ticks, ms)

    def real_ms(self, ms):
        return 0
