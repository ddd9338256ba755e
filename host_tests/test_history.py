# The calendar, the wall clock and the daily / monthly history: days close at midnight
# with exactly what was counted in them, months add up their days, a power cut never
# counts a day twice, and a damaged record or a full flash costs that record only.
from compat import fresh_dir, raises
from submeter import config
from submeter.clock import (ManualClock, WallClock, civil, day_number, local_from_utc,
                            meter_time, month_of_day, weekday)
from submeter.ledger.history import History, DAYS, MONTHS
from submeter.ledger.ledger import Ledger
from submeter.ledger.store import Store

TODAY = day_number(2026, 11, 23)


def test_calendar():
    assert day_number(2000, 1, 1) == 0 and TODAY == 9823
    assert weekday(TODAY) == 0  # 23 November 2026 is a Monday
    assert civil(day_number(2024, 2, 29)) == (2024, 2, 29) and civil(day_number(2024, 3, 1)) == (2024, 3, 1)
    assert day_number(2100, 3, 1) - day_number(2100, 2, 28) == 1  # 2100 is no leap year
    n = day_number(2019, 12, 25)
    while n < day_number(2031, 1, 10):  # every day of a decade, both ways
        y, m, d = civil(n)
        assert day_number(y, m, d) == n, n
        n += 1


def test_summer_time_follows_the_eu_rule():
    h = 3600
    start = day_number(2026, 3, 29) * 86400 + h   # last Sunday of March, 01:00 UTC
    end = day_number(2026, 10, 25) * 86400 + h    # last Sunday of October, 01:00 UTC
    assert local_from_utc(start - 1) == start - 1 + h        # 01:59:59 CET
    assert local_from_utc(start) == start + 2 * h            # 03:00 CEST
    assert local_from_utc(end - 1) == end - 1 + 2 * h
    assert local_from_utc(end) == end + h
    assert local_from_utc(start, 0, "none") == start


def test_meter_clocks():
    t = day_number(2026, 11, 23) * 86400 + 22 * 3600 + 35 * 60 + 18
    assert meter_time("H261123223518") == t       # TIC standard DATE, winter
    assert meter_time("h261123223518") == t       # clock not synchronised: still the best we have
    assert meter_time("261123223518W") == t       # P1, DSMR 4/5
    assert meter_time("261123223518") == t        # P1, DSMR 2.2/3
    for bad in ("632525252525W", "000101000001W", "H261131223518", "H2611232235", "", None, "E26112322351x"):
        assert meter_time(bad) is None, bad


def test_the_meter_clock_wins_and_time_carries_on():
    clk = ManualClock((1 << 30) - 100)
    w = WallClock(clk.ticks_ms)
    assert w.now() is None and w.today() is None
    utc = day_number(2026, 11, 23) * 86400 + 10 * 3600
    assert w.set_utc(utc, "ntp") and w.now() == utc + 3600  # CET in November
    assert w.set_local(utc + 3605, "meter")                   # the meter's legal time wins
    assert not w.set_utc(utc, "ntp")                          # ... while it speaks
    for _ in range(24 * 30):                                  # a month, well past the tick wrap
        clk.advance(3600 * 1000)
        assert w.now() is not None
    assert w.now() == utc + 3605 + 30 * 86400
    assert w.set_utc(utc + 30 * 86400, "ntp")                # the meter went silent: NTP takes over
    assert w.source == "ntp" and w.steps == 0


def house(led, watts, hours, t, step_s=20):
    """Every input at its watts for `hours`, read every step_s; returns the clock."""
    if t == 0:
        for i, w in enumerate(watts):
            led.record(i, w, t)
    for _ in range(int(hours * 3600 / step_s)):
        t += step_s * 1000
        for i, w in enumerate(watts):
            led.record(i, w, t)
    return t


def cfg_with(**kw):
    c = {"prices_kwh": [0.2, 0.3]}
    c.update(kw)
    return config.validate(c)


