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


def read_watts(watts, cycles=10, **kw):
    clock = ManualClock()
    t = sim.SimTime(clock)
    adc = sim.SimCT(Fixed(watts), t, 0, **kw)
    ch = CTChannel(adc, ct_ratio=1000, burden_ohm=10.0)
    s = Sampler(0, cycles=cycles, mains_hz=50)
    return s.measure(ch) * 230.0, ch


def test_power_within_2_percent_across_the_range():
    for w in (100.0, 250.0, 1000.0, 3000.0, 7000.0, 15000.0):
        got, ch = read_watts(w)
        assert abs(got - w) <= 0.02 * w, (w, got)
        assert ch.clipped == 0


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
