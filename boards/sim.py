# The simulated board: the same surface as a real board (see boards/README.md), with
# simulated hardware, so `make run` and the tests run the unchanged firmware on the host.
#
#   CT inputs   50 Hz current waveforms from a load scenario with known truth: DC bias,
#               3rd and 5th harmonics, and an ESP32 ADC's faults (SimChip: gain and
#               offset errors, bends near the rails, 4-8 counts of noise, 12 bits,
#               clipping, read_uv through an eFuse-like calibration line)
#   display     a framebuf drawn in the terminal with half-block characters
#   buttons     the keyboard: w/s or arrows = up/down, Enter = ok, b/Backspace = back,
#               r = hold back (long press), q = quit
#   pulses      gas (10 L/pulse) and water (1 L/pulse) meters following the scenario's flows
#   LEDs        shown on the terminal's status line
#   grid meter  a Linky (simtic.py) agreeing with the loads, TIC byte by byte at line rate
#   network     host sockets; binds 127.0.0.1:8080 unless told otherwise
#
# Environment: SUBMETER_SCENARIO (house | steady), SUBMETER_SPEED (clock speed factor),
# SUBMETER_START (HH:MM, or YYYY-MM-DD HH:MM: the simulated time at boot; default now),
# SUBMETER_HTTP_PORT,
# SUBMETER_METER (standard | historic | p1 | c2000 | t211 | p1_closed | none: a Linky's TIC,
# a Fluvius S211 on P1, a three-phase SAGEM C2000-4 or Sagemcom T211, a P1 port not opened),
# SUBMETER_REPLAY (a capture file played into the grid port instead of the simulated
# meter: boards/simreplay.py), SUBMETER_DATA (data directory), SUBMETER_CHIP (the seed of the simulated ESP32's ADC
# faults: gain, offset, noise, calibration line; see SimChip), SUBMETER_TERM (0 = never draw the screen, big = draw it
# with half blocks in a 130-column terminal instead of braille in 80 columns),
# SUBMETER_SNDBUF (bytes: the send buffer of each HTTP connection, to model the ESP32's
# small lwIP buffers; Linux doubles it, 4096 lets ~5.6 KB wait unread, as TCP_SND_BUF 5744).
import math
import os
import random
import sys
import time

try:
    import asyncio
except ImportError:  # CPython tests import the scenario and the ADC model only
    asyncio = None

from submeter.clock import Clock, civil, day_number, local_from_utc, ticks_diff
import simtic

MAINS_HZ = 49.98          # a real grid is never exactly 50 Hz: windows are not synchronous
SAMPLE_US = 500           # the simulated ADC's sample interval (2 kHz)
UV_PER_COUNT = 806.0      # 3.3 V over 12 bits
VOLTAGE = 230.0


def _env(name, default):
    v = os.getenv(name) if hasattr(os, "getenv") else None
    return default if v is None or v == "" else v


# --- load scenarios: watts per input as a function of the time of day (s) ------------

def _in(tod, start_h, end_h):
    h = tod / 3600
    return start_h <= h < end_h if start_h <= end_h else (h >= start_h or h < end_h)


class House:
    """A French house on a winter day, one function per RT2012 usage."""

    pf = (1.0, 1.0, 1.0, 1.0, 1.0)

    def power(self, i, t):
        tod = t % 86400
        if i == 0:  # electric heating: a thermostat cycling 20 min, longer in the evening
            duty = 0.7 if _in(tod, 17, 22) else (0.5 if _in(tod, 6, 17) else 0.3)
            return 2400.0 if (t % 1200) < duty * 1200 else 0.0
        if i == 1:  # cooling: off in winter, the idle circuit must read 0 W
            return 0.0
        if i == 2:  # hot water tank: heats in the off-peak hours
            return 3000.0 if _in(tod, 23.5, 2.5) else 0.0
        if i == 3:  # sockets: chargers and boxes always on, fridge cycling, cooking, TV
            w = 25.0 + (110.0 if (t % 1800) < 900 else 0.0)
            if _in(tod, 12, 12.5) or _in(tod, 19, 19.75):
                w += 2500.0
            if _in(tod, 20, 23):
                w += 140.0
            return w
        w = 60.0  # other: standby, lighting mornings and evenings, the car charging at night
        if _in(tod, 6.5, 8) or _in(tod, 18, 23):
            w += 300.0
        if _in(tod, 1, 4):
            w += 7400.0
        return w

    def flow(self, kind, t):
        """Litres an hour: gas for cooking and a boiler at dawn, water for showers."""
        tod = t % 86400
        if kind == "gas":
            return 900.0 if _in(tod, 5.5, 7) or _in(tod, 19, 19.75) else 0.0
        return 500.0 if _in(tod, 7, 7.25) or _in(tod, 21, 21.2) else (20.0 if _in(tod, 7, 22) else 0.0)


