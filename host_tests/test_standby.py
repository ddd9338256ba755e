# Standby (ledger/standby.py): the night-time base load per input and in total, a low
# percentile of the window's 10-minute means read from the ledger's energy. Simulated
# nights of known base loads under a fridge's cycles and spikes, a window crossing
# midnight, a night cut by a restart, a clock not set yet; the figure kept across a
# restart; its yearly kWh and cost at the night's tariff price; the config's window.
import json

from compat import IS_MP, fresh_dir, raises
from submeter import config
from submeter.clock import day_number
from submeter.ledger.ledger import Ledger
from submeter.ledger.standby import Standby
from submeter.view import snapshot

DAY = day_number(2026, 11, 27)   # a Friday; the nights below begin on it
BASE = (80.0, 0.0, 15.0, 40.0, 5.0)


def house(i, t):
    """W on input i at local second t of the day: BASE, plus on input 0 a fridge (100 W,
    15 minutes on, 25 off), on input 3 a kettle (2 kW, 3 minutes, twice a night), on input 2
    a pump (1 kW, a minute every half hour), on input 4 the lights at 05:30."""
    w = BASE[i]
    if i == 0 and t % 2400 < 900:
        w += 100.0
    if i == 3 and (7620 <= t < 7800 or 13260 <= t < 13440):
        w += 2000.0
    if i == 2 and t % 1800 < 60:
        w += 1000.0
    if i == 4 and t % 86400 >= 19800:
        w += 300.0
    return w


class Night:
    """A ledger and a standby figure fed as the App feeds them: a round every `step` s of
    local time (ticks in ms alongside), each input's power from `load`."""

    def __init__(self, folder, window="01:00-05:00", pct=10, load=house, step=5):
        self.led = Ledger(5)
        self.sb = Standby(5, window, pct, folder)
        self.load, self.step = load, step
        self.ticks = 0

    def run(self, start, end, clock_set=True):
        """Local seconds `start` to `end` (since 2000); clock_set False: the wall clock has
        no time yet (None)."""
        t = start
        while t < end:
            for i in range(5):
                self.led.record(i, self.load(i, t % 86400), self.ticks)
            self.sb.feed(t if clock_set else None, self.ticks, self.led)
            t += self.step
            self.ticks += self.step * 1000


def at(day, hh, mm=0):
    return day * 86400 + hh * 3600 + mm * 60


def test_the_base_load_ignores_the_fridges_cycles_and_the_spikes():
    n = Night(fresh_dir("standby1"))
    assert n.sb.slots == 24 and len(n.sb.means) == 24 * 5  # 10-minute slots, 2 bytes each
    n.run(at(DAY, 0), at(DAY, 3))
    assert n.sb.result is None              # the first night: none until it is complete
    n.run(at(DAY, 3), at(DAY, 6))
    r = n.sb.result
    assert r["w"] == [80, 0, 15, 40, 5], r  # each input's base, to the watt
    assert r["night"] == "2026-11-27" and r["window"] == "01:00-05:00" and r["pct"] == 10
    # (the lights at 05:30 are outside the window)
    s = snapshot.standby(n.sb, config.validate({}))
    assert s["w"] == 140 and s["w_inputs"] == [80, 0, 15, 40, 5] and s["night"] == "2026-11-27"


def test_a_round_and_a_slots_close_make_nothing_in_the_heap():
    if not IS_MP:
        return  # (heap_lock is MicroPython's)
    import micropython
    n = Night(fresh_dir("standbyheap"))
    n.run(at(DAY, 0, 50), at(DAY, 1, 5))
    t, closed = at(DAY, 1, 5), n.sb.count
    while t < at(DAY, 2, 5):  # an hour of rounds: 6 slots closed, the heap locked at each feed
        for i in range(5):
            n.led.record(i, house(i, t % 86400), n.ticks)
        micropython.heap_lock()
        try:
            n.sb.feed(t, n.ticks, n.led)
        finally:
            micropython.heap_unlock()
        t += 5
        n.ticks += 5000
    assert n.sb.count == closed + 6, (closed, n.sb.count)


def test_a_higher_percentile_sees_more_of_the_fridge():
    # a fridge on 25 minutes in 40: of the 10-minute slots a quarter are off (80 W), a
    # quarter half on (130 W), half on (180 W); 10 % reads the base, 50 % the half-on slots
    def load(i, t):
        return 80.0 + (100.0 if t % 2400 < 1500 else 0.0) if i == 0 else house(i, t)
    for pct, want in ((10, 80), (50, 130)):
        n = Night(fresh_dir("standby2"), pct=pct, load=load)
        n.run(at(DAY, 0, 50), at(DAY, 5, 10))
        w = n.sb.result["w"]
        assert w[0] == want and w[3:] == [40, 5], (pct, w)  # (the kettle's 2 slots: above 50 % too)


