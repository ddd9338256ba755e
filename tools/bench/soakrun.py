# soakrun (CPython): tools/bench/soak.py on the device model (a device's 112 KB heap for the
# firmware, and the simulator's share beside it: SIM_SHARE_KB) while a client
# polls the page, the API, the screen, the history and the script as a browser would, and
# a real mosquitto is stopped and started again now and then (make soak: every 150 s, longer
# than the publisher's longest back-off); then the verdict.
# `make soak`: a simulated week (about 35 min at 300x), report in build/soak.md and
# build/soak.json; host_tests/test_host_soak.py runs a few simulated hours of the same.
import json
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import memrun  # noqa: E402  (the mosquitto launcher, free ports)

ROOT = memrun.ROOT
TOLERANCE_PCT = 1.0      # a circuit's energy against the simulated truth
# ... and for a circuit that averages under LOW_W: the simulated ADC has a real chip's
# 4-8 counts of noise (about 25-50 W of a 90 A CT), and the meter's accuracy there is
# the 3 % at 100 W (host_tests/test_ct.py), not 1 %
LOW_W = 200.0
LOW_TOLERANCE_PCT = 3.0


def tolerance(r, i):
    """The error allowed on input i's energy over run r, in %."""
    mean_w = i["truth_kwh"] * 1000 / max(r["sim_hours"], 1e-9)
    return TOLERANCE_PCT if mean_w >= LOW_W else LOW_TOLERANCE_PCT
HEAP_GROWTH_MAX = 1024   # B: the heap floor at the end against the floor after the first hours
# B: room the heap keeps at its floor (its highest hour). The week of 2026-11-27 failed with
# 11 KB: 485,271 snapshots and 184,110 UART polls found no room, the TIC not read again
# after a replug. 26 KB once MQTT no longer held an old snapshot over its sleep and the
# soak's own bytecode left the heap (frozen in the model as the firmware is).
HEAP_ROOM_MIN = 16 * 1024
# KB of heap the simulated board itself holds (the simulated house, meters and ADC: 14.8 KB
# at boot, measured by make memcheck; its grid port's buffer made at run time, 2.8 KB, where
# a device's UART ring is outside the heap), added to the device's 112 KB so the firmware
# runs in what a device gives it, rounded down (never more than a device's). Until
# 2026-11-28 the soak ran the simulator inside the 112 KB: 17 KB less for the firmware than
# a device has; with issue 21's additions the 3-hour run under CI's load then cut a page
# in one run of two or three. Issue 22's simulated mains, voltage reference and load
# shapes: 17.8 KB at boot (tools/bench/memparts.py), 20.6 with the grid port's buffer.
SIM_SHARE_KB = 20
WRITES_PER_DAY_MAX = 320  # flash writes: 288 scheduled saves, tariff changes, closed days (docs/storage.md, Flash wear)


