# Counters on flash: they come back as saved, a damaged copy is skipped for the
# previous one, the newest wins, and a full flash neither crashes nor loses them.
from compat import IS_MP, fresh_dir, skip
from submeter.ledger import Ledger
from submeter.store import Store


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
    return led


def counters(led):
    return ([(t.wh, t.mj, p.wh, p.mj) for t, p in zip(led.total, led.partial)] + [list(led.partial_since)]
            + [[(c.wh, c.mj) for c in per] for per in led.by_period] + [led.period, led.periods_used]
            + [list(led.gas_l), list(led.water_l)])


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
    s = Store(d + "/no-such-folder")  # every write fails, as on a full flash
    assert s.save(filled(2)) is False and s.errors == 1 and s.last_error
    back = Ledger(5)
    assert Store(d).load(back) == 1 and counters(back) == counters(filled(1))


def test_a_full_flash_reads_as_words():
    from submeter import store
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


def test_the_history_base_is_saved_with_the_counters():
    from submeter.history import History
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
    from submeter.history import History
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
