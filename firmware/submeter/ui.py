# Front panel: screens drawn on a 128x64 framebuf-like display, and the buttons.
# The display is duck-typed (fill, text, fill_rect, show: a framebuf.FrameBuffer
# subclass such as the SSD1306 driver or the simulator's terminal display).
from micropython import const

from .clock import ticks_diff
from .labels import labels

BIG = const(2)          # scale of the main figure
DEBOUNCE_POLLS = const(2)
LONG_PRESS_MS = const(1500)


class BigText:
    """The 8x8 built-in font drawn BIG times larger, through one preallocated scratch buffer."""

    def __init__(self, chars=10):
        import framebuf
        self.chars = chars
        self._buf = bytearray(chars * 8)
        self._fb = framebuf.FrameBuffer(self._buf, chars * 8, 8, framebuf.MONO_VLSB)

    def draw(self, disp, s, x, y, c=1):
        s = s[: self.chars]
        fb = self._fb
        fb.fill(0)
        fb.text(s, 0, 0, 1)
        buf = self._buf
        for col in range(len(s) * 8):
            bits = buf[col]  # MONO_VLSB: one byte is a column of 8 pixels
            row = 0
            while bits:
                if bits & 1:
                    disp.fill_rect(x + col * BIG, y + row * BIG, BIG, BIG, c)
                bits >>= 1
                row += 1
        return len(s) * 8 * BIG


def fmt_w(w):
    return "%d W" % int(w + 0.5) if w < 10000 else "%.1f kW" % (w / 1000)


class Screens:
    """Home, then one screen per input; up/down move, back returns home."""

    def __init__(self, disp, cfg):
        self.disp = disp
        self.cfg = cfg
        self.t = labels(cfg["lang"])
        self.big = BigText()
        self.index = 0
        self.count = 1 + len(cfg["inputs"])

    def on_button(self, name):
        if name == "down":
            self.index = (self.index + 1) % self.count
        elif name == "up":
            self.index = (self.index - 1) % self.count
        elif name in ("back", "home"):
            self.index = 0
        return self.index

    def draw(self, snap):
        d = self.disp
        d.fill(0)
        if self.index == 0:
            self._home(d, snap)
        else:
            self._input(d, snap, snap["inputs"][self.index - 1])
        d.text("%d/%d" % (self.index + 1, self.count), 104, 56, 1)
        d.show()

    def _home(self, d, snap):
        t = self.t
        d.text(t["total"], 0, 0, 1)
        if snap.get("errors", {}).get("config"):
            d.text("CFG!", 96, 0, 1)  # config.json was ignored: details on the web page
        d.hline(0, 10, 128, 1)
        self.big.draw(d, fmt_w(snap["total_w"]), 0, 16)
        d.text(snap["total_kwh"] + " kWh", 0, 36, 1)
        d.text("%.2f %s" % (snap["total_cost"], snap["currency"]), 0, 46, 1)

    def _input(self, d, snap, inp):
        t = self.t
        name = inp["name"] or t.get(inp["usage"], inp["usage"])
        d.text(("%d " % inp["id"]) + name[:14], 0, 0, 1)
        d.hline(0, 10, 128, 1)
        self.big.draw(d, fmt_w(inp["w"]), 0, 16)
        d.text(inp["kwh"] + " kWh", 0, 36, 1)
        d.text("%.2f %s" % (inp["cost"], snap["currency"]), 0, 46, 1)
        d.text("%.2f A" % inp["a"], 0, 56, 1)


class Buttons:
    """Debounced buttons polled by one task: pins are active low (pressed = 0).

    poll(now_ms) returns the name of a button just pressed, "back_long" once when back
    has been held LONG_PRESS_MS, or None. No IRQ per contact bounce.
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
            if v != self._stable[k]:
                self._count[k] += 1
                if self._count[k] >= DEBOUNCE_POLLS:
                    self._stable[k] = v
                    self._count[k] = 0
                    if v == 0:
                        self._down_at[k] = now_ms
                        self._long_sent[k] = False
                        event = event or self.names[k]
                    else:
                        self._down_at[k] = None
            else:
                self._count[k] = 0
                t0 = self._down_at[k]
                if (t0 is not None and not self._long_sent[k] and self.names[k] == "back"
                        and ticks_diff(now_ms, t0) >= LONG_PRESS_MS):
                    self._long_sent[k] = True
                    event = event or "back_long"
        return event
