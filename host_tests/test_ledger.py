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
