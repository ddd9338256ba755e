# tools/ticdump, as a user runs it on a capture of their own.
import json
import os
import subprocess

import ticref

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def ticdump(path):
    r = subprocess.run([os.path.join(ROOT, "tools", "ticdump"), path], capture_output=True, text=True,
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
        if e["good"]:
            assert j["mode"] == ("standard" if "_std_" in name else "historic")
        if e["frames"]:
            assert j["reading"]["source"] == "tic_" + j["mode"]


def test_ticdump_says_what_is_wrong():
    rc, out = ticdump("/no/such/capture.tic")
    assert rc == 1 and "cannot read" in out
