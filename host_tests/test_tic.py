# The TIC decoder on real captures (host_tests/corpus/tic), on both runtimes: each file
# decodes to exactly its good groups, damaged groups are rejected and counted, any
# chunking gives the same result, and fuzzing never crashes it nor sneaks a bad group in.
import os
import sys
from array import array

import ticref
from compat import IS_MP, rng
from submeter.kernels import gridscan_py, ticscan_py
from submeter.grid.reading import GridReading
from submeter.grid.tic import TicDecoder

if "tools/capture" not in sys.path:
    sys.path.append("tools/capture")  # every TIC label's unit and type: the tools' table, not the device's
from ticlabels import has_horodate  # noqa: E402


def files():
    return sorted(n for n in os.listdir(ticref.CORPUS) if n.endswith(".tic"))


def decode(data, chunks=None):
    d = TicDecoder()
    seen = []
    d.on_group = lambda label, hd, v: seen.append((label, hd, v))
    if chunks is None:
        d.feed(data)
    else:
        i = 0
        for n in chunks:
            d.feed(data[i:i + n])
            i += n
        d.feed(data[i:])
    return d, seen


def test_every_capture_decodes_to_exactly_its_good_groups():
    exp = ticref.expectations()
    assert len(exp) == len(files()) >= 14
    for name in files():
        data = ticref.read(name)
        e = exp[name]
        d, seen = decode(data)
        got = {"good": d.groups_ok, "bad": d.groups_bad, "malformed": d.malformed, "eot": d.eot,
               "frames": d.frames}
        pending = e.pop("pending")
        assert got == e, (name, got, e)
        if pending:  # "unterminated group at EOF": a group begun, never ended, not counted
            assert d.st[0] == 2
        # the groups accepted are exactly those the plain reading of the spec accepts
        ref = [g for g in ticref.naive_groups(data) if ticref.checksum_ok(g)]
        assert len(seen) == len(ref), (name, len(seen), len(ref))
        if e["frames"]:
            assert len(list(d.items())) == e["good"]
            assert d.mode == ("standard" if "_std_" in name else "historic")


def test_values_are_those_of_the_frame():
    for name in files():
        data = ticref.read(name)
        d, _ = decode(data)
        if not d.frames:
            continue
        vals = d.values()
        for g in ticref.naive_groups(data):
            if not ticref.checksum_ok(g):
                continue
            sep = g[-2:-1]
            body = g[:-2]
            label, _, rest = body.partition(sep)
            if has_horodate(label):  # the label table says which labels carry a horodate
                hd, _, value = rest.partition(b"\t")
                assert vals[label.decode()] == (hd.decode(), value.decode()), (name, label)
            else:
                assert vals[label.decode()] == (None, rest.decode()), (name, label)


def test_any_chunking_gives_the_same_result():
    data = ticref.read("13_std_tri_tempo_teleinfo-nom.tic")
    whole, _ = decode(data)
    ref = whole.values()
    step = 1 if IS_MP else 7  # every split point on MicroPython; every 7th on CPython
    for cut in range(0, len(data), step):
        d, _ = decode(data, [cut])
        assert d.values() == ref and d.groups_ok == whole.groups_ok, cut
    rnd = rng(5)
    for _ in range(20):
        sizes = [rnd.randint(1, 40) for _ in range(200)]
        d, _ = decode(data + data, sizes)
        assert d.values() == ref and d.frames == 2 and d.groups_ok == 2 * whole.groups_ok


