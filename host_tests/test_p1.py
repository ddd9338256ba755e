# The P1 decoder on real telegrams (host_tests/corpus/p1), on both runtimes: the CRC
# verdict, every object and the GridReading agree with each telegram's expected JSON
# (made by dsmr_parser, CRC computed independently); any bit flip fails the CRC; any
# chunking decodes the same; junk never raises.
import json
import os

from compat import IS_MP, rng
from submeter.grid.p1 import P1Decoder, split_unit, milli, timestamp
from submeter.grid.reading import GridReading

CORPUS = os.getenv("SUBMETER_P1_CORPUS") or "host_tests/corpus/p1"


def files():
    return sorted(n for n in os.listdir(CORPUS) if n.endswith(".txt"))


def load(name):
    with open(CORPUS + "/" + name, "rb") as f:
        data = f.read()
    with open(CORPUS + "/" + name[:-4] + ".expected.json") as f:
        return data, json.load(f)


def is_number(s):
    try:
        float(s)
        return True
    except (TypeError, ValueError):
        return False


def decoder(exp):
    # DSMR 2.2/3 telegrams come on their own line setting, where no CRC is expected
    return P1Decoder(crc_required=exp["crc"]["status"].lower() != "absent")


def test_crc_verdict_of_every_telegram():
    assert len(files()) >= 40
    for name in files():
        data, exp = load(name)
        d = decoder(exp)
        n = d.feed(data)
        status = exp["crc"]["status"].lower()
        assert d.last_crc == status, (name, d.last_crc, status)
        assert n == (0 if status == "invalid" else 1) and d.crc_errors == (status == "invalid")
        if status == "absent":  # where DSMR 4/5 is expected, a telegram without CRC is refused
            strict = P1Decoder()
            assert strict.feed(data) == 0 and strict.crc_errors == 1


def test_every_object_of_every_telegram():
    for name in files():
        data, exp = load(name)
        d = decoder(exp)
        if not d.feed(data):
            continue
        obj = d.objects()
        # every object dsmr_parser knows is there; we also keep the ones it ignores
        assert not [o for o in exp["objects"] if o not in obj], name
        for obis, e in exp["objects"].items():
            fields = obj[obis]
            if "items" in e:  # 0-0:98.1.0 peak history: count, then (month)(time)(kW) each
                assert int(fields[0]) == len(e["items"])
                for k, item in enumerate(e["items"]):
                    v, unit = split_unit(fields[3 + 3 * k + 2])
                    assert float(v) == float(item["value"]) and unit == item["unit"], (name, obis)
                continue
            value, unit = split_unit(fields[-1])
            if e.get("timestamp") is not None or e.get("type") == "MBusObject":
                # where dsmr_parser returns no time for a placeholder, so do we
                assert (timestamp(fields[0]) is None) == (e.get("timestamp") is None), (name, obis)
            if e.get("unit") is not None:
                assert unit == e["unit"] or (unit is None and fields[-2] == e["unit"]), (name, obis, unit)
            ev = e.get("value")
            if is_number(ev) and not isinstance(ev, bool):
                assert float(value) == float(ev), (name, obis, value, ev)
            elif isinstance(ev, str) and ev[:2] == "20" and "T" in ev:
                assert timestamp(value) is not None, (name, obis, value)  # a real time
            elif ev is None:
                assert value == "" or timestamp(value) is None, (name, obis, value)


def expected_milli(e, obis):
    o = e["objects"].get(obis)
    return milli(o["value"]) if o and o.get("value") is not None else None