def test_a_window_crossing_midnight():
    # 22:00-02:00: the night begun on the 27th, measured across midnight; what runs before
    # and after the window is not in it
    def load(i, t):
        inside = t >= 22 * 3600 or t < 2 * 3600
        return (60.0 if inside else 900.0) if i == 1 else 0.0
    n = Night(fresh_dir("standby3"), window="22:00-02:00", load=load)
    n.run(at(DAY, 21), at(DAY + 1, 1))
    assert n.sb.result is None and n.sb.night == DAY
    n.run(at(DAY + 1, 1), at(DAY + 1, 3))
    r = n.sb.result
    assert r["w"] == [0, 60, 0, 0, 0] and r["night"] == "2026-11-27", r


def test_a_long_window_keeps_to_its_fixed_array():
    # 18:00-12:00 (18 hours): slots of 23 minutes, 47 of them (48 at most), an array made once
    def load(i, t):
        return 30.0 + (500.0 if t % 3600 < 300 else 0.0) if i == 0 else 0.0
    n = Night(fresh_dir("standby4"), window="18:00-12:00", load=load, step=20)
    assert n.sb.slot_min == 23 and n.sb.slots == 47 and len(n.sb.means) == 47 * 5
    n.run(at(DAY, 17), at(DAY + 1, 13))
    assert n.sb.result["w"] == [30, 0, 0, 0, 0], n.sb.result


def test_a_restart_keeps_the_last_night_and_a_cut_night_counts_from_half_a_window():
    d = fresh_dir("standby5")
    n = Night(d)
    n.run(at(DAY, 0), at(DAY, 6))
    first = n.sb.result
    assert first["w"] == [80, 0, 15, 40, 5]
    with open(d + "/standby.json") as f:
        assert json.loads(f.read()) == first  # saved once, at the window's end
    # the next night, the meter restarts at 02:06: the figure is read back at once; the
    # night counts from the restart (3 hours of the 4; the first slot, 4 minutes, dropped)
    n2 = Night(d, load=lambda i, t: house(i, t) + (20.0 if i == 3 else 0.0))
    assert n2.sb.result == first
    n2.run(at(DAY + 1, 2, 6), at(DAY + 1, 6))
    assert n2.sb.count == 0
    assert n2.sb.result["w"] == [80, 0, 15, 60, 5] and n2.sb.result["night"] == "2026-11-28"
    # another restart at 03:30: an hour and a half of the window is under half: that
    # night is not taken, the last one stays (and stays across the next restart)
    n3 = Night(d, load=lambda i, t: 999.0)
    n3.run(at(DAY + 2, 3, 30), at(DAY + 2, 6))
    assert n3.sb.result["night"] == "2026-11-28"
    assert Standby(5, "01:00-05:00", 10, d).result["night"] == "2026-11-28"


def test_no_figure_while_the_clock_is_not_set():
    d = fresh_dir("standby6")
    n = Night(d)
    n.run(at(DAY, 0), at(DAY, 6), clock_set=False)
    assert n.sb.result is None and n.sb.night is None
    # set at 04:00 (NTP came late): one hour of four, no figure either
    n.run(at(DAY, 6), at(DAY + 1, 4), clock_set=False)
    n.run(at(DAY + 1, 4), at(DAY + 1, 6))
    assert n.sb.result is None
    s = snapshot.standby(n.sb, config.validate({"standby_window": "01:00-05:00"}))
    assert s == {"w": None, "kwh_year": None, "cost_year": None, "w_inputs": [None] * 5,
                 "kwh_year_inputs": [None] * 5, "cost_year_inputs": [None] * 5, "window": "01:00-05:00",
                 "night": None}
    # a damaged file: no figure, counted, and the next night writes a good one
    with open(d + "/standby.json", "w") as f:
        f.write('{"night": "2026-11-27", "w": [1, 2')
    sb = Standby(5, "01:00-05:00", 10, d)
    assert sb.result is None and sb.errors == 1
    for bad in ({"night": "x", "w": [1, 2, 3, 4], "window": "a", "pct": 10, "period": 0},
                {"night": "x", "w": [1, 2, 3, 4, -5], "window": "a", "pct": 10, "period": 0}, [1, 2]):
        with open(d + "/standby.json", "w") as f:
            f.write(json.dumps(bad))
        assert Standby(5, "01:00-05:00", 10, d).result is None, bad


