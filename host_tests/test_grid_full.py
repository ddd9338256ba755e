# The grid meter in full (issue 20, item 3), on both runtimes: what the decoders add to the
# reading for the page (SMAXSN and its time, PCOUP, PRM, VTIC, the indexes' own names, a
# P1 meter's identification line), the rows the page shows of real captures, and the
# hints of a SAGEM C2000 whose customer output is not TELEIN (VEILLE: frames of its serial
# number alone; METROL: pulses, never a frame).
import ticref
from compat import IS_MP, skip
from submeter.grid.reading import GridReading, index_name
from submeter.grid.tic import TicDecoder
from submeter.net.page import _kwh, _stamp, _w, grid_rows, grid_text
from submeter.view.labels import labels
from test_grid_alerts import c2000_frame, group
from test_p1 import load
from test_phases import p1_reading, run_reader


def tic(name):
    d = TicDecoder()
    assert d.feed(ticref.read(name)) >= 1
    return d.update(GridReading()).to_dict(), d


def names(r):
    return [index_name(r, k + 1) for k in range(len(r["import_wh"]))]


def rows(r, g=None, lang="en"):
    g = dict(g or {"frames": 1, "checksum_errors": 0})
    g["reading"] = r
    return {k: (label, v) for k, label, v in grid_rows(g, labels(lang))}


def test_linky_standard_tempo_figures_and_index_names():
    r, _ = tic("13_std_tri_tempo_teleinfo-nom.tic")
    # SMAXSN\tH200214175135\t10802, SMAXSN-1 09562, PCOUP 30, PRM, VTIC 02
    sd = r["std"]
    assert (sd["smax_va"], sd["smax_time"], sd["smax_prev_va"]) == (10802, "H200214175135", 9562)
    assert sd["cutoff_kva"] == 30 and sd["prm"] == "07361794479930" and r["meter_version"] == "02"
    # NGTF TEMPO: EASF01-06 by Tempo's names, NTARF 03 announced as "HC  BLANC" (LTARF)
    assert names(r) == ["HC BLEU", "HP BLEU", "HC  BLANC", "HP BLANC", "HC ROUGE", "HP ROUGE"] + [None] * 4
    assert sd["names"] == [None, None, "HC  BLANC"] + [None] * 7  # as announced (no name known: EASF07...)
    w = rows(r)
    assert w["i3"] == ("HC BLANC (EASF03)", "487.1 kWh (now)")  # EASF03 000487131 Wh
    assert w["i2"] == ("HP BLEU (EASF02)", "14090 kWh")  # 014090959 Wh: cut, as the meter shows it
    assert "i7" not in w                                      # unused indexes at 0: no row
    assert w["imp"] == ("Import, total (EAST)", "21849 kWh")
    assert w["va"][1] == "2700 VA" and w["ph_w"][1] == "664 \u00b7 1373 \u00b7 664 VA"
    assert w["ph_v"][1] == "237 \u00b7 238 \u00b7 235 V" and w["ph_a"][1] == "3 \u00b7 6 \u00b7 3 A"
    assert w["smax"] == ("Highest today (SMAXSN)", "10.8 kVA \u00b7 2020-02-14 17:51")
    assert w["smax1"][1] == "9562 VA" and w["pref"][1] == "30 kVA" and w["cut"][1] == "30 kVA"
    assert w["tempo"] == ("Tempo today, tomorrow", "white, blue")  # STGE 463A0800
    assert w["serial"] == ("Serial number (ADSC)", "041776199277") and w["prm"][1] == "07361794479930"
    assert w["time"][1] == "2020-02-14 23:08" and w["msg"][1] == "PAS DE MESSAGE"
    assert w["alerts"][1] == "none"
    f = rows(r, lang="fr")
    assert f["tempo"] == ("Tempo aujourd'hui, demain", "blanc, bleu")
    assert f["i3"][1] == "487.1 kWh (en cours)" and f["smax"][0] == "Maximum du jour (SMAXSN)"


