# tools/capture/ticdump, as a user runs it on a capture of their own.
import json
import os
import subprocess

import ticref

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def ticdump(path):
    r = subprocess.run([os.path.join(ROOT, "tools", "capture", "ticdump"), path], capture_output=True, text=True,
                       cwd=ROOT, timeout=60)
    return r.returncode, r.stdout


def test_ticdump_on_every_capture():
    exp = ticref.expectations()
    for name in sorted(exp):
        rc, out = ticdump(os.path.join(ROOT, ticref.CORPUS, name))
        assert rc == 0, out
        j = json.loads(out)
        e = exp[name]
        assert j["frames"] == e["frames"] and j["groups_ok"] == e["good"]
        assert j["groups_bad"] == e["bad"] + e["malformed"]
        good = [g for g in ticref.naive_groups(ticref.read(name)) if ticref.checksum_ok(g)]
        labels = {g[:-2].split(g[-2:-1])[0].decode() for g in good}
        assert set(j["values"]) == labels, name
        for label, v in j["values"].items():  # units from the label table
            if label.startswith(("EASF", "HCHC", "BBRH", "EAST")):
                assert v["unit"] == "Wh", (name, label, v)
        if e["good"]:
            assert j["mode"] == ("standard" if "_std_" in name else "historic")
        if e["frames"]:
            assert j["reading"]["source"] == "tic_" + j["mode"]


def test_ticdump_says_what_is_wrong():
    rc, out = ticdump("/no/such/capture.tic")
    assert rc == 1 and "cannot read" in out


def test_p1dump_on_every_telegram():
    d = os.path.join(ROOT, "host_tests", "corpus", "p1")
    for name in sorted(n for n in os.listdir(d) if n.endswith(".txt")):
        with open(os.path.join(d, name[:-4] + ".expected.json")) as f:
            exp = json.load(f)
        r = subprocess.run([os.path.join(ROOT, "tools", "capture", "p1dump"), os.path.join(d, name)],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout
        j = json.loads(r.stdout)
        assert j["crc"] == exp["crc"]["status"].lower(), name
        if j["crc"] != "invalid":
            assert j["header"] == exp["header"].replace("\\253", "\\xab").replace("\\2", "\\x02") or \
                j["header"].startswith(exp["header"][1:4]), (name, j["header"], exp["header"])
            assert set(exp["objects"]) <= set(j["objects"])
            assert j["reading"]["source"] == "p1"


def test_p1dump_on_a_crc_valid_telegram_with_a_non_utf8_value(tmp_path):
    import sys
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from test_p1 import telegram, GOOD
    p = tmp_path / "bad.txt"
    p.write_bytes(telegram([b"0-0:96.1.1(31534147\xff3130)"] + GOOD[1:]))
    r = subprocess.run([os.path.join(ROOT, "tools", "capture", "p1dump"), str(p)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    j = json.loads(r.stdout)
    assert j["crc"] == "valid" and j["rejected_objects"] == 1 and "0-0:96.1.1" not in j["objects"]
    assert j["objects"]["1-0:1.8.1"]["value"] == "000059.391" and j["reading"]["meter_id"] is None
