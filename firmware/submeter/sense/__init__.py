# The metering's sources: CT inputs (ct.py, their zero calibration: zero.py), the gas and
# water pulse inputs (pulses.py); and here the part the App wires, the metering task
# (Metering): each round a window of whole mains cycles on every input, its power recorded
# in the ledger, the pulses taken, an input being zeroed fed its windows, the board's
# watchdog fed (it resets a meter whose metering stopped). Made of ready objects (the
# board's ADC channels, pulse pins and watchdog, the ledger, the clocks, the fault books):
# it imports nothing above sense/.
import asyncio
import time

from ..clock import ticks_diff, time_str
from .. import log
from . import ct, pulses

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
    # Olimex boards put two inputs on ADC2
    scales, which = ct.unit_scales(board.ct[:n])
    zero_path = (board.data_dir + "/zero.json") if board.data_dir else "zero.json"
    zeros, zero_error = _zero().load(zero_path, n)
    _drop("zero")
    channels = []
    for k, inp in enumerate(cfg["inputs"]):
        ch = ct.CTChannel(board.ct[k], ct_ratio=inp["ct_ratio"], burden_ohm=inp["burden_ohm"],
                       noise_floor_a=inp["noise_floor_a"], scale=scales[which[k]])
        ch.set_zero(zeros[k])
        channels.append(ch)
    sampler = ct.Sampler(board.ct_sample_us, window_cycles(cfg), cfg["mains_hz"], not board.ct_self_paced)
    clock = board.clock
    counters = {}
    for kind in ("gas", "water"):
        pin = (board.pulse or {}).get(kind)
        if pin is not None:
            # the IRQ reads the clock without storing (an IRQ inside a task's
            # ticks_ms() would otherwise count that interval twice)
            counters[kind] = pulses.PulseInput(pin, clock.raw_ms, cfg["pulse_min_ms"])
    m = Metering(channels, scales, sampler, ledger, counters, clock, wall, cfg, tasks, voltage)
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

    def round_slices(self):
        """Generator: one window on every input, yielding after each mains-cycle slice.
        While an ADC unit's scale wants it, its input with the widest spread also samples read_uv."""
        cal = []  # per ADC unit whose scale wants it, the input with the widest spread
        for sc in self.scales:
            if sc.due(self.rounds):
                best, most = -1, -1.0
                for k, ch in enumerate(self.channels):
                    if ch.scale is sc and ch.var > most:
                        best, most = k, ch.var
                cal.append(best)
        for k in range(len(self.channels)):
            ch = self.channels[k]
            for _ in self.sampler.window_slices(ch, ch.scale if k in cal else None):
                yield
            w = self._record(k)
            if self.zeroing is not None:
                self._zero_step(k)
            if self._cal is not None and self._cal.k == k:
                self._cal.step(self, w)
        self._take_pulses()
        self.rounds += 1
        if self.on_round is not None:
            self.on_round()

    def _record(self, k):
        inp = self.cfg["inputs"][k]
        now = self.clock.ticks_ms()
        ch = self.channels[k]
        ch.va = self.voltage(inp["phase"], now) * ch.irms
        ch.pf = inp["pf"]
        ch.w = watts = ch.va * ch.pf
        self.ledger.record(k, watts, now)
        return watts

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
