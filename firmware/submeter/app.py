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

from . import VERSION, config
from .net import ntp
from .net.auth import Auth
from .clock import WallClock, meter_time, ticks_diff, time_str
from .config import USAGES
from .ledger.history import History
from .ledger.ledger import Ledger
from .ledger.store import Store
from .view import snapshot
from .kernels import taken as _kernels
from .panel import Panel
from . import sense
from . import Tasks, log, log_to
from .net.server import Server
from .grid.reader import GridReader
from .view import snapshot


WATCHDOG_MS = 60000  # the hardware watchdog resets a meter whose metering stopped this long
                     # (or three periods, if longer)
_mem_free = getattr(gc, "mem_free", lambda: 0)  # (MicroPython's; CPython runs the tests too)


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
        self.ledger = Ledger(n, cfg["max_gap_ms"])
        self.wall = WallClock(self.clock.ticks_ms, cfg["utc_offset_min"], cfg["dst"])
        # the books of the exceptions each task catches and goes on after (/api/state "tasks")
        self.tasks = Tasks(self.clock, ("metering", "grid", "web", "panel", "mqtt", "save", "clock"))
        self.meter = sense.build(board, cfg, self.ledger, self.wall, self.tasks, self.voltage)
        self.meter.on_round = self._day
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
        self.auth = Auth(board.data_dir, self.clock.ticks_ms)
        self.restart_needed = []
        self.web = Server(self.state, cfg, self)
        self.web.tune = board.tune_socket  # (the simulator: the ESP32's socket buffers)
        self.ip = None
        self.serving = False    # the web server listens
        self.healthy_at = None  # when board.healthy() was called (once)
        self.net_events = 0     # link lost or back
        self.grid = GridReader(board, self.clock, cfg["grid"]) if cfg["grid"] != "none" else None
        self.panel = Panel(board, cfg, self, self.tasks)
        self.meter.notice = self.panel.notice  # a zeroing's end, said on the screen
        self.mqtt = None
        if cfg["mqtt_host"]:
            from .net.mqtt import Publisher
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
        self.panel.blink(self.clock.ticks_ms())  # the grid LED: a blink per valid frame

    def build_snapshot(self):
        return snapshot.build(self)  # (view/snapshot.py: all of it, in one place)

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
        if self.panel.screens is not None:  # labels, usages, times: a panel made afresh
            self.panel.make()
        self.snap = self.build_snapshot()
        log("config changed:", ", ".join(sorted(changes)))
        return {"saved": True, "restart": restart}

    def screen_png(self):
        return self.panel.png()

    def fault(self):
        """Something the installer must see: a config ignored, a flash that refuses writes,
        counters restored after every copy was damaged."""
        return (bool(self.config_error) or self.store.failing or self.history.errors > 0
                or self.store.alert is not None)

    def reset_partial(self, which=None):
        """The ledger command behind the panel's long press on back and the page's button:
        which = an input's index, "gas", "water", or None for every partial counter."""
        self.ledger.reset_partial(which, self.wall.now())
        self._save_due = True
        self.snap = self.build_snapshot()
        log("partial counter reset:", "all" if which is None else which)

    def start_zero(self, inputs):
        """Zero these inputs (indices from 0; their circuits switched off): Metering.start_zero."""
        got = self.meter.start_zero(inputs)
        self.snap = self.build_snapshot()
        return got

    def history_chunks(self, kind, count):
        """The history as a JSON array, a record's keys a chunk or two each (never whole in
        RAM; a record whole is ~450 B, more than a busy heap's largest free block may be)."""
        from .net.api import json_chunks
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

    def writes_per_day(self):
        """Flash writes a day (counters and history): measured after an hour up, else foreseen."""
        return snapshot.writes_per_day(self, self._uptime_s())


    def measure_round(self):
        """One round at once (tests, benchmarks): returns the watts."""
        for _ in self.meter.round_slices():
            pass
        self.snap = self.build_snapshot()
        return list(self.ledger.power)

    def _day(self):
        # after each metering round: a day closed (or the first one began), its base saved now
        if self.history.tick(self.ledger, self.wall.today(), self.cfg):
            self._save_due = True

    def voltage(self, phase, now):
        """The voltage of this phase the metering multiplies the currents by (the grid
        meter's while its frames are fresh, else the nominal): view/snapshot.py's rule."""
        return snapshot.voltage(self.grid, self.cfg["voltage"], phase, now)

    def metering_task(self):
        return self.meter.run(self._round_done)

    def _round_done(self):
        # after each metering round: the snapshot the sinks read, the heap collected, the
        # watchdog fed, and health said once
        try:
            self.snap = self.build_snapshot()
        except Exception as e:  # the screens, the page and MQTT keep the last one a round longer
            self.tasks.fault("metering", e, "snapshot")
        self.tasks.collect()  # once a round (~1-3 ms on the device): no fragmentation builds up
        self._feed(self.cfg["period_ms"])
        if self.healthy_at is None and self.serving and self.meter.rounds >= 2:
            self._healthy()

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
                self.tasks.fault("metering", e, "watchdog")
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
            self.tasks.fault("metering", e, "health")
            return
        self.healthy_at = self.clock.ticks_ms()
        log("healthy: version", VERSION, note or "")

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
                    self.tasks.fault("web", e)
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
                    self.tasks.fault("save", e, "store")
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
        await ntp.keep_time(self.board, self.wall, self.cfg["ntp_host"], lambda: self._net_up, self.ntp,
                            lambda e: self.tasks.fault("clock", e, "ntp"))

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
        if self.meter.zero_error:
            log(self.meter.zero_error)
        for w in self.store.warnings:
            log("counters:", w)
        if self.reset_cause == "watchdog":
            log("restarted by the watchdog: the metering had stopped (%d such resets in all)" % self.resets)
        if self.store.alert:
            log(self.store.alert)
        g = self.tasks.guarded
        tasks = [asyncio.create_task(g("metering", self.metering_task)),
                 asyncio.create_task(g("panel", self.panel.run))]
        for coro in board.background(self):
            tasks.append(asyncio.create_task(coro))
        tasks.append(asyncio.create_task(self.web_task()))
        tasks.append(asyncio.create_task(g("save", self.store_task)))
        tasks.append(asyncio.create_task(g("clock", self.clock_task)))
        if self.mqtt:
            tasks.append(asyncio.create_task(g("mqtt", self.mqtt_task)))
        if self.grid:
            tasks.append(asyncio.create_task(g("grid", self.grid.run)))
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
    log_to(board.log)
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
