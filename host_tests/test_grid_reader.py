# The grid-meter input end to end on the simulated Linky: the mode is found by itself,
# found again in seconds when Enedis switches the meter, and the reading agrees with
# the simulated loads. Runs the real asyncio task, so MicroPython only.
from compat import IS_MP, skip


def run_for(coro_fn, real_ms, until=None):
    """Run the reader for `real_ms`; with `until` (a test), until it holds, for at most
    five times as long: a loaded host (2 cores, a soak beside) gives the task less time."""
    import asyncio

    async def main():
        t = asyncio.create_task(coro_fn())
        await asyncio.sleep_ms(real_ms)
        waited = real_ms
        while until is not None and not until() and waited < 5 * real_ms:
            await asyncio.sleep_ms(100)
            waited += 100
        t.cancel()
    asyncio.run(main())


def make(meter_mode, grid="auto", speed=100):
    import time
    import sim
    from submeter.clock import Clock
    from submeter.grid.reader import GridReader
    board = sim.Board(scenario=sim.Steady(), clock=Clock(speed, time.ticks_ms), term="0",
                      display=False, meter=meter_mode)
    return board, GridReader(board, board.clock, grid)


def test_mode_is_found_and_found_again_after_a_remote_switch():
    if not IS_MP:
        skip("asyncio.sleep_ms is MicroPython's")
    board, r = make("historic")
    run_for(r.run, 800, lambda: r.locked and r.decoder.frames >= 10)  # ~80 s of meter time
    assert r.locked and r.kind == "tic_historic" and r.decoder.mode == "historic"
    f0 = r.decoder.frames
    assert f0 >= 10
    board.meter.mode = "standard"   # Enedis switches the Linky to standard, remotely
    run_for(r.run, 800, lambda: r.locked and r.kind == "tic_standard" and r.decoder.frames > f0 + 10)
    assert r.locked and r.kind == "tic_standard" and r.decoder.mode == "standard"
    assert r.decoder.frames > f0 + 10
    assert r.reading.source == "tic_standard" and r.reading.voltage_v == [int(board.mains.vrms + 0.5)]


def test_reading_agrees_with_the_simulated_loads():
    if not IS_MP:
        skip("asyncio.sleep_ms is MicroPython's")
    import sim
    from sim import meter
    board, r = make("standard", grid="tic_standard")
    run_for(r.run, 600)
    truth = sum(sim.Steady.watts) + meter.BASE_LOAD_W
    g = r.reading
    assert g.power_va == int(truth) and g.current_a == [int(truth / board.meter.volts() + 0.5)]
    assert 12345678 + 23456789 < g.import_total_wh <= sum(board.meter.wh)  # the index moves
    assert g.period_index in (1, 2) and g.import_wh[:2] != [None, None]
    assert r.switches == 0 and r.decoder.groups_bad == 0 and r.decoder.malformed == 0


def test_no_grid_meter_ends_the_task_quietly():
    if not IS_MP:
        skip("asyncio.sleep_ms is MicroPython's")
    board, r = make("none")
    run_for(r.run, 50)
    assert r.decoder is None and not r.locked


def test_a_p1_meter_is_found_and_read():
    if not IS_MP:
        skip("asyncio.sleep_ms is MicroPython's")
    import sim
    from sim import meter
    board, r = make("p1")
    run_for(r.run, 1200)    # the TIC settings first (6 s each), then P1
    assert r.locked and r.kind == "p1" and r.state()["protocol"] == "p1"
    assert r.decoder.crc_errors == 0 and r.decoder.telegrams >= 10
    g = r.reading
    truth = sum(sim.Steady.watts) + meter.BASE_LOAD_W
    assert g.source == "p1" and g.power_w == int(truth) and g.tariff_option == "BE"
    assert g.gas_l is not None and g.import_wh[0] is not None


def test_a_meter_swapped_from_tic_to_p1_gives_a_fresh_reading():
    if not IS_MP:
        skip("asyncio.sleep_ms is MicroPython's")
    board, r = make("standard")
    run_for(r.run, 400)
    assert r.reading.source == "tic_standard"
    board.meter.mode = "p1"          # the utility replaced the meter
    board.meter.period_s = 1.0
    run_for(r.run, 2000)
    assert r.kind == "p1" and r.reading.source == "p1" and r.reading.stge is None


