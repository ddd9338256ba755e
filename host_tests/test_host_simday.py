# tools/sim/simday as a user runs it: a simulated day of the house (heating cycling, hot
# water off-peak, cooking, the car at night, idle circuits, gas and water), the Linky
# switching HP/HC at 22:00 and 06:00: every circuit metered within 0.5 % of the truth,
# per tariff period too, and every gas and water pulse counted; the day that closes at
# midnight is in the history, within 0.5 % of its truth too.
# The device measures every second; this runs at 5 s (--period-ms 5000) to fit CI's time:
# coarser readings only make the integration harder.
import json
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_a_simulated_day_within_half_a_percent():
    r = subprocess.run([os.path.join(ROOT, "tools", "sim", "simday"), "--hours", "24", "--period-ms", "5000",
                        "--start", "2026-11-23 12:00"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    day = json.loads(r.stdout)
    assert day["frames"] > 40000          # the TIC ran all day
    assert day["worst_error_pct"] <= 0.5, day
    metered_any = 0
    for inp in day["inputs"]:
        assert abs(inp["error_pct"]) <= 0.5, inp
        for truth, got in zip(inp["truth_kwh_periods"], inp["metered_kwh_periods"]):
            assert abs(got - truth) <= 0.005 * truth + 0.0005, inp   # split right at 22:00 / 06:00
        metered_any += inp["metered_kwh"] > 0
    assert metered_any >= 4                  # and the idle circuit read nothing
    assert [i["metered_kwh"] for i in day["inputs"] if i["truth_kwh"] == 0] == [0.0]
    for kind in ("gas", "water"):
        assert day[kind]["metered_l"] == day[kind]["truth_l"] > 0
    assert [d["date"] for d in day["days"]] == ["2026-11-23"], day["days"]
    for inp in day["days"][0]["inputs"]:     # noon to midnight, from the firmware's history
        assert abs(inp["error_pct"]) <= 0.5, inp
    assert day["worst_day_error_pct"] <= 0.5
