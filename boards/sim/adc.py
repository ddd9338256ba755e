# The simulated ESP32 ADC behind the CT inputs and the voltage reference: a chip's faults
# (SimChip), the mains (SimMains: its voltage wave with harmonics, slow drifts of amplitude
# and frequency, and the ADC's own clock: each conversion takes READ_US), the CT waveforms
# of a load scenario (SimCT: each load's current wave, its power factor and harmonics, in
# step with the voltage; the CT's phase lead; a CT fitted backwards) and the reference
# (SimVRef), read through the chip with machine.ADC's read_u16 and read_uv.
import math
import random

MAINS_HZ = 49.98          # a real grid is never exactly 50 Hz: windows are not synchronous
SAMPLE_US = 500           # the sampler's set interval (the ESP32 boards': 40 sets a cycle)
READ_US = 52              # one conversion, as MicroPython's ADC.read_u16 takes on an ESP32 (40-70 us)
VREF_V_PER_V = 460.0      # the reference's divider as docs/hardware.md gives it (config vref_v_per_v)
CT_LEAD_DEG = (1.2, 2.6, 0.8, 3.1, 1.7)  # each simulated CT's phase lead (a few degrees: SCT-013 class)
UV_PER_COUNT = 806.0      # 3.3 V over 12 bits
VOLTAGE = 230.0

_PHASES = 1000            # waveform table points per mains cycle
_NOISE = 1021             # noise table length (prime: no short cycle with 40 samples)
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



_PH = 1000000000          # mains phase units a cycle (1e-9 of a cycle); the tables have 1000 points
_PT = 1000000             # phase units a table point
_MASK = 0x3FFFFFFF        # the ADC clock wraps as time.ticks_us does


def _table(terms):
    """One mains cycle of sum(a sin(h x - p)) over (h, a, p degrees), in 1/4096 units."""
    from array import array
    w = array("h", bytes(2 * _PHASES))
    for k in range(_PHASES):
        x = 2 * math.pi * k / _PHASES
        w[k] = int(round(4096 * sum(a * math.sin(h * x - math.radians(p)) for h, a, p in terms)))
    return w


# The mains voltage: 3rd, 5th and 7th harmonics as a European grid has them (the 5th the
# largest, flattening the tops)
V_TERMS = ((1, 1.0, 0), (3, 0.01, 0), (5, 0.03, 180), (7, 0.01, 0))
# Loads by their current's shape (terms as V_TERMS; the fundamental's lag in degrees):
#   resistive   a heater, a kettle, a water heater: the current is the voltage's shape
#   motor       a pump or a fan without correction, power factor ~0.5 (60 degrees)
#   lag30       an inductive load at pf ~0.87
#   heatpump    an inverter heat pump: a lagging fundamental and its harmonics
#   smps        switch-mode supplies without PFC (chargers, boxes, TVs, LED drivers): a
#               current that flows in peaks at the voltage's tops, rich in odd harmonics
#   led         LED lighting on capacitive drivers: a leading current, harmonics
SHAPES = {
    "resistive": V_TERMS,
    "motor": ((1, 1.0, 60), (3, 0.03, 0)),
    "lag30": ((1, 1.0, 30), (5, 0.02, 0)),
    "heatpump": ((1, 1.0, 22), (3, 0.12, 30), (5, 0.25, 200), (7, 0.12, 20), (11, 0.05, 0)),
    "smps": ((1, 1.0, -8), (3, 0.80, 156), (5, 0.55, -48), (7, 0.32, 108), (9, 0.14, -96), (11, 0.06, 60)),
    "led": ((1, 1.0, -35), (3, 0.35, 180), (5, 0.15, 0)),
}
_SHAPES = {}


def shape(name):
    """(table, the mean of v x i over a cycle for unit fundamentals, the current's rms):
    what the truth of a load of that shape is reckoned from."""
    if name not in _SHAPES:
        v = _table(V_TERMS)
        t = v if name == "resistive" else _table(SHAPES[name])
        n = len(t)
        vi = sum(v[k] * t[k] for k in range(n)) / n / (4096 * 4096)
        ri = math.sqrt(sum(x * x for x in t) / n) / 4096
        _SHAPES[name] = (t, vi, ri)
    return _SHAPES[name]


def v_rms_unit():
    """The rms of the voltage's shape for a fundamental of peak 1."""
    t = shape("resistive")[0]
    return math.sqrt(sum(x * x for x in t) / len(t)) / 4096


