# The simulated board: the same surface as a real board (boards/README.md), its
# hardware simulated (see sim/__init__.py for the parts and the environment it reads).
import os
import time

try:
    import asyncio
except ImportError:  # CPython tests import the scenario and the ADC model only
    asyncio = None

from base import BaseBoard
from submeter.clock import Clock, day_number, ticks_diff

from .adc import SAMPLE_US, VREF_V_PER_V, SimChip, SimCT, SimMains, SimVRef
from .meter import KIND_LINE, SimMeter, SimUart
from .scenario import SCENARIOS, Scaled, SimTime, parse_start


# the simulated calendar's start when SUBMETER_START is not set: "" for now (the host's
# clock). The test runners (host_tests/conftest.py, tools/test/mptest.py) set "12:00", so
# that no in-process test crosses midnight because of the hour it runs at (a test's few
# simulated minutes once did, run at 23:55).
START = ""


def env(name, default):
    """The environment variable `name`, or `default` when unset or empty."""
    v = os.getenv(name) if hasattr(os, "getenv") else None
    return default if v is None or v == "" else v


class SimPin:
    """A digital pin: value() for buttons (1 = released), value(v) for LEDs."""

    def __init__(self, v=1):
        self.v = v
        self.handler = None

    def value(self, v=None):
        if v is None:
            return self.v
        self.v = 1 if v else 0

    def irq(self, handler=None, trigger=None):
        self.handler = handler