def run(data_dir, hours, meter="standard", speed=300, heap="%dk" % (112 + SIM_SHARE_KB), faults=True, poll_s=0.2,
        broker_every_s=20, broker_down_s=3, binary="build/bin/micropython-frozen", start="2026-11-23 00:00",
        config=None):
    os.makedirs(data_dir, exist_ok=True)
    mq, port = memrun.broker(data_dir)
    # max_gap_ms: a reading spanning more than this is capped (energy lost); 30 s on a
    # device, where the loop never stalls that long. At 300x a 100 ms stall of the host
    # (another process, a collection) is 30 s of the meter's: the soak allows 2 minutes
    # (400 ms of the host's) and still counts, as `late`, any reading beyond
    memrun.flash_dir(data_dir, dict({"mqtt_host": "127.0.0.1", "mqtt_port": port, "mqtt_interval_s": 1,
                                     "max_gap_ms": 120000}, **(config or {})))
    web_port = memrun.free_port()
    env = dict(os.environ, MICROPYPATH=".frozen", SUBMETER_TERM="0", SUBMETER_DATA=".",
               SUBMETER_HTTP_PORT=str(web_port), SUBMETER_SPEED=str(speed), SUBMETER_METER=meter,
               SUBMETER_SCENARIO="house", SUBMETER_START=start)
    cmd = [os.path.join(ROOT, binary), "-X", "heapsize=" + heap, "-m", "soak", str(hours)]  # (frozen in the model)
    if not faults:
        cmd.append("--no-faults")
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=data_dir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    restarts = [0]

    def broker_restarts():
        nonlocal mq
        while proc.poll() is None:
            time.sleep(broker_every_s)
            if proc.poll() is not None:
                break
            mq.kill()
            mq.wait()
            time.sleep(broker_down_s)
            mq = memrun.broker(data_dir, port)[0]
            restarts[0] += 1

    # as a browser asks; an answer that comes back cut short is a failure (check)
    poll_thread, polls = memrun.poller(proc, web_port, poll_s, gzip=True, timeout=10, check=True)
    threads = [poll_thread, threading.Thread(target=broker_restarts, daemon=True)]
    threads[1].start()
    try:
        out = proc.communicate(timeout=hours * 3600 / speed * 1.5 + 120)[0].decode(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
    for t in threads:
        t.join(broker_every_s + broker_down_s + 15)
    mq.kill()
    mq.wait()
    r = {"faults": []}
    for line in out.splitlines():
        if line.startswith("{"):
            try:
                d = json.loads(line)
            except ValueError:
                continue  # a line cut by a crash: the verdict says the run did not finish
            for k, v in d.items():
                if k[0] == "+":
                    r.setdefault(k[1:], []).append(v)
                else:
                    r[k] = v
    r["real_s"] = round(time.monotonic() - t0)
    r["polls"] = polls
    r["poll_failures"] = dict(poll_thread.why)
    r["broker_restarts"] = restarts[0]
    r["broker_every_s"] = broker_every_s
    r["tracebacks"] = out.count("Traceback")
    r["output"] = out
    r["returncode"] = proc.returncode
    return r


def heap_growth(floors):
    """B: the heap floor's median over the last simulated day against the first day's
    (after its first hour: the caches of a fresh boot filled). A leak shows as growth;
    None for a run shorter than two days (what is in flight at a collection moves the
    floor by kilobytes from hour to hour: a few hours show no trend)."""
    if len(floors) < 48:
        return None
    med = lambda xs: sorted(xs)[len(xs) // 2]
    return med(floors[-24:]) - med(floors[1:25])


def verdict(r):
    """What failed, as sentences (empty: the soak passed)."""
    bad = []
    if r.get("returncode") != 0 or "inputs" not in r:
        bad.append("the run did not finish (exit %s): %s" % (r.get("returncode"), r["output"][-2000:]))
        return bad
    if r["tracebacks"] or r.get("exceptions"):
        bad.append("exceptions escaped: %s" % (r.get("exceptions") or r["output"][-2000:]))
    if r["sim_hours"] < r["hours"] * 0.99:
        bad.append("the run stopped after %s simulated hours of %s" % (r["sim_hours"], r["hours"]))
    if r["backwards"]:
        bad.append("energy went backwards %d times" % r["backwards"])
    if r["late"]:
        bad.append("%d readings came later than max_gap_ms (energy capped)" % r["late"])
    for f in r["faults"]:
        if not f["ok"] or not f["metering_rounds_during"]:
            bad.append("fault %s: %s" % (f["fault"], f["what"]))
    for i in r["inputs"]:
        if i["error_pct"] is not None and abs(i["error_pct"]) > tolerance(r, i):
            bad.append("input %d: %s kWh metered for %s kWh" % (i["input"], i["metered_kwh"], i["truth_kwh"]))
    for kind in ("gas", "water"):
        if r[kind]["metered_l"] != r[kind]["truth_l"]:
            bad.append("%s: %s L counted for %s L sent" % (kind, r[kind]["metered_l"], r[kind]["truth_l"]))
    g = heap_growth(r["heap_floor_by_hour"])
    if g is not None and g > HEAP_GROWTH_MAX:
        bad.append("the heap grew by %d B" % g)
    fl = [f for f in r["heap_floor_by_hour"] if f]
    if fl and r["heap"] - max(fl) < HEAP_ROOM_MIN:
        bad.append("the heap's floor left %d B of room (at least %d)" % (r["heap"] - max(fl), HEAP_ROOM_MIN))
    if r["sim_hours"] >= 24 and r["store"]["writes_per_day"] > WRITES_PER_DAY_MAX:  # (a few hours: a
        # tariff change and the clock's jump, extrapolated to a day, say nothing)
        bad.append("%d flash writes a day" % r["store"]["writes_per_day"])
    # the publisher backs off up to mqtt.BACKOFF_MAX_S (120 s) after failures in a row: a
    # broker back for less than that may be missed; one back longer must be found again
    need = r["broker_restarts"] if r.get("broker_every_s", 0) > 125 else min(1, r["broker_restarts"])
    if r["mqtt"]["connects"] < need + 1:
        bad.append("MQTT reconnected %d times for %d broker restarts" % (r["mqtt"]["connects"], r["broker_restarts"]))
    if sum(v[0] for v in r["polls"].values()) == 0:
        bad.append("the web server never answered")
    failed = {p: v[1] for p, v in r["polls"].items() if v[1]}
    if failed:  # every poll answered whole, or refused on purpose (503/429: "come back")
        bad.append("polls neither answered nor refused on purpose: %s (the last: %s; the server's: %s)" % (
            failed, r.get("poll_failures"), r.get("web")))
    return bad


def report(r):
    """The figures, as Markdown."""
    ok = sum(v[0] for v in r["polls"].values())
    fail = sum(v[1] for v in r["polls"].values())
    busy = sum(v[2] for v in r["polls"].values())
    fl = r["heap_floor_by_hour"]
    growth = heap_growth(fl)
    lines = [
        "Soak: %s simulated hours (%s s real, %sx), %s meter, %d KB heap (a device's 112 KB and the simulator's "
        "%d KB), faults %s" % (
            r["sim_hours"], r["real_s"], r["speed"], r.get("meter", "standard"), r["heap"] // 1024, SIM_SHARE_KB,
            "on" if r["faults"] else "off"),
        "",
        "| figure | measured | target |",
        "|---|---|---|",
        "| exceptions escaping a task | %d | 0 |" % (len(r.get("exceptions") or []) + r["tracebacks"]),
        "| energy going backwards / readings capped (late) | %d / %d | 0 / 0 |" % (r["backwards"], r["late"]),
        "| heap floor by simulated hour (after collections): lowest / highest; growth, last day over first | "
        "%.1f / %.1f KB; %s | flat: growth <= %d B |" % (
            min(fl or [0]) / 1024, max(fl or [0]) / 1024,
            "%d B" % growth if growth is not None else "run under two days", HEAP_GROWTH_MAX),
        "| room left at the heap's highest floor | %.1f KB | >= %d KB |" % (
            (r["heap"] - max(fl or [0])) / 1024, HEAP_ROOM_MIN // 1024),
        "| lowest free heap seen (sampled; garbage included: MicroPython collects when the heap is full) | %d B | (not a target) |" % r["low_free"],
        "| MemoryErrors the firmware caught and went on (where the last was) | %s (%s) | counted, never fatal |" % (
            r.get("mem_errors"), r.get("mem_where")),
        "| flash writes a day | %d | <= %d |" % (r["store"]["writes_per_day"], WRITES_PER_DAY_MAX),
        "| web polls answered whole / refused on purpose (503) / failed; the server's answers cut by a full heap, "
        "refused for one before they began, chunks made again | %d / %d / %d; %d, %s, %s | failed: 0 |" % (
            ok, busy, fail, r["web"]["mem_errors"], r["web"].get("mem_refused"), r["web"].get("mem_retries")),
        "| MQTT: broker restarts / reconnections / publications | %d / %d / %d | one reconnection each |" % (
            r["broker_restarts"], r["mqtt"]["connects"], r["mqtt"]["published"]),
        "| grid frames / rejected groups / port or heap errors | %d / %d / %d | |" % (
            r["grid"]["frames"], r["grid"]["checksum_errors"] + r["grid"].get("malformed", 0),
            r["grid"]["mem_errors"] + r["grid"].get("port_errors", 0)),
        "| gas / water: counted for sent | %s / %s L for %s / %s L | equal |" % (
            r["gas"]["metered_l"], r["water"]["metered_l"], r["gas"]["truth_l"], r["water"]["truth_l"]),
    ]
    for i in r["inputs"]:
        lines.append("| input %d: metered / truth | %s / %s kWh (%s) | within %.1f %% |" % (
            i["input"], i["metered_kwh"], i["truth_kwh"],
            "%+.3f %%" % i["error_pct"] if i["error_pct"] is not None else "saturated on purpose: not compared",
            tolerance(r, i)))
    lines += ["", "| fault | simulated minutes | metering rounds during it | what the firmware did | ok |",
              "|---|---|---|---|---|"]
    for f in r["faults"]:
        lines.append("| %s | %s | %d | %s | %s |" % (f["fault"], f["sim_minutes"], f["metering_rounds_during"],
                                                  f["what"], "yes" if f["ok"] else "**no**"))
    return "\n".join(lines)


def main():
    import tempfile
    hours = float(sys.argv[1]) if len(sys.argv) > 1 else 168
    binary = sys.argv[2] if len(sys.argv) > 2 else "build/bin/micropython-frozen"
    r = run(tempfile.mkdtemp(prefix="soak-"), hours, binary=binary, broker_every_s=150)
    r["meter"] = "standard"
    os.makedirs(os.path.join(ROOT, "build"), exist_ok=True)
    with open(os.path.join(ROOT, "build", "soak.log"), "w") as f:
        f.write(r["output"])
    bad = verdict(r)
    text = report(r) if "inputs" in r else "Soak: the run did not finish"
    text += "\n\n" + ("Verdict: passed" if not bad else "Verdict: FAILED\n" + "\n".join("- " + b for b in bad)) + "\n"
    print(text)
    with open(os.path.join(ROOT, "build", "soak.md"), "w") as f:
        f.write(text)
    with open(os.path.join(ROOT, "build", "soak.json"), "w") as f:
        json.dump({k: v for k, v in r.items() if k != "output"}, f)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
