# Wiring: sources -> ledger -> snapshot -> sinks, as asyncio tasks.
#
# The board object (boards/<name>.py, see boards/README.md) hands over ready hardware
# objects; nothing here knows whether they are real or simulated. Every member of the
# board's surface is called as it is: what a board has not, it inherits from
# boards/base.py (no RTC, no watchdog, no LEDs...).
import asyncio
import gc
import json
import sys
import time

from . import VERSION, config, ntp
from .auth import Auth
from .clock import WallClock, meter_time, ticks_diff, time_str
from .config import USAGES
from .ct import CTChannel, Sampler, unit_scales
from .ledger.history import History
from .ledger.ledger import Ledger
from .ledger.store import Store
from .pulses import PulseInput
from .kernels import taken as _kernels
from .ui import Buttons, Screens
from .web import Server
from .grid.reader import GridReader
from .view import snapshot


_sink = print
PAUSE_MS = 200  # after an error in the panel's poll: an error every poll does not spin the CPU
WATCHDOG_MS = 60000  # the hardware watchdog resets a meter whose metering stopped this long
                     # (or three periods, if longer)
_mem_alloc = getattr(gc, "mem_alloc", lambda: 0)  # (MicroPython's; CPython runs the tests too)


def log(*args):
    _sink("submeter:", *args)


def _zero():
    """The zero calibration's module (zero.py: zero.json, a zeroing's windows), imported
    when it is needed and let go after (_drop_zero): its functions and class hold 0.7 KB
    of heap that the meter needs only at boot and while a zeroing runs."""
    from . import zero
    return zero


def _drop_zero():
    import sys
    pkg = __name__.rpartition(".")[0]
    sys.modules.pop(pkg + ".zero", None)
    mod = sys.modules.get(pkg)
    if mod is not None and hasattr(mod, "zero"):
        delattr(mod, "zero")


def csv_text(s):
    """A text cell of the CSV export (RFC 4180): one that a spreadsheet would take for a
    formula (=, +, -, @, and tab or CR, which some strip first) gets a leading ' (OWASP
    CSV injection); one holding a comma, a quote, CR or LF is quoted, quotes doubled.
    Numbers are written as numbers, never through this (a negative one stays one)."""
    if s and s[0] in "=+-@\t\r":
        s = "'" + s
    if "," in s or '"' in s or "\r" in s or "\n" in s:
        s = '"' + s.replace('"', '""') + '"'
    return s


