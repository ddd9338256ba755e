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

from ..clock import ticks_add as _add, ticks_diff as _diff
from ..kernels import pick

slice_sums = pick("sums").slice_sums  # viper, or its twin (kernels/__init__.py)
# The most sets one slice_sums call may take: (4095**2) * 127 < 2**31, the kernel's
# per-slice sums being 32-bit integers.
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


class VRef:
    """The voltage reference (docs/hardware.md): an AC-AC adapter's secondary through a
    divider into an ADC pin, read in every set before the currents. From each window:
    whether it is there (`present`: a mains-sized sine), its rms in counts, the mains
    frequency from its rising zero crossings (timed by the sampler's clock), and the
    volts: counts x the ADC unit's scale x `v_per_v` (the config's vref_v_per_v) x `k`
    (1, or the factor that matches it to the grid meter's voltage: match())."""

    MIN_COUNTS = 100    # rms counts of a fitted reference: ~650 at 230 V; noise alone ~5

    def __init__(self, adc, scale, v_per_v):
        self.adc = adc
        self.scale = scale
        self.v_per_v = v_per_v
        self.k = 1.0
        self.matched = 0        # windows matched to the grid meter's voltage
        self._uv = 0.0          # the ADC scale (uV a count) they were matched at
        self.present = False
        self.var = 0.0
        self.offset = float(ADC_CENTRE)
        self.hz = None
        self.v = None           # mains volts rms (None: no reference)
        nc = getattr(adc, "noise_counts", 0.0)
        self.noise_var = nc * nc
        self.clipped = 0

    def v_per_count(self):
        return self.scale.uv * 1e-6 * self.v_per_v * self.k

    def settle(self, var, hz):
        self.var = var
        r = var - self.noise_var
        self.present = r > self.MIN_COUNTS * self.MIN_COUNTS and hz is not None and 40 < hz < 70
        self.hz = hz if self.present else None
        self.v = math.sqrt(r) * self.v_per_count() if self.present else None

    def match(self, grid_v):
        """The grid meter's rms voltage of the reference's phase (it measures it, to a
        volt or better): the reference follows it, averaged over ~a minute of windows
        (its 1 V steps and the adapter's drift with temperature)."""
        if not self.present or not grid_v or not 0.7 < grid_v / self.v < 1.4:
            return
        uv = self.scale.uv
        if abs(uv - self._uv) > 0.002 * uv:  # the ADC's scale moved (it calibrates at boot):
            self.matched = 0                 # the average starts again from this window
            self._uv = uv
        want = self.k * grid_v / self.v
        self.matched += 1
        self.k += (want - self.k) / min(self.matched, 60)


def real_power(c0, c1, a, theta):
    """The mean of v x i (counts^2) with the voltage taken at the current's own instant:
    c0 pairs each current sample with the voltage sample of its set, c1 with the next
    set's; the voltage at a fraction `a` of a set after its sample is interpolated along
    the mains sine (exact for the fundamental, whatever `a`: also outside 0..1); theta:
    a set's length in radians of the mains cycle."""
    return (math.sin((1 - a) * theta) * c0 + math.sin(a * theta) * c1) / math.sin(theta)


def lag_angle(c0, c1, a, theta):
    """The angle (radians) by which the current lags the voltage once corrected by `a` (see
    real_power): 0 on a resistive load when the correction is right."""
    y = (c1 - c0 * math.cos(theta)) / math.sin(theta)
    return a * theta - math.atan2(y, c0)


