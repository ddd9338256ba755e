# Pulse inputs (gas and water meters: reed switch or open collector).
#
# The IRQ handler allocates nothing: it reads the tick counter, drops a bounce (a
# pulse closer than min_ms to the previous one) and increments a preallocated counter
# that only it writes. The metering task takes the difference from the last count it
# saw, so no pulse is lost or counted twice, whatever the moment the IRQ comes.
from array import array

from micropython import const

_MASK = const(0x3FFFFFFF)
_RING = const(8)  # the flow is averaged over the last 8 pulses (7 intervals)


class PulseInput:
    def __init__(self, pin, ticks_ms, min_ms=50, trigger=None):
        self.pin = pin
        self.min_ms = min_ms
        self._ticks = ticks_ms
        self._n = array("i", (0,))        # pulses, written by the IRQ only
        self._t = array("i", (0,))        # tick of the last pulse
        self._ring = array("i", bytes(4 * _RING))  # ticks of the last pulses, a ring
        self._bounces = array("i", (0,))
        self._seen = 0                    # the count the task took last
        self._cb = self._irq              # one bound method, made once (no alloc per IRQ)
        if trigger is None:
            pin.irq(handler=self._cb)
        else:
            pin.irq(handler=self._cb, trigger=trigger)

    def _irq(self, pin):
        now = self._ticks()
        d = ((now - self._t[0] + (1 << 29)) & _MASK) - (1 << 29)  # ticks_diff, inline
        if self._n[0] and d < self.min_ms:
            self._bounces[0] = (self._bounces[0] + 1) & _MASK
            return
        self._t[0] = now
        self._n[0] = (self._n[0] + 1) & _MASK
        self._ring[self._n[0] & (_RING - 1)] = now

    def take(self):
        """Pulses since the last take()."""
        n = self._n[0]
        delta = (n - self._seen) & _MASK
        self._seen = n
        return delta

    @property
    def bounces(self):
        return self._bounces[0]

    def interval_ms(self, now):
        """The mean time between the last pulses (up to 8 of them, so one late or early
        contact does not swing the flow), or the time since the last one if that is longer
        (the flow is falling); None before two pulses."""
        n = self._n[0]
        if n < 2:
            return None
        k = min(n - 1, _RING - 1)  # intervals in the ring
        last = self._ring[n & (_RING - 1)]
        first = self._ring[(n - k) & (_RING - 1)]
        gap = (((last - first + (1 << 29)) & _MASK) - (1 << 29)) // k
        since = ((now - last + (1 << 29)) & _MASK) - (1 << 29)
        return max(gap, since, 1)
