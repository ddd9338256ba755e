# Current-transformer inputs: a window of whole mains cycles -> RMS current -> power.
#
# Each input's CT secondary current (0-90 mA; two CTs wired in parallel on one input add
# their currents) flows through a burden resistor biased at mid-rail into an ADC pin.
# A window is sampled one mains cycle per slice, so the event loop is never held for more
# than one cycle (20 ms at 50 Hz); the DC offset is the mean of the window itself, so a
# reading is right from the first window after boot (no slow-settling filter).
from micropython import const
import math
import time
from array import array

from ..kernels import pick

window_sums = pick("sums").window_sums  # viper, or its twin (kernels/__init__.py)
# The largest slice one window_sums call may take: (4095**2) * 127 < 2**31, the kernel's
# sums being 32-bit integers.
_MAX_SLICE = const(127)

# ADC samples come as read_u16() values; the ESP32's ADC has 12 significant bits.
ADC_SHIFT = const(4)
ADC_CENTRE = const(2048)
ADC_MAX = const(4095)
# read_uv() samples are kept in whole mV (ESP-IDF's calibration gives whole mV), about this
_MV_CENTRE = const(1300)
# ESP-IDF's 11 dB calibration leaves its straight line above this raw value (a lookup
# table takes over): windows reaching it do not feed the scale
_LINE_TOP = const(2880)
# the offset of ESP-IDF's 11 dB calibration line in its eFuse-Vref scheme (mV): the
# boot estimate's guess, replaced by the measured slope within seconds
_LINE_OFFSET_MV = const(142)
NOMINAL_UV = 806.0  # 3.3 V over 12 bits: for an ADC that has no read_uv


class Scale:
    """uV per ADC count from the chip's own calibration, without its offset.

    read_uv() is a fresh conversion put through ESP-IDF's calibration line (mV = a * raw
    + b; b is tens of mV, up to ~140 mV at 11 dB), so read_uv()/raw at one point is a
    line through zero, 4-12 % off. Only the slope `a` matters for the RMS of an AC
    signal, and an offset drops out of a spread: a calibration window samples read_u16()
    and read_uv() in turn over the same whole mains cycles, and the ratio of their
    standard deviations is `a`, whatever b is. The signal spreads the samples when a
    circuit carries current; with every circuit idle the ADC's own noise does (4-8
    counts), more slowly. The sums of variances are kept over windows (forgetting
    slowly, to follow temperature), so a loaded window weighs in by its size.

    `uv` is the scale in use; `err_pct` its estimated error (three standard
    errors); `source`: "nominal" (no read_uv), "bias" (the boot guess: the bias point
    less the line's usual offset) or "adc" (measured spreads)."""

    unit = 1  # the ADC unit (unit_scales)

    def __init__(self, adcs=(), uv=NOMINAL_UV):
        self.uv = uv
        self.source = "nominal"
        self.err_pct = None
        self.error = None       # why read_uv cannot be used (a chip without eFuse calibration)
        self.windows = 0        # calibration windows taken
        self._sr = 0.0          # sum of raw variances (counts^2)
        self._su = 0.0          # sum of read_uv variances (mV^2, rounding removed)
        self._e = 0.0           # sum of their sampling variances (counts^4)
        adc = None
        for a in adcs:
            if hasattr(a, "read_uv"):
                adc = a
                break
        if adc is None:
            return
        # the boot guess: the bias point less the line's usual offset
        raw = mv = 0
        try:
            for _ in range(32):
                raw += adc.read_u16() >> ADC_SHIFT
                mv += adc.read_uv()
        except (OSError, ValueError) as e:
            self.error = "read_uv: %s" % e
            return
        raw /= 32
        mv = mv / 32000 - _LINE_OFFSET_MV
        if raw > 400 and mv > 0:
            self.uv = mv * 1000 / raw
            self.source = "bias"
            self.err_pct = 10.0  # the offset guessed: worst chips are ~9 % off

    def due(self, rounds):
        """Whether this round takes a calibration window: every round until the scale
        is within 0.2 %, then once a minute or so."""
        if self.error is not None:
            return False
        return self.err_pct is None or self.err_pct > 0.2 or rounds % 64 == 0

    def add(self, n, var_raw, var_mv, noise_var):
        """One window of n pairs: raw variance (counts^2), read_uv variance (mV^2), and
        the input's noise variance (counts^2, for the error estimate)."""
        if var_raw <= 0:
            return
        sig = var_raw - noise_var if var_raw > noise_var else 0.0
        nv = var_raw - sig
        self._sr += var_raw
        self._su += var_mv - 1 / 12  # read_uv's rounding to whole mV
        # sampling variance of each set's variance (noise: 2s^4/n, and its cross term
        # with the signal 4 s^2 S^2 / n), for the two sets
        self._e += 2 * (2 * nv * nv + 4 * nv * sig) / n
        self.windows += 1
        if self.windows > 256:  # forget slowly: ~500 windows of memory
            self._sr *= 0.995
            self._su *= 0.995
            self._e *= 0.995 * 0.995
        if self._su <= 0:
            return
        err = 150 * math.sqrt(self._e) / self._sr  # three standard errors of the slope
        if self.source == "adc" or self.err_pct is None or err < self.err_pct:
            self.uv = 1000 * math.sqrt(self._su / self._sr)
            self.err_pct = err
            self.source = "adc"


