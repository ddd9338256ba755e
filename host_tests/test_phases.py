# Phase balance and the P1 port's hints: a three-phase meter's currents (P1 31/51/71.7.0,
# historic IINST1-3, standard IRMS1-3) against the contract's per-phase limit (fuse
# supervision, ISOUSC, PREF), the maxima, the CT inputs wired on each phase and the circuit
# worth moving; a P1 meter's breaker; what to check when nothing valid comes.
from compat import IS_MP, skip
from submeter.config import USAGES
from submeter.grid.p1 import P1Decoder
from submeter.grid.reading import GridReading
from submeter.grid.tic import TicDecoder
from submeter.view.phases import balance
from test_grid_alerts import c2000_frame
from test_p1 import crc_bitwise, load


def inputs(phases, amps):
    """The snapshot's inputs, with their phase and current."""
    names = ("Heating", "Cooling", "Hot water", "Sockets", "Other")
    return [{"id": k + 1, "name": names[k], "usage": USAGES[k], "phase": p, "a": a}
            for k, (p, a) in enumerate(zip(phases, amps))]


def p1_reading(data):
    d = P1Decoder()
    assert d.feed(data) == 1, "telegram refused"
    return d.update(GridReading()).to_dict()


def resign(data):
    """A telegram changed by a test, with its CRC made right again."""
    body = data[:data.index(b"!") + 1]
    return body + b"%04X\r\n" % crc_bitwise(body)


def set_obj(data, obis, value):
    a = data.index(obis + b"(")
    b = data.index(b")", a)
    return data[:a + len(obis) + 1] + value + data[b:]


def test_three_phase_p1_telegram_drives_the_phase_view():
    # a real Landis+Gyr E360 on a Belgian three-phase line, fuse supervision at 40 A
    data, exp = load("be_lgf5e360_50221_nogas.txt")
    r = p1_reading(data)
    ph = balance(r, inputs((1, 1, 2, 3, 3), (0.1, 0, 0, 0.2, 0)))
    assert ph["metered"] and ph["limit_a"] == 40 and ph["limit_from"] == "fuse"
    assert [p["a"] for p in ph["phases"]] == [0.24, 0.0, 0.4] == r["current_a"]
    assert [p["pct"] for p in ph["phases"]] == [1, 0, 1]
    assert [p["inputs"] for p in ph["phases"]] == [[1, 2], [3], [4, 5]]
    assert [p["ct_a"] for p in ph["phases"]] == [0.1, 0, 0.2]
    assert [p["w"] for p in ph["phases"]] == [w - x for w, x in zip(r["power_w_phases"], r["export_w_phases"])]
    assert ph["move"] is None   # under a watt apart: nothing worth rewiring
    # a T211 whose port says 999 A: no fuse supervision set, so no limit is made up
    r = p1_reading(load("be_t211_50215_micropython_dsmr2influxdb.txt")[0])
    ph = balance(r, inputs((1,) * 5, (0,) * 5))
    assert r["fuse_a"] == 999 and ph["limit_a"] is None and ph["phases"][2]["a"] == 2.69
    assert all(p["pct"] is None for p in ph["phases"])


def test_the_circuit_worth_moving():
    # the same meter, one evening: L1 carries 24 A, L2 4 A, L3 10 A; on L1 the heating
    # draws 15 A and the sockets 10 A: moving the sockets to L2 evens L1 and L2
    data, _ = load("be_lgf5e360_50221_nogas.txt")
    for obis, v in ((b"1-0:31.7.0", b"024.00*A"), (b"1-0:51.7.0", b"004.00*A"), (b"1-0:71.7.0", b"010.00*A")):
        data = set_obj(data, obis, v)
    r = p1_reading(resign(data))
    ph = balance(r, inputs((1, 2, 3, 1, 3), (15.0, 0.0, 8.5, 10.0, 0.2)))
    assert ph["move"] == {"input": 4, "name": "Sockets", "usage": "sockets", "from": 1, "to": 2, "gap_a": 20,
                          "after_a": 0}
    assert [p["pct"] for p in ph["phases"]] == [60, 10, 25]
    # heating alone (15 A) overshoots, yet leaves them closer: 10 A apart the other way
    ph = balance(r, inputs((1, 2, 3, 2, 3), (15.0, 0.0, 8.5, 3.0, 0.2)))
    assert ph["move"]["input"] == 1 and ph["move"]["after_a"] == 10
    # nothing on the heavy phase is running: no advice
    ph = balance(r, inputs((1, 2, 3, 2, 3), (0.0, 0.0, 8.5, 3.0, 0.2)))
    assert ph["move"] is None


