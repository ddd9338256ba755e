# The metering's sources: CT inputs (ct.py, their zero calibration: zero.py), the gas and
# water pulse inputs (pulses.py); and here the part the App wires, the metering task
# (Metering): each round a window of whole mains cycles on every input, its power recorded
# in the ledger, the pulses taken, an input being zeroed fed its windows, the board's
# watchdog fed (it resets a meter whose metering stopped). Made of ready objects (the
# board's ADC channels, pulse pins and watchdog, the ledger, the clocks, the fault books):
# it imports nothing above sense/.
import asyncio
import math
import time
from array import array

from ..clock import ticks_diff, time_str
from .. import log
from . import ct, pulses

_TWO_PI = 6.283185307179586
REVERSED_W = 20         # "CT reversed?": below -this many W ...
REVERSED_ROUNDS = 30    # ... for this many rounds in a row (half a minute at 1 s)
_ON = 0x80              # (in Metering.neg: the input's last window had power)
WATCHDOG_MS = 60000  # the hardware watchdog resets a meter whose metering stopped this long
                     # (or three periods, if longer)


def _zero():
    """The zero calibration's module (zero.py: zero.json, a zeroing's windows), imported
    when it is needed and let go after (_drop): its functions and class hold 0.7 KB
    of heap that the meter needs only at boot and while a zeroing runs. The scale
    calibration's (calib.py) is imported while one runs, and let go after, the same way."""
    from . import zero
    return zero


def _drop(name):
    """Let this package's module `name` ("zero", "calib") go."""
    import sys
    sys.modules.pop(__name__ + "." + name, None)  # (this package's: submeter.sense.zero)
    mod = sys.modules.get(__name__)
    if mod is not None and hasattr(mod, name):
        delattr(mod, name)


