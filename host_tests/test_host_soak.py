# The whole firmware on the device model in a 112 KB heap (simulator included), three
# simulated hours at 300x (make soak: a week) from 05:00, through the morning's gas and
# showers, with the web page polled, the MQTT broker restarted, the clock's ticks
# wrapping, and every fault of tools/bench/soak.py injected in turn: TIC unplugged and noisy,
# a CT open and one saturated, the flash full, the Ethernet link down, the clock a day
# ahead. No exception escapes, no reading is lost or goes backwards, every circuit
# within 1 % of the simulated truth (3 % under 200 W on average), every pulse counted, and each fault handled as a
# user would see it (hint, counted rejections, clipping reported, the power LED).
import soakrun  # tools/bench (conftest)



def test_three_hours_of_faults_in_112_kb(tmp_path):
    r = soakrun.run(str(tmp_path), 3, start="2026-11-23 05:00", broker_every_s=12)
    assert soakrun.verdict(r) == [], soakrun.verdict(r)
    assert [f["fault"] for f in r["faults"]] == ["tic_unplugged", "tic_line_noise", "ct_open", "ct_saturated",
                                               "flash_full", "ethernet_down", "clock_jump"]
    assert r["gas"]["truth_l"] > 0 and r["water"]["truth_l"] > 0   # the morning's gas and showers
    assert r["heap"] <= 112 * 1024 and r["sim_hours"] >= 3
    assert r["broker_restarts"] >= 1 and r["mqtt"]["published"] > 0
    assert sum(v[0] for v in r["polls"].values()) > 50
    assert r["store"]["errors"] > 0 and r["store"]["saves"] > 20  # the full flash, and saves after it