def test_readings_agree_with_the_objects():
    for name in files():
        data, exp = load(name)
        d = decoder(exp)
        if not d.feed(data):
            continue
        r = d.update(GridReading())
        assert r.source == "p1" and d.unknown_lines == 0  # real telegrams: objects only
        imp = [expected_milli(exp, "1-0:1.8.1"), expected_milli(exp, "1-0:1.8.2")]
        if imp != [None, None]:
            assert r.import_wh == imp, name
        assert r.power_w == expected_milli(exp, "1-0:1.7.0")
        assert r.export_w == expected_milli(exp, "1-0:2.7.0")
        assert r.demand_w == expected_milli(exp, "1-0:1.4.0")
        # gas and water by device type (003 gas, 007 water), whatever the channel; the
        # first gas channel when there are two
        kinds = {}
        values = {}
        for obis, o in exp["objects"].items():
            ch = obis.split(":")[0]
            if obis.endswith(":24.1.0") and o.get("value") is not None:
                kinds[ch] = int(o["value"])
            if obis.endswith((":24.2.1", ":24.2.3", ":24.3.0")) and o.get("value") is not None:
                values.setdefault(ch, milli(o["value"]))
        gas = [values[c] for c in sorted(values) if kinds.get(c, 3) == 3]
        water = [values[c] for c in sorted(values) if kinds.get(c) == 7]
        assert r.gas_l == (gas[0] if gas else None), (name, r.gas_l, gas)
        assert r.water_l == (water[0] if water else None), (name, r.water_l, water)
        o = exp["objects"]

        def three(codes, scale):
            vals = [milli(o[c]["value"]) if c in o and o[c].get("value") is not None else None for c in codes]
            if vals == [None, None, None]:
                return None
            if vals[1] is None and vals[2] is None:
                vals = vals[:1]  # single-phase
            return [None if v is None else (v / 1000 if scale else v) for v in vals]

        assert r.voltage_v == three(("1-0:32.7.0", "1-0:52.7.0", "1-0:72.7.0"), True), name
        assert r.current_a == three(("1-0:31.7.0", "1-0:51.7.0", "1-0:71.7.0"), True), name
        assert r.power_w_phases == three(("1-0:21.7.0", "1-0:41.7.0", "1-0:61.7.0"), False), name
        if "1-0:1.6.0" in o:
            assert r.peak_w == milli(o["1-0:1.6.0"]["value"]), name
            assert (r.peak_time is None) == (o["1-0:1.6.0"].get("timestamp") is None), name
        if "0-0:98.1.0" in o:
            assert [p["w"] for p in r.peak_history] == [milli(i["value"]) for i in o["0-0:98.1.0"]["items"]]
        if "0-0:96.3.10" in o:
            assert r.breaker == int(o["0-0:96.3.10"]["value"])
        if "0-0:96.1.1" in o and o["0-0:96.1.1"].get("value"):
            v = o["0-0:96.1.1"]["value"]
            try:  # an octet string sent as hex; anonymised ids ("xx...") stay as they came
                v = "".join(chr(int(v[k:k + 2], 16)) for k in range(0, len(v), 2))
            except ValueError:
                pass
            assert r.meter_id == v, name
        if "0-0:96.1.4" in exp["objects"]:
            assert r.meter_version == exp["objects"]["0-0:96.1.4"]["value"] and r.tariff_option == "BE"


def test_lines_that_are_no_object_are_counted():
    data, _ = load("nl_dsmr22_dsmrparser_v2_2.txt")  # no CRC: lines can be added freely
    junk = data.replace(b"\r\n!", b"\r\nthis is no object\r\n!")
    d = P1Decoder(crc_required=False)
    d.feed(junk)
    r = d.update(GridReading())
    assert d.unknown_lines == 1 and r.gas_l == 1001  # the continuation line is no stranger
    d.feed(data)
    d.update(r)
    assert d.unknown_lines == 1


def test_any_bit_flip_fails_the_crc():
    data, _ = load("be_t211_50217_peak_history_invalid_ts.txt")
    bang = data.index(b"!")
    rnd = rng(9)
    positions = range(1, bang + 1) if IS_MP else [rnd.randint(1, bang) for _ in range(150)]
    for p in positions:
        for bit in (rnd.randint(0, 7),):
            bad = bytearray(data)
            bad[p] ^= 1 << bit
            d = P1Decoder()
            n = d.feed(bad)
            if bad[p] == ord("/"):
                continue  # a new '/' restarts the telegram: cut short, never accepted whole
            assert n == 0, (p, bit)


def test_any_chunking_decodes_the_same():
    data, _ = load("be_emucs171_spec_example_t211_gas_water.txt")
    whole = P1Decoder()
    whole.feed(data)
    ref = whole.objects()
    step = 1 if IS_MP else 5
    for cut in range(0, len(data), step):
        d = P1Decoder()
        d.feed(data[:cut])
        d.feed(data[cut:])
        assert d.telegrams == 1 and d.objects() == ref, cut
    rnd = rng(4)
    stream = data * 3
    d = P1Decoder()
    i = 0
    while i < len(stream):
        k = rnd.randint(1, 97)
        d.feed(stream[i:i + k])
        i += k
    assert d.telegrams == 3 and d.crc_errors == 0


def test_resync_overflow_and_junk():
    data, _ = load("be_s211_50213_domoticz.txt")
    d = P1Decoder()
    d.feed(data[:200] + data)           # a telegram cut short by the next '/'
    assert d.restarts == 1 and d.telegrams == 1
    small = P1Decoder(cap=256)           # a buffer too small: counted, dropped, no harm
    small.feed(data + data)
    assert small.overflows == 2 and small.telegrams == 0
    rnd = rng(2)
    for _ in range(30):
        junk = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 3000)))
        d = P1Decoder()
        d.feed(junk + data + junk[:100])
        assert d.telegrams == 1  # whatever the junk left under way, the telegram's '/' starts it
        d.update(GridReading())