def test_a_day_closes_at_midnight_with_what_it_counted():
    d = fresh_dir("hist1")
    cfg = cfg_with()
    led = Ledger(5)
    h = History(d, 5)
    t = house(led, [1000, 0, 0, 0, 0], 0, 0)
    assert h.tick(led, TODAY, cfg)                       # first day: the base is taken
    t = house(led, [1000, 0, 2000, 100, 50], 6, t)       # 6 h in period 1
    led.set_period(1, t)
    t = house(led, [1000, 0, 2000, 100, 50], 18, t)      # 18 h in period 2
    day = h.live(led, cfg)
    assert not h.tick(led, TODAY, cfg)
    assert h.tick(led, TODAY + 1, cfg)                   # midnight
    rec = h.read(True, TODAY)
    assert rec is not None and rec.wh == day.wh
    assert abs(rec.wh[0] - 24000) <= 2 and abs(rec.wh[2] - 48000) <= 2 and rec.wh[1] == 0
    assert abs(rec.period_wh[0] - 6 * 3150) <= 5 and abs(rec.period_wh[1] - 18 * 3150) <= 5
    # cost: each period's energy at its price, in thousandths of a euro
    assert abs(rec.cost[2] - (12000 * 0.2 + 36000 * 0.3)) <= 1
    use = rec.to_dict(True)
    assert use["date"] == "2026-11-23" and use["usage"]["hot_water"]["wh"] == rec.wh[2]
    assert abs(use["usage"]["heating"]["cost"] - (6 * 0.2 + 18 * 0.3)) < 0.01
    # the next day starts from zero, and the month is the sum of its days
    assert sum(h.live(led, cfg).wh) == 0
    t = house(led, [500, 0, 0, 0, 0], 10, t)
    assert h.tick(led, TODAY + 2, cfg)
    m = h.read(False, month_of_day(TODAY))
    assert m.wh[0] == rec.wh[0] + h.read(True, TODAY + 1).wh[0] and abs(m.wh[0] - 29000) <= 3
    so_far = h.month_so_far(led, cfg)
    assert so_far.wh == m.wh  # nothing yet on the third day
    assert [r.index for r in list(h.daily(10))] == [TODAY + 1, TODAY]


def test_gas_and_water_days_and_their_cost():
    d = fresh_dir("hist2")
    cfg = cfg_with(gas_price_kwh=0.1, gas_kwh_per_m3=11.2, water_price_m3=4.0)
    led = Ledger(5)
    h = History(d, 5)
    h.tick(led, TODAY, cfg)
    led.add_volume("gas", 2500)
    led.add_volume("water", 180)
    h.tick(led, TODAY + 1, cfg)
    r = h.read(True, TODAY)
    assert (r.gas_l, r.water_l) == (2500, 180)
    assert r.gas_cost == 2800 and r.water_cost == 720  # 2.5 m3 x 11.2 kWh x 0.10; 0.18 m3 x 4


def test_a_power_cut_after_midnight_does_not_count_the_day_twice():
    d = fresh_dir("hist3")
    cfg = cfg_with()
    led = Ledger(5)
    h = History(d, 5)
    store = Store(d, h)
    h.tick(led, TODAY, cfg)
    t = house(led, [1000, 0, 0, 0, 0], 24, 0)
    store.save(led)                       # the last save before midnight
    h.tick(led, TODAY + 1, cfg)           # the day is written ... and the power goes
    first = h.read(True, TODAY).wh[0]
    led2 = Ledger(5)
    h2 = History(d, 5)
    Store(d, h2).load(led2)               # the boot: yesterday's base, yesterday's counters
    assert h2.base_day == TODAY
    assert h2.tick(led2, TODAY + 1, cfg)  # closed again, to the same record
    assert h2.read(True, TODAY).wh[0] == first
    assert h2.read(False, month_of_day(TODAY)).wh[0] == first  # the month once, not twice


def test_a_year_and_more_of_days_and_ten_years_of_months():
    d = fresh_dir("hist4")
    cfg = cfg_with()
    led = Ledger(5)
    h = History(d, 5)
    n = day_number(2016, 1, 1)
    h.tick(led, n, cfg)
    while n < day_number(2026, 2, 15):   # ten years: a day every four weeks, then every day
        led.by_period[0][0].wh += 1 + n % 7
        n += 28 if n < day_number(2024, 12, 1) else 1
        h.tick(led, n, cfg)
    days = list(h.daily(DAYS + 10))
    assert len(days) >= 400 and days[0].index == n - 1
    months = list(h.monthly(MONTHS))
    assert len(months) >= 120 and months[-1].index <= month_of_day(day_number(2016, 2, 1))
    assert h.errors == 0


def test_damage_and_a_full_flash_cost_one_record_only():
    d = fresh_dir("hist5")
    cfg = cfg_with()
    led = Ledger(5)
    h = History(d, 5)
    h.tick(led, TODAY, cfg)
    for k in range(1, 4):
        led.by_period[0][0].wh += 100 * k
        h.tick(led, TODAY + k, cfg)
    with open(d + "/history.bin", "r+b") as f:
        f.seek(12 + ((TODAY + 1) % DAYS) * h.rsize + 5)
        f.write(b"\xff")
    assert [r.index for r in list(h.daily(5))] == [TODAY + 2, TODAY]
    assert h.damaged == 1
    h.path = d + "/no-such-folder/history.bin"  # the flash refuses every write
    h._ok = None
    led.by_period[0][0].wh += 1
    assert h.tick(led, TODAY + 4, cfg) and h.errors >= 1 and h.last_error
    assert h.base_day == TODAY + 4  # counting goes on