def window_cycles(cfg):
    """The mains cycles a round measures: the config's, or (0) the whole period."""
    return cfg["window_cycles"] or max(1, cfg["period_ms"] * cfg["mains_hz"] // 1000)


def build(board, cfg, ledger, wall, tasks, voltage):
    """The metering of this board's inputs as the config says: a CTChannel per input (its
    zero from zero.json), one scale per ADC unit, the sampler, the gas and water pulse
    inputs the board has. voltage(phase, now): the volts a phase's power is reckoned at;
    wall: the wall clock (WallClock)."""
    n = len(cfg["inputs"])
    # one scale per ADC unit: each unit has its own calibration line (ct.Scale); the
    # Olimex boards put two inputs on ADC2; the voltage reference is read on its unit's
    vadc = getattr(board, "vref", None)
    adcs = board.ct[:n] + ([vadc] if vadc is not None else [])
    scales, which = ct.unit_scales(adcs)
    zero_path = (board.data_dir + "/zero.json") if board.data_dir else "zero.json"
    zeros, zero_error = _zero().load(zero_path, n)
    _drop("zero")
    channels = []
    for k, inp in enumerate(cfg["inputs"]):
        ch = ct.CTChannel(board.ct[k], ct_ratio=inp["ct_ratio"], burden_ohm=inp["burden_ohm"],
                       noise_floor_a=inp["noise_floor_a"], scale=scales[which[k]])
        ch.set_zero(zeros[k])
        channels.append(ch)
    vref = ct.VRef(vadc, scales[which[n]], cfg["vref_v_per_v"]) if vadc is not None else None
    sampler = ct.Sampler(board.ct_sample_us, window_cycles(cfg), cfg["mains_hz"],
                         getattr(board, "ct_ticks_us", None), getattr(board, "ct_wait", None), n + 2)
    clock = board.clock
    counters = {}
    for kind in ("gas", "water"):
        pin = (board.pulse or {}).get(kind)
        if pin is not None:
            # the IRQ reads the clock without storing (an IRQ inside a task's
            # ticks_ms() would otherwise count that interval twice)
            counters[kind] = pulses.PulseInput(pin, clock.raw_ms, cfg["pulse_min_ms"])
    m = Metering(channels, scales, sampler, ledger, counters, clock, wall, cfg, tasks, voltage)
    m.vref = vref
    m.zero_path, m.zero_error = zero_path, zero_error
    m.arm_watchdog = board.watchdog
    return m


class Metering:
    """rounds: rounds measured; rate_hz and round_ms: the ADC's sample rate and a round's
    real ms (mean, longest) over the last ~5 s; zeroing: the zero calibration running
    (zero.Zeroing) or None; zero_error: why zero.json was not used or written, or None;
    calibration: the last scale calibration's state (calib.Calibrating.state: /api/state
    shows it), None until one is asked for; save_ratio(changes, remake): the App's
    set_config, which saves and applies a calibration's new ct_ratio (raises ValueError or
    OSError, and then nothing changed).
    wdt: the board's watchdog the task feeds (None: not armed yet; False: the board has
    none, or refused), armed by arm_watchdog(timeout_ms) (build: board.watchdog). Hooks
    the App may set: on_round() after each round's records (the day's close), notice(key)
    when a zeroing or a calibration ends ("zero_done", "zero_bad", "cal_done", "cal_bad": the
    panel says it)."""

    # (class defaults: the instance's table does not grow for them until one is asked for)
    calibration = None          # the last scale calibration's state dict, None before one
    _cal = None                 # the calibration running (calib.Calibrating), or None
    phasecal = None             # the last phase calibration's state dict, None before one
    _pcal = None                # the phase calibration running (phasecal.PhaseCal), or None
    vref = None                 # the voltage reference (ct.VRef), or None: the board has none

    def __init__(self, channels, scales, sampler, ledger, pulses, clock, wall, cfg, tasks, voltage):
        self.channels = channels
        self.scales = scales
        self.sampler = sampler
        self.ledger = ledger
        self.pulses = pulses
        self.clock = clock
        self.wall = wall        # the wall clock: when an input was zeroed
        self.cfg = cfg
        self.tasks = tasks
        self.voltage = voltage
        self.rounds = 0
        self.rate_hz = 0
        self.round_ms = (0, 0)
        self.zeroing = None
        self.save_ratio = None
        self.zero_path = "zero.json"
        self.zero_error = None
        self.on_round = None
        self.notice = None
        self.arm_watchdog = None
        self.wdt = None
        # the mains as the voltage reference measures it (None: no reference seen)
        self.vref_on = False
        self.mains_v = None
        self.mains_hz = None
        # each input's last window: VA, power factor (its real power is the ledger's), and
        # the rounds in a row it read below -REVERSED_W (REVERSED_ROUNDS: "CT reversed?"),
        # with _ON when that window had power;
        # arrays: no float object, no attribute on the channels
        n = len(channels)
        self.va = array("f", bytes(4 * n))
        self.pf = array("f", bytes(4 * n))
        self.neg = array("B", bytes(n))

    def method(self):
        """How each input's power is found: "vi" (measured against the voltage reference)
        or "v_pf" (V x Irms x the configured pf)."""
        return "vi" if self.vref_on else "v_pf"

    def lag(self, k):
        """How far after the reference's sample input k's current sample stands, in sets
        (real_power's `a`): the reads between them (measured), the CT's phase lead
        (phase_deg), less a third or two thirds of a cycle on phase 2 or 3."""
        inp = self.cfg["inputs"][k]
        s = self.sampler
        hz = self.vref.hz
        return ((k + 1) * s.read_us + inp["phase_deg"] * 1e6 / (360 * hz)
                - (inp["phase"] - 1) * 1e6 / (3 * hz)) / s.set_us

    def reversed(self, k):
        """Input k's "CT reversed?"."""
        return self.neg[k] & 0x7F >= REVERSED_ROUNDS

    def round_slices(self):
        """Generator: one window of every input, interleaved (ct.Sampler.window), yielding
        after each mains-cycle slice; then each input's power recorded. While an ADC unit's
        scale wants it, its input with the widest spread also samples read_uv."""
        cal = None
        for sc in self.scales:
            if sc.due(self.rounds):
                most = -1.0
                for ch in self.channels:
                    if ch.scale is sc and ch.var > most:
                        cal, most = ch, ch.var
                if cal is not None:
                    break
        vref = self.vref
        for _ in self.sampler.window(self.channels, vref, cal):
            yield
        if vref is not None:
            if vref.present:
                vref.match(self.voltage(1, self.clock.ticks_ms(), False))
            self.vref_on = vref.present
            self.mains_v = vref.v
            self.mains_hz = vref.hz
        for k in range(len(self.channels)):
            w = self._record(k)
            if self.zeroing is not None:
                self._zero_step(k)
            if self._cal is not None and self._cal.k == k:
                self._cal.step(self, w)
            if self._pcal is not None and self._pcal.k == k:
                self._pcal.step(self)
        self._take_pulses()
        self.rounds += 1
        if self.on_round is not None:
            self.on_round()

    def _record(self, k):
        """Input k's power from its window, into the ledger. With the voltage reference:
        the mean of v x i, the voltage taken at the current sample's own instant (the lag
        of the reads between them, the CT's phase lead, and 120 or 240 degrees for an input
        on phase 2 or 3 of a three-phase supply); signed. Without: V x Irms x the set pf."""
        inp = self.cfg["inputs"][k]
        now = self.clock.ticks_ms()
        ch = self.channels[k]
        vr = self.vref
        if vr is not None and vr.present:
            s = self.sampler
            phase = inp["phase"]
            vph = (self.voltage(phase, now, False) or vr.v) if phase != 1 else vr.v
            p = ct.real_power(s.cov[2 * k], s.cov[2 * k + 1], self.lag(k), _TWO_PI / s.per_cycle)
            # the ADC's noise makes the mean of v x i scatter by sd = sqrt(var_v x noise / n)
            # (~2.5 W at 230 V and 5 counts of noise: 50 W is ~20 of it). Power comes on
            # beyond 4 sd with the current's own spread above the idle one (ch.irms), or
            # beyond 6 sd alone, and stays on down to 2 sd: an idle circuit reads 0 W, and a
            # small steady load is neither cut in the windows its noise takes low (a bias)
            # nor lost when the spread of its current is too small to tell
            pp = p * p
            sd2 = (vr.var - vr.noise_var) * ch.noise_var / ch.n
            if self.neg[k] & _ON:
                on = pp > 4 * sd2
            else:
                on = pp > 16 * sd2 and (ch.irms > 0 or pp > 36 * sd2)
            if on:
                w = p * ch.amps_per_count * vr.v_per_count() * vph / vr.v
                on = abs(w) >= ch.noise_floor_a * vph  # (below the input's floor: 0 W, as without the reference)
            if on:
                if inp["ct_flip"]:
                    w = -w
                r = ch.var - ch.noise_var
                va = vph * (ch.irms or (math.sqrt(r) * ch.amps_per_count if r > 0 else 0.0))
                pf = abs(w) / va if va else 1.0
                if pf > 1.0:
                    pf = 1.0
            else:
                w = 0.0
                va = vph * ch.irms  # (a current with no power: reactive, or the noise of an input not zeroed)
                pf = 0.0 if va else 1.0
            # "CT reversed?": a circuit that may not give back, reading steadily negative
            neg = self.neg
            c = neg[k] & 0x7F
            if inp["export"] or w > REVERSED_W:
                c = 0
            elif w < -REVERSED_W and c < REVERSED_ROUNDS:
                c += 1
            neg[k] = c | (_ON if w else 0)
        else:
            va = self.voltage(inp["phase"], now) * ch.irms
            pf = inp["pf"]
            w = va * pf
            self.neg[k] = 0
        self.va[k] = va
        self.pf[k] = pf
        self.ledger.record(k, w, now)
        return w

    def _take_pulses(self):
        for kind, p in self.pulses.items():
            n = p.take()
            if n:
                self.ledger.add_volume(kind, n * int(self.cfg[kind + "_l_per_pulse"]))

    async def run(self, after):
        """The metering task: a round every period_ms of clock time, the loop free between
        slices; after() once each round is done (the App's: the snapshot, the heap), then
        the watchdog fed (feed). A round that raises is cut short and counted; the next
        reading spans the gap."""
        period = self.cfg["period_ms"]
        clock = self.clock
        rate_t0 = time.ticks_ms()
        rate_n0 = self.sampler.samples
        n = total = most = 0
        while True:
            t0 = clock.ticks_ms()
            r0 = time.ticks_ms()
            try:
                for _ in self.round_slices():
                    await asyncio.sleep_ms(0)  # at most one mains cycle between yields
            except Exception as e:
                self.tasks.fault("metering", e)
            took = time.ticks_diff(time.ticks_ms(), r0)
            n, total, most = n + 1, total + took, max(most, took)
            real = time.ticks_diff(time.ticks_ms(), rate_t0)
            if real >= 5000:  # over the last ~5 s of real time: the ADC sample rate, round times
                self.rate_hz = (self.sampler.samples - rate_n0) * 1000 // real
                self.round_ms = (total // n, most)
                n = total = most = 0
                rate_t0 = time.ticks_ms()
                rate_n0 = self.sampler.samples
            after()
            self.feed()
            spent = ticks_diff(clock.ticks_ms(), t0)
            await asyncio.sleep_ms(clock.real_ms(max(0, period - spent)))

    def feed(self):
        """The metering goes on: the board's watchdog is fed (armed at the first round: a
        meter that stops metering is reset by it; a board without one has none, and one
        that refused is not asked again)."""
        wdt = self.wdt
        if wdt:
            wdt.feed()
        elif wdt is None:
            try:
                wdt = self.arm_watchdog(max(WATCHDOG_MS, 3 * self.cfg["period_ms"]))
            except Exception as e:  # a board that refuses: the meter meters without one
                self.tasks.fault("metering", e, "watchdog")
            self.wdt = wdt or False

    def start_zero(self, inputs):
        """Zero these inputs (indices from 0; their circuits switched off): their noise
        and offset measured over the next zero.WINDOWS windows, then applied and saved.
        ValueError while one runs. Energy counts are not touched."""
        self._busy()
        if not inputs:
            raise ValueError("no input")
        zero = _zero()  # let go once the zeroing is done
        self.zeroing = zero.Zeroing(inputs)
        log("zeroing input", ",".join(str(k + 1) for k in inputs))
        return {"zeroing": [k + 1 for k in inputs], "seconds": zero.WINDOWS * self.cfg["period_ms"] // 1000 + 1}

    def _zero_step(self, k):
        zg = self.zeroing
        zg.add(k, self.channels[k])
        if not zg.done():
            return
        self.zeroing = None
        now = self.wall.now()
        at = time_str(now) if now is not None else None
        zeros = [ch.zero for ch in self.channels]
        errors = []
        for j in zg.inputs:
            z, why = zg.result(j, at)
            if z is None:
                errors.append(why)
            else:
                zeros[j] = z
                self.channels[j].set_zero(z)
        try:
            _zero().save(self.zero_path, zeros)
            self.zero_error = "; ".join(errors) or None
        except OSError as e:
            self.zero_error = "zero.json cannot be written (%s): zeroed until the next start" % e
        _drop("zero")
        log("zeroing of input", ",".join(str(j + 1) for j in zg.inputs), "done:", self.zero_error or "ok")
        if self.notice is not None:
            self.notice("zero_bad" if errors else "zero_done")

    def _busy(self):
        """ValueError while a zeroing or a calibration runs (one at a time: each wants
        the circuit as the user left it)."""
        if self.zeroing is not None:
            raise ValueError("input %s is being zeroed (%d %%)" % (
                ",".join(str(k + 1) for k in self.zeroing.inputs), self.zeroing.progress()))
        if self._cal is not None:
            raise ValueError("input %d is being calibrated (%d %%)" % (self._cal.k + 1, self.calibration["progress"]))
        if self._pcal is not None:
            raise ValueError("input %d's phase is being calibrated (%d %%)" % (self._pcal.k + 1, self.phasecal["progress"]))

    def start_phasecal(self, k):
        """Calibrate input k's phase (from 0) against a resistive load running on its
        circuit now (sense/phasecal.py); ValueError without the voltage reference, or while
        a zeroing or a calibration runs."""
        self._busy()
        if self.vref is None or not self.vref.present:
            raise ValueError("no voltage reference is seen (docs/hardware.md): phase calibration needs it")
        from . import phasecal  # let go once it is done
        pc = self._pcal = phasecal.PhaseCal(k, self.cfg["inputs"][k]["phase_deg"])
        self.phasecal = pc.state
        log("phase calibration of input", k + 1)
        return {"phasecal": k + 1, "seconds": (phasecal.WINDOWS + 1) * self.cfg["period_ms"] // 1000 + 2}

    def start_calibration(self, k, watts):
        """Calibrate input k (from 0) against a load of `watts` W running on its circuit
        now: its readings over calib.WINDOWS windows averaged, then its ct_ratio set to
        ct_ratio x watts / measured, saved and applied (or the reason it was not, in
        `calibration`). ValueError while a zeroing or a calibration runs."""
        self._busy()
        from . import calib  # let go once it is done (Calibrating.step)
        cal = self._cal = calib.Calibrating(k, watts, self.cfg["inputs"][k]["ct_ratio"])
        self.calibration = cal.state
        log("calibrating input", k + 1, "against", watts, "W")
        return {"calibrating": k + 1, "seconds": (calib.WINDOWS + 1) * self.cfg["period_ms"] // 1000 + 1}
