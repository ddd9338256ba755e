# The front panel: the screen shows the snapshot's figures; buttons are debounced,
# move between screens, and a long press on back is seen once.
from compat import IS_MP, skip
from submeter import config


def need_framebuf():
    try:
        import framebuf
        return framebuf
    except ImportError:
        skip("framebuf is MicroPython's")


def snap():
    return {"uptime_s": 1, "voltage": 230.0, "currency": "EUR", "total_w": 2345.4,
            "total_wh": 5678, "total_kwh": "5.678", "total_cost": 1.43,
            "inputs": [{"id": i + 1, "name": "In%d" % (i + 1), "usage": "other", "w": 10.0 * i,
                        "a": 0.1, "wh": 1, "kwh": "0.00%d" % i, "cost": 0.0, "partial_kwh": "0.000"} for i in range(5)]}


class Disp:
    def __init__(self, framebuf):
        self.buf = bytearray(1024)
        self.fb = framebuf.FrameBuffer(self.buf, 128, 64, framebuf.MONO_VLSB)
        for n in ("fill", "text", "fill_rect", "hline", "pixel", "rect"):
            setattr(self, n, getattr(self.fb, n))
        self.shown = 0

    def show(self):
        self.shown += 1


def region(d, x0, y0, w, h):
    return [d.pixel(x, y) for y in range(y0, y0 + h) for x in range(x0, x0 + w)]


def test_home_shows_total_power_and_energy():
    fbm = need_framebuf()
    from submeter.ui import Screens, BigText
    d = Disp(fbm)
    sc = Screens(d, config.validate({}))
    sc.draw(snap())
    assert d.shown == 1
    ref = Disp(fbm)
    ref.fill(0)
    BigText().draw(ref, "2345 W", 0, 16)       # the big figure, drawn alone
    assert region(d, 0, 16, 128, 16) == region(ref, 0, 16, 128, 16)
    ref.fill(0)
    ref.text("5.678 kWh", 0, 36, 1)
    assert region(d, 0, 36, 128, 8) == region(ref, 0, 36, 128, 8)
    assert not any(region(d, 96, 0, 32, 8))          # no warning with a good config
    s = snap()
    s["errors"] = {"config": "config.json ignored: bad"}
    sc.draw(s)
    ref.fill(0)
    ref.text("CFG!", 96, 0, 1)
    assert region(d, 96, 0, 32, 8) == region(ref, 96, 0, 32, 8)


def test_buttons_move_between_screens():
    fbm = need_framebuf()
    from submeter.ui import Screens
    d = Disp(fbm)
    sc = Screens(d, config.validate({}))
    assert sc.on_button("down") == 1
    assert sc.on_button("up") == 0
    assert sc.on_button("up") == 6           # wraps to the month's report
    assert sc.current_input() is None
    assert sc.on_button("up") == 5           # the last input
    assert sc.current_input() == 4
    sc.draw(snap())
    ref = Disp(fbm)
    ref.text("5 In5", 0, 0, 1)
    assert region(d, 0, 0, 64, 8) == region(ref, 0, 0, 64, 8)
    assert sc.on_button("back") == 0


class Pin:
    def __init__(self):
        self.v = 1

    def value(self):
        return self.v


def test_debounce_and_long_press():
    from submeter.ui import Buttons, LONG_PRESS_MS
    pins = {"up": Pin(), "back": Pin()}
    b = Buttons(pins)
    t = 0
    pins["up"].v = 0                 # a single-poll glitch is ignored
    assert b.poll(t) is None
    pins["up"].v = 1
    assert b.poll(t + 20) is None and b.poll(t + 40) is None
    pins["up"].v = 0                 # a real press: reported once
    events = [b.poll(t + 60 + 20 * k) for k in range(10)]
    assert events.count("up") == 1
    pins["up"].v = 1
    pins["back"].v = 0
    events = [b.poll(1000 + 20 * k) for k in range(LONG_PRESS_MS // 20 + 10)]
    assert events.count("back") == 1 and events.count("back_long") == 1


def test_the_month_screen_shows_each_usage_in_kwh_then_in_money():
    fbm = need_framebuf()
    from submeter.ui import Screens
    d = Disp(fbm)
    sc = Screens(d, config.validate({}))
    s = snap()
    usage = {}
    for k, u in enumerate(config.USAGES):
        usage[u] = {"wh": 1234 * (k + 1), "cost": 0.31 * (k + 1)}
    s["month"] = {"date": "2026-11", "wh": 1234 * 15, "cost": 0.31 * 15, "usage": usage}
    sc.on_button("up")
    sc.draw(s)
    ref = Disp(fbm)
    ref.text("2026-11", 0, 0, 1)
    ref.text("Hot wate", 0, 27, 1)
    ref.text("3.7", 128 - 24, 27, 1)         # 3 x 1234 Wh
    assert region(d, 0, 0, 64, 8) == region(ref, 0, 0, 64, 8)
    assert region(d, 0, 27, 128, 8) == region(ref, 0, 27, 128, 8)
    sc.on_button("ok")                       # ok: the same in money
    sc.draw(s)
    ref.fill(0)
    ref.text("0.93", 128 - 32, 27, 1)
    assert region(d, 64, 27, 64, 8) == region(ref, 64, 27, 64, 8)
    sc.notice("partial_reset")               # a word after a long press on back
    sc.draw(s)
    ref.fill(0)
    ref.text("Partial reset", 4, 28, 1)
    assert region(d, 4, 28, 120, 8) == region(ref, 4, 28, 120, 8)