def test_a_linky_names_its_indexes_as_it_announces_them():
    r, d = tic("12_std_mono_hc_goteleinfo.tic")
    # NGTF "HC et Week-End": no name known before the meter says one (NTARF 01, LTARF HEURE CREUSE)
    assert names(r)[:3] == ["HEURE  CREUSE", None, None]
    assert rows(r)["i3"] == ("EASF03", "3357.0 kWh")
    # the next period announced: its name kept, the first one's too
    data = ticref.read("12_std_mono_hc_goteleinfo.tic")
    later = data.replace(b"LTARF\t HEURE  CREUSE  \tK", b"LTARF\t HEURE  PLEINE  \t" + b"K")
    later = later.replace(b"NTARF\t01\tN", b"NTARF\t02\tO")
    g = GridReading()
    d = TicDecoder()
    d.feed(data)
    d.update(g)
    d = TicDecoder()
    d.feed(fix_checksums(later))
    d.update(g)
    r = g.to_dict()
    assert names(r)[:3] == ["HEURE  CREUSE", "HEURE  PLEINE", None] and g.period_index == 2
    w = rows(r)
    assert w["i1"] == ("HEURE CREUSE (EASF01)", "4432.4 kWh") and w["i2"][0] == "HEURE PLEINE (EASF02)"


def fix_checksums(data):
    """Standard-mode groups with their checksum made right again (a test's edit)."""
    out = []
    for line in data.split(b"\r"):
        i = line.rfind(b"\t")
        if line.startswith(b"\n") and i > 0:
            body = line[1:i + 1]
            line = b"\n" + body + bytes(((sum(body) & 0x3F) + 0x20,))
        out.append(line)
    return b"\r".join(out)


def test_historic_indexes_are_named_by_their_labels():
    r, _ = tic("03_hist_mono_tempo_teleinfo-nom.tic")  # OPTARIF BBR(: the six Tempo indexes
    assert names(r) == ["BBRHCJB", "BBRHPJB", "BBRHCJW", "BBRHPJW", "BBRHCJR", "BBRHPJR"]
    w = rows(r)
    assert w["option"] == ("Tariff option (OPTARIF)", "Tempo (BBR()") and w["i2"][1].endswith("(now)")
    assert w["serial"][0] == "Serial number (ADCO)" and w["va"][0] == "Apparent power drawn (PAPP)"
    d = TicDecoder()
    d.feed(c2000_frame())  # a SAGEM C2000-4, three-phase, HC
    r = d.update(GridReading()).to_dict()
    assert names(r) == ["HCHC", "HCHP"] and r["meter_model"] == "SAGEM C2000-4"
    w = rows(r)
    assert w["model"][1] == "TIC, historic mode \u00b7 SAGEM C2000-4"
    assert w["i1"] == ("HCHC", "12345 kWh") and w["i2"] == ("HCHP", "23456 kWh (now)")
    assert w["imax"] == ("Highest current seen (IMAX)", "30 \u00b7 21 \u00b7 29 A")
    assert w["pmax"] == ("Highest power seen (PMAX)", "11.3 kW") and w["sub"][1] == "30 A"
    assert w["ph_a"][1] == "12 \u00b7 4 \u00b7 20 A"


def test_p1_meter_in_full():
    data, _ = load("be_emucs171_spec_example_t211_gas_water.txt")
    r = p1_reading(data)
    assert r["meter_model"] == "FLU5\\253769484_A" and names(r) == ["T1", "T2"]
    w = rows(r)
    assert w["model"][1] == "P1 port \u00b7 FLU5\\253769484_A"
    assert w["serial"] == ("Serial number (96.1.1)", "1SAG3101021605") and w["version"][1] == "50217"
    assert w["i1"] == ("T1 (1.8.1)", "0.034 kWh (now)") and w["i2"] == ("T2 (1.8.2)", "15.758 kWh")
    assert w["x2"] == ("Export T2 (2.8.2)", "0.011 kWh") and w["exp"][1] == "0.011 kWh"
    assert w["pw"][0] == "Power drawn (1.7.0)" and w["pwx"][0] == "Power injected (2.7.0)"
    assert w["peak"] == ("Peak this month (15 min) (1.6.0)", "2589 W \u00b7 2020-05-09 13:45")
    assert w["peaks"][1] == "2020-05 3695 W \u00b7 2020-04 5980 W \u00b7 2020-03 4318 W"
    assert w["gas"][1] == "112.384 m\u00b3 \u00b7 2020-05-12 13:45"
    assert w["water"][1] == "872.234 m\u00b3 \u00b7 2020-05-12 13:45"
    assert w["lim"][1] == "999.9 kW (no limit)" and w["fuse"][1] == "999 A (no limit)"
    assert w["ph_v"][1] == "234.7 \u00b7 234.7 \u00b7 234.7 V"
    assert "va" not in w and "smax" not in w  # (TIC figures: none on a P1 meter)
    data, _ = load("be_t211_50217_13month_history.txt")
    w = rows(p1_reading(data))
    assert len(w["peaks"][1].split(" \u00b7 ")) == 13 and w["peaks"][1].startswith("2024-07 2624 W")


