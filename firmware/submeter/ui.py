# Front panel: screens drawn on a 128x64 framebuf-like display, and the buttons.
# The display is duck-typed (fill, text, fill_rect, show: a framebuf.FrameBuffer
# subclass such as the SSD1306 driver or the simulator's terminal display).
from micropython import const

from .clock import ticks_diff
from .config import USAGES
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
    """Home, one screen per input, then this month by usage (the RT2012 report); up/down
    move, back returns home, ok on the month screen switches kWh and cost."""

    def __init__(self, disp, cfg):
        self.disp = disp
        self.cfg = cfg
        self.t = labels(cfg["lang"])
        self.big = BigText()
        self.index = 0
        self.n = len(cfg["inputs"])
        self.count = 2 + self.n
        self.money = False
        self._notice = None
        self._notice_draws = 0

    def on_button(self, name):
        if name == "down":
            self.index = (self.index + 1) % self.count
        elif name == "up":
            self.index = (self.index - 1) % self.count
        elif name in ("back", "home"):
            self.index = 0
        elif name == "ok" and self.index == self.count - 1:
            self.money = not self.money
        self._notice = None
        return self.index

    def current_input(self):
        """The input (0-based) whose screen is shown, or None."""
        return self.index - 1 if 1 <= self.index <= self.n else None

    def notice(self, key):
        """A word for the user over the next few drawings (about 3 s)."""
        self._notice = self.t.get(key, key)
        self._notice_draws = 3

    def draw(self, snap):
        d = self.disp
        d.fill(0)
        if self.index == 0:
            self._home(d, snap)
        elif self.index <= self.n:
            self._input(d, snap, snap["inputs"][self.index - 1])
        else:
            self._month(d, snap)
        if self.index <= self.n:
            d.text("%d/%d" % (self.index + 1, self.count), 104, 56, 1)
        if self._notice:
            d.fill_rect(0, 24, 128, 16, 0)
            d.rect(0, 24, 128, 16, 1)
            d.text(self._notice[:15], 4, 28, 1)
            self._notice_draws -= 1
            if self._notice_draws <= 0:
                self._notice = None
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
        d.text(("%d " % inp["id"]) + name[:9], 0, 0, 1)
        amps = "%.2fA" % inp["a"]
        d.text(amps, 128 - 8 * len(amps), 0, 1)
        d.hline(0, 10, 128, 1)
        self.big.draw(d, fmt_w(inp["w"]), 0, 16)
        d.text(inp["kwh"] + " kWh", 0, 36, 1)
        d.text("%.2f %s" % (inp["cost"], snap["currency"]), 0, 46, 1)
        d.text("P " + inp["partial_kwh"], 0, 56, 1)  # the partial counter (long back: reset)

    def _month(self, d, snap):
        t = self.t
        m = snap.get("month")
        d.text(m["date"] if m else t["month"], 0, 0, 1)
        unit = snap["currency"][:3] if self.money else "kWh"
        d.text(unit, 128 - 8 * len(unit), 0, 1)
        if not m:
            d.text("--", 0, 20, 1)  # no date yet: the month is not known
            return
        y = 9
        for key in USAGES:
            u = m["usage"][key]
            v = "%.2f" % u["cost"] if self.money else "%.1f" % (u["wh"] / 1000)
            d.text(t[key][:8], 0, y, 1)
            d.text(v, 128 - 8 * len(v), y, 1)
            y += 9
        tot = "%.2f" % m["cost"] if self.money else "%.1f" % (m["wh"] / 1000)
        d.hline(0, y, 128, 1)
        d.text(t["total"], 0, y + 2, 1)
        d.text(tot, 128 - 8 * len(tot), y + 2, 1)


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