def test_historic_and_standard_limits():
    # a SAGEM C2000-4: ISOUSC is per phase, IINST1-3 against it, IMAX1-3 and PMAX kept
    d = TicDecoder()
    d.feed(c2000_frame())
    r = d.update(GridReading()).to_dict()
    ph = balance(r, inputs((1, 1, 2, 3, 3), (6.0, 0, 1.0, 6.5, 0)))
    assert ph["limit_a"] == 30 and ph["limit_from"] == "isousc" and ph["pmax_w"] == 11250
    assert [p["a"] for p in ph["phases"]] == [12, 4, 20] and [p["pct"] for p in ph["phases"]] == [40, 13, 67]
    assert [p["max_a"] for p in ph["phases"]] == [30, 21, 29]
    assert ph["move"]["input"] == 4 and (ph["move"]["from"], ph["move"]["to"]) == (3, 2)
    # a three-phase Linky in standard mode: PREF (kVA) is shared by the three phases
    r = {"current_a": [10, 12, 9], "subscribed_kva": 12, "power_va_phases": [2300, 2760, 2070]}
    ph = balance(r, inputs((1,) * 5, (0,) * 5))
    assert ph["limit_a"] == round(12000 / 3 / 230, 1) and ph["limit_from"] == "pref"
    assert [p["w"] for p in ph["phases"]] == [2300, 2760, 2070]


def test_single_phase_and_ct_only_installations():
    r = p1_reading(load("be_s211_50213_domoticz.txt")[0])  # an S211: one phase
    assert r["current_a"] == [2] and balance(r, inputs((1,) * 5, (1,) * 5)) is None
    assert balance(None, inputs((1,) * 5, (1,) * 5)) is None
    # no meter (or a single-phase one) but circuits wired on three phases: the CTs' view
    ph = balance(None, inputs((1, 1, 2, 3, 1), (9.0, 4.0, 0.5, 1.0, 0.0)))
    assert not ph["metered"] and ph["limit_a"] is None
    assert [p["ct_a"] for p in ph["phases"]] == [13.0, 0.5, 1.0] and ph["phases"][0]["a"] is None
    assert ph["move"]["input"] == 2 and ph["move"]["to"] == 2


def test_breaker_state_becomes_an_alert():
    data, _ = load("be_t211_50213_dsmrreader_anon.txt")
    assert p1_reading(data)["alerts"] == []   # 96.3.10(1): connected
    r = p1_reading(resign(set_obj(data, b"0-0:96.3.10", b"0")))
    assert r["breaker"] == 0 and r["alerts"] == ["breaker_open"]
    r = p1_reading(resign(set_obj(data, b"0-0:96.3.10", b"2")))
    assert r["alerts"] == ["breaker_ready"]


def run_reader(meter, grid, real_ms):
    import asyncio
    import time
    import sim
    from submeter.clock import Clock
    from submeter.grid.reader import GridReader
    board = sim.Board(scenario=sim.Steady(), clock=Clock(100, time.ticks_ms), term="0", display=False, meter=meter)
    rd = GridReader(board, board.clock, grid)

    async def main():
        t = asyncio.create_task(rd.run())
        await asyncio.sleep_ms(real_ms)
        t.cancel()
    asyncio.run(main())
    return board, rd


def test_what_to_check_when_the_p1_port_is_silent():
    if not IS_MP:
        skip("asyncio.sleep_ms is MicroPython's")
    # a Fluvius port not opened yet: nothing on the line, at any setting
    board, rd = run_reader("p1_closed", "p1", 100)  # 10 s: still trying the settings
    assert rd.state()["hint"] is None
    board, rd = run_reader("p1_closed", "p1", 300)  # 30 s: both P1 settings tried
    assert rd.state()["hint"] == "p1_silent" and not rd.locked
    board, rd = run_reader("p1_closed", "auto", 600)
    assert rd.state()["hint"] == "silent"
    board, rd = run_reader("p1_closed", "tic", 300)
    assert rd.state()["hint"] == "tic_silent"
    # bytes, but never a valid telegram: a P1 meter read as TIC
    board, rd = run_reader("p1", "tic_standard", 200)
    assert rd.state()["hint"] == "garbled"
    # the port opened: found, and the hint gone
    board, rd = run_reader("p1", "p1", 200)
    assert rd.locked and rd.state()["hint"] is None


def test_the_p1_port_opened_later_and_lost_again():
    if not IS_MP:
        skip("asyncio.sleep_ms is MicroPython's")
    import asyncio
    import time
    import sim
    from submeter.clock import Clock
    from submeter.grid.reader import GridReader
    board = sim.Board(scenario=sim.Steady(), clock=Clock(100, time.ticks_ms), term="0", display=False,
                      meter="p1_closed")
    rd = GridReader(board, board.clock, "p1")
    seen = []

    async def main():
        t = asyncio.create_task(rd.run())
        await asyncio.sleep_ms(300)
        seen.append(rd.state()["hint"])
        board.meter.silent = False      # the owner opens the port on the operator's portal
        await asyncio.sleep_ms(300)
        seen.append((rd.state()["hint"], rd.locked))
        board.meter.silent = True       # the opening expired, or the cable was pulled
        await asyncio.sleep_ms(80)
        seen.append(rd.state()["hint"])  # under a round of the settings: not yet
        await asyncio.sleep_ms(250)
        seen.append(rd.state()["hint"])
        t.cancel()
    asyncio.run(main())
    assert seen == ["p1_silent", (None, True), None, "p1_silent"], seen
    assert rd.reading.frames > 10  # the last reading is kept, the screen says it is stale