def crc_bitwise(data):
    # CRC-16/ARC written out from its definition, independent of the table kernel
    c = 0
    for b in data:
        c ^= b
        for _ in range(8):
            c = (c >> 1) ^ 0xA001 if c & 1 else c >> 1
    return c


def test_crc_kernels_match_the_definition():
    from submeter.kernels import crc16_table, p1scan_py
    CRC_TABLE = crc16_table()
    kernels = [p1scan_py.crc16]
    if IS_MP:
        from submeter.kernels import p1scan_viper
        kernels.append(p1scan_viper.crc16)
    assert crc_bitwise(b"123456789") == 0xBB3D  # the catalogue's check value of CRC-16/ARC
    rnd = rng(6)
    vectors = [b"", b"123456789", bytes(range(256)), bytes(rnd.getrandbits(8) for _ in range(1500))]
    for k in kernels:
        for v in vectors:
            assert k(v, 0, len(v), 0, CRC_TABLE) == crc_bitwise(v)
            half = len(v) // 2  # continued over two calls, as over two chunks
            assert k(v, half, len(v), k(v, 0, half, 0, CRC_TABLE), CRC_TABLE) == crc_bitwise(v)


def test_number_kernels_agree():
    from submeter.kernels import p1scan_py
    from submeter.grid.p1 import milli as milli_text
    kernels = [p1scan_py.milli_at]
    if IS_MP:
        from submeter.kernels import p1scan_viper
        kernels.append(p1scan_viper.milli_at)
    for text in (b"000301.548*kWh)", b"0001)", b"228.1*V)", b"00.000*kW)", b"999999.999*kWh)",
                 b"1234567.0*kWh)", b"12a)", b"1.2.3)", b")", b"5", b"000.27*A)"):
        want = -1
        try:
            body = text.split(b"*")[0].rstrip(b")").decode()
            if body and text.find(b")") >= 0 and len(body.split(".")[0].lstrip("0")) <= 6:
                want = milli_text(body)
        except ValueError:
            pass
        for k in kernels:
            assert k(text, 0, len(text)) == want, (text, k(text, 0, len(text)), want)


def test_extract_kernels_agree():
    if not IS_MP:
        return  # CPython has only the twins
    from array import array
    from submeter.grid import p1
    from submeter.kernels import p1scan_py, p1scan_viper
    for name in files():
        data, exp = load(name)
        d = P1Decoder(crc_required=False)
        d.feed(data)
        res = []
        for mod in (p1scan_viper, p1scan_py):
            nums = array("i", bytes(4 * p1.NUM_SLOTS))
            spans = array("H", bytes(4 * p1.ALL_SLOTS))
            n = d.lookup(nums, spans, mod.extract)
            res.append((n, list(nums), list(spans)))
        assert res[0] == res[1], name


def test_scan_kernels_agree():
    if not IS_MP:
        return  # CPython has only the twins
    from array import array
    from submeter.kernels import p1scan_py, p1scan_viper
    rnd = rng(8)
    blobs = [load(n)[0] for n in files()[:10]]
    blobs.append(bytes(rnd.getrandbits(8) for _ in range(3000)))
    blobs.append(b"/x!AB" + blobs[0] + blobs[1][:300] + b"!" + blobs[2])  # '/' on a CRC line
    for data in blobs:
        traces = []
        for mod in (p1scan_viper, p1scan_py):
            st = array("i", (0, 0, 700, 0, 0))
            buf = bytearray(700)
            trace = []
            i = 0
            while i < len(data):
                i = mod.telegram_scan(data, i, len(data), buf, st)
                trace.append((i, list(st), bytes(buf[:st[1]])))
            traces.append(trace)
        assert traces[0] == traces[1]


def telegram(lines):
    # a DSMR 5 / e-MUCS telegram of these object lines, with its right CRC
    body = b"/FLU5\\253770234_A\r\n\r\n" + b"".join(x + b"\r\n" for x in lines) + b"!"
    return body + ("%04X\r\n" % crc_bitwise(body)).encode()


GOOD = [b"0-0:96.1.1(3153414733313031303231363035)", b"0-0:1.0.0(251106081526W)",
        b"1-0:1.8.1(000059.391*kWh)", b"1-0:1.7.0(00.039*kW)"]


