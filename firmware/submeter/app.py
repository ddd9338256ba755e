# Wiring: sources -> ledger -> snapshot -> sinks, as asyncio tasks. The App builds the
# parts from the board's ready objects (boards/<name>.py; what a board has not, it
# inherits from boards/base.py), passes each what it reads, offers the commands the
# sinks give (net/commands.py) and starts the tasks; what a part does is in its folder.
import asyncio
import gc
import sys

from . import VERSION, Tasks, config, log, log_to, net, sense
from .clock import WallClock
from .grid.reader import GridReader
from .kernels import taken as _kernels
from .ledger.history import History
from .ledger.ledger import Ledger
from .ledger.standby import Standby
from .ledger.store import Store, resets
from .net import ntp
from .net.auth import Auth
from .net.server import Server
from .panel import Panel
from .view import snapshot


class App:
    # (class attributes until set: an instance's attribute table grown past its size costs
    # more heap than they hold, measured with tools/bench/memparts.py)
    pending = None      # the saved values of what waits for a restart (GET /api/config "pending")
    restarting = False  # POST /api/restart: main() ends, the counters saved, and run() says so
    _end = None         # set (an Event, made by main): main() ends, the board stopped it or a restart
    _stale = False      # the snapshot is older than the last round or command (state() makes it again)
    upgrading = None    # an upgrade being received over the network, in words (net/upgrade.py)
    upgrade = None      # the last upgrade's record (upgrade.json), judged at boot

    def __init__(self, board, cfg, config_error=None):
        self.board, self.cfg, self.config_error = board, cfg, config_error
        # the display drivers' page-sync kernel, if a driver loaded it (drivers/fbsync.py)
        fb = sys.modules.get("drivers.fbsync")
        _kernels["fbsync"] = fb.KERNEL if fb else None
        clock = self.clock = board.clock
        n = len(cfg["inputs"])
        self.ledger = Ledger(n, cfg["max_gap_ms"])
        self.wall = WallClock(clock.ticks_ms, cfg["utc_offset_min"], cfg["dst"])
        # the books of the exceptions each task catches and goes on after (/api/state "tasks")
        self.tasks = Tasks(clock, ("metering", "grid", "web", "panel", "mqtt", "save", "clock"))
        # the volts the metering multiplies the currents by: view/snapshot.py's rule
        self.meter = sense.build(board, cfg, self.ledger, self.wall, self.tasks,
                                 lambda phase, now, nominal=True: snapshot.voltage(
                                     self.grid, cfg["voltage"] if nominal else None, phase, now))
        self.meter.on_round = self._day
        self.meter.save_ratio = self.set_config  # a calibration's new ct_ratio
        # why the board started: a watchdog reset is counted on flash and shown until the
        # next start (the notices, below)
        self.reset_cause = board.reset_cause()
        self.resets = resets(board.data_dir, self.reset_cause == "watchdog")
        self.history = History(board.data_dir, n)
        self.store = Store(board.data_dir, self.history)
        self.restored = self.store.load(self.ledger)  # the counters as last saved
        self.history.prepare()  # the file is made now, not at midnight in the loop
        # the night-time base load, fed after each round (_day); its last night's figure read back
        self.standby = Standby(n, cfg["standby_window"], cfg["standby_pct"], board.data_dir)
        # what the owner is told until the next start (a watchdog reset, the counters lost):
        # the page, the panel and MQTT read this one list in the snapshot
        self.notices = snapshot.notices(self.reset_cause, self.resets, self.store)
        self.slot = board.running_slot()  # the OTA slot this image runs from (None: no slots)
        # how this meter can be upgraded over the network: its image into the other OTA slot,
        # or (a stock image running our .mpy files) the files into the other folder
        self.upgrade_path = "image" if board.update_slot() is not None else (
            "files" if net.running_tree() is not None else None)
        self._upgrade_record()
        self.ntp = {"ok": 0, "failed": 0}
        self.started = clock.ticks_ms()
        self.auth = Auth(board.data_dir, clock.ticks_ms)
        self.restart_needed = []
        self.web = Server(self.state, cfg, self)
        self.web.tune = board.tune_socket  # (the simulator: the ESP32's socket buffers)
        self.ip, self.net_up, self.serving, self.net_events = None, False, False, 0  # (net.serve)
        self.healthy_at = None  # when board.healthy() was called (once)
        self.grid = GridReader(board, clock, cfg["grid"]) if cfg["grid"] != "none" else None
        self.panel = Panel(board, cfg, self, self.tasks)
        self.meter.notice = self.panel.notice  # a zeroing's end, said on the screen
        self.mqtt = None
        if cfg["mqtt_host"]:
            from .net.mqtt import Publisher  # (imported only then: its heap)
            self.mqtt = Publisher(cfg, cfg["mqtt_client_id"] or "submeter-%s" % board.uid, board.name, self.state,
                                  board.data_dir, lambda: self.ip)
        if self.grid:
            self.grid.on_frame = self._grid_frame
        self.snap = self.build_snapshot()

    def state(self):
        """The snapshot (view/snapshot.py), made on the first read after a metering round
        or a command rather than at every round: a round nobody reads (the panel asleep,
        no page open, between two MQTT messages) makes none of its ~10 KB of garbage
        (measured: 10.5 KB allocated per snapshot on the device model). One that cannot be
        made (a full heap) is counted and the last one is read; the next read tries again."""
        if self._stale:
            try:
                self.snap = self.build_snapshot()
                self._stale = False
            except Exception as e:  # the screens, the page and MQTT keep the last one
                self.tasks.fault("metering", e, "snapshot")
        return self.snap

    def overload(self):
        """The grid meter says the subscribed power is exceeded (its latest frame): what
        wakes the panel, read without making a snapshot."""
        g = self.grid
        return bool(g and g.reading.frames and g.reading.overload)

    def build_snapshot(self):
        return snapshot.build(self)  # (view/snapshot.py: all of it, in one place)

    def _grid_frame(self):
        # a valid frame: the meter's tariff period splits every circuit's energy from now
        # on (saved at once when it changed), its clock sets the wall clock, the LED blinks
        r, now = self.grid.reading, self.clock.ticks_ms()
        if r.period_index and self.ledger.set_period(r.period_index - 1, now):
            self.store.due = True
        self.wall.follow_meter(r.time, now)
        self.panel.blink(self.clock.ticks_ms())

    def _day(self):
        # after each metering round: a day closed (or the first one began), its base saved now
        if self.history.tick(self.ledger, self.wall.today(), self.cfg):
            self.store.due = True
        self.standby.feed(self.wall.now(), self.clock.ticks_ms(), self.ledger)  # (the standby figure)

    # --- the commands (net/commands.py; the panel uses reset_partial, start_zero and start_calibration) ---
    def public_config(self):
        out = config.public(self.cfg)
        if self.pending:  # what the next start will use, where it differs (the settings page shows it)
            out["pending"] = self.pending
        return out

    def set_config(self, changes, remake=True):
        # (remake False: a calibration's ratio, whose result the panel is showing)
        path = (self.board.data_dir + "/config.json") if self.board.data_dir else "config.json"
        pending = self.pending or {}
        restart = config.apply(path, self.cfg, changes, self.board.CONFIG, self.restart_needed, pending)
        if pending:
            self.pending = pending
        for ch, inp in zip(self.meter.channels, self.cfg["inputs"]):  # ct_ratio, burden_ohm: at once
            ch.set_ratio(inp["ct_ratio"], inp["burden_ohm"])
        if remake and self.panel.screens is not None:  # labels, usages, times: a panel made afresh
            self.panel.make()
        self._stale = True
        log("config changed:", ", ".join(sorted(changes)))
        return {"saved": True, "restart": restart}

    def reset_partial(self, which=None):
        self.ledger.reset_partial(which, self.wall.now())
        self.store.due = True
        self._stale = True
        log("partial counter reset:", "all" if which is None else which)

    def start_zero(self, inputs):
        got = self.meter.start_zero(inputs)
        self._stale = True
        return got

    def set_time(self, utc_s):
        """POST /api/time: the wall clock (and the board's RTC) set by hand; ValueError when a
        better source (the grid meter's clock, NTP) holds it."""
        if not self.wall.set_utc(utc_s, "set"):
            raise ValueError("the meter's clock comes from a better source (%s): not changed" % self.wall.source)
        self.board.set_utc(utc_s)
        self._stale = True
        t = self.state()["time"]
        log("clock set by hand:", t["local"])
        return t

    def start_calibration(self, k, watts):
        got = self.meter.start_calibration(k, watts)
        self._stale = True
        return got

    def start_phasecal(self, k):
        got = self.meter.start_phasecal(k)
        self._stale = True
        return got

    def restart(self):
        """POST /api/restart: the run ends half a second later (the answer sent first),
        the counters saved as at any clean stop; run() then returns True and main.py
        resets the board (docs/api.md says what a restart is on each)."""
        if not self.restarting:
            self.restarting = True
            log("restart asked over the network")
            asyncio.create_task(self._restart())
        return {"restarting": True}

    def _upgrade_record(self):
        """An upgrade over the network left a record (net/upgrade.py): judged now against
        the slot that runs (kept on trial, or rolled back: said in the notices). The module
        is imported only when there is a record, and let go after."""
        import os
        try:
            os.stat(self.board.data_dir + "/upgrade.json")
        except OSError:
            return
        from .net import upgrade
        self.upgrade, notice = upgrade.record_at_boot(self.board, self.slot)
        net._drop("upgrade")
        if notice:
            self.notices.append(notice)

    def _upgrade_kept(self):
        """Healthy after an upgrade on trial: its record says kept (and the owner is told)."""
        if self.upgrade is not None and self.upgrade.get("result") == "trial":
            from .net import upgrade
            self.notices.append(upgrade.kept(self.board, self.upgrade))
            net._drop("upgrade")

    async def _restart(self):
        await asyncio.sleep_ms(500)
        if self._end is not None:  # (None: main() not running, as in the in-memory tests)
            self._end.set()

    async def _board_stop(self):
        await self.board.stopped()
        self._end.set()

    def history_records(self, kind, count):
        return self.history.records(kind, count)

    def screen_png(self):
        return self.panel.png()

    def fault(self):  # the installer must see it (the power LED blinks): a config ignored,
        # a flash that refuses writes, counters restored after every copy was damaged
        return (bool(self.config_error) or self.store.failing or self.history.errors > 0
                or self.store.alert is not None)

    def measure_round(self):  # one round at once (tests, benchmarks): the watts
        for _ in self.meter.round_slices():
            pass
        self.snap = self.build_snapshot()
        return list(self.ledger.power)

    def metering_task(self):
        return self.meter.run(self.after_round)

    def after_round(self):
        """After each metering round (the metering feeds the watchdog next): the snapshot
        marked old, the heap collected, and health said once."""
        self._stale = True  # (made when read: state())
        self.tasks.collect()  # once a round (~1-3 ms on the device): no fragmentation builds up
        if self.healthy_at is None and self.serving and self.meter.rounds >= 2:
            # once, the first rounds metered and the server listening: the board keeps
            # this firmware (boards/base.py healthy: OTA rollback cancelled, boot LED
            # off); `make deploy` waits for the line logged here
            try:
                note = self.board.healthy()
            except Exception as e:  # tried again after the next round
                self.tasks.fault("metering", e, "health")
                return
            self.healthy_at = self.clock.ticks_ms()
            log("healthy: version", VERSION, note or "")
            self._upgrade_kept()

    async def main(self):
        board, cfg, g = self.board, self.cfg, self.tasks.guarded
        if "power" in board.leds:
            board.leds["power"].value(1)
        # what the installer reads in the log at boot (config.NOTES: power cuts' half-saved files)
        notes = [self.config_error, self.auth.error] + config.NOTES + [self.meter.zero_error]
        wd = self.reset_cause == "watchdog" and (
            "restarted by the watchdog: the metering had stopped (%d such resets in all)" % self.resets)
        for note in notes + ["counters: " + w for w in self.store.warnings] + [wd, self.store.alert]:
            if note:
                log(note)
        coros = [g("metering", self.metering_task), g("panel", self.panel.run)] + list(board.background(self))
        coros += [net.serve(self, self.web, cfg["http_host"], cfg["http_port"], self.tasks),
                  g("save", lambda: self.store.keep(self.ledger, self.clock, cfg["save_s"] * 1000, self.tasks)),
                  g("clock", lambda: ntp.keep_time(
                      board, self.wall, cfg["ntp_host"], lambda: self.net_up, self.ntp,
                      lambda e: self.tasks.fault("clock", e, "ntp")))]
        if self.mqtt:
            coros.append(g("mqtt", lambda: net.when_up(self, self.mqtt.run)))
        if self.grid:
            coros.append(g("grid", self.grid.run))
        self._end = asyncio.Event()
        coros.append(self._board_stop())
        tasks = [asyncio.create_task(c) for c in coros]
        gc.collect()
        try:
            await self._end.wait()
        finally:
            self.web.close()
            for t in tasks:
                t.cancel()


def run(board, cfg, config_error=None):
    """The firmware until it stops; True when it stopped for a restart (POST /api/restart)."""
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
    return app.restarting
