# The simulated ESP32 ADC behind the CT inputs: a chip's faults (SimChip) and the CT
# waveforms of a load scenario read through it (SimCT), with machine.ADC's read_u16 and
# read_uv.
import math
import random

MAINS_HZ = 49.98          # a real grid is never exactly 50 Hz: windows are not synchronous
SAMPLE_US = 500           # the simulated ADC's sample interval (2 kHz)
UV_PER_COUNT = 806.0      # 3.3 V over 12 bits
VOLTAGE = 230.0


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