def unit_scales(adcs):
    """One Scale per ADC unit: the ESP32's ADC1 and ADC2 each have a calibration line of
    their own, and a board may put inputs on both (an input's `unit`: 1 unless it says).
    Returns (scales, which): which[k] is the index in scales of input k's."""
    units = []
    which = []
    for a in adcs:
        u = getattr(a, "unit", 1)
        if u not in units:
            units.append(u)
        which.append(units.index(u))
    scales = []
    for i, u in enumerate(units):
        sc = Scale([a for a, w in zip(adcs, which) if w == i])
        sc.unit = u
        scales.append(sc)
    return scales, which


class CTChannel:
    """Calibration and state of one current input (one ADC pin).

    A window's variance (counts^2) less the input's noise variance is the signal's; the
    noise is the board's figure (`noise_counts`) until the input is zeroed (set_zero:
    measured with the circuit off, idle pickup included). Whether the circuit carries
    current is decided on a short average of that rest against the spread an idle
    window's variance has (its standard deviation `noise_sd`): on above 1.5 of it, off
    again below 0.5; a step of more than 4 of it is followed at once. An idle circuit
    reads 0 W."""

    # what most inputs keep as it is: the instance's own table stays at 10-11 entries (a
    # table grows past 12 to 17 slots: 144 B an input instead of 96)
    zero = None         # the input's zero calibration (a dict, see set_zero), or None
    noise_sd = 0.0      # zeroed: the measured spread of an idle window's variance (counts^2)
    n = 400             # samples in the last window
    clipped = 0         # windows with a sample at either rail
    # the last window's power (set by the metering): real W (signed: < 0 gives back), VA,
    # power factor (0..1), how they were found ("vi": from the voltage reference's
    # samples; "v_pf": V x Irms x the configured pf), and the "CT reversed?" flag
    w = 0.0
    va = 0.0
    pf = 1.0
    method = "v_pf"
    reversed = False

    def __init__(self, adc, ct_ratio=1000, burden_ohm=8.2, uv_per_count=None,
                 noise_floor_a=0.05, scale=None):
        self.adc = adc
        if scale is None:
            scale = Scale((), uv_per_count if uv_per_count is not None else getattr(adc, "uv_per_count", NOMINAL_UV))
        self.scale = scale
        self.set_ratio(ct_ratio, burden_ohm)
        self.noise_floor_a = noise_floor_a
        self.set_zero(None)
        self.var = 0.0          # last window's variance (counts^2), noise included
        self.irms = 0.0
        self.offset = float(ADC_CENTRE)  # last window's DC offset, in counts (diagnostics)

    def set_ratio(self, ct_ratio, burden_ohm):
        """The CT's ratio and the burden (a change applies from the next window)."""
        self.a_per_uv = 1e-6 / burden_ohm * ct_ratio  # uV -> V, / burden -> secondary A, * ratio

    @property
    def amps_per_count(self):
        return self.scale.uv * self.a_per_uv

    def set_zero(self, z):
        """z: {"noise_var": counts^2, "noise_sd": counts^2, "offset": counts, "at": ...} as
        zeroing measured it, or None for the board's figure."""
        self.avg = 0.0          # short average of the signal's variance (counts^2)
        self.on = False
        if z:
            self.zero = z
            self.noise_var = z["noise_var"]
            self.noise_sd = z["noise_sd"]
        else:
            if self.zero is not None:
                self.zero = None
                self.noise_sd = 0.0  # computed from the noise and the window's length
            nc = getattr(self.adc, "noise_counts", 0.0)  # the board's figure
            self.noise_var = nc * nc

    def idle_sd(self, n=None):
        """The standard deviation of an idle window's variance (counts^2)."""
        if self.noise_sd:
            return self.noise_sd
        return self.noise_var * math.sqrt(2 / (n or self.n))

    def min_a(self):
        """The smallest steady current told apart from an idle circuit."""
        return max(math.sqrt(1.5 * self.idle_sd()) * self.amps_per_count, self.noise_floor_a)

    def settle(self, var, n):
        """A window's variance (counts^2, n samples) -> irms."""
        self.var = var
        if n != self.n:
            self.n = n
        r = var - self.noise_var
        sd = self.idle_sd(n)
        if abs(r - self.avg) > 4 * sd:  # a load switched on or off: follow at once
            self.avg = r
        else:
            self.avg += (r - self.avg) * 0.25
        self.on = self.avg > (0.5 if self.on else 1.5) * sd
        irms = math.sqrt(r) * self.amps_per_count if self.on and r > 0 else 0.0
        self.irms = irms if irms >= self.noise_floor_a else 0.0


