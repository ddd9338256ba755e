# SUBMETER_REPLAY: a capture file from host_tests/corpus/ played into the simulated grid
# port, through the whole firmware on the unix port: the meter is found on its own (grid
# "auto") and /api/state shows what the capture says, read here from the file itself.
# The line runs at its baud rate in simulated time: only the setting the capture was sent
# with decodes it.
import os
import re

import pytest
import sim
from sim import meter, replay
import ticref
from submeter.clock import ManualClock
from submeter.grid.p1 import P1Decoder
from submeter.grid.tic import TicDecoder
from fwrun import start, state_when, stop

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIC = os.path.join(ROOT, "host_tests", "corpus", "tic")
P1 = os.path.join(ROOT, "host_tests", "corpus", "p1")
HISTORIC = os.path.join(TIC, "01_hist_mono_tempo_pyteleinfo_bin.tic")
STANDARD = os.path.join(TIC, "12_std_mono_hc_goteleinfo.tic")
FLUVIUS = os.path.join(P1, "be_t211_50215_micropython_dsmr2influxdb.txt")
DSMR22 = os.path.join(P1, "nl_dsmr22_dsmrparser_v2_2.txt")


def tic_groups(path):
    """{label: value} of the capture's groups whose checksum is right (ticref's reading)."""
    with open(path, "rb") as f:
        data = f.read()
    out = {}
    for g in ticref.naive_groups(data):
        if ticref.checksum_ok(g):
            parts = g[:-2].split(g[-2:-1])
            out[parts[0].decode()] = parts[-1].decode()
    return out


def p1_objects(path):
    """{obis: [values]} of the capture's lines, read with a regular expression."""
    with open(path, "rb") as f:
        text = f.read().decode("latin-1")
    return {m.group(1): re.findall(r"\(([^)]*)\)", m.group(2))
            for m in re.finditer(r"^(\d-\d:[\d.]+)((?:\([^)]*\))+)\r?$", text, re.M)}


def kwh_to_wh(v):
    return round(float(v.split("*")[0]) * 1000)


def decoded(path, kind, seconds):
    """What a decoder listening at `kind`'s setting gets from `seconds` of the line."""
    clock = ManualClock()
    uart = replay.ReplayUart(path, sim.SimTime(clock), meter.KIND_LINE[kind])
    d = TicDecoder() if kind.startswith("tic") else P1Decoder(crc_required=kind == "p1")
    buf = bytearray(512)
    for _ in range(seconds * 25):
        clock.advance(40)
        n = uart.any()
        while n:
            k = uart.readinto(buf, 512)
            d.feed(bytes(buf[:k]))
            n -= k
    return (d.groups_ok if kind.startswith("tic") else d.telegrams), uart


@pytest.mark.parametrize("path,mode,rate", [(HISTORIC, "historic", 120), (STANDARD, "standard", 960),
                                           (FLUVIUS, "p1", 11520), (DSMR22, "p1_legacy", 960)])
def test_a_capture_decodes_only_at_its_own_line_setting(path, mode, rate):
    size = os.path.getsize(path)
    for kind in meter.KIND_LINE:
        good, uart = decoded(path, kind, 10)
        assert uart.mode == mode
        if kind == mode or kind == "tic_" + mode:
            assert uart.sent == 10 * rate and uart.loops == 10 * rate // size  # the line's pace, looped
            assert good >= 10 * rate // size, (kind, good)
        else:
            assert good == 0, (kind, good)


def test_a_capture_with_the_parity_bit_in_each_byte_plays_as_the_7_bit_one(tmp_path):
    # a 7E1 line read as 8-bit bytes keeps each byte's even parity in bit 7
    with open(STANDARD, "rb") as f:
        data = f.read()
    odd = bytes(b | (bin(b).count("1") & 1) << 7 for b in data)
    assert any(b & 0x80 for b in odd)
    (tmp_path / "raw8.tic").write_bytes(odd)
    assert decoded(str(tmp_path / "raw8.tic"), "tic_standard", 5)[0] == decoded(STANDARD, "tic_standard", 5)[0] > 0


def run(tmp_path, path, done):
    proc = start(tmp_path, SUBMETER_SPEED="10", SUBMETER_REPLAY=path)
    try:
        s = state_when(proc, lambda s: s["grid"]["reading"] and done(s["grid"]), 30)
        s2 = state_when(proc, lambda x: x["sampling"]["rounds"] > s["sampling"]["rounds"], 5)
    finally:
        stop(proc)
    out = proc.stdout.read().decode()
    assert "Traceback" not in out, out
    assert s2["sampling"]["rounds"] > s["sampling"]["rounds"]  # metering goes on
    return s["grid"]


def test_a_historic_tic_capture_through_the_firmware(tmp_path):
    want = tic_groups(HISTORIC)
    index = [int(want[k]) for k in ("BBRHCJB", "BBRHPJB", "BBRHCJW", "BBRHPJW", "BBRHCJR", "BBRHPJR")]
    g = run(tmp_path, HISTORIC, lambda g: g["reading"]["source"] == "tic_historic")
    r = g["reading"]
    assert g["port"] == "tic_historic" and g["locked"] and g["checksum_errors"] == 0, g
    assert r["meter_id"] == want["ADCO"] and r["import_wh"] == index
    assert r["power_va"] == int(want["PAPP"]) and r["period"] == want["PTEC"]


def test_a_standard_tic_capture_through_the_firmware(tmp_path):
    want = tic_groups(STANDARD)
    g = run(tmp_path, STANDARD, lambda g: g["reading"]["source"] == "tic_standard")
    r = g["reading"]
    assert g["port"] == "tic_standard" and g["locked"] and g["checksum_errors"] == 0, g
    assert r["meter_id"] == want["ADSC"] and r["import_total_wh"] == int(want["EAST"])
    assert r["import_wh"] == [int(want["EASF%02d" % k]) for k in range(1, 11)]
    assert r["power_va"] == int(want["SINSTS"])


def test_a_p1_capture_through_the_firmware(tmp_path):
    want = p1_objects(FLUVIUS)
    g = run(tmp_path, FLUVIUS, lambda g: g["reading"]["source"] == "p1")
    r = g["reading"]
    assert g["port"] == "p1" and g["locked"] and g["checksum_errors"] == 0, g
    assert r["meter_id"] == bytes.fromhex(want["0-0:96.1.1"][0]).decode()
    assert r["import_wh"] == [kwh_to_wh(want["1-0:1.8.1"][0]), kwh_to_wh(want["1-0:1.8.2"][0])]
    assert r["export_wh"] == kwh_to_wh(want["1-0:2.8.1"][0]) + kwh_to_wh(want["1-0:2.8.2"][0])
    assert r["gas_l"] == kwh_to_wh(want["0-1:24.2.3"][1])