def test_tic_and_p1_share_their_buffers_and_each_reads_after_the_other():
    # grid: auto makes one TIC and one P1 decoder at boot on the same two 2 KB frame
    # buffers (one listens at a time); once one protocol reads good data the other's
    # decoder and modules are let go (P1's 3.9 KB of heap with a TIC meter), made again in
    # the same buffers when detection comes back to it: a meter read in one protocol, then
    # the other, then the first again, is read right each time, no checksum error
    if not IS_MP:
        skip("asyncio.sleep_ms is MicroPython's")
    import sys
    board, r = make("standard")
    tic, p1 = r.decoders["tic"], r.decoders["p1"]
    bufs = sorted(map(id, tic.buffers()))
    assert sorted(map(id, p1.buffers())) == bufs
    p1 = None
    run_for(r.run, 400, lambda: r.reading.source == "tic_standard")
    assert r.reading.source == "tic_standard"
    assert list(r.decoders) == ["tic"] and "submeter.grid.p1" not in sys.modules
    frames, bad = tic.frames, tic.groups_bad
    assert frames > 0
    board.meter.mode = "p1"
    board.meter.period_s = 1.0
    run_for(r.run, 2000, lambda: r.kind == "p1" and r.decoder.telegrams > 0)
    p1 = r.decoder
    assert r.kind == "p1" and p1.telegrams > 0 and p1.crc_errors == 0
    assert sorted(map(id, p1.buffers())) == bufs  # made again, in the same buffers
    assert list(r.decoders) == ["p1"] and "submeter.grid.tic" not in sys.modules
    board.meter.mode = "standard"
    board.meter.period_s = None
    run_for(r.run, 2000, lambda: r.kind == "tic_standard" and r.decoder.frames > 3)
    assert r.reading.source == "tic_standard" and r.kind == "tic_standard"
    assert r.decoder.frames > 3 and r.decoder.groups_bad == 0
    assert sorted(map(id, r.decoder.buffers())) == bufs
    assert r.state()["frames"] == r.decoder.frames


def test_a_decoder_the_heap_has_no_room_to_make_again_skips_its_setting():
    # with a P1 meter read, the TIC decoder is let go; the meter falls silent, detection
    # comes back to the TIC settings and the heap has no room to make their decoder: each
    # try is counted (mem_errors), the reader goes on to the P1 settings, and the P1
    # meter is found again when it speaks
    if not IS_MP:
        skip("asyncio.sleep_ms is MicroPython's")
    from submeter.grid import reader
    board, r = make("p1")
    r.listen_ms = 1000
    run_for(r.run, 1200, lambda: r.locked and r.kind == "p1")
    assert r.kind == "p1" and list(r.decoders) == ["p1"]
    made = reader.decoder_for

    def no_room(kind, bufs=None):
        if kind.startswith("tic"):
            raise MemoryError
        return made(kind, bufs)
    reader.decoder_for = no_room
    try:
        board.meter.silent = True  # a cable pulled
        run_for(r.run, 600, lambda: r.mem_errors >= 2)
        assert r.mem_errors >= 2 and list(r.decoders) == ["p1"]
        board.meter.silent = False
        t0 = r.decoder.telegrams
        run_for(r.run, 1200, lambda: r.locked and r.decoder.telegrams > t0)
        assert r.locked and r.kind == "p1" and r.decoder.telegrams > t0
    finally:
        reader.decoder_for = made


class _Port:
    # a grid port holding the bytes a meter sent
    def __init__(self, data):
        self.data = data

    def any(self):
        return len(self.data)

    def readinto(self, buf, n):
        k = min(n, len(self.data), len(buf))
        buf[:k] = self.data[:k]
        self.data = self.data[k:]
        return k


