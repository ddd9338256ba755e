# The front panel's screens, drawn on a 128x64 framebuf-like display (the buttons that walk
# them and the task that polls and draws: __init__.py).
# The display is duck-typed (fill, text, fill_rect, rect, hline, show, power: a
# framebuf.FrameBuffer subclass such as the display drivers or the simulator's terminal);
# the screens draw on it through glyphs.Face, whose text() draws the accented letters
# French needs (the big figures too). Figures follow view/units.py: kWh with 3 decimals
# below 100 kWh, 1 below 10,000, none above; volumes in m³; the uptime in words.
#
# Screens, in the order up/down walks them: home; one per usage wired (heating, cooling,
# hot water, sockets, other); water; gas; this month by usage; the grid meter; the phases
# (shown once the meter or the inputs say the installation is three-phase); the network;
# about. Ok on a usage, water or gas opens its partial counter; a long press on back there
# asks, then resets it; on home or the month it asks, then resets every partial counter (as
# the page's reset button). Ok on the month switches kWh and money. Back goes up a level,
# then home. After `screen_home_s` without a press the panel goes home; after
# `screen_sleep_s` the display sleeps (its buffer, the page's mirror, then says so), and
# the next press only wakes it. An overload reported by the grid
# meter takes over the screen until ok or back acknowledges it.
from micropython import const

from ..clock import ticks_diff
from ..config import USAGES, first
from ..grid.reading import import_total, p1_power
from ..view.labels import alert_text, labels
from ..view.units import duration, kwh
from .glyphs import Face
from .glyphs import text as _text

BIG = const(2)          # scale of the main figure
_W = const(128)

SOURCES = {"tic_standard": "TIC std", "tic_historic": "TIC hist", "p1": "P1", "p1_legacy": "P1"}
_HOME_WARN = {"overvoltage": "U>!", "ejp_notice": "EJP!", "breaker_open": "OFF!"}
_NOTICE_TAG = {"watchdog": "WDT!", "rolled_back": "UPG!", "upgraded": "UPG"}  # (the counters lost: CNT!, until the next start)
_HINT_TAG = {"p1_silent": "P1?", "tic_silent": "TIC?", "tic_veille": "TIC?", "tic_pulses": "TIC?"}


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
        _text(fb, s, 0, 0, 1)
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
    """Power with its unit and its sign (below 0: a circuit giving back): "-850 W",
    "12.3 kW"; rounded half away from zero (never "-0 W")."""
    sign = "-" if w <= -0.5 else ""
    w = abs(w)
    return sign + ("%d W" % int(w + 0.5) if w < 9999.5 else "%.1f kW" % (w / 1000))


def right(d, s, y):
    d.text(s, _W - 8 * len(s), y, 1)


def cut(s, n):
    """s in n characters at most, its last a dot when cut."""
    return s if len(s) <= n else s[:n - 1] + "."


def pair(label, value):
    """"label value" in a line's 16 characters: a label too long is cut, never the figure
    or its unit."""
    return cut(label, 15 - len(value)) + " " + value


def money(v, cur):
    return "%.2f %s" % (v, cur[:3])


