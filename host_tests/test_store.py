# Counters on flash: they come back as saved, a damaged copy is skipped for the
# previous one, the newest wins, and a full flash neither crashes nor loses them.
from compat import IS_MP, fresh_dir, skip
from submeter.ledger.ledger import Ledger
from submeter.ledger.store import Store


def filled(seed):
    led = Ledger(5)
    for i in range(5):
        led.total[i].wh = 1000000 * (i + 1) + seed
        led.total[i].mj = 12345 + i
        led.partial[i].wh = 10 * i + seed
        led.partial[i].mj = 7 * i
    led.partial_since = [None, 1700000000 + seed, 5, None, 7, 8 + seed, None]  # inputs, gas, water
    led.set_period(2, 0)  # Tempo: HC white, say
    led.add_volume("gas", 92287 + seed)
    led.add_volume("water", 8579)
    led.gas_l[1] = 120
    for i in range(5):
        led.by_period[i][0].wh = 600000 * (i + 1)
        led.by_period[i][2].wh = 400000 * (i + 1) + seed
        led.export[i].wh = 5000 * i + seed    # given back (a solar inverter, a battery)
        led.export[i].mj = 11 * i
        led.export_partial[i].wh = 3 * i
        led.export_partial[i].mj = 2 * i + seed
    return led


def counters(led):
    return ([(t.wh, t.mj, p.wh, p.mj) for t, p in zip(led.total, led.partial)] + [list(led.partial_since)]
            + [[(c.wh, c.mj) for c in per] for per in led.by_period] + [led.period, led.periods_used]
            + [list(led.gas_l), list(led.water_l)]
            + [[(e.wh, e.mj, p.wh, p.mj) for e, p in zip(led.export, led.export_partial)]])


def test_counters_come_back_as_saved():
    d = fresh_dir("store1")
    s = Store(d)
    led = filled(1)
    assert s.save(led) and s.save(led)
    back = Ledger(5)
    assert Store(d).load(back) == 2 and counters(back) == counters(led)


def test_nothing_saved_yet_means_zero():
    back = Ledger(5)
    assert Store(fresh_dir("store0")).load(back) is None
    assert all(t.wh == 0 and t.mj == 0 for t in back.total)


