# The whole firmware on the device model in a device's 112 KB heap (the simulator's own
# share beside it: soakrun.SIM_SHARE_KB), three
# simulated hours at 150x (make soak: a week at 300x) from 05:00, through the morning's gas and
# showers, with the web page polled, the MQTT broker restarted, the clock's ticks
# wrapping, and every fault of tools/bench/soak.py injected in turn: TIC unplugged and noisy,
# a CT open and one saturated, the flash full, the Ethernet link down, the clock a day
# ahead. No exception escapes, no reading is lost or goes backwards, every circuit
# within 1 % of the simulated truth (3 % under 200 W on average), every pulse counted, and each fault handled as a
# user would see it (hint, counted rejections, clipping reported, the power LED).
import soakrun  # tools/bench (conftest)



def test_three_hours_of_faults_in_112_kb(tmp_path):
    # at 150x, not 300x: a web answer waiting for room (server.MEM_TRIES, 3.1 s of real
    # time) meets the heap churn of as many simulated seconds as the speed: at 300x, on a
    # loaded host (CI, a test beside it), one page in two or three runs found no room for
    # 3.1 s (800 rounds of the meter's) and came cut (2 of 3 runs failed, 3 of 3 passed at
    # 150x, measured side by side with other work running); 72 s instead of 42
    r = soakrun.run(str(tmp_path), 3, start="2026-11-23 05:00", broker_every_s=12, speed=150)
    assert soakrun.verdict(r) == [], soakrun.verdict(r)
    assert [f["fault"] for f in r["faults"]] == ["tic_unplugged", "tic_line_noise", "ct_open", "ct_saturated",
                                               "flash_full", "ethernet_down", "clock_jump"]
    assert r["gas"]["truth_l"] > 0 and r["water"]["truth_l"] > 0   # the morning's gas and showers
    assert r["heap"] <= (112 + soakrun.SIM_SHARE_KB) * 1024 and r["sim_hours"] >= 3
    assert r["broker_restarts"] >= 1 and r["mqtt"]["published"] > 0
    assert sum(v[0] for v in r["polls"].values()) > 50
    assert r["store"]["errors"] > 0 and r["store"]["saves"] > 20  # the full flash, and saves after it