def test_a_clock_put_right_sends_what_was_counted_to_today():
    d = fresh_dir("hist6")
    cfg = cfg_with()
    led = Ledger(5)
    h = History(d, 5)
    h.tick(led, TODAY + 400, cfg)     # a wrong clock, a year ahead
    led.by_period[0][0].wh += 5000
    assert not h.tick(led, TODAY + 399, cfg)   # a second source a little behind: wait
    assert h.tick(led, TODAY, cfg) and h.clock_back == 1
    h.tick(led, TODAY + 1, cfg)
    assert h.read(True, TODAY).wh[0] == 5000


def test_a_history_file_of_another_layout_is_kept_aside():
    d = fresh_dir("hist7")
    with open(d + "/history.bin", "wb") as f:
        f.write(b"SMHI\x09\x00junk")
    cfg = cfg_with()
    led = Ledger(5)
    h = History(d, 5)
    h.tick(led, TODAY, cfg)
    led.by_period[1][0].wh += 10
    h.tick(led, TODAY + 1, cfg)
    assert h.read(True, TODAY).wh[1] == 10
    with open(d + "/history.bin.old", "rb") as f:
        assert f.read() == b"SMHI\x09\x00junk"


def test_unknown_partial_counter_is_refused():
    led = Ledger(5)
    led.reset_partial("gas", 123)
    assert led.partial_since == [None] * 5 + [123, None]
    raises(ValueError, led.reset_partial, 7)


def test_each_day_start_keeps_the_counters_and_a_torn_one_leaves_the_other():
    d = fresh_dir("hist8")
    cfg = cfg_with()
    led = Ledger(5)
    h = History(d, 5)
    assert h.index() is None
    for k in range(3):
        led.total[0].wh = led.by_period[0][0].wh = 1000 * (k + 1)
        led.gas_l[0] = 10 * k
        h.tick(led, TODAY + k, cfg)
        got = h.index()
        assert got["day"] == TODAY + k and got["total"][0] == 1000 * (k + 1) and got["gas"][0] == 10 * k
        assert got["by_period"][0] == 1000 * (k + 1)
    # a cut in the middle of the next write: the slot written spoils, the newest is kept
    newest = h.index()
    with open(d + "/history.bin", "r+b") as f:
        f.seek(h._ioffset(1 - newest["slot"]) + 7)
        f.write(b"\xff\xff")
    assert h.index()["day"] == TODAY + 2
    # a wall clock put back a year cannot make an older index look newer: counters only go up
    led.total[0].wh = 5000
    h2 = History(d, 5)
    h2.write_index(led, TODAY - 365)
    assert h2.index()["day"] == TODAY - 365 and h2.index()["total"][0] == 5000


def test_a_history_file_made_before_the_index_keeps_its_days():
    import os
    d = fresh_dir("hist9")
    cfg = cfg_with()
    led = Ledger(5)
    h = History(d, 5)
    h.tick(led, TODAY, cfg)
    led.by_period[2][0].wh += 700
    h.tick(led, TODAY + 1, cfg)
    size = os.stat(d + "/history.bin")[6]
    with open(d + "/history.bin", "rb") as f:
        old = f.read(size - 2 * h.isize)            # the layout before the index
    with open(d + "/history.bin", "wb") as f:
        f.write(old)
    h = History(d, 5)
    assert h.index() is None and h.prepare()
    assert os.stat(d + "/history.bin")[6] == size and h.read(True, TODAY).wh[2] == 700
    assert "history.bin.old" not in os.listdir(d)
    h.write_index(led, TODAY + 1)
    assert h.index()["by_period"][2 * h.periods] == 700


