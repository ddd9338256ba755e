# Zeroing an input (its circuit switched off) on the whole firmware with the simulated
# board: from the panel and from the App's command (the API's), applied, shown in the
# state, saved and read again at the next start; a broken file is said, not fatal;
# energy is never changed by it.
import json

from compat import IS_MP, fresh_dir, raises, press as panel_press
from submeter import config
from submeter.app import App
from submeter.clock import ManualClock
from submeter.sense.zero import WINDOWS
import sim


class Off(sim.Steady):
    """The steady loads, with circuits the test switches off."""

    def __init__(self):
        self.watts = list(sim.Steady.watts)

    def power(self, i, t):
        return self.watts[i]


def make_app(data, scenario=None, chip=None, vref=True):
    """The App on the simulated board; vref False: without the voltage reference (V x A x
    pf: an idle input's noise reads as watts until it is zeroed)."""
    clock = ManualClock()
    board = sim.Board(scenario=scenario or Off(), clock=clock, term="0", display=IS_MP, data_dir=data)
    if chip is not None:  # a chip noisier than the board says (as an ESP32 before zeroing)
        board.chip = chip
        board.ct = [sim.SimCT(board.scenario, board.time, i, chip=chip, noise_counts=sim.NOISE_ASSUMED,
                              mains=board.mains) for i in range(5)]
    if not vref:
        board.vref = None
        board.mains.drift = False  # V x A x pf at the nominal 230 V: the mains at 230 V
    cfg = config.validate(board.CONFIG)
    board.configure(cfg)
    return App(board, cfg), clock


def rounds(app, clock, n):
    for _ in range(n):
        clock.advance(1000)
        app.measure_round()


def totals(app):
    return [(t.wh, t.mj) for t in app.ledger.total]


def test_with_the_reference_an_idle_input_reads_0_w_before_zeroing():
    # its noise does not follow the mains: the mean of v x i finds no power in it
    app, clock = make_app(fresh_dir("zero"), chip=sim.SimChip(3, noise=7.5))
    rounds(app, clock, 20)
    s = app.state()
    assert s["inputs"][1]["method"] == "vi" and s["inputs"][1]["zeroed"] is None
    assert s["inputs"][1]["w"] == 0.0 and app.ledger.power[1] == 0.0
    assert abs(s["inputs"][0]["w"] - 2000.0) < 40


def test_zeroing_an_idle_input_makes_it_read_0_w_saved_for_the_next_start():
    data = fresh_dir("zero")
    app, clock = make_app(data, chip=sim.SimChip(3, noise=7.5), vref=False)
    rounds(app, clock, 40)  # the heater's 2 kW gives the scale
    assert app.state()["adc"]["source"] == "adc" and app.state()["adc"]["error_pct"] <= 0.5
    s = app.state()
    assert s["inputs"][1]["w"] > 20.0 and s["inputs"][1]["zeroed"] is None  # idle, read as a load
    before = totals(app)
    got = app.start_zero([1])
    assert got["zeroing"] == [2]
    e = raises(ValueError, app.start_zero, [3])  # one at a time
    assert "being zeroed" in str(e)
    assert app.state()["zeroing"] == {"inputs": [2], "progress": 0}
    for k in range(WINDOWS + 1):
        after = totals(app)
        assert all(a >= b for a, b in zip(after, before)), (before, after)  # never backwards
        before = after
        rounds(app, clock, 1)
    s = app.state()
    assert s["zeroing"] is None and s["errors"]["zero"] is None
    one = s["inputs"][1]
    assert one["zeroed"] and abs(s["adc"]["noise_a"][1] - 7.5 * app.board.chip.gain * app.meter.channels[1].amps_per_count) < 0.1
    assert one["min_w"] < 100.0
    rounds(app, clock, 30)
    assert app.state()["inputs"][1]["w"] == 0.0 and app.ledger.power[1] == 0.0
    # the heater (input 1) still reads its 2 kW, and counts on
    assert abs(app.state()["inputs"][0]["w"] - 2000.0) <= 20.0, app.state()["inputs"][0]
    with open(data + "/zero.json") as f:
        saved = json.load(f)["inputs"]
    assert saved[1]["noise_var"] > 0 and saved[0] is None
    again, clock2 = make_app(data, chip=sim.SimChip(3, noise=7.5))   # a restart
    assert again.meter.channels[1].zero == app.meter.channels[1].zero and again.meter.channels[0].zero is None
    assert again.state()["inputs"][1]["zeroed"] == one["zeroed"]