def test_a_crc_valid_telegram_with_a_non_utf8_value_does_not_stop_the_reader():
    # one telegram with a 0xFF in the meter id (CRC right): that object is rejected and
    # counted in the state; the reader takes the next good telegram as usual
    import sim
    from submeter.clock import Clock
    from submeter.grid.reader import GridReader
    from test_p1 import telegram, GOOD
    clock = Clock(1, lambda: 0)
    r = GridReader(sim.Board(scenario=sim.Steady(), clock=clock, term="0", display=False, meter="p1"),
                   clock, "p1")
    r.use("p1")
    bad = [b"0-0:96.1.1(31534147\xff3130)"] + GOOD[1:]
    assert r.poll(_Port(telegram(bad)), 0) == 1
    assert r.reading.meter_id is None and r.reading.import_wh[0] == 59391
    assert r.state()["rejected_objects"] == 1
    good = GOOD[:2] + [b"1-0:1.8.1(000060.000*kWh)"] + GOOD[3:]
    assert r.poll(_Port(telegram(good)), 1000) == 1
    assert r.reading.meter_id == "1SAG3101021605" and r.reading.import_wh[0] == 60000
    assert r.state()["rejected_objects"] == 1 and r.state()["checksum_errors"] == 0


def test_a_port_read_that_raises_is_counted_and_the_next_telegram_read():
    # the UART driver raises once (a ValueError): that poll is lost and counted in the
    # state; the reader goes on and decodes the telegram the next poll brings
    import sim
    from submeter.clock import Clock
    from submeter.grid.reader import GridReader
    from test_p1 import telegram, GOOD

    class Flaky(_Port):
        raised = False

        def readinto(self, buf, n):
            if not self.raised:
                self.raised = True
                raise ValueError("a driver bug")
            return _Port.readinto(self, buf, n)
    clock = Clock(1, lambda: 0)
    r = GridReader(sim.Board(scenario=sim.Steady(), clock=clock, term="0", display=False, meter="p1"),
                   clock, "p1")
    r.use("p1")
    port = Flaky(telegram(GOOD))
    assert r.poll(port, 0) == 0
    assert r.state()["errors"] == 1 and "ValueError" in r.state()["last_error"]
    assert r.poll(port, 1000) == 1 and r.reading.import_wh[0] == 59391
    assert r.state()["errors"] == 1 and r.state()["checksum_errors"] == 0


def test_a_full_heap_for_longer_than_a_listen_does_not_lose_a_working_setting():
    # polls cut short by a full heap (MemoryError, counted) are not silence: the setting
    # that was working is kept, and frames come again as soon as there is room (before, a
    # run of them over 6 s gave the setting up, and the reader went round P1's settings
    # before it came back: in the soak's week it was not locked again 30 minutes later)
    if not IS_MP:
        skip("asyncio.sleep_ms is MicroPython's")
    board, r = make("standard")
    full = [False]
    grid_port = board.grid_port

    class Port:
        def __init__(self, p):
            self.p = p

        def any(self):
            if full[0]:
                raise MemoryError
            return self.p.any()

        def readinto(self, buf, n=None):
            return self.p.readinto(buf, n)

    board.grid_port = lambda kind: Port(grid_port(kind))
    run_for(r.run, 400, lambda: r.locked and r.decoder.frames >= 3)
    assert r.locked and r.kind == "tic_standard"
    switches = r.switches
    full[0] = True
    run_for(r.run, 300)  # 30 s of the meter's time, five listens
    assert r.mem_errors > 0
    full[0] = False
    frames = r.decoder.frames
    run_for(r.run, 200, lambda: r.decoder.frames > frames + 2)
    assert r.switches == switches and r.kind == "tic_standard"
    assert r.decoder.frames > frames + 2


def test_the_simulated_meter_s_own_full_heap_is_not_the_firmware_s():
    # a device's UART takes its bytes without the heap: the simulated meter's frames, made
    # in the heap, that find no room come a poll later, never as the firmware's MemoryError
    if not IS_MP:
        skip("asyncio.sleep_ms is MicroPython's")
    board, r = make("standard")
    uart = board.grid_port("tic_standard")
    meter = board.meter
    make_parts = meter.frame_parts
    fail = [2]

    def parts():
        if fail[0]:
            fail[0] -= 1
            raise MemoryError
        return make_parts()
    meter.frame_parts = parts
    import time
    time.sleep_ms(50)  # 5 s of the meter's time: frames are due
    assert uart.any() == 0 and uart.deferred == 1  # tried twice, left for the next poll
    assert uart.any() > 0  # and sent then
