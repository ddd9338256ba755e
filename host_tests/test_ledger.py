# Energy counters: exact integration, no loss on large totals, never backwards,
# bounded when a reading is late, partial reset leaves the total alone.
from submeter.clock import ManualClock, ticks_add, ticks_diff
from submeter.ledger.ledger import Ledger


def run(ledger, clock, i, watts, seconds, step_ms=1000):
    for _ in range(seconds * 1000 // step_ms):
        clock.advance(step_ms)
        ledger.record(i, watts, clock.ticks_ms())


def test_one_kw_for_one_hour_is_one_kwh():
    c = ManualClock()
    led = Ledger(5)
    led.record(0, 1000.0, c.ticks_ms())
    run(led, c, 0, 1000.0, 3600)
    assert led.total[0].wh == 1000 and led.total[0].mj == 0
    assert led.total[0].kwh_str() == "1.000"


def test_small_power_on_a_large_total_is_not_lost():
    c = ManualClock()
    led = Ledger(5)
    led.total[1].wh = 12345678  # 12 MWh already counted
    led.record(1, 7.5, c.ticks_ms())
    run(led, c, 1, 7.5, 3600)
    assert led.total[1].wh == 12345678 + 7
    assert abs(led.total[1].mj - 1800000) <= 3600  # 0.5 Wh left in the remainder
    assert led.total[1].kwh_str() == "12345.685"


def test_counter_never_goes_backwards():
    c = ManualClock()
    led = Ledger(5)
    led.record(2, 500.0, c.ticks_ms())
    last = 0
    for w in (500.0, -20.0, 0.0, 3000.0, 0.0):
        run(led, c, 2, w, 10)
        now = led.total[2].wh * 3600000 + led.total[2].mj
        assert now >= last
        last = now
    assert led.power[2] == 0.0


def test_late_reading_counts_at_most_max_gap():
    c = ManualClock()
    led = Ledger(5, max_gap_ms=30000)
    led.record(0, 3600.0, c.ticks_ms())
    c.advance(3600 * 1000)  # the loop was held up for an hour
    led.record(0, 3600.0, c.ticks_ms())
    assert led.total[0].wh == 30 and led.late == 1


def test_clock_wrap_is_seamless():
    c = ManualClock(start=(1 << 30) - 500)
    led = Ledger(5)
    led.record(0, 3600.0, c.ticks_ms())
    run(led, c, 0, 3600.0, 10)
    assert led.total[0].wh == 10
    assert ticks_diff(ticks_add(5, -10), 5) == -10


def test_partial_reset_keeps_total():
    c = ManualClock()
    led = Ledger(5)
    led.record(3, 1800.0, c.ticks_ms())
    run(led, c, 3, 1800.0, 100)
    led.reset_partial(3)
    run(led, c, 3, 1800.0, 100)
    assert led.total[3].wh == 100 and led.partial[3].wh == 50
    led.reset_partial(None)
    assert all(p.wh == 0 and p.mj == 0 for p in led.partial)


def test_load_switching_between_readings_counts_half():
    c = ManualClock()
    led = Ledger(5)
    led.record(4, 0.0, c.ticks_ms())
    c.advance(3600)
    led.record(4, 2000.0, c.ticks_ms())  # switched on somewhere in the last 3.6 s
    assert led.total[4].wh == 1 and led.total[4].mj == 0


def test_tariff_split_is_exact_at_the_period_change():
    c = ManualClock()
    led = Ledger(5)
    led.record(0, 3600.0, c.ticks_ms())
    run(led, c, 0, 3600.0, 10)          # 10 Wh in period 1 (index 0)
    c.advance(400)                       # the meter switches 0.4 s after the last reading
    led.set_period(1, c.ticks_ms())      # off-peak starts
    c.advance(600)
    led.record(0, 3600.0, c.ticks_ms())
    run(led, c, 0, 3600.0, 9)            # 10 more Wh, all in period 2 but the 0.4 s
    p0 = led.by_period[0][0].wh * 3600000 + led.by_period[0][0].mj
    p1 = led.by_period[0][1].wh * 3600000 + led.by_period[0][1].mj
    assert p0 == 10 * 3600000 + 3600 * 400 and p1 == 10 * 3600000 - 3600 * 400
    assert led.total[0].wh == 20 and led.periods_used == 2
    led.set_period(1, c.ticks_ms())      # the same period again: nothing moves
    assert led.by_period[0][1].wh * 3600000 + led.by_period[0][1].mj == p1


# --- signed power: energy taken (import) and given back (export), counted apart --------
def mj(c):
    return c.wh * 3600000 + c.mj


def pv_day(t):
    """A house circuit with a solar inverter on it, at second t of the day: the load (a
    base, a fridge's cycles, a kettle now and then) less the inverter's output (a dome
    from 07:00 to 19:00 with passing clouds), in whole W, signed: < 0 the circuit gives back."""
    h = t // 3600
    load = 350 + (90 if (t // 600) % 3 == 0 else 0) + (2800 if t % 1800 < 240 else 0)
    pv = 0
    if 7 * 3600 < t < 19 * 3600:
        x = t - 13 * 3600
        pv = 3200 - 3200 * x * x // (6 * 3600) ** 2
        if (t // 420) % 5 == 1 and 9 <= h < 16:
            pv //= 10  # a cloud
    return load - pv


def integrate(acc, a, b, dt):
    """Hand integration, into acc = [import, export, net] in mJ, of an interval of dt ms
    from a to b W (whole W, even dt): its line, split where it crosses zero. Exact: the
    whole parts as integers, the crossings' triangles' fractions added apart (floats)."""
    acc[2] += (a + b) * dt // 2
    if a >= 0 and b >= 0:
        acc[0] += (a + b) * dt // 2
    elif a <= 0 and b <= 0:
        acc[1] += -(a + b) * dt // 2
    else:
        p, q = max(a, b), -min(a, b)
        den = 2 * (p + q)
        acc[0] += p * p * dt // den + (p * p * dt % den) / den
        acc[1] += q * q * dt // den + (q * q * dt % den) / den
    return acc


def test_a_pv_day_counts_import_and_export_apart_exact_to_the_mj():
    c = ManualClock()
    led = Ledger(5)
    acc = [0, 0, 0]
    last_imp = last_exp = 0
    crossings = 0
    prev = None
    for k in range(24 * 360 + 1):                 # a reading every 10 s for a day
        if k:
            c.advance(10000)
        w = pv_day(k * 10)
        if prev is not None:
            integrate(acc, prev, w, 10000)
            crossings += (prev < 0 < w) or (w < 0 < prev)
        prev = w
        led.record(0, w, c.ticks_ms())
        imp, exp = mj(led.total[0]), mj(led.export[0])
        assert imp >= last_imp and exp >= last_exp  # neither ever goes back
        last_imp, last_exp = imp, exp
    want_imp, want_exp, net = acc
    # clouds, a kettle: the sign changes often; > 10 kWh taken and given back
    assert crossings > 50 and want_imp > 3600000 * 10000 and want_exp > 3600000 * 10000
    assert abs(mj(led.total[0]) - want_imp) < 1, (mj(led.total[0]), want_imp)
    assert abs(mj(led.export[0]) - want_exp) < 1, (mj(led.export[0]), want_exp)
    # nothing lost or counted twice: import less export is the signed integral
    assert abs(mj(led.total[0]) - mj(led.export[0]) - net) < 1
    assert mj(led.partial[0]) == mj(led.total[0]) and mj(led.by_period[0][0]) == mj(led.total[0])
    assert mj(led.export_partial[0]) == mj(led.export[0])
    assert led.power[0] == pv_day(86400) and all(mj(x) == 0 for x in led.export[1:])


def test_a_zero_crossing_between_two_readings_is_split():
    c = ManualClock()
    led = Ledger(5)
    led.record(1, 3000.0, c.ticks_ms())
    c.advance(1000)
    assert led.record(1, -1000.0, c.ticks_ms()) == 1000000  # the net: (3000 - 1000) W x 0.5 s
    # the line crosses 0 at 0.75 s: 3000 W x 0.75 s / 2 taken, then 1000 W x 0.25 s / 2 given back
    assert mj(led.total[1]) == 1125000 and mj(led.export[1]) == 125000
    assert led.power[1] == -1000.0  # the snapshot's w: signed
    c.advance(2000)
    led.record(1, -1000.0, c.ticks_ms())            # 2 s given back at 1 kW
    assert mj(led.total[1]) == 1125000 and mj(led.export[1]) == 125000 + 2000000
    c.advance(1000)
    led.record(1, 1000.0, c.ticks_ms())             # back the other way: half and half
    assert mj(led.total[1]) == 1125000 + 250000 and mj(led.export[1]) == 2125000 + 250000


def test_a_tariff_change_while_giving_back_holds_the_export():
    c = ManualClock()
    led = Ledger(5)
    led.record(0, -3600.0, c.ticks_ms())
    c.advance(1000)
    led.set_period(1, c.ticks_ms())                 # 1 s at -3600 W, held: 1 Wh given back
    assert led.export[0].wh == 1 and led.export[0].mj == 0
    assert mj(led.total[0]) == 0 and mj(led.by_period[0][0]) == 0  # nothing taken, in no period
    c.advance(1000)
    led.record(0, 3600.0, c.ticks_ms())             # from the change: -3600 W to 3600 W, split
    assert mj(led.by_period[0][1]) == 900000 and mj(led.export[0]) == 3600000 + 900000


def test_partial_reset_zeroes_the_export_partial_too():
    c = ManualClock()
    led = Ledger(5)
    for i in (2, 3):
        led.record(i, -1800.0, c.ticks_ms())
    for _ in range(100):
        c.advance(1000)
        for i in (2, 3):
            led.record(i, -1800.0, c.ticks_ms())
    led.reset_partial(2)
    assert led.export_partial[2].wh == 0 and led.export[2].wh == 50 and led.export_partial[3].wh == 50
    run(led, c, 2, -1800.0, 100)
    assert led.export[2].wh == 100 and led.export_partial[2].wh == 50
    led.reset_partial(None)
    assert all(mj(p) == 0 for p in led.export_partial) and led.export[3].wh == 50