def test_eot_drops_the_frame_in_progress():
    a = ticref.read("01_hist_mono_tempo_pyteleinfo_bin.tic")
    b = ticref.read("03_hist_mono_tempo_teleinfo-nom.tic")
    d, _ = decode(a)
    before = d.values()
    d.feed(b[: len(b) // 2] + b"\x04")      # half a frame, then EOT
    assert d.eot == 1 and d.values() == before and d.frames == 1
    d.feed(b)                                # the next frame is whole again
    assert d.frames == 2 and d.values()["DEMAIN"] == (None, "BLEU")


def test_fuzz_never_crashes_and_never_accepts_a_bad_group():
    rnd = rng(11)
    real = [ticref.read(n) for n in files()]
    cases = 60 if IS_MP else 30
    for k in range(cases):
        base = real[k % len(real)] * 2
        data = bytearray(base)
        kind = k % 4
        if kind == 0:    # bit flips
            for _ in range(rnd.randint(1, 12)):
                p = rnd.randint(0, len(data) - 1)
                data[p] ^= 1 << rnd.randint(0, 7)
        elif kind == 1:  # truncation at a random point, twice
            data = data[: rnd.randint(0, len(data))] + data[rnd.randint(0, len(data)):]
        elif kind == 2:  # random bytes, control characters likely
            data = bytearray(rnd.getrandbits(8) for _ in range(rnd.randint(0, 3000)))
        else:            # random bytes spliced into a real frame
            p = rnd.randint(0, len(data))
            data = data[:p] + bytearray(rnd.getrandbits(8) & 0x1F for _ in range(50)) + data[p:]
        d, seen = decode(bytes(data), [rnd.randint(1, 64) for _ in range(100)])
        groups = [bytes(g) for g in ticref.naive_groups(bytes(x & 0x7F for x in data))]
        good = [g for g in groups if ticref.checksum_ok(g)]
        for label, hd, value in seen:
            body = label + (b"\t" + hd if hd is not None else b"")
            assert any(g.startswith(body) and g[:-2].endswith(value) for g in good), (k, label, value)
        d.update(GridReading())


def test_kernels_and_twins_agree():
    if not IS_MP:
        return  # CPython runs the twins only; the comparison needs the viper kernels
    from submeter.kernels import ticscan_viper as v
    rnd = rng(3)
    blobs = [ticref.read(n) for n in files()]
    blobs.append(bytes(rnd.getrandbits(8) for _ in range(2000)))
    for data in blobs:
        outs = []
        for mod in (v, ticscan_py):
            st = array("i", (0, 0, 0, 0, 2048, 128, 0, 0, 0))
            fbuf = bytearray(2048)
            gidx = array("H", bytes(512))
            info = array("H", bytes(1024))
            hashes = array("i", bytes(512))
            trace = []
            i = 0
            while i < len(data):
                i = mod.frame_scan(data, i, len(data), fbuf, gidx, st)
                r = mod.check_groups(fbuf, gidx, 0, st[3], info, hashes)
                trace.append((i, list(st), bytes(fbuf[:st[1]]), list(gidx[:2 * st[3]]),
                              list(info[:4 * st[3]]), list(hashes[:st[3]]), r))
                st[1] = st[3] = 0
            outs.append(trace)
        assert outs[0] == outs[1]
    # extract(): viper and twin read the same values out of every capture
    from submeter.grid import tic
    for data in blobs[:-1]:
        d = TicDecoder()
        d.feed(data)
        res = []
        for mod in (v, ticscan_py):
            nums = array("i", bytes(4 * tic.NUM_SLOTS))
            spans = array("H", bytes(4 * tic.ALL_SLOTS))
            n = d.lookup(nums, spans, mod.extract)
            res.append((n, list(nums), list(spans)))
        assert res[0] == res[1]
    for buf in (b"", b"0", b"123456789", b"1234567890", b"12a", b"999999999", b" 12"):
        assert v.parse_uint(buf, 0, len(buf)) == ticscan_py.parse_uint(buf, 0, len(buf))


def test_the_compare_both_decoders_use():
    # same() (kernels/gridscan_*): a text value against the last one, so that neither
    # decoder makes a bytes object for a value that did not change; viper and twin agree
    # with a plain compare
    kernels = [gridscan_py]
    if IS_MP:
        from submeter.kernels import gridscan_viper
        kernels.append(gridscan_viper)
    for k in kernels:
        for buf in (b"", b"0", b"123456789", b"1234567890", b"12a", b" 12", b"12345678", b"023456789"):
            for ref, n in ((b"123456789", 9), (b"12345678x", 8), (b"", 0), (b"0", 1)):
                assert k.same(buf, 0, len(buf), ref, n) == (buf == ref[:n]), (k, buf, ref, n)
            assert k.same(b"x" + buf + b"y", 1, len(buf) + 1, buf, len(buf)) == 1


def test_label_hashes_are_distinct():
    # the decoder finds labels by hash: no two labels of the specs may share one
    from ticlabels import labels
    from submeter.kernels import label_hash
    names = list(labels())
    assert len({label_hash(n) for n in names}) == len(names) >= 100


def test_readings_from_a_historic_tempo_frame():
    data = ticref.read("01_hist_mono_tempo_pyteleinfo_bin.tic")
    d, _ = decode(data)
    r = d.update(GridReading())
    v = d.values()
    assert r.source == "tic_historic" and r.meter_id == v["ADCO"][1]
    assert r.import_wh == [int(v[k][1]) for k in ("BBRHCJB", "BBRHPJB", "BBRHCJW", "BBRHPJW",
                                                 "BBRHCJR", "BBRHPJR")]
    assert r.period == "HCJB" and r.period_index == 1 and r.tempo_today == "blue"
    assert r.tempo_tomorrow == "red"                      # DEMAIN ROUG
    assert r.power_va == int(v["PAPP"][1]) and r.current_a == [int(v["IINST"][1])]
    assert r.subscribed_a == int(v["ISOUSC"][1]) and r.motdetat == v["MOTDETAT"][1]
    assert r.overload is False


def test_readings_from_a_three_phase_standard_frame():
    data = ticref.read("13_std_tri_tempo_teleinfo-nom.tic")
    d, _ = decode(data)
    r = d.update(GridReading())
    v = d.values()
    assert r.source == "tic_standard" and r.meter_id == v["ADSC"][1]
    assert r.import_wh == [int(v["EASF%02d" % k][1]) for k in range(1, 11)]
    assert r.import_total_wh == int(v["EAST"][1]) and r.period_index == int(v["NTARF"][1])
    assert r.period == v["LTARF"][1].strip()
    assert r.voltage_v == [int(v["URMS%d" % k][1]) for k in (1, 2, 3)]
    assert r.current_a == [int(v["IRMS%d" % k][1]) for k in (1, 2, 3)]
    assert r.power_va_phases == [int(v["SINSTS%d" % k][1]) for k in (1, 2, 3)]
    stge = int(v["STGE"][1], 16)
    flags = r.stge_flags()
    assert flags["supplier_index"] == int(v["NTARF"][1])   # the spec: bits 10-13 = NTARF - 1
    assert r.tempo_today == (None, "blue", "white", "red")[(stge >> 24) & 3]
    assert r.time == v["DATE"][0] and v["DATE"][1] == ""


def test_short_overload_frames_keep_the_other_values():
    full = ticref.read("01_hist_mono_tempo_pyteleinfo_bin.tic")
    d, _ = decode(full)
    r = d.update(GridReading())
    energy = list(r.import_wh)

    group = ticref.group
    burst = b"\x02" + group(b"ADIR1", b"047") + group(b"ADCO", b"021861348497") + \
        group(b"IINST1", b"047") + group(b"IINST2", b"010") + group(b"IINST3", b"012") + b"\x03"
    assert d.feed(burst) == 1
    d.update(r)
    assert r.overload is True and r.overload_a == 47
    assert r.current_a == [47, 10, 12] and r.import_wh == energy
    d.feed(full)
    d.update(r)
    assert r.overload is False


def test_producer_labels_and_overload_in_standard_mode():
    # a Linky of a house with solar panels: injection index and power, and the status
    # word's "reference power exceeded" bit as the overload warning
    from sim import meter
    sep = b"\t"
    stge = (1 << 17) | (1 << 8) | (1 << 7) | (2 << 24) | (3 << 26)
    frame = b"\x02" + b"".join((
        meter.group(b"ADSC", b"041776199277", sep), meter.group(b"EAST", b"000123456", sep),
        meter.group(b"EASF01", b"000123456", sep), meter.group(b"EAIT", b"000654321", sep),
        meter.group(b"SINSTS", b"00000", sep), meter.group(b"SINSTI", b"02150", sep),
        meter.group(b"STGE", b"%08X" % stge, sep), meter.group(b"DATE", b"", sep, b"E260704120000"),
        meter.group(b"DPM1", b"00", sep, b" 260704060000"))) + b"\x03"
    d, _ = decode(frame)
    assert d.groups_ok == 9 and d.frames == 1
    r = d.update(GridReading())
    assert r.export_wh == 654321 and r.export_va == 2150 and r.power_va == 0
    assert r.stge_flags()["producer"] and r.overload is True and r.overload_a is None
    assert (r.tempo_today, r.tempo_tomorrow) == ("white", "red")
    assert r.time == "E260704120000"
    assert d.values()["DPM1"] == (" 260704060000", "00")  # a horodate whose season is a space


def _group(label, value, sep=b" "):
    # a historic group with a valid checksum (mode 1: label SP value)
    body = label + sep + value
    return b"\n" + body + sep + bytes([(sum(b & 0x7F for b in body) & 0x3F) + 0x20]) + b"\r"


def test_a_non_text_byte_in_a_checksum_valid_group_rejects_that_group():
    # 7E1: the UART's byte 0xFF is DEL (0x7F) once the parity bit is dropped; the group's
    # checksum is right, but its value is not text: rejected and counted, the rest used
    frame = b"\x02" + _group(b"ADCO", b"0219\xff0123456") + _group(b"BASE", b"001234567") + b"\x03"
    d, seen = decode(frame)
    assert d.frames == 1 and d.malformed == 1 and d.groups_bad == 0
    assert [s[0] for s in seen] == [b"BASE"]
    r = d.update(GridReading())
    assert r.meter_id is None and r.import_wh[0] == 1234567
    assert list(d.values()) == ["BASE"]


def test_a_group_that_starts_with_its_separator_is_rejected_even_first():
    for first in (True, False):
        bad = _group(b" ISOUSC", b"30")   # no label: rejected wherever it stands
        good = _group(b"BASE", b"001234567")
        d, seen = decode(b"\x02" + (bad + good if first else good + bad) + b"\x03")
        assert d.malformed == 1 and [s[0] for s in seen] == [b"BASE"], first
        assert d.update(GridReading()).subscribed_a is None