def test_an_input_that_is_not_off_is_not_zeroed():
    data = fresh_dir("zero")
    app, clock = make_app(data)
    rounds(app, clock, 3)
    app.start_zero([0])  # the heater, 2 kW: not switched off
    rounds(app, clock, WINDOWS + 2)
    s = app.state()
    assert app.meter.channels[0].zero is None and "not off" in s["errors"]["zero"]
    assert abs(s["inputs"][0]["w"] - 2000.0) <= 40.0


def test_a_broken_zero_file_is_said_and_the_meter_meters():
    data = fresh_dir("zero")
    with open(data + "/zero.json", "w") as f:
        f.write('{"inputs": [1, 2')
    app, clock = make_app(data)
    rounds(app, clock, 3)
    s = app.state()
    assert s["errors"]["zero"].startswith("zero.json ignored")
    assert all(i["zeroed"] is None for i in s["inputs"])
    assert abs(s["inputs"][0]["w"] - 2000.0) <= 40.0
    with open(data + "/zero.json", "w") as f:
        f.write(json.dumps({"inputs": [None, {"noise_var": "x"}, None, None, None]}))
    app, clock = make_app(data)
    assert app.state()["errors"]["zero"].startswith("zero.json ignored")


def test_the_panel_zeroes_an_input_after_asking():
    if not IS_MP:
        return  # the screens need framebuf (MicroPython): the logic is in test_ui on both
    data = fresh_dir("zero")
    load = Off()
    app, clock = make_app(data, load)
    rounds(app, clock, 5)

    def press(name, ms=80):
        panel_press(app, clock, name, ms)

    press("down")                                     # heating: input 1
    assert app.panel.screens.page == "heating"
    press("back", 2000)                               # held: "switch circuit 1 off"
    assert app.panel.screens.zero_ask and app.meter.zeroing is None
    load.watts[0] = 0.0                               # the owner switches the heater off
    before = totals(app)
    press("ok")
    assert app.meter.zeroing is not None and app.meter.zeroing.inputs == [0]
    rounds(app, clock, WINDOWS + 1)
    app.panel.step(clock.ticks_ms())
    assert app.meter.zeroing is None and app.meter.channels[0].zero is not None
    assert app.panel.screens.notice_text == "Zeroed"
    assert totals(app) >= before and app.state()["inputs"][0]["w"] == 0.0


def test_inputs_on_adc2_get_adc2s_own_scale():
    # the Olimex boards put inputs 4 and 5 on ADC2, whose calibration line is its own: one
    # scale per unit, each the slope of its own chip's line, and each input reads right
    one, two = sim.SimChip(7, gain=1.05, offset_mv=40.0), sim.SimChip(8, gain=0.95, offset_mv=120.0)
    clock = ManualClock()
    board = sim.Board(scenario=sim.Steady(), clock=clock, term="0", display=False, data_dir=fresh_dir("units"))
    board.ct = [sim.SimCT(board.scenario, board.time, i, chip=one if i < 3 else two, mains=board.mains)
                for i in range(5)]
    board.vref = None  # (its reads would be on a third chip)
    for adc in board.ct[3:]:
        adc.unit = 2
    cfg = config.validate(board.CONFIG)
    board.configure(cfg)
    app = App(board, cfg)
    rounds(app, clock, 150)
    units = app.state()["adc"]["units"]
    assert [u["unit"] for u in units] == [1, 2]
    for u, chip in zip(units, (one, two)):
        truth = chip.true_uv_per_count()
        assert u["source"] == "adc" and abs(u["uv_per_count"] / truth - 1) <= u["error_pct"] / 100 + 0.003, (u, truth)
    assert abs(one.true_uv_per_count() / two.true_uv_per_count() - 1) > 0.08  # one scale would be off by that
    # each input reads right: the mean of 20 readings (one 200 ms window scatters a 450 W
    # load by ~2-4 % with the chip's 4-8 counts of noise: one reading alone failed 3 %)
    w = [0.0] * 5
    for _ in range(20):
        rounds(app, clock, 1)
        w = [a + i["w"] / 20 for a, i in zip(w, app.state()["inputs"])]
    for k in (0, 2, 3):  # the steady loads: 2000, 1500, 450 W
        truth = sim.Steady.watts[k]
        assert abs(w[k] / truth - 1) < 0.03, (k, w[k], truth)