class Sampler:
    """Samples every input interleaved: each set reads the voltage reference (when the
    board has one), then each CT input, then, in a calibration window, one input's
    read_uv(); sets are paced `per_cycle` to a mains cycle, and a slice is one cycle, so
    the event loop is never held longer. A window is `cycles` slices: every input is
    watched the whole time (a burst-fired load cannot alias against it). Buffers are
    allocated once, here.

    set_us: the board's set interval (500 us: 40 sets a 50 Hz cycle); the cycle's length
    follows the mains frequency the reference measures (else mains_hz), so a slice is
    always a whole cycle. tus: the sampling clock (time.ticks_us; the simulator's ADC
    keeps its own), wait(t): waits until tus() reaches t (None: a busy loop)."""

    def __init__(self, set_us, cycles=50, mains_hz=50, tus=None, wait=None, nch=7):
        per_cycle = (1000000 // mains_hz + set_us // 2) // set_us
        if per_cycle > _MAX_SLICE:
            per_cycle = _MAX_SLICE
        self.per_cycle = per_cycle
        self.cycles = cycles
        self.nominal_hz = mains_hz
        self.hz = float(mains_hz)
        self.tus = tus or getattr(time, "ticks_us", None)  # (CPython has none: its tests give one)
        self.wait = wait
        self.buf = array("H", bytes(2 * per_cycle * nch))
        # each input's covariances with the reference (counts^2), its sample with the
        # reference's of its set (2k) and of the next set (2k + 1): real_power's c0, c1
        self.cov = array("f", bytes(8 * nch))
        self.acc = array("i", bytes(40 * nch))
        self.centre = array("i", bytes(4 * nch))
        self.off = array("i", bytes(4 * (per_cycle + 1)))
        self._pace(self.hz)
        self.samples = 0        # reads (all channels)
        self.read_us = 0.0      # one read's time, measured (the lag between the channels)
        self.set_us = 1e6 / (self.hz * per_cycle)

    def _pace(self, hz):
        """The sets' start times in a slice (us from its start): per_cycle to a cycle of hz."""
        self.hz = hz
        cyc = 1e6 / hz
        n = self.per_cycle
        off = self.off
        for k in range(n + 1):
            off[k] = int(k * cyc / n + 0.5)
        self.set_us = cyc / n

    def window(self, chans, vref=None, cal=None):
        """Generator: one slice (a mains cycle) per step (the caller yields to the event loop
        between), then each channel's window settled (ch.settle: irms; cov[2k], cov[2k+1]:
        input k's covariances with the reference), the reference's (vref.settle: its volts and the
        frequency, which paces the next window). cal: a CTChannel among chans whose
        read_uv() is sampled too, its scale fed (see Scale)."""
        reads = []
        if vref is not None:
            reads.append(vref.adc.read_u16)
        for ch in chans:
            reads.append(ch.adc.read_u16)
        core = len(reads)
        if cal is not None:
            uv = cal.adc.read_uv
            try:
                uv()
                reads.append(lambda: (uv() // 1000) << 4)  # whole mV, in read_u16's units
            except (OSError, ValueError) as e:  # no eFuse calibration on this chip
                cal.scale.error = "read_uv: %s" % e
                cal = None
        nch = len(reads)
        every = [vref] if vref is not None else []
        every += chans
        acc = self.acc
        centre = self.centre
        for c in range(nch):
            b = 10 * c
            for j in range(8):
                acc[b + j] = 0
            acc[b + 8] = ADC_MAX
            acc[b + 9] = 0
            centre[c] = int(every[c].offset) if c < core else _MV_CENTRE
        vch = 0 if vref is not None else -1
        buf = self.buf
        n = self.per_cycle
        off = self.off
        tus = self.tus
        wait = self.wait
        diff = getattr(time, "ticks_diff", _diff)  # (the built-ins where there are: MicroPython's)
        add = getattr(time, "ticks_add", _add)
        first = last = None
        crossings = 0
        rsum = 0
        for _ in range(self.cycles):
            t0 = tus()
            j = 0
            for k in range(n):
                if k == 0:  # the first set's reads timed: the lag between the channels
                    ta = tus()
                    for c in range(core):
                        buf[j] = reads[c]()
                        j += 1
                    rsum += diff(tus(), ta)
                    if core < nch:
                        buf[j] = reads[core]()
                        j += 1
                else:
                    for r in reads:
                        buf[j] = r()
                        j += 1
                t = add(t0, off[k + 1])
                if wait is not None:
                    wait(t)
                else:
                    while diff(t, tus()) > 0:
                        pass
            pos = slice_sums(buf, n, nch, vch, centre, acc)
            if pos >= 0:  # the voltage's first rising crossing in this cycle: its time
                tc = add(t0, off[pos >> 8] + ((off[(pos >> 8) + 1] - off[pos >> 8]) * (pos & 255) >> 8))
                if first is None:
                    first = tc
                else:
                    crossings += 1
                    last = tc
            yield
        slices = self.cycles
        self.samples += slices * n * nch
        self.read_us = rsum / (slices * core)  # (the first set's reads, each slice)
        n0 = slices * n

        def moments(c):  # channel c's mean (about its centre) and variance, and its range
            b = 10 * c
            m = (acc[b + 1] * 16777216 + acc[b]) / n0
            return m, (acc[b + 3] * 16777216 + acc[b + 2]) / n0 - m * m, acc[b + 8], acc[b + 9]

        if core < nch:  # the calibration's read_uv (mV) against its input's raw spread, first:
            _, var_mv, _, _ = moments(core)  # every input of this window is read at the new scale
            _, var, lo, hi = moments(every.index(cal))
            if hi < _LINE_TOP and lo > 0:
                cal.scale.add(n0, var, var_mv, cal.noise_var)
        for c in range(core):
            m, var, lo, hi = moments(c)
            ch = every[c]
            ch.offset = centre[c] + m
            if lo == 0 or hi == ADC_MAX:
                ch.clipped += 1
            if ch is vref:
                hz = crossings * 1e6 / _diff(last, first) if crossings else None
                vref.settle(var, hz)
                continue
            if vch >= 0:  # covariances with the reference (its mean and this channel's out)
                b = 10 * c
                mv = (acc[1] * 16777216 + acc[0]) / n0
                cov = self.cov
                cov[2 * c - 2] = (acc[b + 5] * 16777216 + acc[b + 4]) / n0 - mv * m
                cov[2 * c - 1] = (acc[b + 7] * 16777216 + acc[b + 6]) / n0 - mv * m
            ch.settle(var, n0)
        if vref is not None and vref.present and abs(vref.hz - self.hz) > 0.005 \
                and abs(vref.hz - self.nominal_hz) < 5:
            self._pace(vref.hz)