def true_pf(name):
    t, vi, ri = shape(name)
    return vi / (v_rms_unit() * ri)


class SimMains:
    """The mains and the ADC's clock. `t`: the ADC's clock (us, wrapping as ticks_us); each
    conversion advances it by READ_US, the sampler's waits (wait_until) to their end. The
    mains phase follows it at the grid's frequency, which drifts slowly about 49.98 Hz (as
    the grid's does, +-0.05 Hz over minutes), as the voltage does about 230 V (+-2 %).
    `s`: the scenario's seconds the loads are looked up at; it follows the board's
    calendar (SimTime): moved on when the calendar is ahead by more than 50 ms (the ADC's
    clock only runs while the firmware samples), back when it is 2 s behind (a manual clock,
    as simday's, stands still while a round samples: the ADC's time runs on meanwhile)."""

    def __init__(self, simtime, read_us=READ_US, drift=True):
        self.time = simtime
        self.read_us = read_us
        self.drift = drift
        self.t = 0
        self.ph = 0
        self.cycles = 0
        self.s = simtime.now_s()
        self._tc = 0            # the ADC clock at the last cycle's start
        self.vrms = VOLTAGE
        self._cycle()

    def _cycle(self):
        """A new mains cycle: the scenario time, the frequency and the voltage moved on."""
        t = self.t
        self.s += ((t - self._tc) & _MASK) / 1e6
        self._tc = t
        s = self.s
        if self.drift:
            mhz = int(MAINS_HZ * 1000 + 30 * math.sin(s / 97.0) + 15 * math.sin(s / 13.0))
            self.vrms = VOLTAGE * (1 + 0.015 * math.sin(s / 141.0) + 0.005 * math.sin(s / 7.3))
        else:
            mhz = int(MAINS_HZ * 1000)
            self.vrms = VOLTAGE
        self.mhz = mhz
        self.dread = self.read_us * mhz
        self.cycles += 1

    def tick(self):
        """One conversion: the clock and the phase move on; the table point now."""
        self.t = (self.t + self.read_us) & _MASK
        ph = self.ph + self.dread
        if ph >= _PH:
            ph -= _PH
            self._cycle()
        self.ph = ph
        return ph // _PT

    def now_us(self):
        """The sampler's clock (board.ct_ticks_us), realigned to the calendar when apart."""
        d = self.time.now_s() - self.s
        if d > 0.05 or d < -2.0:
            self.s += d
        return self.t

    def wait_until(self, t):
        """The sampler waits until its clock reads t (board.ct_wait)."""
        d = (t - self.t) & _MASK
        if d == 0 or d > _MASK // 2:  # (already there, or past)
            return
        self.t = t
        ph = self.ph + d * self.mhz
        while ph >= _PH:
            ph -= _PH
            self._cycle()
        self.ph = ph

    def true_hz(self):
        return self.mhz / 1000


class _Pin:
    """What a CT input and the reference share: the chip's transfer, its noise, read_uv."""

    def _raw(self, v):
        nk = self.nk + 1
        if nk == _NOISE:  # a new place in the table each pass: no pattern the
            lcg = (self.lcg * 1103515245 + 12345) & 0x7FFFFFFF  # mains could lock onto
            self.lcg = lcg
            nk = lcg % _NOISE
        self.nk = nk
        v += self.noise[nk]
        self.reads += 1
        chip = self.chip
        x = ((v - chip.off16) * chip.g12) >> 12
        if chip.knee16 <= x <= chip.top16:  # the straight part, inline (SimChip.raw)
            return ((x - (chip.knee16 >> 1) + 8) >> 4) << 4
        return chip.raw(v) << 4

    def read_uv(self):
        """A fresh conversion through the chip's calibration line (whole mV, in uV), its
        noise drawn from a random place in the table (the raw reads take it in runs: the
        two sets of reads must not split the table's entries between them)."""
        lcg = (self.lcg * 1103515245 + 12345) & 0x7FFFFFFF
        self.lcg = lcg
        self.nk = lcg % _NOISE
        return self.chip.mv(self.read_u16() >> 4) * 1000

    def _noise_setup(self, i, noise_counts):
        self.noise = self.chip.noise_table()
        if noise_counts is None:  # what zeroing would measure
            self.noise_counts = math.sqrt(self.chip.noise_var)
        else:
            self.noise_counts = math.sqrt(noise_counts * noise_counts + 1 / 12)  # + 12-bit rounding
        self.nk = (i * 97) % _NOISE
        self.lcg = i + 1
        self.reads = 0


