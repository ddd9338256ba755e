# What the seed meters' own manuals say, decoded for the user: the SAGEM C2000's status
# word (MOTDETAT), the Tempo output programmes (OPTARIF BBRx), EJP notice, maxima, the
# phases' presence (PPOT), and the named alerts the screen, the page and MQTT show.
import ticref
from submeter.grid.reading import GridReading
from submeter.grid.tic import TicDecoder


group = ticref.group


def c2000_frame(motdetat=b"000000", adco=b"020426009006", ppot=b"00", extra=b""):
    """A historic three-phase frame as a SAGEM C2000-4 (CBETM, tarif bleu) sends it: the
    groups its guide lists for the HC option."""
    return (b"\x02" + group(b"ADCO", adco) + group(b"OPTARIF", b"HC..") + group(b"ISOUSC", b"30")
            + group(b"HCHC", b"012345678") + group(b"HCHP", b"023456789") + group(b"PTEC", b"HP..")
            + group(b"IINST1", b"012") + group(b"IINST2", b"004") + group(b"IINST3", b"020")
            + group(b"IMAX1", b"030") + group(b"IMAX2", b"021") + group(b"IMAX3", b"029")
            + group(b"PMAX", b"11250") + group(b"PAPP", b"06210") + group(b"HHPHC", b"D")
            + group(b"MOTDETAT", motdetat) + group(b"PPOT", ppot) + extra + b"\x03")


def reading(data):
    d = TicDecoder()
    assert d.feed(data) >= 1, "no frame"
    return d.update(GridReading()), d


def test_c2000_cover_opened_more_than_255_times():
    r, _ = reading(c2000_frame(b"400000"))
    assert r.meter_model() == "SAGEM C2000-4"
    f = r.motdetat_flags()
    assert f["cover_opened_255"] and not f["overvoltage_350v"] and f["phase_lost"] == []
    assert r.alerts() == ["cover_opened"]


def test_c2000_manual_example_402a09():
    # the guide's own example: cover opened > 255 times; 2 lossy resets; 10 watchdog
    # resets; memory error and phase 3 lost
    r, _ = reading(c2000_frame(b"402A09"))
    f = r.motdetat_flags()
    assert f["cover_opened_255"] and f["lossy_resets"] == 2 and f["watchdog_resets"] == 10
    assert f["memory_error"] and f["phase_lost"] == [3] and f["implausible_index"] == []
    assert r.alerts() == ["phase_lost_3", "cover_opened", "memory_error", "lossy_resets"]
    d = r.to_dict()
    assert d["alerts"] == r.alerts() and d["meter_model"] == "SAGEM C2000-4"


def test_c2000_index_refused_and_overvoltage():
    r, _ = reading(c2000_frame(b"820000"))  # bit 7 and index 2
    f = r.motdetat_flags()
    assert f["overvoltage_350v"] and f["implausible_index"] == [2]
    assert r.alerts() == ["overvoltage", "index_refused"]


def test_other_meters_status_word_stays_raw():
    # a Sagemcom Linky in historic mode (maker 02, type 61) and the corpus' real frame: the
    # C2000's bit meanings are not documented for it
    r, _ = reading(c2000_frame(b"402A09", adco=b"021861348497"))
    assert r.meter_model() is None and r.motdetat_flags() is None and r.motdetat == "402A09"
    assert "cover_opened" not in r.alerts()
    d = TicDecoder()
    d.feed(ticref.read("01_hist_mono_tempo_pyteleinfo_bin.tic"))
    r = d.update(GridReading())
    assert r.motdetat == "000000" and r.motdetat_flags() is None and r.alerts() == []


def test_phase_presence_from_ppot_on_any_historic_three_phase_meter():
    r, _ = reading(c2000_frame(b"000000", ppot=b"0C"))  # bits 2 and 3: phases 2 and 3 absent
    assert r.alerts() == ["phase_lost_2", "phase_lost_3"]
    r, _ = reading(c2000_frame(b"000000", ppot=b"00"))
    assert r.alerts() == []


def test_maxima_and_the_hc_schedule():
    r, _ = reading(c2000_frame())
    assert r.imax_a == [30, 21, 29] and r.pmax_w == 11250 and r.current_a == [12, 4, 20]
    assert r.option_details() == {"option": "hc", "hhphc": "D"}


def test_tempo_output_programmes_from_optarif():
    # the corpus' Tempo meter: OPTARIF BBR( = circuit 1 programme A, circuit 2 P0
    d = TicDecoder()
    d.feed(ticref.read("01_hist_mono_tempo_pyteleinfo_bin.tic"))
    r = d.update(GridReading())
    assert r.option_details() == {"option": "tempo", "circuit1": "A", "circuit2": "P0", "hhphc": "A"}
    assert r.imax_a == [90]
    for char, c1, c2 in (("/", "A", "P7"), ("2", "B", "P2"), ("=", "C", "P5")):
        r.tariff_option = "BBR" + char
        o = r.option_details()
        assert (o["circuit1"], o["circuit2"]) == (c1, c2), char


def test_ejp_notice_lasts_while_the_meter_sends_it():
    frame = c2000_frame(extra=group(b"PEJP", b"30"))
    d = TicDecoder()
    d.feed(frame)
    r = d.update(GridReading())
    assert r.ejp_notice_min == 30 and "ejp_notice" in r.alerts()
    d.feed(c2000_frame())
    d.update(r)
    assert r.ejp_notice_min is None and "ejp_notice" not in r.alerts()