def test_a_crc_valid_object_that_is_not_utf8_is_rejected_and_the_rest_used():
    d = P1Decoder()
    r = GridReading()
    bad = [b"0-0:96.1.1(31534147\xff3130)", b"0-0:1.0.0(2511060815\xff6W)"] + GOOD[2:] + \
        [b"1-0:2.7.0(00.0\xff0*kW)"]
    assert d.feed(telegram(bad)) == 1           # the CRC is right: the telegram is taken
    d.update(r)                                # and read, never raising
    assert d.rejected == 3 and r.meter_id is None and r.time is None and r.export_w is None
    assert r.import_wh[0] == 59391 and r.power_w == 39
    objs = d.objects()
    assert "1-0:1.8.1" in objs and "0-0:96.1.1" not in objs and "0-0:1.0.0" not in objs
    d.feed(telegram(bad))                       # a meter that keeps sending it: counted each time
    d.update(r)
    assert d.rejected == 6
    d.feed(telegram(GOOD))                      # the next good telegram reads whole
    d.update(r)
    assert d.rejected == 6 and r.meter_id == "1SAG3101021605" and r.time == "251106081526W"
    assert d.feed(telegram([b"0-0:96.1\xff.1(1234)"] + GOOD[2:])) == 1  # a code not UTF-8
    d.update(r)
    assert "1-0:1.8.1" in d.objects() and d.unknown == 1


def test_value_and_timestamp_are_told_apart_by_their_form():
    # gas, peak: (time)(value) on most meters, (value)(time) on some; DSMR 2.2's
    # 12-digit time without S/W too
    for gas, peak in ((b"0-1:24.2.3(251106080000W)(00123.456*m3)", b"1-0:1.6.0(251102181500W)(03.003*kW)"),
                      (b"0-1:24.2.3(00123.456*m3)(251106080000W)", b"1-0:1.6.0(03.003*kW)(251102181500W)"),
                      (b"0-1:24.2.3(00123.456*m3)(251106080000)", b"1-0:1.6.0(03.003*kW)(251102181500)")):
        d = P1Decoder()
        d.feed(telegram(GOOD + [b"0-1:24.1.0(003)", gas, peak]))
        r = d.update(GridReading())
        assert r.gas_l == 123456 and r.peak_w == 3003, gas
        assert r.gas_time[:12] == "251106080000" and r.peak_time[:12] == "251102181500", gas
        assert d.rejected == 0


def scan_kernels():
    # the telegram scanners this runtime has: the pure-Python twin, and the viper kernel
    # on MicroPython
    from submeter.kernels import p1scan_py
    kernels = [p1scan_py.telegram_scan]
    if IS_MP:
        from submeter.kernels import p1scan_viper
        kernels.append(p1scan_viper.telegram_scan)
    return kernels


def test_a_telegram_right_after_noise_or_a_cut_one_is_decoded():
    # A '/' where a telegram may start begins one at once: after noise, inside a CRC line
    # left open by a stray '!' (nothing but 4 hex digits and CR LF may follow '!', so a '/'
    # there is the next telegram), after a telegram cut short anywhere. The meter's next
    # telegram is a second away: losing it loses that second's reading.
    from submeter.grid import p1 as p1mod
    good = telegram(GOOD)
    bang = good.index(b"!")
    noises = [b"", b"\x00\xff!", b"/", b"/x!", b"\xe9/junk!AB", b"/x!ABCD", b"/x!ABCD\r", b"/x!\r",
              b"\x13/!!", b"/x!" + b"A" * 600, good[:40], good[:bang], good[:bang + 1],
              good[:bang + 3], good[:bang + 5], good[:bang + 6]]
    dsmr22, _ = load("nl_dsmr22_dsmrparser_v2_2.txt")  # no CRC: '!' then CR LF
    saved = p1mod.telegram_scan
    try:
        for kernel in scan_kernels():
            p1mod.telegram_scan = kernel
            for noise in noises:
                for split in (False, True):  # in one chunk, or the noise in a chunk of its own
                    d = P1Decoder()
                    n = d.feed(noise) + d.feed(good) if split else d.feed(noise + good)
                    r = d.update(GridReading())
                    assert n == 1 and d.telegrams == 1 and d.crc_errors == 0, (noise, split, n, d.crc_errors)
                    assert r.meter_id == "1SAG3101021605" and r.import_wh[0] == 59391, noise
                    assert d.restarts == (1 if b"/" in noise else 0), noise  # the cut one: counted
                    d = P1Decoder(crc_required=False)
                    assert d.feed(noise + dsmr22) == 1 and d.telegrams == 1, noise
                    assert d.update(GridReading()).import_wh[0] > 0, noise
    finally:
        p1mod.telegram_scan = saved