class SimDisplay:
    """A 128x64 MONO_VLSB framebuf; show() hands it to `out` (the terminal's drawing) when set."""

    width = 128
    height = 64

    def __init__(self, out=None):
        import framebuf
        self.buf = bytearray(self.width * self.height // 8)
        self.fb = framebuf.FrameBuffer(self.buf, self.width, self.height, framebuf.MONO_VLSB)
        for name in ("fill", "pixel", "text", "hline", "vline", "rect", "fill_rect", "line", "blit", "scroll"):
            setattr(self, name, getattr(self.fb, name))
        self.out = out          # callable(text) that draws, or None
        self.frames = 0
        self.contrast_level = 255
        self.on = True

    def contrast(self, v):
        self.contrast_level = v

    def power(self, on):
        """Sleep (False) or wake: asleep, the terminal shows a dark screen."""
        self.on = on
        if self.out:
            self.out(self)

    def show(self):
        self.frames += 1
        if self.out:
            self.out(self)


def _sigterm_bits(field):
    """Whether SIGTERM (15: bit 14) is set in this process's `field` of /proc/self/status
    (SigBlk: blocked, ShdPnd/SigPnd: pending); False where there is no /proc (not Linux)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return bool(int(line.split()[1], 16) & (1 << 14))
    except (OSError, ValueError):
        pass
    return False


def _real_ms():  # real time, in wrapping ticks (CPython's time has no ticks_ms)
    if hasattr(time, "ticks_ms"):
        return time.ticks_ms()
    return int(time.monotonic() * 1000) & 0x3FFFFFFF


class SimWatchdog:
    """machine.WDT's surface: feed(); `fed` is when, in real ms."""

    def __init__(self, timeout_ms):
        self.timeout_ms = timeout_ms
        self.fed = _real_ms()
        self.feeds = 0

    def feed(self):
        self.fed = _real_ms()
        self.feeds += 1


class SimNet:
    def __init__(self, host):
        self.host = host
        self.up = True  # the Ethernet link (tools/bench/soak.py pulls the cable)

    async def connect(self):
        return self.host

    def isconnected(self):
        return self.up

    def ip(self):
        return self.host


METERS = {"c2000": ("historic", 3), "t211": ("p1", 3), "p1_closed": ("p1", 1),  # (line, phases)
          "c2000_veille": ("historic", 3), "c2000_metrol": ("historic", 3)}


class Board(BaseBoard):
    """The simulated board: see boards/README.md for the surface."""

    name = "sim"
    uid = "sim"  # the device's id (a real board: the MAC or the chip id); SUBMETER_UID sets another
    ct_sample_us = SAMPLE_US

    def __init__(self, scenario=None, clock=None, term=None, display=True, meter=None, data_dir=None):
        """Everything comes from the environment (sim/__init__.py says which) unless given:
        scenario: an object with power(i, t) and pf; clock: a Clock or ManualClock;
        term: "0", "1" or "big"; display: False for no display (CPython has no framebuf);
        meter: "standard", "historic" (the TIC mode the simulated Linky sends), "p1" (a
        Fluvius S211), "c2000" (a three-phase SAGEM C2000-4, historic TIC), "t211" (a
        three-phase Fluvius T211), "p1_closed" (a P1 port the grid operator has not
        opened: silent), "c2000_veille" / "c2000_metrol" (a C2000 whose customer output
        was left in VEILLE: its serial number alone, or METROL: pulses, no frame) or "none"; data_dir: the simulated flash (a folder)."""
        self.CONFIG = {"http_host": "127.0.0.1", "http_port": int(env("SUBMETER_HTTP_PORT", "8080")),
                       "ntp_host": ""}  # the simulated RTC (utc_s) tells the time
        self.data_dir = data_dir or env("SUBMETER_DATA", "build/sim-data")
        try:
            os.mkdir(self.data_dir)
        except OSError:
            pass
        self.clock = clock or Clock(float(env("SUBMETER_SPEED", "1")))
        lt = time.localtime()
        day0 = day_number(lt[0], lt[1], lt[2])
        tod = lt[3] * 3600 + lt[4] * 60 + lt[5]
        start = env("SUBMETER_START", START)
        if start:
            day0, tod = parse_start(start, day0)
        self.time = SimTime(self.clock, tod, day0)
        self.scenario = scenario or SCENARIOS[env("SUBMETER_SCENARIO", "house")]()
        # a fleet of simulated meters (host_tests/test_host_fleet.py): each its own id (its
        # MQTT client id and topics follow: submeter-<uid>) and its own loads
        self.uid = env("SUBMETER_UID", self.uid)
        load = float(env("SUBMETER_LOAD", "1"))
        if load != 1:
            self.scenario = Scaled(self.scenario, load)
        self._meter_set = bool(meter or env("SUBMETER_METER", ""))
        meter = meter or env("SUBMETER_METER", "standard")  # what the simulated Linky sends
        self.meter = None
        self.replay = env("SUBMETER_REPLAY", "")  # a capture file in the meter's place
        if meter != "none" and not self.replay:
            mode, phases = METERS.get(meter, (meter, 1))
            self.meter = SimMeter(self.scenario, self.time, mode, phases=phases)
            self.meter.silent = meter == "p1_closed"
            self.meter.output = meter[6:] if meter[:6] == "c2000_" else "telein"
        # one ESP32's ADC for the five inputs, its faults drawn from SUBMETER_CHIP; the
        # board says of its noise what a zeroed input would have measured
        self.chip = SimChip(int(env("SUBMETER_CHIP", "1")))
        # the mains and the ADC's own clock, which the sampler paces its reads by
        self.mains = SimMains(self.time)
        self.ct_ticks_us = self.mains.now_us
        self.ct_wait = self.mains.wait_until
        self.ct = [SimCT(self.scenario, self.time, i, chip=self.chip, mains=self.mains) for i in range(5)]
        # the voltage reference (docs/hardware.md), fitted unless SUBMETER_VREF=0
        # (SUBMETER_VREF_ERROR: its adapter's ratio off by this factor, as a real one is until
        # the firmware matches it to the grid meter's voltage)
        self.vref = SimVRef(self.mains, self.chip, v_per_v=VREF_V_PER_V * float(env("SUBMETER_VREF_ERROR", "1")))\
            if env("SUBMETER_VREF", "1") != "0" else None
        if self.meter is not None:
            self.meter.mains = self.mains  # the grid meter measures the same mains
        self.pulse = {"gas": SimPin(), "water": SimPin()}
        self.pulses_sent = {"gas": 0, "water": 0}
        self._pulse_acc = {"gas": 0.0, "water": 0.0}
        self._pulse_t = None
        self.buttons = {"up": SimPin(), "down": SimPin(), "ok": SimPin(), "back": SimPin()}
        # the écocompteur's three: power (green), grid (green, TIC/P1), boot (red, lit from the
        # start until the firmware reports healthy)
        self.leds = {"power": SimPin(0), "grid": SimPin(0), "boot": SimPin(1)}
        mode = term or env("SUBMETER_TERM", "1")  # 0: no drawing, big: half blocks (130 columns)
        self.big = mode == "big"
        self.term = None
        if mode != "0":
            from .terminal import Terminal  # imported only then (the tests and the soak draw nothing)
            self.term = Terminal()
            if not self.term.active:
                self.term = None
        self.display = SimDisplay(self._draw if self.term else None) if display else None
        self.net = None
        self.uart = None        # the grid-meter port, made when first asked for (grid_port)
        self._stop = None       # set: the run stops (q, SIGTERM, the watchdog, stop())
        self._wdt = None

    # -- surface ------------------------------------------------------------------------
    def configure(self, cfg):
        self.net = SimNet(cfg["http_host"])
        if self.meter is not None and not self._meter_set and cfg["grid"] in ("tic_historic", "tic_standard", "p1"):
            # a config naming the meter: the simulated one is that meter
            self.meter.mode = cfg["grid"][4:] if cfg["grid"].startswith("tic_") else "p1"
            self.meter.period_s = 1.0 if self.meter.mode == "p1" else None
        for k, inp in enumerate(cfg["inputs"]):  # the simulated CTs match the configured ones
            if self.meter is not None:
                self.meter.circuit_phase[k] = inp["phase"]
            self.ct[k].set_ct(inp["ct_ratio"], inp["burden_ohm"])

    def tune_socket(self, writer):
        """SUBMETER_SNDBUF: each HTTP connection's send buffer (unset: the host's own)."""
        n = int(env("SUBMETER_SNDBUF", "0"))
        sock = getattr(writer, "s", None)  # MicroPython's asyncio stream
        if n and sock is not None:
            sock.setsockopt(1, 7, n)  # SOL_SOCKET, SO_SNDBUF (Linux's numbers; the unix port names neither)

    def grid_port(self, kind):
        """The simulated Linky's line, as a UART opened for `kind` (tic_standard 9600 Bd,
        tic_historic 1200 Bd); opened at the wrong rate it reads noise, as a real one.
        With SUBMETER_REPLAY, the capture file's line instead (sim/replay.py)."""
        if self.replay and kind in KIND_LINE:
            if self.uart is None:
                from .replay import ReplayUart  # imported only then
                self.uart = ReplayUart(self.replay, self.time, KIND_LINE[kind])
            else:
                self.uart.open(KIND_LINE[kind])
            return self.uart
        if self.meter is None or kind not in KIND_LINE:
            return None
        line = KIND_LINE[kind]
        if self.uart is None:
            self.uart = SimUart(self.meter, self.time, line)
        else:  # one UART, set up again (its buffer is not allocated again)
            self.uart.open(line)
        return self.uart

    PULSE_L = {"gas": 10, "water": 1}  # what one pulse of the simulated meters is worth

    def utc_s(self):
        """The board's RTC: the simulated calendar, in UTC seconds since 2000."""
        return self.time.utc_s()

    def background(self, app):
        self._stop = asyncio.Event()
        tasks = [self._pulse_meters(), self.watchdog_task()]
        if self.term:
            self.term.start()
            tasks.append(self.term.keyboard(self._press, self._stop))
        if not self.term and app is not None and app.auth.initial:  # no screen drawn to read it on: the log says it
            self.log("submeter: the first password (until you set yours; the Network screen shows it): %s"
                     " (also in %s/auth.json)" % (app.auth.initial, self.data_dir))
        if _sigterm_bits("SigBlk"):  # started by tools/sim/hostrun.py (make run)
            tasks.append(self._sigterm())
        return tasks

    async def _sigterm(self):
        """A SIGTERM stops the firmware as `q` does (the unix port cannot catch it: the
        launcher blocks it, and here it is seen pending)."""
        while not (_sigterm_bits("ShdPnd") or _sigterm_bits("SigPnd")):
            await asyncio.sleep_ms(100)  # real time: stops within 0.1 s at any speed
        self.log("submeter: SIGTERM, stopping")
        self.stop()

    async def _pulse_meters(self):
        while True:  # every 20 ms of clock time (1 ms real at most: a fast clock's pulses stay apart)
            await asyncio.sleep_ms(max(1, self.clock.real_ms(20)))
            self.pulse_step()

    def pulse_step(self):
        """The gas and water meters: a pulse on their pin each time PULSE_L has flowed
        since the last call."""
        now = self.time.now_s()
        last = self._pulse_t if self._pulse_t is not None else now
        self._pulse_t = now
        for kind, pin in self.pulse.items():
            self._pulse_acc[kind] += self.scenario.flow(kind, now) * (now - last) / 3600
            if self._pulse_acc[kind] >= self.PULSE_L[kind]:  # one at a time, as a meter's
                self._pulse_acc[kind] -= self.PULSE_L[kind]    # dial turns (the rest follows)
                self.pulses_sent[kind] += 1
                if pin.handler:
                    pin.handler(pin)

    async def stopped(self):
        await self._stop.wait()

    def stop(self):
        """Stop the run as `q` does: the app saves its counters and returns (the tools
        end their runs with it)."""
        if self._stop is None:
            self._stop = asyncio.Event()
        self._stop.set()

    def stopping(self):
        """Has the run been told to stop (q, SIGTERM, the watchdog's reset, stop())?"""
        return self._stop is not None and self._stop.is_set()

    def watchdog(self, timeout_ms):
        """As a real board's: a watchdog the App feeds each metering round. Here a task of
        the board (watchdog_task) watches it in real time; unfed for `timeout_ms`, it
        "resets" the board: the cause is kept for the next start (reset_cause), the virtual
        device resets (machine.reset), the plain host stops as `q` does. A real one is the
        chip's: it also resets a loop that hangs, which a task cannot see."""
        wd = self._wdt
        if wd is None:
            wd = self._wdt = SimWatchdog(timeout_ms)
        wd.timeout_ms = timeout_ms
        wd.feed()
        return wd

    async def watchdog_task(self):
        """The watchdog's watcher (one of background()'s tasks; a test may run it alone)."""
        while True:
            await asyncio.sleep_ms(100)
            wd = self._wdt
            if wd is not None and ticks_diff(_real_ms(), wd.fed) > wd.timeout_ms:
                self.log("submeter: the watchdog was not fed for %d ms: reset" % wd.timeout_ms)
                try:
                    with open(self._reset_path(), "w") as f:
                        f.write("watchdog")
                except OSError:
                    pass
                self.reset()  # the virtual device: does not return
                self.stop()
                return

    def _reset_path(self):
        return self.data_dir + "/.reset_cause"

    def reset_cause(self):
        """"watchdog" after the simulated watchdog reset the board (read once), else
        "power": every other start of the host is a power-up."""
        try:
            with open(self._reset_path()) as f:
                cause = f.read().strip()
            os.remove(self._reset_path())
        except OSError:
            cause = ""
        return cause or "power"

    def close(self):
        if self.term:
            self.term.restore()
            self.term = None  # from now on, log lines go to the terminal as they come

    def log(self, *args):
        line = " ".join(str(a) for a in args)
        if self.term:
            self.term.logs.append(line)
            del self.term.logs[:-4]
        else:
            print(line)

    # -- terminal -----------------------------------------------------------------------
    def _draw(self, disp):
        lines = self.term.screen(disp, self.big)
        led = lambda n: "\u25cf" if self.leds[n].value() else "\u25cb"
        status = "PWR %s  TIC %s  BOOT %s  w/s up/down, Enter ok, b back, r long back, q quit" % (
            led("power"), led("grid"), led("boot"))
        self.term.draw(lines, status)

    async def _press(self, name, ms):
        """Hold button `name` down for `ms` (a key of the terminal's keyboard)."""
        pin = self.buttons[name]
        pin.value(0)
        await asyncio.sleep_ms(ms)
        pin.value(1)