class Steady:
    """Constant loads with known truth, for accuracy tests."""

    pf = (1.0, 1.0, 1.0, 1.0, 1.0)
    watts = (2000.0, 0.0, 1500.0, 450.0, 230.0)
    flows = {"gas": 1200.0, "water": 600.0}  # litres an hour: a boiler running, a shower

    def power(self, i, t):
        return self.watts[i]

    def flow(self, kind, t):
        return self.flows[kind]


SCENARIOS = {"house": House, "steady": Steady}


def parse_start(text, day0):
    """'HH:MM' (on day day0) or 'YYYY-MM-DD HH:MM' -> (day number, seconds into the day)."""
    if len(text) > 5:
        date, text = text[:10], text[11:]
        day0 = day_number(int(date[:4]), int(date[5:7]), int(date[8:10]))
    hh, mm = text.split(":")
    return day0, int(hh) * 3600 + int(mm) * 60


class SimTime:
    """Scenario seconds, unbounded (the clock's ticks wrap), from the board's clock: 0 is
    midnight of day `day0` (a day number, see submeter.clock), when the simulation's
    calendar starts; the meters' clocks and the board's RTC tell that calendar."""

    def __init__(self, clock, start_tod_s=0, day0=None):
        self.clock = clock
        self._last = clock.ticks_ms()
        self._ms = 0
        self.start = start_tod_s
        self.day0 = day_number(2026, 11, 23) if day0 is None else day0

    def local_s(self):
        """Local seconds since 2000, as a meter's clock says."""
        return self.day0 * 86400 + int(self.now_s())

    def utc_s(self):
        local = self.local_s()
        guess = local - 3600                       # CET ...
        if local_from_utc(guess) != local:
            guess -= 3600                          # ... or CEST
        return guess

    def summer(self):
        u = self.utc_s()
        return local_from_utc(u) - u == 7200

    def stamp(self):
        """'YYMMDDhhmmss' of the local time."""
        t = self.local_s()
        y, m, d = civil(t // 86400)
        s = t % 86400
        return b"%02d%02d%02d%02d%02d%02d" % (y % 100, m, d, s // 3600, s // 60 % 60, s % 60)

    def now_s(self):
        now = self.clock.ticks_ms()
        d = ticks_diff(now, self._last)
        if d > 0:
            self._ms += d
            self._last = now
        return self.start + self._ms / 1000


# --- simulated hardware ---------------------------------------------------------------

_WAVES = {}
_PHASES = 1000            # waveform table points per mains cycle
_NOISE = 1021             # noise table length (prime: no short cycle with 40 samples)


def _wave(h3, h5):
    """One mains cycle of sin + h3 sin 3x + h5 sin 5x, in 1/4096 units (ints, rounded)."""
    key = (h3, h5)
    if key not in _WAVES:
        from array import array
        w = array("h", bytes(2 * _PHASES))  # |value| < 4600: 16 bits, 2 KB per table
        for k in range(_PHASES):
            x = 2 * math.pi * k / _PHASES
            w[k] = int(round(4096 * (math.sin(x) + h3 * math.sin(3 * x) + h5 * math.sin(5 * x))))
        _WAVES[key] = w
    return _WAVES[key]


_NOISES = {}


def _noise(sigma, r):
    """One table of noise per level, shared by the inputs (each reads it from its own
    offset): the simulator must not eat the heap the firmware is measured in."""
    if sigma not in _NOISES:
        from array import array
        _NOISES[sigma] = array("h", (int(16 * sigma * (r() + r() + r() - 1.5) * 2.0) for _ in range(_NOISE)))
    return _NOISES[sigma]


class SimChip:
    """One ESP32's ADC1 at 11 dB with a real chip's faults, drawn per chip from `seed`:

    - its raw conversion has a gain error (+-6 %: the Vref spread, 1000-1200 mV) and an
      offset (0-140 mV before raw 0), a soft knee near 0 (nothing below the offset, the
      first ~100 counts bent) and a bend above raw 2880 (the part of the 11 dB range
      ESP-IDF leaves to a lookup table);
    - 4-8 counts of rms noise (near-Gaussian), then 12-bit rounding;
    - read_uv() applies a calibration line like the eFuse one: mV = a * raw + b, close to
      the true transfer's straight part but not on it (slope +-0.2 %, offset +-8 mV), bent
      above raw 2880 as ESP-IDF's table is, rounded to whole mV as ESP-IDF's is.

    The five inputs share one chip (one ADC unit, one calibration line). Arguments given
    explicitly override the drawn values (tests pick a chip's offset and gain)."""

    KNEE = 100      # counts bent at the bottom of the range
    TOP = 2880      # the raw value above which the transfer bends (and the line with it)

    def __init__(self, seed=1, gain=None, offset_mv=None, noise=None, cal_slope=None, cal_offset_mv=None):
        rng = random.Random(seed) if hasattr(random, "Random") else None
        if rng is None:
            random.seed(seed)
        r = rng.random if rng else random.random
        self.gain = gain if gain is not None else 1.0 + (r() - 0.5) * 0.12
        self.offset_mv = offset_mv if offset_mv is not None else r() * 140.0
        self.noise = noise if noise is not None else 4.0 + 4.0 * r()
        slope_err = cal_slope if cal_slope is not None else (r() - 0.5) * 0.004
        off_err = cal_offset_mv if cal_offset_mv is not None else (r() - 0.5) * 16.0
        mv = UV_PER_COUNT / 1000
        # true transfer, in the straight part: mV = true_mv * raw + true_b
        self.true_mv = mv / self.gain
        self.true_b = self.offset_mv + mv * self.KNEE / 2 / self.gain
        # the eFuse-like line read_uv applies
        self.cal_mv = self.true_mv * (1 + slope_err)
        self.cal_b = self.true_b + off_err
        # integer transfer from 1/16 nominal counts (806 uV each) to 1/16 raw counts
        self.off16 = int(self.offset_mv / mv * 16 + 0.5)
        self.g12 = int(self.gain * 4096 + 0.5)
        self.knee16 = self.KNEE * 16
        self.top16 = (self.TOP + self.KNEE // 2) * 16
        self._noise = None
        self._r = r

    def noise_table(self):
        if self._noise is None:
            t = self._noise = _noise(self.noise, self._r)
            m = sum(t) / len(t)
            # the raw noise as zeroing measures it (counts^2): the table's own variance,
            # through the gain, plus 12-bit rounding
            self.noise_var = (sum(x * x for x in t) / len(t) - m * m) / 256 * self.gain * self.gain + 1 / 12
        return self._noise

    def raw(self, v16):
        """The 12-bit raw reading of an input at v16 (1/16 nominal counts, noise included)."""
        x = ((v16 - self.off16) * self.g12) >> 12
        if x <= 0:
            return 0
        if x < self.knee16:
            c = (x * x // (2 * self.knee16) + 8) >> 4
        elif x <= self.top16:
            c = (x - (self.knee16 >> 1) + 8) >> 4
        else:  # above raw ~2880: the conversion bends (counts come faster)
            d = (x - self.top16) >> 4
            c = ((x - (self.knee16 >> 1) + 8) >> 4) + d * d // 2400
        return 4095 if c > 4095 else c

    def mv(self, raw):
        """What ESP-IDF's calibration says a raw reading is, in whole mV."""
        v = self.cal_mv * raw + self.cal_b
        if raw > self.TOP:  # the lookup table's part: not on the line
            v -= 0.3 * self.cal_mv * (raw - self.TOP)
        return int(v + 0.5)

    def true_uv_per_count(self):
        return 1000 * self.true_mv

    def cal_uv_per_count(self):
        return 1000 * self.cal_mv


# the inputs' bias node, 1.336 V (docs/hardware.md), in nominal counts of 806 uV
BIAS_COUNTS = 1658

# what a board assumes of its ADC's noise before an input is zeroed (the ESP32 boards'
# figure, boards/esp32_eth.py): a real chip's is 4-8 counts
NOISE_ASSUMED = 5.0


class SimCT:
    """An ADC pin behind a CT and its burden: read_u16() and read_uv() like machine.ADC.

    Each read advances the waveform by SAMPLE_US (the simulated ADC paces itself); the
    load is looked up once per mains cycle. Integer arithmetic from tables: on the
    32-bit port every float is an object, and a simulated day makes ~10^8 reads.
    `chip`: the SimChip it is on (a board's five share one); noise_counts is what the
    board says of its noise before zeroing (`noise_counts=`; the chip's own by default).
    """

    uv_per_count = UV_PER_COUNT  # the nominal scale (the firmware finds the chip's)

    def __init__(self, scenario, simtime, i, ct_ratio=1000, burden_ohm=8.2, voltage=VOLTAGE,
                 bias_counts=BIAS_COUNTS, h3=0.08, h5=0.03, noise=None, seed=None, chip=None,
                 noise_counts=None):
        self.scenario = scenario
        self.time = simtime
        self.i = i
        self.k = 1.0 / voltage / ct_ratio * burden_ohm / (UV_PER_COUNT * 1e-6)  # W -> rms counts at pf 1
        self.bias16 = int(bias_counts * 16)
        self.h3 = h3
        self.h5 = h5
        self.wave = _wave(h3, h5)
        self.chip = chip or SimChip(seed if seed is not None else 1, noise=noise)
        # near-Gaussian noise (sum of 3 uniforms, unit variance), in 1/16 counts
        self.noise = self.chip.noise_table()
        if noise_counts is None:  # what zeroing would measure
            self.noise_counts = math.sqrt(self.chip.noise_var)
        else:
            self.noise_counts = math.sqrt(noise_counts * noise_counts + 1 / 12)  # + 12-bit rounding
        self.nk = (i * 97) % _NOISE
        self.lcg = i + 1
        # phase in 1/1000 of a table point: 49.98 Hz sampled every SAMPLE_US
        self.inc = int(_PHASES * 1000 * MAINS_HZ * SAMPLE_US / 1000000 + 0.5)
        self.ph = (i * 1100) % (_PHASES * 1000)
        self.amp64 = 0
        self.n = 0
        self.reads = 0

    def truth_w(self):
        return self.scenario.power(self.i, self.time.now_s())

    def read_u16(self):
        if self.n == 0:
            w = self.truth_w()
            pf = self.scenario.pf[self.i]
            rms = w / pf * self.k
            # peak of the fundamental, in 1/64 counts (rounded: a truncated amplitude
            # would read low): the harmonics add to the rms
            self.amp64 = int(64 * rms * math.sqrt(2) / math.sqrt(1 + self.h3 * self.h3 + self.h5 * self.h5) + 0.5)
            self.n = 40
        self.n -= 1
        ph = self.ph + self.inc
        if ph >= _PHASES * 1000:
            ph -= _PHASES * 1000
        self.ph = ph
        nk = self.nk + 1
        if nk == _NOISE:  # a new place in the table each pass: no pattern the
            lcg = (self.lcg * 1103515245 + 12345) & 0x7FFFFFFF  # mains could lock onto
            self.lcg = lcg
            nk = lcg % _NOISE
        self.nk = nk
        # amp (1/64) x wave (1/4096) -> 1/16 counts, rounded; < 2**30 up to ~25 kW
        v = self.bias16 + ((self.amp64 * self.wave[ph // 1000] + 8192) >> 14) + self.noise[nk]
        self.reads += 1
        chip = self.chip
        x = ((v - chip.off16) * chip.g12) >> 12
        if chip.knee16 <= x <= chip.top16:  # the straight part, inline (SimChip.raw)
            return ((x - (chip.knee16 >> 1) + 8) >> 4) << 4
        return chip.raw(v) << 4

    def read_uv(self):
        """A fresh conversion through the chip's calibration line (whole mV, in uV)."""
        return self.chip.mv(self.read_u16() >> 4) * 1000


class SimPin:
    """A digital pin: value() for buttons (1 = released), value(v) for LEDs."""

    def __init__(self, v=1):
        self.v = v
        self.handler = None

    def value(self, v=None):
        if v is None:
            return self.v
        self.v = 1 if v else 0

    def irq(self, handler=None, trigger=None):
        self.handler = handler


class SimDisplay:
    """A 128x64 MONO_VLSB framebuf; show() hands it to `out` (the terminal) when set."""

    width = 128
    height = 64

    def __init__(self, out=None):
        import framebuf
        self.buf = bytearray(self.width * self.height // 8)
        self.fb = framebuf.FrameBuffer(self.buf, self.width, self.height, framebuf.MONO_VLSB)
        for name in ("fill", "pixel", "text", "hline", "vline", "rect", "fill_rect", "line", "blit", "scroll"):
            setattr(self, name, getattr(self.fb, name))
        self.out = out          # callable(text) that draws, or None
        self.frames = 0
        self.contrast_level = 255
        self.on = True

    def contrast(self, v):
        self.contrast_level = v

    def power(self, on):
        """Sleep (False) or wake: asleep, the terminal shows a dark screen."""
        self.on = on
        if self.out:
            self.out(self)

    def lines(self, big=False):
        """The screen as text: 16 lines of 64 braille characters (2x4 pixels each, fits an
        80x24 terminal), or with big=True 32 lines of 128 half-block characters."""
        buf = self.buf
        w = self.width
        rows = []
        if not self.on:  # asleep: a dark panel
            return [" " * (w if big else w // 2)] * (self.height // (2 if big else 4))
        if big:
            for y in range(0, self.height, 2):
                page = (y >> 3) * w
                bit = y & 7
                rows.append("".join(" \u2580\u2584\u2588"[((buf[page + x] >> bit) & 3)] for x in range(w)))
            return rows
        for y in range(0, self.height, 4):
            page = (y >> 3) * w
            bit = y & 7
            row = []
            for x in range(0, w, 2):
                a = (buf[page + x] >> bit) & 15       # left column, 4 pixels
                b = (buf[page + x + 1] >> bit) & 15   # right column
                # braille dots: left 1,2,3,7 -> bits 0,1,2,6; right 4,5,6,8 -> bits 3,4,5,7
                code = (a & 7) | ((a & 8) << 3) | ((b & 7) << 3) | ((b & 8) << 4)
                row.append(chr(0x2800 + code))
            rows.append("".join(row))
        return rows

    def show(self):
        self.frames += 1
        if self.out:
            self.out(self)


def _sigterm_bits(field):
    """Whether SIGTERM (15: bit 14) is set in this process's `field` of /proc/self/status
    (SigBlk: blocked, ShdPnd/SigPnd: pending); False where there is no /proc (not Linux)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return bool(int(line.split()[1], 16) & (1 << 14))
    except (OSError, ValueError):
        pass
    return False


def _real_ms():  # real time, in wrapping ticks (CPython's time has no ticks_ms)
    if hasattr(time, "ticks_ms"):
        return time.ticks_ms()
    return int(time.monotonic() * 1000) & 0x3FFFFFFF


class SimWatchdog:
    """machine.WDT's surface: feed(); `fed` is when, in real ms."""

    def __init__(self, timeout_ms):
        self.timeout_ms = timeout_ms
        self.fed = _real_ms()
        self.feeds = 0

    def feed(self):
        self.fed = _real_ms()
        self.feeds += 1


class SimNet:
    def __init__(self, host):
        self.host = host
        self.up = True  # the Ethernet link (tools/soak pulls the cable)

    async def connect(self):
        return self.host

    def isconnected(self):
        return self.up


class Terminal:
    """Raw-ish keyboard and in-place drawing, when stdin/stdout are a terminal."""

    ICANON = 0o2
    ECHO = 0o10

    def __init__(self):
        self.saved = None
        self.logs = []
        try:
            import termios
            self.termios = termios
            self.saved = termios.tcgetattr(0)
            termios.tcgetattr(1)
        except Exception:
            self.saved = None

    @property
    def active(self):
        return self.saved is not None

    def start(self):
        t = self.termios
        a = list(self.saved)
        a[3] &= ~(self.ICANON | self.ECHO)  # keys one at a time, no echo; Ctrl-C still works
        t.tcsetattr(0, t.TCSANOW, a)
        sys.stdout.write("\x1b[2J\x1b[?25l")

    def restore(self):
        if self.saved is not None:
            self.termios.tcsetattr(0, self.termios.TCSANOW, self.saved)
            sys.stdout.write("\x1b[?25h\n")

    def draw(self, lines, status):
        out = ["\x1b[H"]
        edge = "+" + "-" * len(lines[0]) + "+\x1b[K\n"
        out.append(edge)
        for line in lines:
            out.append("|" + line + "|\x1b[K\n")
        out.append(edge)
        out.append(status + "\x1b[K\n")
        for line in self.logs[-4:]:
            out.append(line + "\x1b[K\n")
        out.append("\x1b[J")
        sys.stdout.write("".join(out))


METERS = {"c2000": ("historic", 3), "t211": ("p1", 3), "p1_closed": ("p1", 1)}  # (line, phases)


class Board:
    """The simulated board: see boards/README.md for the surface."""

    name = "sim"
    uid = "sim"  # the device's id (a real board: the MAC or the chip id)
    ct_sample_us = SAMPLE_US
    ct_self_paced = True  # each read advances the waveform by SAMPLE_US: no waiting

    def __init__(self, scenario=None, clock=None, term=None, display=True, meter=None, data_dir=None):
        """Everything comes from the environment (see the top of this file) unless given:
        scenario: an object with power(i, t) and pf; clock: a Clock or ManualClock;
        term: "0", "1" or "big"; display: False for no display (CPython has no framebuf);
        meter: "standard", "historic" (the TIC mode the simulated Linky sends), "p1" (a
        Fluvius S211), "c2000" (a three-phase SAGEM C2000-4, historic TIC), "t211" (a
        three-phase Fluvius T211), "p1_closed" (a P1 port the grid operator has not
        opened: silent) or "none"; data_dir: the simulated flash (a folder)."""
        self.CONFIG = {"http_host": "127.0.0.1", "http_port": int(_env("SUBMETER_HTTP_PORT", "8080")),
                       "ntp_host": ""}  # the simulated RTC (utc_s) tells the time
        self.data_dir = data_dir or _env("SUBMETER_DATA", "build/sim-data")
        try:
            os.mkdir(self.data_dir)
        except OSError:
            pass
        self.clock = clock or Clock(float(_env("SUBMETER_SPEED", "1")))
        lt = time.localtime()
        day0 = day_number(lt[0], lt[1], lt[2])
        tod = lt[3] * 3600 + lt[4] * 60 + lt[5]
        start = _env("SUBMETER_START", "")
        if start:
            day0, tod = parse_start(start, day0)
        self.time = SimTime(self.clock, tod, day0)
        self.scenario = scenario or SCENARIOS[_env("SUBMETER_SCENARIO", "house")]()
        self._meter_set = bool(meter or _env("SUBMETER_METER", ""))
        meter = meter or _env("SUBMETER_METER", "standard")  # what the simulated Linky sends
        self.meter = None
        self.replay = _env("SUBMETER_REPLAY", "")  # a capture file in the meter's place
        if meter != "none" and not self.replay:
            mode, phases = METERS.get(meter, (meter, 1))
            self.meter = simtic.SimMeter(self.scenario, self.time, mode, phases=phases)
            self.meter.silent = meter == "p1_closed"
        # one ESP32's ADC for the five inputs, its faults drawn from SUBMETER_CHIP; the
        # board says of its noise what a zeroed input would have measured
        self.chip = SimChip(int(_env("SUBMETER_CHIP", "1")))
        self.ct = [SimCT(self.scenario, self.time, i, chip=self.chip) for i in range(5)]
        self.pulse = {"gas": SimPin(), "water": SimPin()}
        self.pulses_sent = {"gas": 0, "water": 0}
        self._pulse_acc = {"gas": 0.0, "water": 0.0}
        self._pulse_t = None
        self.buttons = {"up": SimPin(), "down": SimPin(), "ok": SimPin(), "back": SimPin()}
        # the écocompteur's three: power (green), grid (green, TIC/P1), boot (red, lit from the
        # start until the firmware reports healthy)
        self.leds = {"power": SimPin(0), "grid": SimPin(0), "boot": SimPin(1)}
        mode = term or _env("SUBMETER_TERM", "1")  # 0: no drawing, big: half blocks (130 columns)
        self.big = mode == "big"
        self.term = Terminal() if mode != "0" else None
        if self.term is not None and not self.term.active:
            self.term = None
        self.display = SimDisplay(self._draw if self.term else None) if display else None
        self.net = None
        self._uart = None
        self._stop = None

    # -- surface ------------------------------------------------------------------------
    def configure(self, cfg):
        self.net = SimNet(cfg["http_host"])
        if self.meter is not None and not self._meter_set and cfg["grid"] in ("tic_historic", "tic_standard", "p1"):
            # a config naming the meter: the simulated one is that meter
            self.meter.mode = cfg["grid"][4:] if cfg["grid"].startswith("tic_") else "p1"
            self.meter.period_s = 1.0 if self.meter.mode == "p1" else None
        for k, inp in enumerate(cfg["inputs"]):  # the simulated CTs match the configured ones
            if self.meter is not None:
                self.meter.circuit_phase[k] = inp["phase"]
            ch = self.ct[k]
            ch.k = 1.0 / VOLTAGE / inp["ct_ratio"] * inp["burden_ohm"] / (UV_PER_COUNT * 1e-6)

    def tune_socket(self, writer):
        """SUBMETER_SNDBUF: each HTTP connection's send buffer (unset: the host's own)."""
        n = int(_env("SUBMETER_SNDBUF", "0"))
        sock = getattr(writer, "s", None)  # MicroPython's asyncio stream
        if n and sock is not None:
            sock.setsockopt(1, 7, n)  # SOL_SOCKET, SO_SNDBUF (Linux's numbers; the unix port names neither)

    def grid_port(self, kind):
        """The simulated Linky's line, as a UART opened for `kind` (tic_standard 9600 Bd,
        tic_historic 1200 Bd); opened at the wrong rate it reads noise, as a real one.
        With SUBMETER_REPLAY, the capture file's line instead (boards/simreplay.py)."""
        if self.replay and kind in simtic.KIND_LINE:
            if self._uart is None:
                import simreplay
                self._uart = simreplay.ReplayUart(self.replay, self.time, simtic.KIND_LINE[kind])
            else:
                self._uart.open(simtic.KIND_LINE[kind])
            return self._uart
        if self.meter is None or kind not in simtic.KIND_LINE:
            return None
        line = simtic.KIND_LINE[kind]
        if self._uart is None:
            self._uart = simtic.SimUart(self.meter, self.time, line)
        else:  # one UART, set up again (its buffer is not allocated again)
            self._uart.open(line)
        return self._uart

    PULSE_L = {"gas": 10, "water": 1}  # what one pulse of the simulated meters is worth

    def utc_s(self):
        """The board's RTC: the simulated calendar, in UTC seconds since 2000."""
        return self.time.utc_s()

    def background(self, app):
        self._stop = asyncio.Event()
        tasks = [self._pulse_meters(), self._watchdog_task()]
        if self.term:
            self.term.start()
            tasks.append(self._keyboard())
        if _sigterm_bits("SigBlk"):  # started by tools/hostrun.py (make run)
            tasks.append(self._sigterm())
        return tasks

    async def _sigterm(self):
        """A SIGTERM stops the firmware as `q` does (the unix port cannot catch it: the
        launcher blocks it, and here it is seen pending)."""
        while not (_sigterm_bits("ShdPnd") or _sigterm_bits("SigPnd")):
            await asyncio.sleep_ms(100)  # real time: stops within 0.1 s at any speed
        self.log("submeter: SIGTERM, stopping")
        self._stop.set()

    async def _pulse_meters(self):
        while True:  # every 20 ms of clock time (1 ms real at most: a fast clock's pulses stay apart)
            await asyncio.sleep_ms(max(1, self.clock.real_ms(20)))
            self.pulse_step()

    def pulse_step(self):
        """The gas and water meters: a pulse on their pin each time PULSE_L has flowed
        since the last call."""
        now = self.time.now_s()
        last = self._pulse_t if self._pulse_t is not None else now
        self._pulse_t = now
        for kind, pin in self.pulse.items():
            self._pulse_acc[kind] += self.scenario.flow(kind, now) * (now - last) / 3600
            if self._pulse_acc[kind] >= self.PULSE_L[kind]:  # one at a time, as a meter's
                self._pulse_acc[kind] -= self.PULSE_L[kind]    # dial turns (the rest follows)
                self.pulses_sent[kind] += 1
                if pin.handler:
                    pin.handler(pin)

    async def stopped(self):
        await self._stop.wait()

    def healthy(self):
        """As a real board's (esp32_eth.EthBoard.healthy): the boot LED off if there is one,
        and on the virtual device with OTA slots (tools/virtdev --kind ours: its fake esp32
        module) the running app marked valid. The plain host has no esp32 module."""
        led = self.leds.get("boot")
        if led is not None:
            led.value(0)
        try:
            from esp32 import Partition
            label = Partition(Partition.RUNNING).info()[4]
        except (ImportError, AttributeError, OSError):
            return None
        try:
            Partition.mark_app_valid_cancel_rollback()
        except OSError:
            return "app " + label
        return "app %s marked valid" % label

    def reset(self):
        """After a crash (main.py): the virtual device's hard reset (tools/virtdev); the
        plain host has none and the run ends with the error, as it always did."""
        try:
            import machine
        except ImportError:
            return
        if hasattr(machine, "reset"):
            machine.reset()

    def watchdog(self, timeout_ms):
        """As a real board's: a watchdog the App feeds each metering round. Here a task of
        the board (_watchdog_task) watches it in real time; unfed for `timeout_ms`, it
        "resets" the board: the cause is kept for the next start (reset_cause), the virtual
        device resets (machine.reset), the plain host stops as `q` does. A real one is the
        chip's: it also resets a loop that hangs, which a task cannot see."""
        wd = getattr(self, "_wdt", None)
        if wd is None:
            wd = self._wdt = SimWatchdog(timeout_ms)
        wd.timeout_ms = timeout_ms
        wd.feed()
        return wd

    async def _watchdog_task(self):
        while True:
            await asyncio.sleep_ms(100)
            wd = getattr(self, "_wdt", None)
            if wd is not None and ticks_diff(_real_ms(), wd.fed) > wd.timeout_ms:
                self.log("submeter: the watchdog was not fed for %d ms: reset" % wd.timeout_ms)
                try:
                    with open(self._reset_path(), "w") as f:
                        f.write("watchdog")
                except OSError:
                    pass
                self.reset()  # the virtual device: does not return
                self._stop.set()
                return

    def _reset_path(self):
        return self.data_dir + "/.reset_cause"

    def reset_cause(self):
        """"watchdog" after the simulated watchdog reset the board (read once), else
        "power": every other start of the host is a power-up."""
        try:
            with open(self._reset_path()) as f:
                cause = f.read().strip()
            os.remove(self._reset_path())
        except OSError:
            cause = ""
        return cause or "power"

    def close(self):
        if self.term:
            self.term.restore()
            self.term = None  # from now on, log lines go to the terminal as they come

    def log(self, *args):
        line = " ".join(str(a) for a in args)
        if self.term:
            self.term.logs.append(line)
            del self.term.logs[:-4]
        else:
            print(line)

    # -- terminal -----------------------------------------------------------------------
    def _draw(self, disp):
        lines = disp.lines(self.big)
        led = lambda n: "\u25cf" if self.leds[n].value() else "\u25cb"
        status = "PWR %s  TIC %s  BOOT %s  w/s up/down, Enter ok, b back, r long back, q quit" % (
            led("power"), led("grid"), led("boot"))
        self.term.draw(lines, status)

    async def _keyboard(self):
        import select
        p = select.poll()
        p.register(sys.stdin, select.POLLIN)
        keys = {"w": "up", "s": "down", "\n": "ok", "\r": "ok", "b": "back", "\x7f": "back",
                "\x08": "back", "r": "back"}
        esc = ""
        while True:
            while p.poll(0):
                ch = sys.stdin.read(1)
                if esc or ch == "\x1b":
                    esc += ch
                    if len(esc) == 3:
                        name = {"A": "up", "B": "down"}.get(esc[2])
                        esc = ""
                        if name:
                            await self._press(name, 80)
                    continue
                if ch == "q":
                    self._stop.set()
                    return
                name = keys.get(ch)
                if name:
                    await self._press(name, 2000 if ch == "r" else 80)
            await asyncio.sleep_ms(30)

    async def _press(self, name, ms):
        pin = self.buttons[name]
        pin.value(0)
        await asyncio.sleep_ms(ms)
        pin.value(1)