def test_the_yearly_kwh_and_cost_at_the_nights_price():
    # HC/HP: the night ran in period 1 (HC, 0.1296): its price, not HP's nor price_kwh
    n = Night(fresh_dir("standby7"))  # (the grid meter says HC: index 1, period 0)
    n.run(at(DAY, 0), at(DAY, 6))
    assert n.sb.result["period"] == 0
    cfg = config.validate({"price_kwh": 0.25, "prices_kwh": [0.1296, 0.1609]})
    s = snapshot.standby(n.sb, cfg)
    assert s["w_inputs"] == [80, 0, 15, 40, 5] and s["w"] == 140
    assert s["kwh_year_inputs"] == [701.3, 0.0, 131.5, 350.6, 43.8] and s["kwh_year"] == 1227.2
    assert s["cost_year_inputs"][0] == 90.89    # 701.28 kWh x 0.1296 = 90.886
    assert s["cost_year"] == 159.05             # 1227.24 kWh x 0.1296 = 159.0503
    assert snapshot.standby(n.sb, cfg) is s     # the next snapshot: the same dict, nothing made
    cfg["prices_kwh"] = [0.2, 0.3]              # a price changed (at once): costed again
    assert snapshot.standby(n.sb, cfg)["cost_year"] == 245.45  # 1227.24 kWh x 0.2
    cfg["prices_kwh"] = [0.1296, 0.1609]
    # HC until 04:20, then HP (a meter whose off-peak ends early): the night is costed in
    # HC, where most of its slots were
    n2 = Night(fresh_dir("standby8"))
    n2.run(at(DAY, 0), at(DAY, 4, 20))
    n2.led.set_period(1, n2.ticks)
    n2.run(at(DAY, 4, 20), at(DAY, 6))
    assert n2.sb.result["period"] == 0 and snapshot.standby(n2.sb, cfg)["cost_year_inputs"][0] == 90.89
    # a night in HP (index 2) all along: HP's price
    n2.run(at(DAY, 6), at(DAY + 1, 6))
    assert n2.sb.result["period"] == 1 and n2.sb.result["night"] == "2026-11-28"
    assert snapshot.standby(n2.sb, cfg)["cost_year_inputs"][0] == 112.84  # 701.28 x 0.1609


def test_the_window_and_percentile_settings():
    assert config.DEFAULTS["standby_window"] == "01:00-05:00" and config.DEFAULTS["standby_pct"] == 10
    assert config.span("01:00-05:00") == (60, 240) and config.span("22:30-06:00") == (1350, 450)
    assert config.span("00:00-23:59") == (0, 1439) and config.span("23:59-00:00") == (1439, 1)
    for bad in ("01:00-01:00", "24:00-05:00", "01:60-05:00", "1:00-5:00", "01:00 05:00", "01.00-05.00",
                "0a:00-05:00", "01:00-05:0", "01:00-05:000", "\u0661:00-05:00"):
        assert config.span(bad) is None, bad
        e = raises(config.ConfigError, config.check, "standby_window", bad)
        assert str(e).startswith("standby_window: "), str(e)
    assert "HH:MM-HH:MM" in str(raises(config.ConfigError, config.check, "standby_window", "01:00-01:00"))
    for bad in (0, 51, 10.0, "10"):
        raises(config.ConfigError, config.check, "standby_pct", bad)
    assert config.validate({"standby_window": "23:00-06:30", "standby_pct": 5})["standby_pct"] == 5
    # applied at the next start (the night being measured keeps its window)
    d = fresh_dir("standby9")
    cur = config.validate({})
    new, restart = config.change(d + "/config.json", cur, {"standby_window": "00:30-04:30", "standby_pct": 20})
    assert sorted(restart) == ["standby_pct", "standby_window"] and new["standby_window"] == "00:30-04:30"


def test_through_the_firmware_the_houses_night_and_a_restart():
    # the App on the simulated board, the house scenario from 00:50 (a round every 10 s):
    # the car charging 7.4 kW from 01:00 to 04:00 on "other" (60 W standing), the water
    # heater 3 kW until 02:30, the heating cycling 6 minutes in 20, the fridge on the
    # sockets (25 W standing) 15 minutes in 30
    import sim
    from submeter.app import App
    from submeter.clock import ManualClock
    d = fresh_dir("standbyapp")

    def boot():
        clock = ManualClock()
        board = sim.Board(scenario=sim.House(), clock=clock, term="0", display=False, data_dir=d)
        board.time.day0, board.time.start = DAY, 50 * 60
        cfg = config.validate(dict(board.CONFIG, period_ms=10000))
        board.configure(cfg)
        app = App(board, cfg)
        app.wall.set_utc(board.utc_s(), "rtc")
        return app, clock

    app, clock = boot()
    for k in range(26 * 60):
        clock.advance(10000)
        app.measure_round()
        if k == 13 * 60:  # 03:00: the first night is not over, no figure yet
            s = app.state()["standby"]
            assert s["w"] is None and s["w_inputs"] == [None] * 5 and s["window"] == "01:00-05:00", s
    s = app.state()["standby"]
    w = s["w_inputs"]
    assert s["night"] == "2026-11-27" and app.state()["time"]["local"] == "2026-11-27 05:10", s
    # (a slot's last round carries half a round of what switches on at its edge: the
    # heating's 2.4 kW, 20 W over 10 minutes of 10-s rounds; 2 W with the 1-s rounds)
    assert w[0] <= 21 and w[1] == 0 and w[2] == 0 and w[3] <= 30 and abs(w[4] - 60) <= 4, s
    assert s["w"] == sum(w) and s["kwh_year"] == round(sum(w) * 8.766, 1)
    app.store.save(app.ledger)
    again, _ = boot()  # a restart: the night's figure is there at once
    assert again.state()["standby"] == s
