# Load scenarios with known truth (watts per input and litres an hour per meter as a
# function of the time of day) and the simulated calendar they run on (SimTime).
from submeter.clock import civil, day_number, local_from_utc, ticks_diff


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


class Scaled:
    """Another scenario with every load `k` times its own (SUBMETER_LOAD): meters of a
    fleet that each read their own figures. Flows are the scenario's."""

    def __init__(self, scenario, k):
        self.scenario = scenario
        self.k = k
        self.pf = scenario.pf

    def power(self, i, t):
        return self.k * self.scenario.power(i, t)

    def flow(self, kind, t):
        return self.scenario.flow(kind, t)


FULL_SCALE_A = 90.0  # an input's full scale: a 90 A : 90 mA CT (config's ct_ratio 1000)


class PowerFactors:
    """Loads of every kind, each input its own (shapes: boards/sim/adc.py), stepping together
    through 5, 10, 25, 50 and 100 % of full scale (the switch-mode supplies to 40 %: their
    current's peaks are 2.5 times its rms), a minute each, between half-minutes of idle:
    real energy, power factor and idle against the truth (tools/sim/simday --scenario pf)."""

    shapes = ("resistive", "motor", "heatpump", "smps", "led")
    pf = (1.0, 1.0, 1.0, 1.0, 1.0)  # (the old sampler's: these shapes make their own)
    LEVELS = (0.05, 0.10, 0.25, 0.50, 1.00)
    STEP_S = 60
    IDLE_S = 30
    cycle_s = IDLE_S + len(LEVELS) * STEP_S + IDLE_S   # 6 minutes; a run starts at a multiple
    segment_s = 30      # simday reports the truth and the reading per segment of this many seconds

    def __init__(self):
        from .adc import VOLTAGE, true_pf
        self.w_at_fs = [FULL_SCALE_A * VOLTAGE * true_pf(s) * (0.4 if s == "smps" else 1.0) for s in self.shapes]

    def level(self, t):
        x = t % self.cycle_s - self.IDLE_S
        if x < 0 or x >= len(self.LEVELS) * self.STEP_S:
            return 0.0
        return self.LEVELS[int(x // self.STEP_S)]

    def power(self, i, t):
        return self.w_at_fs[i] * self.level(t)

    def flow(self, kind, t):
        return 0.0


class Solar:
    """Circuits that give back (tools/sim/simday --scenario pv): input 2 a solar inverter
    exporting 50 W to 5 kW in steps (its current in phase with the voltage, flowing back),
    input 3 a battery charging and discharging 2 kW in turn, input 1 a heater, input 4
    switch-mode loads, input 5 idle. Inputs 2 and 3 are set `export` (they may give back)."""

    shapes = ("resistive", "resistive", "resistive", "smps", "resistive")
    pf = (1.0, 1.0, 1.0, 1.0, 1.0)
    exporting = (1, 2)  # the inputs set `export` (simday)
    PV_W = (-50.0, -120.0, -400.0, -1500.0, -5000.0, 0.0)
    STEP_S = 60
    cycle_s = 360
    segment_s = 30

    def power(self, i, t):
        x = t % self.cycle_s
        if i == 0:
            return 1500.0
        if i == 1:
            return self.PV_W[int(x // self.STEP_S)]
        if i == 2:
            return 2000.0 if (x // 90) % 2 == 0 else -2000.0
        if i == 3:
            return 320.0
        return 0.0

    def flow(self, kind, t):
        return 0.0


class Reversed(Steady):
    """Input 3's CT fitted the wrong way round on a 1.5 kW water heater (simday --scenario
    reversed): the meter reads it negative until its ct_flip is set."""

    ct_sign = (1, 1, -1, 1, 1)
    cycle_s = 300
    segment_s = 60


class Burst:
    """Loads switching whole mains cycles on and off (simday --scenario burst): a water
    heater and a sauna on electronic thermostats (burst firing), an induction hob pulsing,
    at periods of 0.2 to 3 s and duties of 25 to 60 %."""

    shapes = ("resistive",) * 5
    pf = (1.0, 1.0, 1.0, 1.0, 1.0)
    # (watts on, period s, fraction on): each input's
    BURSTS = ((3000.0, 0.2, 0.5), (2000.0, 0.5, 0.3), (1800.0, 1.0, 0.5), (6000.0, 2.0, 0.25), (2500.0, 3.0, 0.6))
    truth_ms = 5    # simday integrates the truth this finely (the loads switch every 20 ms)
    cycle_s = 300
    segment_s = 60

    def power(self, i, t):
        w, period, duty = self.BURSTS[i]
        return w if (t % period) < duty * period else 0.0

    def flow(self, kind, t):
        return 0.0


SCENARIOS = {"house": House, "steady": Steady, "pf": PowerFactors, "pv": Solar, "reversed": Reversed,
             "burst": Burst}


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
