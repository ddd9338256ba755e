# Power cuts: the firmware is killed (SIGKILL, no chance to save) at random moments, 50
# times; every time its counters (energy per input, gas and water litres) come back,
# never lower than before, and short of what it had shown by at most one save interval.
import json
import os
import random
import signal
import subprocess
import time

import sim
from fwrun import ROOT, free_port, get

SPEED = 100
SAVE_S = 5          # scenario seconds between saves (config save_s)
PERIOD_S = 1        # measurement round (config period_ms)


def start(data, port):
    env = dict(os.environ, SUBMETER_HTTP_PORT=str(port), SUBMETER_SCENARIO="steady",
               SUBMETER_SPEED=str(SPEED), SUBMETER_DATA=data, SUBMETER_TERM="0", SUBMETER_METER="none",
               MICROPYPATH="firmware:boards:build/lib:.frozen")
    proc = subprocess.Popen([os.path.join(ROOT, "build", "bin", "micropython"), "firmware/main.py"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.monotonic()
    while True:
        try:
            return proc, json.loads(get(port, "/api/state", timeout=1)[2])
        except OSError:
            assert proc.poll() is None, "the firmware did not start"
            assert time.monotonic() - t0 < 20, "no answer in 20 s"
            time.sleep(0.05)


def wh(state):
    return [i["wh"] for i in state["inputs"]] + [state["gas"]["l"], state["water"]["l"]]


def test_fifty_power_cuts(tmp_path):
    data = str(tmp_path)
    with open(os.path.join(data, "config.json"), "w") as f:
        json.dump({"save_s": SAVE_S, "grid": "none"}, f)
    rnd = random.Random(50)
    # energy one input can gain between two saves, plus the round in progress, in Wh
    slack = [w * (SAVE_S + 2 * PERIOD_S) / 3600 + 1 for w in sim.Steady.watts]
    # ... and litres of gas and water, plus the pulse in progress
    slack += [sim.Steady.flows[k] * (SAVE_S + 2 * PERIOD_S) / 3600 + sim.Board.PULSE_L[k] for k in ("gas", "water")]
    before = None      # what the firmware last showed before its power was cut
    restored = None
    cuts = 0
    for _ in range(50):
        port = free_port()
        proc, s = start(data, port)
        try:
            now = wh(s)
            if before is not None:
                assert s["store"]["restored"], "counters not restored"
                for k in range(7):
                    assert now[k] >= restored[k], ("went backwards", k, now, restored)
                    assert now[k] >= before[k] - slack[k], ("lost more than a save", k, now, before)
            restored = now
            time.sleep(rnd.uniform(0.1, 0.8))
            before = wh(json.loads(get(port, "/api/state", timeout=2)[2]))
        finally:
            proc.send_signal(signal.SIGKILL)  # the power goes: nothing runs after this
            proc.wait(timeout=10)
            cuts += 1
    assert cuts == 50 and sum(before) > 0
