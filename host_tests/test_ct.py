# CT measurement against the simulated board's waveforms (bias, harmonics, noise,
# quantisation): the power a user reads matches the load within 2 %.
from submeter.ct import CTChannel, Sampler
from submeter.clock import ManualClock
import sim


class Fixed:
    pf = (1.0,) * 5

    def __init__(self, *watts):
        self.watts = list(watts) + [0.0] * (5 - len(watts))

    def power(self, i, t):
        return self.watts[i]


BURDEN = 8.2  # the recommended burden for one 90 mA CT (docs/hardware.md)


def read_watts(watts, cycles=10, **kw):
    clock = ManualClock()
    t = sim.SimTime(clock)
    adc = sim.SimCT(Fixed(watts), t, 0, burden_ohm=BURDEN, **kw)
    ch = CTChannel(adc, ct_ratio=1000, burden_ohm=BURDEN)
    s = Sampler(sim.SAMPLE_US, cycles=cycles, mains_hz=50, paced=False)
    return s.measure(ch) * 230.0, ch


def test_power_within_2_percent_across_the_range():
    # from 1 A (230 W, 1 % of the 90 A CT's range) up to 15 kW
    for w in (230.0, 500.0, 1000.0, 3000.0, 7000.0, 15000.0):
        got, ch = read_watts(w)
        assert abs(got - w) <= 0.02 * w, (w, got)
        assert ch.clipped == 0


def test_small_loads_are_not_biased_by_adc_noise():
    # 75 W is 3.3 ADC counts rms against 1 count of noise: one reading scatters (about
    # 1.3 % rms) but the noise is removed in quadrature, so the average (and the energy)
    # is right; without that removal it would read 5 % high
    clock = ManualClock()
    adc = sim.SimCT(Fixed(75.0), sim.SimTime(clock), 0, burden_ohm=BURDEN, seed=3)
    ch = CTChannel(adc, ct_ratio=1000, burden_ohm=BURDEN)
    s = Sampler(sim.SAMPLE_US, cycles=10, mains_hz=50, paced=False)
    readings = [s.measure(ch) * 230.0 for _ in range(40)]
    mean = sum(readings) / len(readings)
    assert abs(mean - 75.0) <= 0.01 * 75.0, mean


def test_idle_circuit_reads_zero():
    for seed in range(5):
        got, _ = read_watts(0.0, seed=seed)
        assert got == 0.0, got


def test_first_window_is_right_whatever_the_bias():
    # no slow filter: the DC offset of the very first window is removed
    for bias in (1700, 2048, 2400):
        got, ch = read_watts(2000.0, bias_counts=bias)
        assert abs(got - 2000.0) <= 40.0, (bias, got)
        assert abs(ch.offset - bias) < 2, ch.offset


def test_overload_is_seen_as_clipping():
    got, ch = read_watts(40000.0)  # beyond the ADC's range with these CTs
    assert ch.clipped == 1


def test_window_is_whole_cycles():
    s = Sampler(500, cycles=10, mains_hz=50)
    assert s.per_cycle == 40 and s.per_cycle * 500 == 20000


def test_real_adc_reads_are_paced_at_the_sample_interval():
    # a real ADC has no time of its own: the sampler spaces reads sample_us apart
    import time
    if not hasattr(time, "ticks_us"):
        from compat import skip
        skip("time.ticks_us is MicroPython's")
    stamps = []

    class ADC:
        def read_u16(self):
            stamps.append(time.ticks_us())
            return 2048 << 4

    s = Sampler(500, cycles=1, mains_hz=50)
    s.measure(CTChannel(ADC()))
    # deadlines are absolute (a late read is followed by an early one, keeping the
    # rate): read k never comes before k sample intervals after the first
    assert len(stamps) == 40
    for k in range(1, 40):
        assert time.ticks_diff(stamps[k], stamps[0]) >= 500 * k - 50, (k, time.ticks_diff(stamps[k], stamps[0]))


def test_half_a_percent_from_5_to_100_percent_of_full_scale():
    # 90 A on a 90 A : 90 mA CT is full scale: 20.7 kW at 230 V; pure sine and with
    # harmonics, the ADC's bias anywhere near mid-rail
    full = 90 * 230.0
    for frac in (0.05, 0.1, 0.25, 0.5, 0.75, 1.0):
        for h3, h5, bias in ((0.0, 0.0, 2048), (0.08, 0.03, 2000), (0.15, 0.05, 2100)):
            w = full * frac
            got, ch = read_watts(w, h3=h3, h5=h5, bias_counts=bias)
            assert abs(got - w) <= 0.005 * w, (frac, h3, bias, got, w)
            assert ch.clipped == 0