class SimCT(_Pin):
    """An ADC pin behind a CT and its burden: read_u16() and read_uv() like machine.ADC.

    Each read is a conversion on `mains` (SimMains: the ADC's clock and the mains phase;
    one of its own when not given, without drift). The load's real power is the scenario's
    power(i, t) (signed: < 0 gives back), its current's shape the scenario's shapes[i]
    ("resistive" when it has none: SHAPES), looked up once per mains cycle: the current's
    amplitude is the one that gives that real power at the mains' voltage of the moment.
    `lead_deg`: the CT's phase lead; a scenario's ct_sign[i] -1: the CT fitted backwards.
    Integer arithmetic from tables: on the 32-bit port every float is an object, and a
    simulated day makes ~10^8 reads. `chip`: the SimChip it is on (a board's five share
    one); noise_counts is what the board says of its noise before zeroing (`noise_counts=`;
    the chip's own by default)."""

    uv_per_count = UV_PER_COUNT  # the nominal scale (the firmware finds the chip's)

    def __init__(self, scenario, simtime, i, ct_ratio=1000, burden_ohm=8.2, bias_counts=BIAS_COUNTS,
                 noise=None, seed=None, chip=None, noise_counts=None, mains=None, lead_deg=None):
        self.scenario = scenario
        self.time = simtime
        self.i = i
        self.mains = mains or SimMains(simtime, drift=False)
        self.set_ct(ct_ratio, burden_ohm)
        self.bias16 = int(bias_counts * 16)
        shapes = getattr(scenario, "shapes", None)
        self.use_shape(shapes[i] if shapes else "resistive")
        self.sign = getattr(scenario, "ct_sign", (1, 1, 1, 1, 1))[i]
        lead = CT_LEAD_DEG[i % 5] if lead_deg is None else lead_deg
        self.off = int(round(lead * _PHASES / 360)) % _PHASES
        self.chip = chip or SimChip(seed if seed is not None else 1, noise=noise)
        self._noise_setup(i, noise_counts)
        self.cyc = -1
        self.amp64 = 0

    def use_shape(self, name):
        """The load's current shape from now (SHAPES)."""
        self.shape_name = name
        self.table, self.vi, self.ri = shape(name)
        self.cyc = -1

    def set_ct(self, ct_ratio, burden_ohm):
        """The CT and burden the simulated input has (the board's configure: as configured)."""
        self.cpa = burden_ohm / ct_ratio / (UV_PER_COUNT * 1e-6)  # A -> nominal counts

    def truth_w(self):
        return self.scenario.power(self.i, self.mains.s)

    def read_u16(self):
        m = self.mains
        k = m.tick() + self.off
        if k >= _PHASES:
            k -= _PHASES
        if self.cyc != m.cycles:
            self.cyc = m.cycles
            # the current's fundamental peak (A) for this real power at this voltage
            vpk = m.vrms / _VUNIT
            amps = self.truth_w() / (vpk * self.vi)
            self.amp64 = int(64 * amps * self.cpa * self.sign + (0.5 if amps >= 0 else -0.5))
        # amp (1/64) x wave (1/4096) -> 1/16 counts, rounded; < 2**30 up to ~25 kW
        return self._raw(self.bias16 + ((self.amp64 * self.table[k] + 8192) >> 14))


class SimVRef(_Pin):
    """The voltage reference's ADC pin: the mains through an AC-AC adapter and a divider
    (`v_per_v` mains volts per volt at the pin: VREF_V_PER_V, nominally; a real adapter is
    a few % off), on the inputs' bias."""

    uv_per_count = UV_PER_COUNT

    def __init__(self, mains, chip, bias_counts=BIAS_COUNTS, v_per_v=VREF_V_PER_V, noise_counts=None):
        self.mains = mains
        self.chip = chip
        self.bias16 = int(bias_counts * 16)
        self.v_per_v = v_per_v
        self.table = shape("resistive")[0]
        self._noise_setup(7, noise_counts)
        self.cyc = -1
        self.amp64 = 0

    def read_u16(self):
        m = self.mains
        k = m.tick()
        if self.cyc != m.cycles:
            self.cyc = m.cycles
            self.amp64 = int(64 * m.vrms / _VUNIT / self.v_per_v / (UV_PER_COUNT * 1e-6) + 0.5)
        return self._raw(self.bias16 + ((self.amp64 * self.table[k] + 8192) >> 14))


_VUNIT = v_rms_unit()     # the voltage's rms for a fundamental of peak 1