class App:
    def __init__(self, board, cfg, config_error=None):
        self.board = board
        self.cfg = cfg
        # the display drivers' page-sync kernel, if a driver loaded it (drivers/fbsync.py)
        fb = sys.modules.get("drivers.fbsync")
        _kernels["fbsync"] = fb.KERNEL if fb else None
        self.clock = board.clock
        self.config_error = config_error
        n = len(cfg["inputs"])
        self.channels = []
        # one scale per ADC unit: each unit has its own calibration line (ct.Scale); the
        # Olimex boards put two inputs on ADC2
        self.scales, which = unit_scales(board.ct[:n])
        self.zero_path = (board.data_dir + "/zero.json") if board.data_dir else "zero.json"
        zeros, self.zero_error = _zero().load(self.zero_path, n)
        _drop_zero()
        self.zeroing = None     # a zero calibration in progress (zero.Zeroing)
        for k, inp in enumerate(cfg["inputs"]):
            ch = CTChannel(board.ct[k], ct_ratio=inp["ct_ratio"], burden_ohm=inp["burden_ohm"],
                           noise_floor_a=inp["noise_floor_a"], scale=self.scales[which[k]])
            ch.set_zero(zeros[k])
            self.channels.append(ch)
        self.sampler = Sampler(board.ct_sample_us, cfg["window_cycles"], cfg["mains_hz"],
                               not board.ct_self_paced)
        self.ledger = Ledger(n, cfg["max_gap_ms"])
        self.pulses = {}
        for kind in ("gas", "water"):
            pin = (board.pulse or {}).get(kind)
            if pin is not None:
                # the IRQ reads the clock without storing (an IRQ inside a task's
                # ticks_ms() would otherwise count that interval twice)
                self.pulses[kind] = PulseInput(pin, self.clock.raw_ms, cfg["pulse_min_ms"])
        self.wall = WallClock(self.clock.ticks_ms, cfg["utc_offset_min"], cfg["dst"])
        # why the board started: a watchdog reset is counted on flash and shown until the
        # next start (the notices, below)
        self.reset_cause = board.reset_cause()
        self.resets = _resets(board.data_dir, self.reset_cause == "watchdog")
        self.wdt = None         # the board's watchdog, armed after the first metering round
        self.boot = {"cause": self.reset_cause, "watchdog_resets": self.resets, "watchdog": False}
        self.history = History(board.data_dir, n)
        self.store = Store(board.data_dir, self.history)
        self.restored = self.store.load(self.ledger)  # the counters as last saved
        self.history.prepare()  # the file is made now, not at midnight in the loop
        # what the owner is told until the next start (a watchdog reset, the counters lost):
        # the page, the panel and MQTT read this one list in the snapshot
        self.notices = snapshot.notices(self.reset_cause, self.resets, self.store)
        self._save_due = False  # a tariff change, a partial reset, a closed day: save now
        self._meter_time_at = None
        self._net_up = False
        self.ntp = {"ok": 0, "failed": 0}
        self.started = self.clock.ticks_ms()
        self.rounds = 0
        self.rate_hz = 0
        self.round_ms = (0, 0)  # a measuring round, real ms: mean and longest over ~5 s
        self.auth = Auth(board.data_dir, self.clock.ticks_ms)
        self.restart_needed = []
        self.web = Server(self.state, cfg, self)
        self.web.tune = board.tune_socket  # (the simulator: the ESP32's socket buffers)
        self.ip = None
        self.serving = False    # the web server listens
        self.healthy_at = None  # when board.healthy() was called (once)
        self.net_events = 0     # link lost or back
        self.heap_live = 0      # heap in use after the last collection
        self.mem_errors = 0     # MemoryErrors caught in the tasks (they went on)
        self.mem_where = None   # the task of the last one
        # exceptions caught in each task that went on (MemoryError included): a fixed
        # dict, made once, shown as /api/state "tasks"; the last one's words in "task_error"
        self.task_errors = {"metering": 0, "grid": 0, "web": 0, "panel": 0, "mqtt": 0, "save": 0,
                            "clock": 0}
        self.task_error = None
        self._logged = {"grid": None, "web": None, "mqtt": None}
        self.drawn_at = None    # when the panel was last drawn (None: at the next poll)
        self.buttons = Buttons(board.buttons) if board.buttons else None
        self.grid = GridReader(board, self.clock, cfg["grid"]) if cfg["grid"] != "none" else None
        self._led_on_at = None
        self.screens = self._panel() if board.display is not None else None
        self.mqtt = None
        if cfg["mqtt_host"]:
            from .mqtt import Publisher
            node = cfg["mqtt_client_id"] or "submeter-%s" % board.uid
            self.mqtt = Publisher(cfg, node, board.name, self.state)
        if self.grid:
            self.grid.on_frame = self._grid_frame
        self.snap = self.build_snapshot()

    def state(self):
        return self.snap

    def _grid_frame(self):
        # the tariff period the meter is in splits every circuit's energy from now on
        r = self.grid.reading
        now = self.clock.ticks_ms()
        idx = r.period_index
        if idx:
            old = self.ledger.period
            self.ledger.set_period(idx - 1, now)
            if self.ledger.period != old:
                self._save_due = True
        # the meter's clock is the legal local time: the wall clock follows it
        if r.time and (self._meter_time_at is None or ticks_diff(now, self._meter_time_at) >= 60000):
            t = meter_time(r.time)
            if t is not None:
                self.wall.set_local(t, "meter")
                self._meter_time_at = now
        # the grid LED blinks on every valid frame, and stays off once they stop
        led = self.board.leds.get("grid")
        if led is not None:
            led.value(1)
            self._led_on_at = self.clock.ticks_ms()

    def build_snapshot(self):
        return snapshot.build(self, self._tasks())  # (view/snapshot.py: all of it, in one place)

    def public_config(self):
        return config.public(self.cfg)

    def set_config(self, changes):
        """POST /api/config: validated, saved, and applied where it can be at once; raises
        ConfigError naming the field (and then nothing changed)."""
        path = (self.board.data_dir + "/config.json") if self.board.data_dir else "config.json"
        new, restart = config.change(path, self.cfg, changes, self.board.CONFIG)
        for k in config.LIVE:
            self.cfg[k] = new[k]
        for cur, upd in zip(self.cfg["inputs"], new["inputs"]):
            for k in config.LIVE_INPUT:
                cur[k] = upd[k]
        for k in restart:
            if k not in self.restart_needed:
                self.restart_needed.append(k)
        if self.screens is not None:  # labels, usages, times: a panel made afresh
            self.screens = self._panel()
        self.snap = self.build_snapshot()
        log("config changed:", ", ".join(sorted(changes)))
        return {"saved": True, "restart": restart}

    def _panel(self):
        sc = Screens(self.board.display, self.cfg)
        sc.password = lambda: self.auth.initial  # shown until the owner sets theirs
        if hasattr(self.board.display, "contrast"):
            self.board.display.contrast(self.cfg["contrast"])
        return sc

    def screen_png(self):
        """The front panel as it is now, as a PNG in pieces (the page's mirror,
        tools/sim/screenshot), or None without a display."""
        if self.screens is None:
            return None
        from .png import png_chunks
        return png_chunks(self.board.display.buf, 128, 64)

    def panel_command(self, cmd):
        """What the panel asks, once the user has confirmed: ("reset", usage) zeroes the
        partial counter of every input of that usage; ("reset", "gas" | "water") the volume's."""
        verb, what = cmd
        if verb == "zero":
            try:
                self.start_zero([k for k, inp in enumerate(self.cfg["inputs"]) if inp["usage"] == what])
            except ValueError:
                pass  # one is running: its progress is on the screen
            return
        if verb != "reset":
            return
        if what in ("gas", "water"):
            self.reset_partial(what)
            return
        for k, inp in enumerate(self.cfg["inputs"]):
            if inp["usage"] == what:
                self.reset_partial(k)

    def fault(self):
        """Something the installer must see: a config ignored, a flash that refuses writes,
        counters restored after every copy was damaged."""
        return (bool(self.config_error) or self.store.failing or self.history.errors > 0
                or self.store.alert is not None)

    def _power_led(self, now):
        # steady on; blinking at 1 Hz while there is a fault
        led = self.board.leds.get("power")
        if led is not None:
            led.value(0 if self.fault() and (now // 500) & 1 else 1)

    def reset_partial(self, which=None):
        """The ledger command behind the panel's long press on back and the page's button:
        which = an input's index, "gas", "water", or None for every partial counter."""
        self.ledger.reset_partial(which, self.wall.now())
        self._save_due = True
        self.snap = self.build_snapshot()
        log("partial counter reset:", "all" if which is None else which)

    def start_zero(self, inputs):
        """Zero these inputs (indices from 0; their circuits switched off): their noise
        and offset measured over the next zero.WINDOWS windows, then applied and saved.
        ValueError while one runs. Energy counts are not touched."""
        if self.zeroing is not None:
            raise ValueError("input %s is being zeroed (%d %%)" % (
                ",".join(str(k + 1) for k in self.zeroing.inputs), self.zeroing.progress()))
        if not inputs:
            raise ValueError("no input")
        zero = _zero()  # let go once the zeroing is done
        self.zeroing = zero.Zeroing(inputs)
        self.snap = self.build_snapshot()
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
        _drop_zero()
        log("zeroing of input", ",".join(str(j + 1) for j in zg.inputs), "done:", self.zero_error or "ok")
        if self.screens is not None:
            self.screens.notice("zero_bad" if errors else "zero_done")

    def history_chunks(self, kind, count):
        """The history as a JSON array, a record's keys a chunk or two each (never whole in
        RAM; a record whole is ~450 B, more than a busy heap's largest free block may be)."""
        from .web import json_chunks
        daily = kind == "days"
        yield b"["
        first = True
        for r in self.history.records(kind, count):
            if not first:
                yield b","
            yield from json_chunks(r.to_dict(daily), 2)
            first = False
        yield b"]"

    def history_csv(self, kind, count):
        """The history as CSV, a line per record, newest first."""
        daily = kind == "days"
        cur = self.cfg["currency"]
        head = ["date", "total_kwh", "total_cost_" + cur]
        for u in USAGES:
            head += [u + "_kwh", u + "_cost_" + cur]
        head += ["gas_m3", "gas_cost_" + cur, "water_m3", "water_cost_" + cur]
        yield (",".join(csv_text(h) for h in head) + "\r\n").encode()
        for r in self.history.records(kind, count):
            d = r.to_dict(daily)
            row = [csv_text(d["date"]), "%.3f" % (d["wh"] / 1000), "%.2f" % d["cost"]]  # numbers as numbers
            for u in USAGES:
                row += ["%.3f" % (d["usage"][u]["wh"] / 1000), "%.2f" % d["usage"][u]["cost"]]
            row += ["%.3f" % (d["gas_l"] / 1000), "%.2f" % d["gas_cost"], "%.3f" % (d["water_l"] / 1000),
                    "%.2f" % d["water_cost"]]
            yield (",".join(row) + "\r\n").encode()

    def save(self):
        if not self.store.save(self.ledger):
            log("cannot save the counters:", self.store.last_error)

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
            self._record(k)
            if self.zeroing is not None:
                self._zero_step(k)
        self._take_pulses()
        self.rounds += 1
        if self.history.tick(self.ledger, self.wall.today(), self.cfg):
            self._save_due = True  # a day closed (or the first one began): its base is saved now

    def measure_round(self):
        """One round at once (tests, benchmarks): returns the watts."""
        for _ in self.round_slices():
            pass
        self.snap = self.build_snapshot()
        return list(self.ledger.power)

    def _take_pulses(self):
        for kind, p in self.pulses.items():
            n = p.take()
            if n:
                self.ledger.add_volume(kind, n * int(self.cfg[kind + "_l_per_pulse"]))

    def voltage(self, phase, now):
        """The voltage of this phase the metering multiplies the currents by (the grid
        meter's while its frames are fresh, else the nominal): view/snapshot.py's rule."""
        return snapshot.voltage(self.grid, self.cfg["voltage"], phase, now)

    def _record(self, k):
        inp = self.cfg["inputs"][k]
        now = self.clock.ticks_ms()
        watts = self.voltage(inp["phase"], now) * self.channels[k].irms * inp["pf"]
        self.ledger.record(k, watts, now)

    async def metering_task(self):
        period = self.cfg["period_ms"]
        rate_t0 = time.ticks_ms()
        rate_n0 = self.sampler.samples
        n = total = most = 0
        while True:
            t0 = self.clock.ticks_ms()
            r0 = time.ticks_ms()
            try:
                for _ in self.round_slices():
                    await asyncio.sleep_ms(0)  # at most one mains cycle between yields
            except Exception as e:  # this round is cut short; the next reading spans the gap
                self._fault("metering", e)
            took = time.ticks_diff(time.ticks_ms(), r0)
            n, total, most = n + 1, total + took, max(most, took)
            real = time.ticks_diff(time.ticks_ms(), rate_t0)
            if real >= 5000:  # over the last ~5 s of real time: the ADC sample rate, round times
                self.rate_hz = (self.sampler.samples - rate_n0) * 1000 // real
                self.round_ms = (total // n, most)
                n = total = most = 0
                rate_t0 = time.ticks_ms()
                rate_n0 = self.sampler.samples
            try:
                self.snap = self.build_snapshot()
            except Exception as e:  # the screens, the page and MQTT keep the last one a round longer
                self._fault("metering", e, "snapshot")
            gc.collect()  # once a round (~1-3 ms on the device): no fragmentation builds up
            self.heap_live = _mem_alloc()
            self._feed(period)
            if self.healthy_at is None and self.serving and self.rounds >= 2:
                self._healthy()
            spent = ticks_diff(self.clock.ticks_ms(), t0)
            await asyncio.sleep_ms(self.clock.real_ms(max(0, period - spent)))

    def panel_step(self, now):
        """One poll of the front panel (every 20 ms): buttons, idle time, LEDs, and the
        screen drawn again after a press or once a second."""
        if self.buttons:
            ev = self.buttons.poll(now)
            if ev and self.screens:
                cmd = self.screens.on_button(ev, now)
                if cmd:
                    self.panel_command(cmd)
                self.drawn_at = None
        if self.screens:
            self.screens.idle(now)
            self.screens.push_step()
        self._power_led(now)
        if self._led_on_at is not None and ticks_diff(now, self._led_on_at) >= 100:
            self.board.leds["grid"].value(0)
            self._led_on_at = None
        if self.screens and (self.drawn_at is None or ticks_diff(now, self.drawn_at) >= 1000):
            self.screens.draw(self.snap)
            self.drawn_at = now

    async def panel_task(self):
        while True:
            try:
                self.panel_step(self.clock.ticks_ms())
            except Exception as e:
                self._fault("panel", e)
                await asyncio.sleep_ms(PAUSE_MS)  # an error every poll does not spin the CPU
            await asyncio.sleep_ms(20)

    def _feed(self, period):
        """The metering goes on: the board's watchdog is fed (armed at the first round: a
        meter that stops metering is reset by it; a board without one has none)."""
        wdt = self.wdt
        if wdt:
            wdt.feed()
        elif wdt is None:
            try:
                wdt = self.board.watchdog(max(WATCHDOG_MS, 3 * period))
            except Exception as e:  # a board that refuses: the meter meters without one
                self._fault("metering", e, "watchdog")
                wdt = None
            self.wdt = wdt or False  # False: none (the board has none, or refused), not asked again
            self.boot["watchdog"] = bool(wdt)

    def _healthy(self):
        """Once, when the firmware is healthy: its first metering rounds done and its web
        server listening. The board keeps this firmware (on an ESP32 with OTA slots: the
        running app marked valid, so the bootloader does not roll it back) and turns its
        boot LED off; `make deploy` waits for the line logged here."""
        try:
            note = self.board.healthy()
        except Exception as e:  # tried again after the next round
            self._fault("metering", e, "health")
            return
        self.healthy_at = self.clock.ticks_ms()
        log("healthy: version", VERSION, note or "")

    def _fault(self, task, e, where=None):
        """An exception caught in a task that goes on: counted for that task (/api/state
        "tasks"); a MemoryError also as below, any other logged with the task's name once
        while the same error repeats."""
        self.task_errors[task] += 1
        if isinstance(e, MemoryError):
            self._oom(where or task)
            return
        why = "%s: %s: %s" % (where or task, type(e).__name__, e)
        if why != self.task_error:
            self.task_error = why
            log("error in", why, "(going on)")

    def _tasks(self):
        # /api/state "tasks": exceptions each task caught and went on after (a dict made at
        # its size); the grid reader, the web server and MQTT count their own, logged here
        # once per distinct error
        te, g, w, m = self.task_errors, self.grid, self.web, self.mqtt
        for name, part in (("grid", g), ("web", w), ("mqtt", m)):
            if part is not None and part.last_error is not None and part.last_error != self._logged[name]:
                self._logged[name] = part.last_error
                self.task_error = "%s: %s" % (name, part.last_error)
                log("error in", self.task_error, "(going on)")
        return {"metering": te["metering"], "grid": te["grid"] + (g.errors + g.mem_errors if g else 0),
                "web": te["web"] + w.errors + w.mem_errors, "panel": te["panel"],
                "mqtt": te["mqtt"] + (m.errors if m else 0), "save": te["save"], "clock": te["clock"]}

    async def _guarded(self, task, run):
        """Runs run() again after an exception escaped it (counted, logged), until it
        returns; cancelling still stops it (CancelledError is not an Exception)."""
        while True:
            try:
                return await run()
            except Exception as e:
                self._fault(task, e)
                await asyncio.sleep_ms(max(1, self.clock.real_ms(1000)))

    def _oom(self, where):
        """A MemoryError caught in a task that must go on: counted (errors.mem, and
        where the last one was), the heap collected; the task carries on."""
        self.mem_errors += 1
        self.mem_where = where
        gc.collect()

    async def web_task(self):
        """Bring the network up and serve; if the port cannot be had, say so and retry
        (metering goes on meanwhile)."""
        ip = await self.board.net.connect()
        self.ip = ip
        self._net_up = True
        asyncio.create_task(self.net_task())
        host, port = self.cfg["http_host"], self.cfg["http_port"]
        warned = False
        while True:
            try:
                await self.web.start(host, port)
                self.serving = True
                break
            except Exception as e:  # (anything else is counted too)
                if not isinstance(e, OSError):
                    self._fault("web", e)
                if not warned:
                    log("cannot serve on %s:%d (%s), retrying every 10 s" % (host, port, e))
                    warned = True
                await asyncio.sleep(10)
        log("version", VERSION, "kernel", _kernels["sums"],
            "serving http://%s:%d/" % (ip if host == "0.0.0.0" else host, port))

    async def store_task(self):
        """Save the counters every save_s of clock time, and at once after a tariff change,
        a partial reset or a closed day."""
        period = self.cfg["save_s"] * 1000
        last = self.clock.ticks_ms()
        while True:
            await asyncio.sleep_ms(max(1, self.clock.real_ms(1000)))
            now = self.clock.ticks_ms()
            if self._save_due or ticks_diff(now, last) >= period:
                try:
                    self.save()
                except Exception as e:  # tried again in a second
                    self._fault("save", e, "store")
                    continue
                self._save_due = False
                last = now

    async def net_task(self):
        """The Ethernet link: a cable pulled and put back (or a switch restarted) is noted,
        and the address DHCP gives again is taken; no reboot."""
        net = self.board.net
        was = True
        while True:
            await asyncio.sleep_ms(self.clock.real_ms(2000) or 1)
            up = bool(net.isconnected())
            if up != was:
                self.net_events += 1
                log("Ethernet link", "up" if up else "down")
                was = up
            if up:
                ip = net.ip()
                if ip != self.ip:
                    if self.ip is not None:
                        log("address now", ip)
                    self.ip = ip

    async def mqtt_task(self):
        while not self._net_up:
            await asyncio.sleep_ms(100)
        await self.mqtt.run()

    async def clock_task(self):
        """The wall clock from the board's RTC and from NTP, when there is no better source
        (the grid meter's clock is taken from its frames)."""
        board = self.board
        host = self.cfg["ntp_host"]
        while True:
            ok = False
            t = board.utc_s()  # None: the board's RTC does not know the time (or it has none)
            if t:
                self.wall.set_utc(t, "rtc")
                ok = True
            if host and self._net_up:
                try:
                    t = await ntp.query(host)
                except Exception as e:
                    self._fault("clock", e, "ntp")
                    t = None
                if t is None:
                    self.ntp["failed"] += 1
                else:
                    self.ntp["ok"] += 1
                    self.wall.set_utc(t, "ntp")
                    board.set_utc(t)  # the board's RTC then knows the time after a reset
                    ok = True
            await asyncio.sleep(3600 if ok else (5 if not self._net_up and host else 300))

    async def main(self):
        board = self.board
        if "power" in board.leds:
            board.leds["power"].value(1)
        if self.config_error:
            log(self.config_error)
        if self.auth.error:
            log(self.auth.error)
        for note in config.NOTES:  # a file a power cut left half-saved: used or dropped
            log(note)
        if self.zero_error:
            log(self.zero_error)
        for w in self.store.warnings:
            log("counters:", w)
        if self.reset_cause == "watchdog":
            log("restarted by the watchdog: the metering had stopped (%d such resets in all)" % self.resets)
        if self.store.alert:
            log(self.store.alert)
        tasks = [asyncio.create_task(self._guarded("metering", self.metering_task)),
                 asyncio.create_task(self._guarded("panel", self.panel_task))]
        for coro in board.background(self):
            tasks.append(asyncio.create_task(coro))
        tasks.append(asyncio.create_task(self.web_task()))
        tasks.append(asyncio.create_task(self._guarded("save", self.store_task)))
        tasks.append(asyncio.create_task(self._guarded("clock", self.clock_task)))
        if self.mqtt:
            tasks.append(asyncio.create_task(self._guarded("mqtt", self.mqtt_task)))
        if self.grid:
            tasks.append(asyncio.create_task(self._guarded("grid", self.grid.run)))
        gc.collect()
        try:
            await board.stopped()
        finally:
            self.web.close()
            for t in tasks:
                t.cancel()


def _resets(folder, count):
    """The watchdog resets counted on flash (resets.json), one more when `count`: written
    only then, so a healthy meter never writes it. A damaged file counts from 0 again."""
    path = (folder + "/resets.json") if folder else "resets.json"
    n = 0
    try:
        with open(path) as f:
            v = json.loads(f.read()).get("watchdog")
        if isinstance(v, int) and v >= 0:
            n = v
    except (OSError, ValueError, AttributeError):
        pass
    if count:
        n += 1
        try:
            config.write_json(path, {"watchdog": n})
        except OSError as e:
            log("resets.json not saved:", config.describe(e))
    return n


def run(board, cfg, config_error=None):
    global _sink
    _sink = board.log
    app = App(board, cfg, config_error)
    try:
        asyncio.run(app.main())
    except KeyboardInterrupt:
        pass
    finally:
        app.store.save(app.ledger)  # a clean stop loses nothing
        board.close()
        asyncio.new_event_loop()
    log("stopped")