def test_damaged_copies_fall_back_to_the_previous_one():
    d = fresh_dir("store2")
    s = Store(d)
    old = filled(1)
    new = filled(2)
    s.save(old)
    s.save(new)
    for damage in ("truncate", "flip", "empty"):
        with open(d + "/ledger.bin", "rb") as f:
            good = f.read()
        bad = bytearray(good)
        if damage == "truncate":
            bad = bad[:len(bad) // 2]
        elif damage == "flip":
            bad[9] ^= 0x10
        else:
            bad = b""
        with open(d + "/ledger.bin", "wb") as f:
            f.write(bad)
        back = Ledger(5)
        st = Store(d)
        assert st.load(back) == 1 and counters(back) == counters(old), damage
        assert st.warnings == ["ledger.bin is damaged: skipped"]
        with open(d + "/ledger.bin", "wb") as f:
            f.write(good)


def test_a_cut_between_the_renames_keeps_the_newest():
    d = fresh_dir("store3")
    s = Store(d)
    s.save(filled(1))
    s.save(filled(2))
    import os
    # the power went after ledger.new was written, before it replaced ledger.bin
    s.seq += 1
    with open(d + "/ledger.new", "wb") as f:
        f.write(s.encode(filled(3)))
    back = Ledger(5)
    assert Store(d).load(back) == 3 and counters(back) == counters(filled(3))
    os.remove(d + "/ledger.bin")  # ... or between the two renames
    back = Ledger(5)
    assert Store(d).load(back) == 3


def test_a_full_flash_is_counted_and_keeps_the_last_copy():
    d = fresh_dir("store4")
    s = Store(d)
    s.save(filled(1))
    s.folder = d + "/no-such-folder"  # every write fails, as on a full flash
    assert s.save(filled(2)) is False and s.errors == 1 and s.last_error
    back = Ledger(5)
    assert Store(d).load(back) == 1 and counters(back) == counters(filled(1))


def test_a_full_flash_reads_as_words():
    from submeter.ledger import store
    d = fresh_dir("store8")
    s = Store(d)
    s.save(filled(1))

    def full(path, mode="r"):
        raise OSError(28)                              # ENOSPC, as littlefs raises it
    store.open = full
    try:
        assert s.save(filled(2)) is False
    finally:
        del store.open
    assert s.last_error == "no space left on the flash", s.last_error  # not "28"
    back = Ledger(5)
    assert Store(d).load(back) == 1 and counters(back) == counters(filled(1))


def test_a_version_1_file_is_still_read():
    import binascii
    import struct
    d = fresh_dir("store5")
    body = struct.pack("<4sHIBB", b"SMLG", 1, 7, 5, 1)
    for i in range(5):
        body += struct.pack("<IIII", 1000 * (i + 1), 5, 10, 0)
    body += struct.pack("<I", 0)
    with open(d + "/ledger.bin", "wb") as f:
        f.write(body + struct.pack("<I", binascii.crc32(body) & 0xFFFFFFFF))
    back = Ledger(5)
    assert Store(d).load(back) == 7
    assert [t.wh for t in back.total] == [1000, 2000, 3000, 4000, 5000]
    assert [p[0].wh for p in back.by_period] == [1000, 2000, 3000, 4000, 5000]  # all in period 1


def test_a_version_3_file_is_still_read():
    import binascii
    import struct
    d = fresh_dir("store6")
    body = struct.pack("<4sHIBB", b"SMLG", 3, 9, 5, 2)
    for i in range(5):
        body += struct.pack("<IIII", 1000 * (i + 1), 5, 10, 0) + struct.pack("<IIII", 400 * (i + 1), 0, 600 * (i + 1), 5)
    body += struct.pack("<IB", 780000000, 1) + struct.pack("<IIII", 92287, 120, 8579, 0)
    with open(d + "/ledger.bin", "wb") as f:
        f.write(body + struct.pack("<I", binascii.crc32(body) & 0xFFFFFFFF))
    back = Ledger(5)
    assert Store(d).load(back) == 9
    assert [p[1].wh for p in back.by_period] == [600, 1200, 1800, 2400, 3000] and back.period == 1
    assert back.gas_l == [92287, 120] and back.water_l == [8579, 0]
    assert back.partial_since == [780000000] * 7  # the one reset time of version 3, for every partial


def test_a_version_4_file_is_still_read_with_no_export():
    # the layout before export: every counter back, the energy given back 0, and the
    # history's base (its older, shorter layout) kept: the day goes on where it was
    import binascii
    import struct
    from submeter.ledger.history import History
    d = fresh_dir("store12")
    n, p = 5, 2
    body = struct.pack("<4sHIBB", b"SMLG", 4, 11, n, p)
    for i in range(n):
        body += struct.pack("<IIII", 1000 * (i + 1), 5, 10, 0) + struct.pack("<IIII", 400 * (i + 1), 0, 600 * (i + 1), 5)
    body += struct.pack("<B7I", 1, 0, 780000000, 0, 0, 0, 0, 0) + struct.pack("<IIII", 92287, 120, 8579, 0)
    base = list(range(1, 10 * n + 3))                           # the old base: per period, gas, water
    hist = struct.pack("<H%dI" % len(base), 9000, *base)
    body += struct.pack("<H", len(hist)) + hist
    with open(d + "/ledger.bin", "wb") as f:
        f.write(body + struct.pack("<I", binascii.crc32(body) & 0xFFFFFFFF))
    back = Ledger(n)
    h = History(d, n)
    assert Store(d, h).load(back) == 11
    assert [t.wh for t in back.total] == [1000, 2000, 3000, 4000, 5000] and back.period == 1
    assert [q[1].wh for q in back.by_period] == [600, 1200, 1800, 2400, 3000]
    assert back.gas_l == [92287, 120] and back.partial_since[1] == 780000000
    assert all(e.wh == 0 and e.mj == 0 for e in back.export + back.export_partial)
    assert h.base_day == 9000 and h.base == base + [0] * n      # no export counted before the day
    # saved again in the new layout, it comes back whole, export and all
    back.record(2, -3600.0, 0)
    back.record(2, -3600.0, 2000)
    s = Store(d, h)
    s.seq = 11
    assert s.save(back)
    again = Ledger(n)
    assert Store(d, History(d, n)).load(again) == 12 and counters(again) == counters(back)
    assert again.export[2].wh == 2 and again.export_partial[2].wh == 2


def test_the_history_base_is_saved_with_the_counters():
    from submeter.ledger.history import History
    d = fresh_dir("store7")
    h = History(d, 5)
    led = filled(3)
    cfg = __import__("submeter.config").config.validate({})
    assert h.tick(led, 9000, cfg)  # first day seen: its base is the counters now
    Store(d, h).save(led)
    h2 = History(d, 5)
    Store(d, h2).load(Ledger(5))
    assert h2.base_day == 9000 and h2.base == h.base
    # a file written without a history (an older firmware) leaves the base unset
    Store(d).save(led)
    h3 = History(d, 5)
    Store(d, h3).load(Ledger(5))
    assert h3.base is None


def test_a_save_on_a_full_heap_is_not_lost():
    # the week's soak lost its last save to a MemoryError in Store.encode (434 bytes): the
    # buffer a save packs into is made at boot, so a heap too full for 64 bytes still saves
    if not IS_MP:
        skip("the heap is MicroPython's")
    import gc
    from submeter.ledger.history import History
    d = fresh_dir("store9")
    h = History(d, 5)
    s = Store(d, h)
    s.load(Ledger(5))                # at boot
    led = filled(4)
    h.base_day, h.base = 9000, h._counters(led)
    gc.collect()
    hold = [None] * 4000             # made first: the filling below allocates nothing else
    k = 0
    size = 16384
    while size >= 64 and k < len(hold):
        try:
            hold[k] = bytearray(size)
            k += 1
        except MemoryError:
            size //= 2
    full = False
    while not full and k < len(hold):  # until a 64-byte allocation fails, twice running
        try:
            hold[k] = bytearray(64)
            k += 1
        except MemoryError:
            try:
                hold[k] = bytearray(64)
                k += 1
            except MemoryError:
                full = True
    try:
        ok = s.save(led)
    except MemoryError:
        ok = None
    hold = None
    gc.collect()
    assert full and ok is True, (full, ok, k)
    back = Ledger(5)
    h2 = History(d, 5)
    assert Store(d, h2).load(back) == 1 and counters(back) == counters(led) and h2.base == h.base


def lost_both_copies(name):
    """A meter that counted two days and a half (its history's index written at each day's
    start), then lost both copies of its ledger: (folder, the index's counters, the bytes
    of the damaged copies)."""
    import os
    from submeter.clock import day_number
    from submeter.ledger.history import History
    cfg = __import__("submeter.config").config.validate({})
    d = fresh_dir(name)
    h = History(d, 5)
    s = Store(d, h)
    led = Ledger(5, max_gap_ms=3600000)
    s.load(led)
    h.prepare()
    day = day_number(2026, 11, 25)
    for k in range(3):
        h.tick(led, day + k, cfg)                       # a day's start: the index written
        if k == 2:
            at = counters(led)
        for i in range(5):
            led.record(i, 1000.0 * (i + 1), 0)
            led.record(i, 1000.0 * (i + 1), 1800000)    # half an hour
            led._last[i] = None
        led.add_volume("gas", 120)
        led.export[4].add_mj(3600000 * 100)            # 100 Wh given back a day on input 5
        led.export_partial[4].add_mj(3600000 * 100)
        led.set_period(k % 2, 0)
        s.save(led)
        s.save(led)
    bad = {}
    for f in ("ledger.bin", "ledger.old"):
        with open(d + "/" + f, "rb") as fh:
            data = bytearray(fh.read())
        data[20] ^= 0x55                                # a bit of flash gone bad in each
        with open(d + "/" + f, "wb") as fh:
            fh.write(data)
        bad[f] = bytes(data)
    assert "ledger.new" not in os.listdir(d)
    return d, at, bad


def test_both_copies_damaged_come_back_from_the_history_with_an_alert():
    import os
    from submeter.ledger.history import History
    d, at, bad = lost_both_copies("store10")
    h = History(d, 5)
    s = Store(d, h)
    back = Ledger(5)
    assert s.load(back) is None
    # the counters at the start of 2026-11-27 (in whole Wh): not 0
    got = counters(back)
    assert [t[0] for t in got[:5]] == [t[0] for t in at[:5]] and at[0][0] > 0
    assert [t[2] for t in got[:5]] == [t[2] for t in at[:5]]           # partials
    assert [[c[0] for c in per] for per in got[6:11]] == [[c[0] for c in per] for per in at[6:11]]
    assert got[5] == at[5] and got[13:] == at[13:]              # reset times, volumes, export
    assert back.export[4].wh == at[15][4][0] == 200 and back.export_partial[4].wh == 200
    assert back.gas_l[0] == 240 and back.period == at[11]
    assert "2026-11-27" in s.alert and "lost" in s.alert and "ledger.bin.bad1" in s.alert, s.alert
    assert "the day before used" in s.alert and s.recovered["from"] == "2026-11-27"
    assert s.recovered["day_wh"] == sum(500 * (i + 1) for i in range(5))  # 2026-11-26: half an hour
    # the damaged copies are kept aside, as they were, and the next saves do not touch them
    names = os.listdir(d)
    assert "ledger.bin" not in names and "ledger.old" not in names
    for f in ("ledger.bin", "ledger.old"):
        with open(d + "/" + f + ".bad1", "rb") as fh:
            assert fh.read() == bad[f]
    back.max_gap_ms = 3600000
    back.record(0, 1000.0, 0)
    back.record(0, 1000.0, 3600000)                     # an hour at 1 kW after the restart
    assert s.save(back) and s.save(back)
    for f in ("ledger.bin", "ledger.old"):
        with open(d + "/" + f + ".bad1", "rb") as fh:
            assert fh.read() == bad[f]
    # and they only go up from there
    again = Ledger(5)
    assert Store(d, History(d, 5)).load(again) == 2
    assert again.total[0].wh == at[0][0] + 1000 and again.total[1].wh == at[1][0]


def test_damaged_copies_kept_aside_are_bounded():
    import os
    d, at, bad = lost_both_copies("store11")
    for k in range(5):                                  # five more losses of both copies
        s = Store(d)
        s.load(Ledger(5))
        led = filled(k)
        s.save(led)
        s.save(led)
        for f in ("ledger.bin", "ledger.old"):
            with open(d + "/" + f, "wb") as fh:
                fh.write(b"SMLG" + bytes(40 + k))
    Store(d).load(Ledger(5))
    names = sorted(n for n in os.listdir(d) if ".bad" in n)
    assert names == ["ledger.bin.bad%d" % k for k in (1, 2, 3)] + ["ledger.old.bad%d" % k for k in (1, 2, 3)], names
    with open(d + "/ledger.bin.bad1", "rb") as fh:
        assert fh.read() == bad["ledger.bin"]           # the first loss is kept


def test_both_copies_damaged_and_no_history_says_restarted_at_0():
    import os
    d, at, bad = lost_both_copies("store12")
    os.remove(d + "/history.bin")
    s = Store(d)
    back = Ledger(5)
    assert s.load(back) is None and all(t.wh == 0 for t in back.total)
    assert "restarted at 0" in s.alert and "ledger.old.bad1" in s.alert, s.alert
    assert s.recovered == {"from": None, "kept": ["ledger.bin.bad1", "ledger.old.bad1"], "day_wh": None}


def test_nothing_saved_yet_is_no_alert():
    s = Store(fresh_dir("store13"))
    s.load(Ledger(5))
    assert s.alert is None and s.recovered is None


def test_counters_restored_show_on_the_page_the_panel_and_mqtt():
    import json
    import sim
    from submeter import config
    from submeter.app import App
    from submeter.clock import ManualClock
    from submeter.net.mqtt import state as mqtt_state
    from submeter.net.page import page_chunks
    from submeter.panel.screens import Screens
    d, at, bad = lost_both_copies("store14")
    board = sim.Board(scenario=sim.Steady(), clock=ManualClock(), term="0", display=False, data_dir=d)
    cfg = config.validate(board.CONFIG)
    board.configure(cfg)
    app = App(board, cfg)
    assert [t.wh for t in app.ledger.total] == [t[0] for t in at[:5]] and app.fault()
    s = app.state()
    assert s["store"]["restored"] is False and s["store"]["recovered"]["from"] == "2026-11-27"
    alert = s["store"]["alert"]
    assert "2026-11-27 00:00" in alert and "lost" in alert
    assert json.loads(json.dumps(s))["store"]["alert"] == alert             # /api/state
    # one of the notices the page, the panel and MQTT read (with a watchdog's, if any)
    assert json.loads(json.dumps(s))["notices"] == [["counters_lost", {
        "from": "2026-11-27", "kept": s["store"]["recovered"]["kept"], "day_wh": s["store"]["recovered"]["day_wh"],
        "text": alert}]]
    page = b"".join(bytes(c) for c in page_chunks(s, cfg)).decode()
    assert page.count('<p class="warn">' + alert + "</p>") == 1
    said = json.loads(mqtt_state(s))
    assert said["meter_alert"] == alert and said["notices"] == "counters_lost"
    if not IS_MP:
        return  # (the panel draws with MicroPython's framebuf)
    disp = sim.SimDisplay()
    said = []
    draw = disp.text

    def text(s, x, y, c=1):
        said.append(s)
        draw(s, x, y, c)
    disp.text = text
    Screens(disp, cfg).draw(s)
    assert "CNT!" in said and "Lost>11-27" in said, said