class Screens:
    def __init__(self, disp, cfg):
        self.disp = Face(disp)  # its text() draws the accented letters
        self.cfg = cfg
        self.t = labels(cfg["lang"])
        self.big = None         # made at the first drawing (framebuf is MicroPython's)
        self.usages = [u for u in USAGES if any(i["usage"] == u for i in cfg["inputs"])]
        self.pages = ["home"] + self.usages + ["water", "gas", "month", "grid", "net", "about"]
        self.index = 0
        self.detail = False     # a partial counter is shown (usage, water, gas)
        self.confirm = False    # "reset this partial?" is asked
        self.zero_ask = False   # "zero this input? switch its circuit off" is asked
        self.cal = None         # the calibration's flow (down on the zero question: calscreen.py)
        self.money = False      # the month in money rather than kWh
        self.acked = False      # the overload warning acknowledged (until the overload ends)
        self.alert = False      # the overload warning is on the screen
        self.asleep = False
        self.sleep_drawn = False  # the buffer says the display sleeps (the page's mirror)
        self.home_ms = cfg.get("screen_home_s", 60) * 1000
        self.sleep_ms = cfg.get("screen_sleep_s", 600) * 1000
        self._last = None       # tick of the last press
        self.notice_text = None  # the notice over the screen (None: none), for a few draws
        self._notice_draws = 0
        self.pushing = None     # the drawing being sent to the display, a page at a time
        self.password = None    # callable: the made-up web password, None once the owner set one

    @property
    def page(self):
        return self.pages[self.index]

    def go(self, name):
        self.index = self.pages.index(name)
        self.detail = self.confirm = self.zero_ask = False
        self.cal = None

    def on_button(self, name, now=None):
        """A button event; returns a command for the app, or None. Commands, once the
        user has confirmed: ("reset", usage | "water" | "gas"); ("zero", usage); ("calibrate",
        (input from 0, watts))."""
        if now is not None:
            self._last = now
        if self.asleep:  # the press that wakes the panel does nothing else
            self.wake()
            return None
        self.notice_text = None
        if self.alert:
            if name in ("ok", "back", "back_long"):
                self.acked = True
                self.alert = False
            return None
        if self.cal is not None or self.zero_ask and name == "down":
            from . import calscreen  # the scale calibration: down on the zero question
            return calscreen.button(self, name)
        if self.zero_ask:
            self.zero_ask = False
            return ("zero", self.page) if name == "ok" else None
        if self.confirm:
            if name == "ok":
                self.confirm = False
                self.notice("partial_reset")
                return ("reset", "all" if self.page in ("home", "month") else self.page)
            if name in ("back", "back_long"):
                self.confirm = False
            return None
        has_partial = self.page in self.usages or self.page in ("water", "gas")
        if name == "down":
            self.index = (self.index + 1) % len(self.pages)
            self.detail = False
        elif name == "up":
            self.index = (self.index - 1) % len(self.pages)
            self.detail = False
        elif name == "ok":
            if has_partial:
                self.detail = not self.detail
            elif self.page == "month":
                self.money = not self.money
        elif name == "back":
            if self.detail:
                self.detail = False
            else:
                self.index = 0
        elif name == "back_long" and (self.detail or self.page in ("home", "month")):
            self.confirm = True  # this partial counter, or (home, month) every one
        elif name == "back_long" and self.page in self.usages:
            self.zero_ask = True
        return None

    def wake(self):
        if self.asleep:
            self.asleep = self.sleep_drawn = False
            if hasattr(self.disp, "power"):
                self.disp.power(True)

    def idle(self, now):
        """Called by the panel task: home after screen_home_s, asleep after screen_sleep_s."""
        if self._last is None:
            self._last = now
        quiet = ticks_diff(now, self._last)
        if quiet >= self.home_ms and (self.index or self.detail or self.confirm or self.zero_ask or self.cal):
            self.index = 0
            self.detail = self.confirm = self.zero_ask = False
            self.cal = None
        if self.sleep_ms and quiet >= self.sleep_ms and not self.asleep and not self.alert:
            self.asleep = True
            if hasattr(self.disp, "power"):
                self.disp.power(False)

    def notice(self, key):
        """A word for the user over the next few drawings (about 3 s)."""
        self.notice_text = self.t.get(key, key)
        self._notice_draws = 3

    def _phases_page(self, on):
        """Show or hide the phases screen (after the grid meter's), keeping the one shown."""
        self._page("phases", on, "grid")

    def _page(self, name, on, after):
        """Show or hide a screen that follows `after`, keeping the one shown."""
        if on == (name in self.pages):
            return
        at = self.pages.index(after) + 1
        if on:
            self.pages.insert(at, name)
            if self.index >= at:
                self.index += 1
        else:
            self.pages.pop(at)
            if self.index >= at:
                self.index -= 1

    def draw_asleep(self):
        """Asleep and no overload (Panel reads App.overload() instead of a snapshot): the
        display is off; the mirror's "asleep" screen drawn once."""
        self.acked = self.alert = False
        if not self.sleep_drawn:
            self._asleep(self.disp, self.t)
            self.sleep_drawn = True

    def draw(self, snap):
        ph = snap.get("phases")
        if bool(ph) != ("phases" in self.pages):
            self._phases_page(bool(ph))
        # issue 22: the inputs' screen (W and pf each) from a meter that says how it
        # measures (the mains' key), the standby's once measured
        self._page("inputs", snap.get("mains") is not None, self.usages[-1] if self.usages else "home")
        self._page("standby", snap.get("standby") is not None, "month")
        g = snap.get("grid")
        r = g.get("reading") if g else None
        overload = bool(r and r.get("overload"))
        if not overload:
            self.acked = False
        self.alert = overload and not self.acked
        if self.alert:
            self.wake()  # an overload wakes the panel
        if self.asleep:
            if not self.sleep_drawn:  # not sent to the display (it is off): for the mirror
                self._asleep(self.disp, self.t)
                self.sleep_drawn = True
            return
        if self.big is None:
            self.big = BigText(8)
        d = self.disp
        d.fill(0)
        t = self.t
        p = self.page
        bottom = p in ("month", "phases")  # the screen uses the bottom line: no "n/N" there
        if self.alert:
            self._overload(d, r, t)
        elif self.cal is not None:
            from . import calscreen
            bottom = calscreen.draw(self, d, snap, t)
        elif self.confirm:
            self._confirm(d, t)
        elif self.zero_ask:
            self._zero_confirm(d, t)
            for k in range(4):  # a notch under the box: down leads on (to the calibration)
                d.hline(60 + k, 60 + k, 7 - 2 * k, 1)
        elif p == "home":
            bottom = self._home(d, snap, t)
        elif p in ("water", "gas"):
            if self.detail:
                self._partial_volume(d, snap, p, t)
            else:
                self._volume(d, snap, p, t)
        elif p == "month":
            self._month(d, snap, t)
        elif p == "grid":
            bottom = self._grid(d, g, r, t)
        elif p == "phases":
            self._phases(d, ph, t)
        elif p == "net":
            self._net(d, snap, t)
        elif p == "inputs":
            bottom = self._inputs_page(d, snap, t)
        elif p == "standby":
            self._standby(d, snap, t)
        elif p == "about":
            self._about(d, snap, t)
        elif self.detail:
            self._partial(d, snap, p, t)
        else:
            bottom = self._usage(d, snap, p, t)
        if not (self.alert or self.confirm or self.zero_ask or self.detail or bottom):
            right(d, "%d/%d" % (self.index + 1, len(self.pages)), 56)
        if self.notice_text:
            d.fill_rect(0, 24, _W, 16, 0)
            d.rect(0, 24, _W, 16, 1)
            d.text(self.notice_text[:15], 4, 28, 1)
            self._notice_draws -= 1
            if self._notice_draws <= 0:
                self.notice_text = None
        if hasattr(d, "show_pages"):
            self.pushing = d.show_pages()  # sent a page per poll by push_step()
        else:
            d.show()

    def push_step(self):
        """Send the next changed page of the last drawing, if any (called every poll)."""
        if self.pushing is not None:
            try:
                next(self.pushing)
            except StopIteration:
                self.pushing = None

    # -- screens ----------------------------------------------------------------------------
    def _title(self, d, text, tag=""):
        if len(text) + len(tag) > 15 and tag[:4] == "TIC ":
            tag = tag[4:]  # "Compteur    hist", not "Compteu TIC hist"
        d.text(text[:15 - len(tag)], 0, 0, 1)
        if tag:
            right(d, tag, 0)
        d.hline(0, 10, _W, 1)

    def _home(self, d, snap, t):
        tag = ""
        g = snap.get("grid")
        r = g.get("reading") if g else None
        warn = [a for a in (r.get("alerts") or ()) if a[:6] == "phase_" or a in _HOME_WARN] if r else ()
        lost = note = None  # the snapshot's notices: the counters lost, the first other one
        for kind, data in snap.get("notices") or ():
            if kind == "counters_lost":
                lost = data
            elif note is None:
                note = kind
        if snap.get("errors", {}).get("config"):
            tag = "CFG!"  # config.json was ignored: details on the web page
        elif lost:
            tag = "CNT!"  # every copy of the counters was damaged: details on the web page
        elif any(i.get("reversed") for i in snap["inputs"]):
            tag = t["pn_ct_tag"]  # a consumption circuit reading steadily negative: its screen says which
        elif note and snap["uptime_s"] < 3600:  # for the first hour: the page says more
            tag = _NOTICE_TAG.get(note, "!")
        elif g and g.get("hint"):  # nothing valid from the meter: its screen says what to check
            tag = _HINT_TAG.get(g["hint"], "TIC/P1?")
        elif warn:  # the grid meter warns: a phase lost, overvoltage, an EJP peak coming
            a = warn[0]
            tag = "PH%s!" % a[-1] if a[:6] == "phase_" else _HOME_WARN[a]
        elif r:
            tag = _period(r, t)
        self._title(d, t["total"], tag)
        self.big.draw(d, fmt_w(snap["total_w"]), 0, 14)
        day = snap.get("today")
        if day:
            d.text(pair(t["day"], kwh(day["wh"]) + " kWh"), 0, 34, 1)
            d.text(money(day["cost"], snap["currency"]), 0, 44, 1)
        else:
            d.text(kwh(snap["total_wh"]) + " kWh", 0, 34, 1)
            d.text(money(snap["total_cost"], snap["currency"]), 0, 44, 1)
        tm = snap.get("time")
        err = snap.get("errors", {}).get("config")
        if err:  # the setting that took its default (or why the file was ignored): no "n/N"
            d.text(first(err), 0, 56, 1)
            return True
        if lost:  # where the counters came back from (month-day), or that they restarted at 0
            d.text(t["ctr_lost"] % lost["from"][5:] if lost["from"] else t["ctr_zero"], 0, 56, 1)
        elif tm and tm.get("local"):
            d.text(tm["local"][11:16], 0, 56, 1)

    def _inputs(self, snap, usage):
        return [i for i in snap["inputs"] if i["usage"] == usage]

    def _usage(self, d, snap, u, t):
        ins = self._inputs(snap, u)
        self._title(d, t[u], "%.1fA" % sum(i["a"] for i in ins))
        self.big.draw(d, fmt_w(sum(i["w"] for i in ins)), 0, 14)
        tot = snap.get("usages", {}).get(u) or {"wh": sum(i["wh"] for i in ins), "cost": sum(i["cost"] for i in ins)}
        exp = sum(i.get("export_wh") or 0 for i in ins)
        if exp:  # a circuit that gave energy back: drawn, given back, cost, a line closer
            d.text(kwh(tot["wh"]) + " kWh", 0, 32, 1)
            d.text(pair(t["pn_given"], kwh(exp) + " kWh"), 0, 40, 1)
            d.text(money(tot["cost"], snap["currency"]), 0, 48, 1)
        else:
            d.text(kwh(tot["wh"]) + " kWh", 0, 34, 1)
            d.text(money(tot["cost"], snap["currency"]), 0, 44, 1)
        m = snap.get("month")
        zg = snap.get("zeroing")
        if zg and any(i["id"] in zg["inputs"] for i in ins):  # where the "n/N" is: no overlap
            d.fill_rect(0, 55, _W, 9, 1)
            d.text(t["zeroing"] % zg["progress"], 0, 56, 0)
            return True
        rev = [i["id"] for i in ins if i.get("reversed")]
        if rev:  # "CT reversed?": the fix is a click on the page (its ct_flip)
            d.fill_rect(0, 55, _W, 9, 1)
            d.text(t["pn_ct_rev"] % rev[0], 0, 56, 0)
            return True
        if m:  # this month, with its unit: the whole bottom line (no "n/N")
            d.text(pair(t["mo"], kwh(m["usage"][u]["wh"]) + " kWh"), 0, 56, 1)
            return True

    def _partial(self, d, snap, u, t):
        ins = self._inputs(snap, u)
        self._title(d, t["partial"], t[u][:8])
        self.big.draw(d, kwh(sum(i.get("partial_wh", 0) for i in ins)), 0, 14)
        d.text("kWh  " + money(sum(i["partial_cost"] for i in ins), snap["currency"]), 0, 34, 1)
        self._since(d, ins[0].get("partial_since") if ins else None, t)

    def _since(self, d, since, t):
        d.text(t["since"], 0, 46, 1)
        d.text(since[:16] if since else "-", 0, 56, 1)

    def _volume(self, d, snap, kind, t):
        v = snap.get(kind) or {}
        self._title(d, t[kind], "m\u00b3")
        self.big.draw(d, v.get("m3", "0.000"), 0, 14)
        if kind == "gas":
            d.text(kwh(v.get("kwh", 0) * 1000 + 0.5) + " kWh", 0, 34, 1)
        else:
            d.text(money(v.get("cost", 0), snap["currency"]), 0, 34, 1)
        d.text("%s %d L/h" % (t["flow"], int(v.get("flow_l_h", 0) + 0.5)), 0, 44, 1)

    def _partial_volume(self, d, snap, kind, t):
        v = snap.get(kind) or {}
        self._title(d, t["partial"], t[kind][:8])
        self.big.draw(d, "%d.%03d" % divmod(v.get("partial_l", 0), 1000), 0, 14)
        if kind == "gas":
            d.text("m\u00b3  %s kWh" % kwh(v.get("partial_kwh", 0) * 1000 + 0.5), 0, 34, 1)
        else:
            d.text("m\u00b3", 0, 34, 1)
        self._since(d, v.get("partial_since"), t)

    def _month(self, d, snap, t):
        m = snap.get("month")
        self._title(d, m["date"] if m else t["month"], snap["currency"][:3] if self.money else "kWh")
        if not m:
            d.text("--", 0, 20, 1)  # no date yet: the month is not known
            return
        y = 11
        for key in USAGES:
            u = m["usage"][key]
            v = "%.2f" % u["cost"] if self.money else kwh(u["wh"])
            d.text(cut(t[key], 15 - len(v)), 0, y, 1)  # the unit is in the title
            right(d, v, y)
            y += 9
        d.text(t["total"], 0, 56, 1)  # where other screens have their number
        right(d, "%.2f" % m["cost"] if self.money else kwh(m["wh"]), 56)

    def _grid(self, d, g, r, t):
        if g is None:
            self._title(d, t["meter"])
            d.text(t["no_grid"], 0, 16, 1)
            return
        self._title(d, t["meter"], SOURCES.get(r["source"] if r else g.get("port"), ""))
        h = g.get("hint")
        if h:  # nothing valid for a while: what to check first, in order
            for k, line in enumerate(t["h_" + h].split("|")):
                d.text(line, 0, 13 + 9 * k, 1)
            return True  # five lines reach the bottom: no "n/N" under them
        if not r:
            d.text(t["waiting"], 0, 16, 1)
            d.text(str(g.get("port") or "-"), 0, 26, 1)
            return
        d.text(_period(r, t, 16), 0, 13, 1)
        p1 = r["source"] == "p1"
        if r.get("tempo_today"):  # Tempo: today's colour > tomorrow's
            s = "%s>%s" % (t[r["tempo_today"]], t[r["tempo_tomorrow"]] if r.get("tempo_tomorrow") else "?")
            d.text(s if len(s) > 10 else t["tempo"] + " " + s, 0, 22, 1)
        elif r.get("peak_w"):  # Fluvius 1.6.0: this month's 15-minute peak (capacity tariff)
            d.text("%s %s" % (t["peak"], fmt_w(r["peak_w"])), 0, 22, 1)
        elif r.get("pmax_w"):  # historic three-phase PMAX: the highest power the meter has seen
            d.text("Pmax " + fmt_w(r["pmax_w"]), 0, 22, 1)
        total = import_total(r)
        if total is not None:
            d.text(pair(t["index"], kwh(total) + " kWh"), 0, 31, 1)
        if p1:  # as the meter shows it: P+ drawing from the grid, P- injecting
            d.text(p1_power(r), 0, 40, 1)
            if r.get("export_wh"):
                d.text(pair(t["inject"], kwh(r["export_wh"]) + " kWh"), 0, 49, 1)
        else:
            p = r.get("power_va")
            unit = "VA"
            if p is None:
                p, unit = r.get("power_w"), "W"
            sub = ("/%dkVA" % r["subscribed_kva"] if r.get("subscribed_kva") else
                   "/%dA" % r["subscribed_a"] if r.get("subscribed_a") else "")
            d.text("%s %s%s" % ("-" if p is None else int(p), unit, sub), 0, 40, 1)
            exp = r.get("export_va")
            if exp:
                d.text(pair(t["inject"], "%d VA" % exp), 0, 49, 1)
        al = r.get("alerts")
        if al:  # what the meter itself says is wrong; more than one: how many
            s = alert_text(al[0], t)
            d.fill_rect(0, 56, _W, 8, 1)
            d.text((s if len(al) == 1 else "%s +%d" % (s[:12], len(al) - 1))[:16], 0, 56, 0)
            return True

    def _phases(self, d, ph, t):
        """Each phase's current as a bar against the contract's limit (or the heaviest
        phase's scale), the CT inputs on each phase, and the circuit to move, if any."""
        lim = ph["limit_a"]
        m = ph["metered"]
        vals = [(p["a"] if m else p["ct_a"]) or 0 for p in ph["phases"]]
        scale = lim or max(10, -(-int(max(vals)) // 10) * 10)
        self._title(d, t["phases"], ("lim %dA" if lim else "0-%dA") % scale)
        ins = []
        for k, v in enumerate(vals):
            y = 13 + 10 * k
            d.text("L%d" % (k + 1), 0, y, 1)
            d.rect(20, y, 66, 8, 1)
            d.fill_rect(21, y + 1, min(64, int(64 * v / scale + 0.5)), 6, 1)
            s = "%.1fA" % v if v < 9.95 else "%dA" % int(v + 0.5)
            x = _W - 8 * len(s)
            if lim and v >= lim:  # at the limit: the meter warns, the breaker may trip
                d.fill_rect(x - 1, y - 1, _W - x + 1, 10, 1)
            d.text(s, x, y, 0 if lim and v >= lim else 1)
            ins.append(",".join(str(i) for i in ph["phases"][k]["inputs"]) or "-")
        d.text("%s %s" % (t["ph_in"], "|".join(ins)), 0, 45, 1)
        mv = ph.get("move")
        mx = [p["max_a"] for p in ph["phases"]]
        if mv:
            d.text(t["ph_move"] % (mv["input"], mv["from"], mv["to"]), 0, 56, 1)
        elif mx[0] is not None:  # the meter's own maxima (IMAX1-3)
            d.text("%s %s A" % (t["max"], "|".join(str(a) for a in mx)), 0, 56, 1)

    def _inputs_page(self, d, snap, t):
        """Issue 22: each input's real power (signed) and power factor, a line each; the
        title says the mains the reference measures, or "pf set" (V x A x the set pf);
        an input whose CT looks reversed inverted, and said on the bottom line."""
        mn = snap["mains"]
        if mn.get("reference") and mn.get("v"):
            tag = "%dV %dHz" % (int(mn["v"] + 0.5), int((mn.get("hz") or 0) + 0.5))
            if len(t["pn_inputs"]) + len(tag) > 15:
                tag = tag.replace(" ", "")  # ("Entrées 231V50Hz")
        else:
            tag = t["pn_pf_set"]
        self._title(d, t["pn_inputs"], tag)
        rev = None
        for k, i in enumerate(snap["inputs"][:5]):
            y = 12 + 8 * k  # (five lines of 8 dots: the bottom line stays free)
            w = fmt_w(i["w"])
            pf = i.get("pf")
            pf = "%.2f" % pf if pf is not None and i.get("a") else "-"
            c = 1
            if i.get("reversed"):
                rev = rev or i["id"]
                d.fill_rect(0, y, _W, 8, 1)
                c = 0
            d.text("%d" % i["id"], 0, y, c)
            d.text(w, 80 - 8 * len(w), y, c)
            d.text(pf, _W - 8 * len(pf), y, c)
        if rev:
            d.fill_rect(0, 55, _W, 9, 1)
            d.text(t["pn_ct_rev"] % rev, 0, 56, 0)
            return True

    def _standby(self, d, snap, t):
        """Issue 22: the standby (the night's base load) in all, what it costs a year in
        energy and money; the hours it is measured in, in the title."""
        sb = snap["standby"]
        win = sb.get("window") or ""
        self._title(d, t["pn_standby"], win[:2] + "-" + win[6:8] + "h" if len(win) >= 8 else "")
        w = sb.get("w")
        if w is None:
            d.text(t["pn_sb_none"], 0, 20, 1)
            return
        self.big.draw(d, fmt_w(w), 0, 14)
        y = sb.get("kwh_year")
        if y is not None:
            d.text(kwh(y * 1000) + " kWh" + t["pn_per_yr"], 0, 34, 1)
        c = sb.get("cost_year")
        if c is not None:
            d.text(money(c, snap["currency"]) + t["pn_per_yr"], 0, 44, 1)

    def _net(self, d, snap, t):
        self._title(d, t["network"])
        n = snap.get("net") or {}
        d.text(n.get("ip") or "-", 0, 14, 1)
        d.text("%s %s" % (t["link"], t["up"] if n.get("link") else t["down"]), 0, 26, 1)
        pw = self.password() if self.password else None
        if pw:  # until the owner sets their own, the web password is read here
            d.text("%s %s" % (t["pw"], pw), 0, 36, 1)
        else:
            d.text("HTTP :%d" % n.get("http_port", 80), 0, 36, 1)
        mq = snap.get("mqtt")
        d.text("MQTT %s" % ((mq or {}).get("state") or t["off"]), 0, 46, 1)

    def _about(self, d, snap, t):
        self._title(d, "Submeter", snap.get("version", ""))
        d.text(pair(t["on_for"], duration(snap["uptime_s"], self.cfg["lang"])), 0, 12, 1)
        e = snap.get("errors", {})
        st = snap.get("store", {})
        h = snap.get("history") or {}
        g = snap.get("grid") or {}
        d.text("%s %d/%d" % (t["flash_err"], st.get("errors", 0), h.get("errors", 0)), 0, 21, 1)
        d.text("%s %d" % (t["http_rej"], e.get("http_rejected", 0)), 0, 30, 1)
        d.text("%s %d" % (t["grid_err"], g.get("checksum_errors", 0)), 0, 39, 1)
        d.text("%s %d" % (t["late"], e.get("late", 0)), 0, 48, 1)
        # the inputs zeroed (their number) or not (-): "Zero 12-4-"
        d.text("%s %s" % (t["zero"], "".join(str(i["id"]) if i.get("zeroed") else "-" for i in snap["inputs"])), 0, 56, 1)

    def _overload(self, d, r, t):
        d.fill_rect(0, 0, _W, 12, 1)
        d.text(t["overload"], (_W - 8 * len(t["overload"])) // 2, 2, 0)
        d.text(t["over_1"], 0, 16, 1)
        d.text(t["over_2"], 0, 25, 1)
        a = r.get("overload_a") or r.get("current_a")
        if isinstance(a, list):
            a = max(x or 0 for x in a)
        if a:
            self.big.draw(d, "%d A" % a, 0, 36)
        d.text(t["ack"], 0, 56, 1)

    def _confirm(self, d, t):
        d.rect(0, 8, _W, 44, 1)  # 15 characters inside its frame
        d.text(t["reset_q"][:15], 4, 14, 1)
        p = self.page
        d.text((t["all_partials"] if p in ("home", "month") else t[p] if p in t else p)[:15], 4, 26, 1)
        d.text(t["yes_no"][:15], 4, 40, 1)


    def _asleep(self, d, t):
        """What the buffer holds while the display sleeps: the page's mirror shows it (the
        display itself is off and shows nothing)."""
        d.fill(0)
        d.rect(0, 16, _W, 32, 1)
        for k, key in enumerate(("asleep", "wake")):
            s = t[key][:15]
            d.text(s, (_W - 8 * len(s)) // 2, 21 + 12 * k, 1)

    def _zero_confirm(self, d, t):
        ids = ",".join(str(k + 1) for k, i in enumerate(self.cfg["inputs"]) if i["usage"] == self.page)
        d.rect(0, 4, _W, 56, 1)
        d.text((t["zero_q"] % ids)[:15], 4, 9, 1)
        d.text(t["zero_off"], 4, 21, 1)
        d.text((t["zero_off2"] % ids)[:15], 4, 31, 1)
        d.text(t["yes_no"], 4, 46, 1)


def _period(r, t, width=10):
    """The tariff period as the meter says it, short: HP, HC, Tempo colour and HP/HC."""
    p = " ".join((r.get("period") or "").split())
    for a, b in (("HEURE CREUSE", "HC"), ("HEURE PLEINE", "HP"), ("..", "")):
        p = p.replace(a, b)
    if not p and r.get("period_index"):
        p = "T%d" % r["period_index"]
    return p[:width]