class Sampler:
    """Samples CT channels a window at a time. Buffers are allocated once, here."""

    def __init__(self, sample_us, cycles=10, mains_hz=50, paced=True):
        """sample_us: the ADC sample interval; paced=False when the ADC keeps its own
        time (the simulator's advances its waveform by sample_us per read)."""
        per_cycle = 1000000 // (mains_hz * sample_us)
        if per_cycle > _MAX_SLICE:
            per_cycle = _MAX_SLICE
        self.per_cycle = per_cycle
        self.cycles = cycles
        self.sample_us = sample_us
        self.paced = paced
        self.buf = array("H", bytes(2 * per_cycle))
        self.ubuf = array("H", bytes(2 * per_cycle))  # read_uv samples (mV), calibration windows
        self._out = array("i", (0, 0, 0, 0))
        self.samples = 0

    def fill(self, read):
        """One slice: per_cycle samples, paced sample_us apart on real hardware."""
        buf = self.buf
        n = self.per_cycle
        if not self.paced:
            for i in range(n):
                buf[i] = read()
        else:
            tus = time.ticks_us
            diff = time.ticks_diff
            add = time.ticks_add
            step = self.sample_us
            t = tus()
            for i in range(n):
                buf[i] = read()
                t = add(t, step)
                while diff(t, tus()) > 0:
                    pass
        self.samples += n

    def fill_pair(self, read, read_uv):
        """One slice of a calibration window: read_u16() and read_uv() in turn."""
        buf = self.buf
        ub = self.ubuf
        n = self.per_cycle
        if not self.paced:
            for i in range(n):
                buf[i] = read()
                ub[i] = read_uv() // 1000
        else:
            tus = time.ticks_us
            diff = time.ticks_diff
            add = time.ticks_add
            step = self.sample_us
            t = tus()
            for i in range(n):
                buf[i] = read()
                ub[i] = read_uv() // 1000
                t = add(t, step)
                while diff(t, tus()) > 0:
                    pass
        self.samples += n

    def window_slices(self, ch, scale=None):
        """Generator: one slice per step (the caller yields to the event loop between),
        then stores the window's RMS current on the channel. With `scale`, the window
        also samples read_uv() and feeds the scale (see Scale)."""
        read = ch.adc.read_u16
        uv = getattr(ch.adc, "read_uv", None) if scale is not None else None
        out = self._out
        n1 = self.per_cycle
        s = q = 0
        su = qu = 0
        lo = ADC_MAX
        hi = 0
        for _ in range(self.cycles):
            if uv is not None:
                try:
                    self.fill_pair(read, uv)
                except (OSError, ValueError) as e:  # no eFuse calibration on this chip
                    scale.error = "read_uv: %s" % e
                    uv = None
                    self.fill(read)
            else:
                self.fill(read)
            window_sums(self.buf, n1, ADC_SHIFT, ADC_CENTRE, out)
            s += out[0]
            q += out[1]
            if out[2] < lo:
                lo = out[2]
            if out[3] > hi:
                hi = out[3]
            if uv is not None:
                window_sums(self.ubuf, n1, 0, _MV_CENTRE, out)
                su += out[0]
                qu += out[1]
            yield
        n = n1 * self.cycles
        mean = s / n
        var = q / n - mean * mean
        ch.offset = ADC_CENTRE + mean
        if lo == 0 or hi == ADC_MAX:
            ch.clipped += 1
        if uv is not None and hi < _LINE_TOP and lo > 0:
            m = su / n
            scale.add(n, var, qu / n - m * m, ch.noise_var)
        ch.settle(var, n)

    def measure(self, ch):
        """Whole window at once (tests, benchmarks)."""
        for _ in self.window_slices(ch):
            pass
        return ch.irms
