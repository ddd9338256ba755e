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
    on the device); tests pass their own. At speed 1 (the device) the ticks are the
    source's, shifted: nothing is stored after the start. At another speed (the host
    simulation), call ticks_ms() at least every 2**29 source ms (6 days): every task does,
    many times a second; its state is one tuple, stored in one go.
    """

    def __init__(self, speed=1, source_ms=None, start=0):
        self.speed = speed
        self._src = source_ms or time.ticks_ms
        now = self._src()
        start &= _TICKS_MAX  # (tools/bench/soak.py starts near the wrap)
        self._base = (now - start) & _TICKS_MAX  # speed 1: ticks = source - base
        self._state = (now, start, 0.0)  # other speeds: (source, ticks, sub-ms remainder) at the last read

    def ticks_ms(self):
        if self.speed == 1:
            return (self._src() - self._base) & _TICKS_MAX
        last, ticks, frac = self._state
        now = self._src()
        d = ticks_diff(now, last)
        if d > 0:
            f = d * self.speed + frac
            whole = int(f)
            ticks = ticks_add(ticks, whole)
            # one store: an IRQ handler reading in the middle of this call (raw_ms) sees
            # the state before or after it, never half of each
            self._state = (now, ticks, f - whole)
        return ticks

    def raw_ms(self):
        """The ticks now, as ticks_ms() would give them, computed without storing anything:
        for IRQ handlers (pulses.py), which may land in the middle of a task's ticks_ms().
        At speed 1 (the device) it allocates nothing either."""
        if self.speed == 1:
            return (self._src() - self._base) & _TICKS_MAX
        last, ticks, frac = self._state
        d = ticks_diff(self._src(), last)
        if d > 0:
            return ticks_add(ticks, int(d * self.speed + frac))
        return ticks

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

    raw_ms = ticks_ms  # reading stores nothing here

    def advance(self, ms):
        self._ticks = ticks_add(self._ticks, ms)

    def real_ms(self, ms):
        return 0


# --- the calendar: local time as seconds since 2000-01-01 00:00 ------------------------
# (MicroPython's epoch on the device; the unix port's is 1970, so the firmware does its own
# date arithmetic and never relies on time.localtime.)

def _march_days(y, m, d):
    # days since a fixed origin, counting years from March so that February comes last
    if m < 3:
        y -= 1
        m += 12
    return 365 * y + y // 4 - y // 100 + y // 400 + (153 * (m - 3) + 2) // 5 + d


_DAY0 = _march_days(2000, 1, 1)
_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def day_number(y, m, d):
    """Days since 2000-01-01 (which is day 0, a Saturday)."""
    return _march_days(y, m, d) - _DAY0


def leap(y):
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


def month_days(y, m):
    return 29 if m == 2 and leap(y) else _MONTH_DAYS[m - 1]


def civil(n):
    """(year, month, day) of day number n."""
    y = 2000 + n * 400 // 146097
    while day_number(y, 1, 1) > n:
        y -= 1
    while day_number(y + 1, 1, 1) <= n:
        y += 1
    n -= day_number(y, 1, 1)
    m = 1
    while n >= month_days(y, m):
        n -= month_days(y, m)
        m += 1
    return y, m, n + 1


def weekday(n):
    """0 = Monday ... 6 = Sunday, of day number n."""
    return (n + 5) % 7


def month_number(y, m):
    """Months since January 2000."""
    return (y - 2000) * 12 + m - 1


def month_of_day(n):
    y, m, _ = civil(n)
    return month_number(y, m)


def month_civil(k):
    return 2000 + k // 12, k % 12 + 1


def _last_sunday(y, m):
    n = day_number(y, m, month_days(y, m))
    return n - (weekday(n) + 1) % 7


def local_from_utc(utc_s, offset_min=60, dst="eu"):
    """Local seconds from UTC seconds (both since 2000): a fixed offset, plus an hour of
    summer time under the EU rule (last Sunday of March to last Sunday of October, at 01:00
    UTC), which France, Belgium and the Netherlands follow."""
    local = utc_s + offset_min * 60
    if dst == "eu":
        y = civil(utc_s // 86400)[0]
        if _last_sunday(y, 3) * 86400 + 3600 <= utc_s < _last_sunday(y, 10) * 86400 + 3600:
            local += 3600
    return local


def meter_time(text):
    """Local seconds from a meter's clock: the TIC horodate 'SYYMMDDhhmmss' (S the season
    letter E/H, lower case when the meter's clock is not synchronised, or a space) or the
    P1 timestamp 'YYMMDDhhmmssX' (X = S/W, absent before DSMR 4). None when it is no date
    (or one before 2020, which no meter still in service can mean)."""
    if not text:
        return None
    if len(text) == 13 and text[0] in "EeHh ":
        text = text[1:]
    elif len(text) == 13 and text[12] in "SW":
        text = text[:12]
    if len(text) != 12 or not text.isdigit():
        return None
    y, mo, d = 2000 + int(text[0:2]), int(text[2:4]), int(text[4:6])
    h, mi, s = int(text[6:8]), int(text[8:10]), int(text[10:12])
    if y < 2020 or not (1 <= mo <= 12 and 1 <= d <= month_days(y, mo) and h < 24 and mi < 60 and s < 60):
        return None  # placeholders such as 000101000001W: the meter has no time to give
    return day_number(y, mo, d) * 86400 + h * 3600 + mi * 60 + s


def date_str(n):
    return "%04d-%02d-%02d" % civil(n)


def time_str(local_s):
    n, s = divmod(local_s, 86400)
    return "%s %02d:%02d" % (date_str(n), s // 3600, s // 60 % 60)


class WallClock:
    """Local wall time, set from the best source at hand and carried on by the monotonic
    clock between settings. Sources, best first: the grid meter's own clock (legal local
    time, sent in every frame by a Linky in standard mode and by P1 meters), then NTP or the
    board's RTC (UTC, turned to local time with the configured offset and EU summer time);
    a time set by hand from the page ("set": a browser's clock, POST /api/time) ranks
    between NTP and the RTC (it corrects an RTC that is wrong; a meter or NTP corrects it).
    A worse source does not override a better one heard within the last two hours."""

    RANK = {"meter": 4, "ntp": 3, "set": 2, "rtc": 1}
    HOLD_MS = 2 * 3600 * 1000

    def __init__(self, ticks_ms, offset_min=60, dst="eu"):
        self._ticks = ticks_ms
        self.offset_min = offset_min
        self.dst = dst
        self._base = None       # local seconds at tick self._at
        self._at = 0
        self._set_at = 0        # when the source last spoke; _held until HOLD_MS after
        self._held = False
        self.source = None
        self.sets = 0
        self.steps = 0          # settings that moved the time by more than 10 s
        self._meter_at = None   # when the grid meter's clock was last taken

    def set_local(self, local_s, source):
        now = self._ticks()
        if self._base is not None and self.RANK[source] < self.RANK[self.source]:
            if self._held and ticks_diff(now, self._set_at) < self.HOLD_MS:
                return False
        cur = self.now()
        if cur is not None and abs(cur - local_s) > 10:
            self.steps += 1
        self._base = int(local_s)
        self._at = now
        self._set_at = now
        self._held = True
        self.source = source
        self.sets += 1
        return True

    def set_utc(self, utc_s, source):
        return self.set_local(local_from_utc(int(utc_s), self.offset_min, self.dst), source)

    def follow_meter(self, text, now):
        """The grid meter's clock in a valid frame (meter_time's text, or None): the legal
        local time, taken at most once a minute."""
        if text and (self._meter_at is None or ticks_diff(now, self._meter_at) >= 60000):
            t = meter_time(text)
            if t is not None:
                self.set_local(t, "meter")
                self._meter_at = now

    def now(self):
        """Local seconds since 2000, or None while no source has spoken."""
        if self._base is None:
            return None
        now = self._ticks()
        if self._held and ticks_diff(now, self._set_at) >= self.HOLD_MS:
            self._held = False  # (checked before the ticks can wrap: now() runs every second)
        d = ticks_diff(now, self._at)
        if d >= 3600000:  # move the base on, so the ticks never wrap under it
            s = d // 1000
            self._base += s
            self._at = ticks_add(self._at, s * 1000)
            d -= s * 1000
        return self._base + d // 1000

    def today(self):
        t = self.now()
        return None if t is None else t // 86400