def test_numbers_as_the_shared_convention_says():
    assert [_kwh(x) for x in (0, 12, 99999, 100000, 123456, 9999949, 10000000, 21849106)] == [
        "0.000 kWh", "0.012 kWh", "99.999 kWh", "100.0 kWh", "123.4 kWh", "9999.9 kWh", "10000 kWh", "21849 kWh"]
    assert [_w(x) for x in (0, 2700, 9999, 10000, 10802, 999900)] == [
        "0 W", "2700 W", "9999 W", "10.0 kW", "10.8 kW", "999.9 kW"]
    assert _stamp("H200214175135") == "2020-02-14 17:51" and _stamp("261101000000W") == "2026-11-01 00:00"
    assert _stamp(" 200214060000") == "2020-02-14 06:00" and _stamp(None) == "-"


def veille_frame():
    return b"\x02" + group(b"ADCO", b"020426009006") + b"\x03"


def test_a_c2000_sending_its_serial_number_alone_is_told_apart():
    d = TicDecoder()
    d.feed(veille_frame() * 2)
    assert d.id_only == 2
    d.feed(veille_frame())
    assert d.id_only == 3
    d.feed(c2000_frame())   # its output set to TELEIN: full frames
    assert d.id_only == 0
    # a three-phase meter's short frame (ADIR, ADCO, IINST) is no VEILLE frame
    d.feed(b"\x02" + group(b"ADIR1", b"031") + group(b"ADCO", b"020426009006") + group(b"IINST1", b"031") + b"\x03")
    assert d.id_only == 0


def test_hint_texts():
    t = labels("en")
    assert grid_text({"hint": "tic_veille"}, t).startswith("The meter sends only its serial number (ADCO)")
    assert "TELEIN" in grid_text({"hint": "tic_pulses"}, t) and "METROL" in grid_text({"hint": "tic_pulses"}, t)
    f = labels("fr")
    assert "numéro de série" in grid_text({"hint": "tic_veille"}, f)
    for lang in ("en", "fr"):  # the panel draws the short ones: 16 characters a line, 5 lines
        for h in ("h_tic_veille", "h_tic_pulses"):
            lines = labels(lang)[h].split("|")
            assert len(lines) <= 5 and max(len(x) for x in lines) <= 16, (lang, h)


def test_the_tic_labels_hash_apart():
    from submeter.grid import tic as m
    keys = list(m._KEYS)
    assert len(keys) == len(set(keys))
    assert m.NUM_SLOTS < m.ALL_SLOTS


def test_what_to_check_when_a_c2000_output_is_not_telein():
    if not IS_MP:
        skip("asyncio.sleep_ms is MicroPython's")
    board, rd = run_reader("c2000_veille", "auto", 300)   # frames of the serial number alone
    assert rd.locked and rd.state()["hint"] == "tic_veille" and rd.reading.meter_id == "020426009006"
    board, rd = run_reader("c2000_metrol", "auto", 600)   # a pulse a Wh, never a frame
    assert not rd.locked and rd.state()["hint"] == "tic_pulses" and rd.rx_ms is not None
    board, rd = run_reader("c2000_metrol", "tic", 300)
    assert rd.state()["hint"] == "tic_pulses"
    board, rd = run_reader("c2000", "auto", 300)          # TELEIN: no hint
    assert rd.locked and rd.state()["hint"] is None
    # bytes at 1200 Bd with the shape of frames or groups, none valid: garbled, not pulses
    board, rd = run_reader("p1", "tic", 300)
    assert rd.state()["hint"] == "garbled"
