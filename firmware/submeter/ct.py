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

from .sums import window_sums, MAX_SLICE

# ADC samples come as read_u16() values; the ESP32's ADC has 12 significant bits.
ADC_SHIFT = const(4)
ADC_CENTRE = const(2048)
ADC_MAX = const(4095)


class CTChannel:
    """Calibration and state of one current input (one ADC pin)."""

    def __init__(self, adc, ct_ratio=1000, burden_ohm=8.2, uv_per_count=None,
                 noise_floor_a=0.05):
        self.adc = adc
        uv = uv_per_count if uv_per_count is not None else getattr(adc, "uv_per_count", 806.0)
        # amperes on the primary per ADC count: uV -> V, / burden -> secondary A, * ratio
        self.amps_per_count = uv * 1e-6 / burden_ohm * ct_ratio
        self.noise_floor_a = noise_floor_a
        # the ADC's own rms noise (counts, quantisation included), removed in quadrature:
        # without this a 100 W load would read a few % high and an idle one a few W
        nc = getattr(adc, "noise_counts", 0.0)
        self.noise_var = nc * nc
        self.irms = 0.0
        self.offset = float(ADC_CENTRE)  # last window's DC offset, in counts (diagnostics)
        self.clipped = 0  # windows with a sample at either rail


class Sampler:
    """Samples CT channels a window at a time. Buffers are allocated once, here."""

    def __init__(self, sample_us, cycles=10, mains_hz=50, paced=True):
        """sample_us: the ADC sample interval; paced=False when the ADC keeps its own
        time (the simulator's advances its waveform by sample_us per read)."""
        per_cycle = 1000000 // (mains_hz * sample_us)
        if per_cycle > MAX_SLICE:
            per_cycle = MAX_SLICE
        self.per_cycle = per_cycle
        self.cycles = cycles
        self.sample_us = sample_us
        self.paced = paced
        self.buf = array("H", bytes(2 * per_cycle))
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

    def slice_sums(self, read):
        self.fill(read)
        out = self._out
        window_sums(self.buf, self.per_cycle, ADC_SHIFT, ADC_CENTRE, out)
        return out[0], out[1], out[2] == 0 or out[3] == ADC_MAX

    def window_slices(self, ch):
        """Generator: one slice per step (the caller yields to the event loop between),
        then stores the window's RMS current on the channel."""
        read = ch.adc.read_u16
        s = q = 0
        clipped = 0
        for _ in range(self.cycles):
            ds, dq, c = self.slice_sums(read)
            s += ds
            q += dq
            clipped |= c
            yield
        n = self.per_cycle * self.cycles
        mean = s / n
        var = q / n - mean * mean - ch.noise_var
        ch.offset = ADC_CENTRE + mean
        ch.clipped += clipped
        irms = math.sqrt(var) * ch.amps_per_count if var > 0 else 0.0
        ch.irms = irms if irms >= ch.noise_floor_a else 0.0

    def measure(self, ch):
        """Whole window at once (tests, benchmarks)."""
        for _ in self.window_slices(ch):
            pass
        return ch.irms
