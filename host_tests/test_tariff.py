# Prices and costs (ledger/tariff.py): each cost one exact integer (billionths of the
# currency), rounded once where it is kept (thousandths: the history) or shown (cents).
from compat import fresh_dir
from submeter import config
from submeter.ledger import tariff
from submeter.ledger.history import History
from submeter.ledger.ledger import Ledger


def cfg_with(**kw):
    return config.validate(kw)


def test_a_lifetime_total_is_priced_to_the_thousandth():
    # 12 345 678 Wh at 0.2068 a kWh: 2553.0862104, whatever the float width (a 32-bit
    # float, the ESP32's, steps by 0.25 thousandths there)
    p = tariff.energy_prices(cfg_with(price_kwh=0.2068), 1)
    assert p == [206800]
    assert tariff.milli(12345678 * p[0]) == 2553086
    assert tariff.money(12345678 * p[0]) == 2553.09
    # one Wh more on 10 MWh at 0.2516 moves the cost by a quarter of a thousandth: nothing
    p = tariff.energy_prices(cfg_with(price_kwh=0.2516), 1)[0]
    assert tariff.milli(10000000 * p) == tariff.milli(10000001 * p) == 2516000
    assert tariff.milli(10000002 * p) == 2516001


def test_each_period_at_its_price_and_the_rest_at_the_base_price():
    c = cfg_with(price_kwh=0.25, prices_kwh=[0.1296, 0.1609])
    assert tariff.energy_prices(c, 4) == [129600, 160900, 250000, 250000]


def test_costs_round_half_up_once():
    assert tariff.milli(5 * 100000) == 1           # 5 Wh at 0.10: half a thousandth, up
    assert tariff.milli(4 * 100000) == 0
    assert tariff.money(12345000000) == 12.35 and tariff.money(12344999999) == 12.34 and tariff.money(0) == 0
    # once, from the exact cost: 14770.664984 is 14770.66 (rounded to the thousandth first,
    # 14770.665, then to the cent, it would be 14770.67)
    nano = 30000005 * 206800 + 31728385 * 270000
    assert tariff.milli(nano) == 14770665 and tariff.money(nano) == 14770.66
    assert tariff.share(1000, 1, 3) == 333 and tariff.share(1000, 2, 3) == 667


def test_gas_and_water_as_the_history_records_them():
    c = cfg_with(gas_price_kwh=0.1, gas_kwh_per_m3=11.2, water_price_m3=4.0)
    assert tariff.milli(tariff.gas_cost(2500, c)) == 2800 and tariff.milli(tariff.water_cost(180, c)) == 720
    c = cfg_with(gas_price_kwh=0.1234, gas_kwh_per_m3=11.23, water_price_m3=4.15)
    assert tariff.gas_cost(1000, c) == 1385782000   # 1.385782: exact, no float on the way
    assert tariff.gas_cost(12345678, c) == 17108418350196
    assert tariff.milli(tariff.water_cost(1001, c)) == 4154  # 4154.15


def test_today_on_the_page_is_the_day_the_history_closes():
    # the day's cost in the snapshot and the record written at midnight: one integer
    d = fresh_dir("tariff1")
    c = cfg_with(prices_kwh=[0.2068, 0.27])
    led = Ledger(5)
    h = History(d, 5)
    led.record(0, 0.0, 0)
    h.tick(led, 9000, c)
    t = 0
    for k in range(3600):
        t += 20000
        led.record(0, 1234.5, t)
        if k == 1000:
            led.set_period(1, t)
    live = h.live(led, c)
    h.tick(led, 9001, c)
    rec = h.read(True, 9000)
    assert rec.cost == live.cost and rec.cost[0] > 0
    nano = sum(led.by_period[0][k].wh * p for k, p in enumerate(tariff.energy_prices(c, 2)))
    assert rec.cost[0] == tariff.milli(nano)       # the exact cost the snapshot prices, kept to the thousandth


def test_the_snapshot_prices_and_adds_costs_as_integers():
    import sim
    from submeter.app import App
    from submeter.clock import ManualClock
    clock = ManualClock()
    board = sim.Board(scenario=sim.Steady(), clock=clock, term="0", display=False, data_dir=fresh_dir("tariff2"))
    cfg = config.validate(dict(board.CONFIG, prices_kwh=[0.2068, 0.27]))
    board.configure(cfg)
    app = App(board, cfg)
    led = app.ledger
    for i in range(5):
        led.total[i].wh = 1000003 * (i + 1)
        led.by_period[i][0].wh = 600001 * (i + 1)
        led.by_period[i][1].wh = 400002 * (i + 1)
        led.by_period[i][1].mj = 1800000 * i    # the sub-Wh remainder is priced too
        led.total[i].mj = 1800000 * i
        led.partial[i].wh = 1001 * (i + 1)
    led.periods_used = 2
    led.gas_l[0] = 12345
    s = app.build_snapshot()
    nano = []
    for i, inp in enumerate(s["inputs"]):
        m = 600001 * (i + 1) * 206800 + 400002 * (i + 1) * 270000 + (500 * i * 270000 + 500) // 1000  # (mJ as mWh)
        nano.append(m)
        assert inp["cost"] == tariff.money(m) and inp["periods_wh"] == [600001 * (i + 1), 400002 * (i + 1)]
        whole = 1000003 * (i + 1) * 3600000 + 1800000 * i
        assert inp["partial_cost"] == tariff.money(tariff.share(m, 1001 * (i + 1) * 3600000, whole)), (inp, m)
    assert s["total_cost"] == tariff.money(sum(nano))     # the exact sum, rounded once
    by = {}
    for i, inp in enumerate(cfg["inputs"]):               # a usage: its inputs' costs as shown
        by[inp["usage"]] = by.get(inp["usage"], 0) + tariff.cents(nano[i])
    assert {u: v["cost"] for u, v in s["usages"].items()} == {u: c / 100 for u, c in by.items()}
    assert s["gas"]["cost"] == tariff.money(tariff.gas_cost(12345, cfg)) and s["water"]["cost"] == 0