# --- energy given back (export), per input, in each day and month ----------------------
def test_a_pv_day_closes_with_what_was_given_back_per_input():
    d = fresh_dir("hist10")
    cfg = cfg_with()
    led = Ledger(5)
    h = History(d, 5)
    t = house(led, [300, -2000, 0, 0, 0], 0, 0)
    assert h.tick(led, TODAY, cfg)
    assert h.live(led, cfg).to_dict(True)["export_wh"] == [0] * 5  # always there
    t = house(led, [300, 500, 0, 0, 0], 8, t)            # the night: input 2 takes 500 W
    t = house(led, [300, -2000, 0, 0, 0], 8, t)          # the day: it gives back 2 kW
    t = house(led, [300, 500, 0, 0, 0], 8, t)
    day = h.live(led, cfg)
    assert day.export_wh[1] == h.live(led, cfg).to_dict(True)["export_wh"][1]
    assert h.tick(led, TODAY + 1, cfg)                   # midnight
    rec = h.read(True, TODAY)
    # 8 h at 2 kW given back (the two crossings of zero split their 20 s: mWh each way)
    assert abs(rec.export_wh[1] - 16000) <= 3 and rec.export_wh[0] == 0 and rec.export_wh[2:] == [0, 0, 0]
    assert abs(rec.wh[1] - 8000) <= 3 and rec.wh[0] == 7200  # what was taken, not netted
    assert rec.export_wh == day.export_wh
    assert abs(rec.cost[1] - rec.wh[1] * 0.2) <= 1        # priced: what was taken, not what went back
    t = house(led, [300, -1000, 0, 0, 0], 5, t)
    assert h.tick(led, TODAY + 2, cfg)
    m = h.read(False, month_of_day(TODAY))
    assert m.export_wh[1] == rec.export_wh[1] + h.read(True, TODAY + 1).export_wh[1]
    assert m.to_dict(False)["export_wh"] == m.export_wh
    t = house(led, [300, -1000, 0, 0, 0], 1, t)
    so_far = h.month_so_far(led, cfg).export_wh[1]
    assert abs(so_far - m.export_wh[1] - 1000) <= 1   # this month: its days, and today so far


def test_days_written_before_export_was_counted_read_as_none_given_back():
    # a meter upgraded: its history.bin as it was (the same layout), no export.bin yet
    import os
    d = fresh_dir("hist11")
    cfg = cfg_with()
    led = Ledger(5)
    h = History(d, 5)
    h.tick(led, TODAY, cfg)
    led.by_period[3][0].wh += 700
    h.tick(led, TODAY + 1, cfg)
    with open(d + "/history.bin", "rb") as f:
        before = f.read()
    os.remove(d + "/export.bin")
    old = h
    h = History(d, 5)
    h.base_day, h.base = old.base_day, old.base         # (as the ledger's file gives it back)
    assert h.prepare() and h.read(True, TODAY).wh[3] == 700 and h.read(True, TODAY).export_wh == [0] * 5
    assert h.read(False, month_of_day(TODAY)).export_wh == [0] * 5
    assert h.index()["export"] == [0] * 5 and h.index()["total"][3] == 0
    with open(d + "/history.bin", "rb") as f:
        assert f.read() == before                       # untouched: nothing to convert
    # from now on each day carries it
    led.export[3].wh, led.export_partial[3].wh = 40, 40
    led.by_period[3][0].wh += 10
    h.tick(led, TODAY + 2, cfg)
    assert h.read(True, TODAY + 1).export_wh == [0, 0, 0, 40, 0] and h.read(True, TODAY + 1).wh[3] == 10
    assert h.read(False, month_of_day(TODAY)).export_wh[3] == 40 and h.index()["export"][3] == 40
    assert History(d, 5).read(True, TODAY).wh[3] == 700


def test_an_export_slot_torn_or_of_another_date_reads_as_none():
    import os
    d = fresh_dir("hist12")
    cfg = cfg_with()
    led = Ledger(5)
    h = History(d, 5)
    h.tick(led, TODAY, cfg)
    led.export[1].wh = 1234
    h.tick(led, TODAY + 1, cfg)
    assert h.read(True, TODAY).export_wh[1] == 1234
    off = h._eslot(True, TODAY)[0]
    with open(d + "/export.bin", "r+b") as f:           # a cut in the middle of its write
        f.seek(off + 5)
        f.write(b"\x99")
    r = h.read(True, TODAY)
    assert r is not None and r.export_wh == [0] * 5     # the day's other figures stay
    assert h.read(True, TODAY + DAYS) is None           # (the same slot, another date: none)
    # the index's export belongs to its own day only: an older one is not taken for it
    led.export[1].wh = 2000
    h.tick(led, TODAY + 2, cfg)
    assert h.index()["export"][1] == 2000
    with open(d + "/export.bin", "r+b") as f:
        f.seek(h._eioffset(h.index()["slot"]) + 4)
        f.write(b"\x77")
    assert h.index()["day"] == TODAY + 2 and h.index()["export"] == [0] * 5
    # and an export.bin of another layout is made again, the days of history.bin kept
    with open(d + "/export.bin", "wb") as f:
        f.write(b"SMEX junk")
    h = History(d, 5)
    assert h.prepare() and os.stat(d + "/export.bin")[6] == h._esize()
    assert h.read(True, TODAY + 1).export_wh == [0] * 5 and h.read(True, TODAY + 1) is not None
