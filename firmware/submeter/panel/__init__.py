# The front panel: its screens (screens.py), and here the part the App wires: the panel
# task (Panel: the buttons polled every 20 ms, the screens drawn from the snapshot, what
# the user confirmed sent as a command, the LEDs: power steady or blinking while there is
# a fault, grid a blink per valid frame) and the buttons. Made of ready objects (the
# board's display, buttons and LEDs; the App's command interface): it imports nothing
# above panel/.
import asyncio

from micropython import const

from ..clock import ticks_diff
from . import screens

_DEBOUNCE_POLLS = const(2)
LONG_PRESS_MS = const(1500)
_PAUSE_MS = const(200)  # after an error in a poll: an error every poll does not spin the CPU


class Panel:
    """app: what the panel reads and asks of the App, and nothing else: state() (the
    snapshot to draw), overload() (the grid meter's overload, which wakes the panel: read
    while it sleeps, instead of a snapshot), fault() (true while the installer must see something: the power
    LED blinks), auth.initial (the made-up web password, shown until the owner sets
    theirs), and the commands sent once the user has confirmed: reset_partial(which),
    start_zero(inputs), start_calibration(k, watts). tasks: the fault books (submeter.Tasks).
    `screens` is None without a display."""

    def __init__(self, board, cfg, app, tasks):
        self.board = board
        self.cfg = cfg
        self.app = app
        self.tasks = tasks
        self.buttons = Buttons(board.buttons) if board.buttons else None
        self.drawn_at = None    # when the screen was last drawn (None: at the next poll)
        self._led_on_at = None  # when the grid LED was lit
        self.screens = None
        if board.display is not None:
            self.make()

    def make(self):
        """The screens made afresh (at boot, and after the config changed: labels, usages,
        times)."""
        disp = self.board.display
        sc = screens.Screens(disp, self.cfg)
        auth = self.app.auth
        sc.password = lambda: auth.initial  # shown until the owner sets theirs
        if hasattr(disp, "contrast"):
            disp.contrast(self.cfg["contrast"])
        self.screens = sc

    def step(self, now):
        """One poll (every 20 ms): buttons, idle time, LEDs, and the screen drawn again
        after a press or once a second."""
        sc = self.screens
        if self.buttons:
            ev = self.buttons.poll(now)
            if ev and sc:
                cmd = sc.on_button(ev, now)
                if cmd:
                    self.command(cmd)
                self.drawn_at = None
        if sc:
            sc.idle(now)
            sc.push_step()
        leds = self.board.leds
        led = leds.get("power")  # steady on; blinking at 1 Hz while there is a fault
        if led is not None:
            led.value(0 if self.app.fault() and (now // 500) & 1 else 1)
        if self._led_on_at is not None and ticks_diff(now, self._led_on_at) >= 100:
            leds["grid"].value(0)
            self._led_on_at = None
        if sc and (self.drawn_at is None or ticks_diff(now, self.drawn_at) >= 1000):
            if sc.asleep and not self.app.overload():
                sc.draw_asleep()  # (no snapshot made for a screen that is off)
            else:
                sc.draw(self.app.state())
            self.drawn_at = now

    async def run(self):
        """The panel task."""
        clock = self.board.clock
        while True:
            try:
                self.step(clock.ticks_ms())
            except Exception as e:
                self.tasks.fault("panel", e)
                await asyncio.sleep_ms(_PAUSE_MS)  # an error every poll does not spin the CPU
            await asyncio.sleep_ms(20)

    def command(self, cmd):
        """What the panel asks, once the user has confirmed: ("reset", usage) zeroes the
        partial counter of every input of that usage, ("reset", "gas" | "water") the
        volume's, ("reset", "all") every partial counter (the long press on home or the
        month, as the page's reset button); ("zero", usage) zeroes the inputs of that usage;
        ("calibrate", (k, watts)) calibrates input k against a load of that many watts."""
        verb, what = cmd
        inputs = self.cfg["inputs"]
        app = self.app
        if verb == "calibrate":  # (input from 0, watts)
            try:
                app.start_calibration(what[0], what[1])
            except ValueError:  # a zeroing or another calibration runs
                self.screens.cal = None
                self.screens.notice("cal_busy")
            return
        if verb == "zero":
            try:
                app.start_zero([k for k, inp in enumerate(inputs) if inp["usage"] == what])
            except ValueError:
                pass  # one is running: its progress is on the screen
            return
        if verb != "reset":
            return
        if what in ("gas", "water"):
            app.reset_partial(what)
            return
        if what == "all":
            app.reset_partial(None)
            return
        for k, inp in enumerate(inputs):
            if inp["usage"] == what:
                app.reset_partial(k)

    def notice(self, key):
        """A notice over the screen for a few draws (labels.py: "zero_done"...)."""
        if self.screens is not None:
            self.screens.notice(key)

    def blink(self, now):
        """A valid grid frame: the grid LED lit, off again 100 ms later (it stays off once
        frames stop)."""
        led = self.board.leds.get("grid")
        if led is not None:
            led.value(1)
            self._led_on_at = now

    def state(self):
        """The display for the snapshot: None without one, "asleep" while it sleeps (the
        page says a press wakes it), else "on"."""
        sc = self.screens
        return None if sc is None else "asleep" if sc.asleep else "on"

    def png(self):
        """The panel as it is now, as a PNG in pieces (the page's mirror,
        tools/sim/screenshot), or None without a display."""
        if self.screens is None:
            return None
        from .png import png_chunks
        return png_chunks(self.board.display.buf, 128, 64)


class Buttons:
    """Debounced buttons polled by one task: pins are active low (pressed = 0).

    poll(now_ms) returns the name of a button just pressed or None. Back is told apart:
    released before LONG_PRESS_MS it is "back" (on release); held that long it is
    "back_long", once, and no "back" follows. No IRQ per contact bounce.
    """

    def __init__(self, pins):
        self.names = list(pins)
        self.pins = [pins[n] for n in self.names]
        self._stable = [1] * len(self.pins)
        self._count = [0] * len(self.pins)
        self._down_at = [None] * len(self.pins)
        self._long_sent = [False] * len(self.pins)

    def poll(self, now_ms):
        event = None
        for k, pin in enumerate(self.pins):
            v = pin.value()
            back = self.names[k] == "back"
            if v != self._stable[k]:
                self._count[k] += 1
                if self._count[k] >= _DEBOUNCE_POLLS:
                    self._stable[k] = v
                    self._count[k] = 0
                    if v == 0:
                        self._down_at[k] = now_ms
                        self._long_sent[k] = False
                        if not back:
                            event = event or self.names[k]
                    else:
                        if back and self._down_at[k] is not None and not self._long_sent[k]:
                            event = event or "back"
                        self._down_at[k] = None
            else:
                self._count[k] = 0
                t0 = self._down_at[k]
                if (back and t0 is not None and not self._long_sent[k]
                        and ticks_diff(now_ms, t0) >= LONG_PRESS_MS):
                    self._long_sent[k] = True
                    event = event or "back_long"
        return event
