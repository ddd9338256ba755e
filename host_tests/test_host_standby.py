# Standby through the running firmware (ledger/standby.py; the logic on both runtimes is
# test_standby.py): the steady scenario's loads over a 20-minute window at 120 times real
# time, the figure in /api/state at the window's end, and the same figure after a restart.
import json
import os

from fwrun import get, kill, near, served, start, state_when, stop

STEADY = (2000.0, 0.0, 1500.0, 450.0, 230.0)  # boards/sim/scenario.py Steady.watts


def test_the_running_firmware_gives_the_nights_standby_and_keeps_it(tmp_path):
    with open(os.path.join(str(tmp_path), "config.json"), "w") as f:
        # (a round held up on a busy host is integrated whole, not capped at 30 s: the loads are steady)
        json.dump({"standby_window": "04:00-04:20", "max_gap_ms": 600000}, f)
    env = {"SUBMETER_START": "2026-11-27 03:58", "SUBMETER_SPEED": "120"}
    proc = start(tmp_path, **env)
    try:
        s = served(proc)["standby"]
        assert s["w"] is None and s["night"] is None and s["window"] == "04:00-04:20", s
        s = state_when(proc, lambda st: st["standby"]["night"] is not None, 60)
        assert s["time"]["local"] >= "2026-11-27 04:20", s["time"]
        sb = s["standby"]
        assert sb["night"] == "2026-11-27" and sb["window"] == "04:00-04:20", sb
        for w, truth in zip(sb["w_inputs"], STEADY):
            assert near(w, truth), (sb["w_inputs"], STEADY)
        assert sb["w"] == sum(sb["w_inputs"]) and sb["kwh_year"] == round(sb["w"] * 8.766, 1)
        assert sb["cost_year"] == (sb["w"] * 8766 * 251600 + 5000000) // 10000000 / 100  # at price_kwh, 0.2516
    finally:
        stop(proc)
    with open(os.path.join(str(tmp_path), "standby.json")) as f:
        assert json.load(f)["w"] == sb["w_inputs"]
    proc = start(tmp_path, **env)  # a restart: the figure is there from the first answer
    try:
        assert served(proc)["standby"] == sb
        assert json.loads(get(proc.port, "/api/state")[2])["standby"] == sb
    finally:
        kill(proc)
