# GET /metrics from the running firmware (the unix port, the simulated board), read by
# Prometheus' own Python client (prometheus_client.parser, pinned in bootstrap.sh): the
# families a fleet's dashboards use, their types and labels, and their values those of
# /api/state taken just before and just after. Two meters at once: a Linky in standard
# mode (TIC: apparent power, the indexes by the names the meter announces) and a Fluvius
# on P1 (import and export, active power, the gas relayed over M-Bus); the first
# with circuit names holding a quote and a backslash.
import json
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from fwrun import get, kill, served, start, state_when, stop

NAMES = ['Four "pizza"', "C:\\eau\\", "S\u00e9jour", "", ""]
USAGES = ["heating", "cooling", "hot_water", "sockets", "other"]
EVERY = {  # family (as the parser names it: a counter's without _total) -> type
    "submeter_build_info": "gauge", "submeter_uptime_seconds": "gauge", "submeter_power_watts": "gauge",
    "submeter_energy_joules": "counter", "submeter_input_power_watts": "gauge",
    "submeter_input_current_amperes": "gauge", "submeter_input_energy_joules": "counter",
    "submeter_input_period_energy_joules": "counter", "submeter_period_energy_joules": "counter",
    "submeter_usage_energy_joules": "counter", "submeter_voltage_volts": "gauge",
    "submeter_gas_volume_cubic_meters": "counter", "submeter_water_volume_cubic_meters": "counter",
    "submeter_gas_flow_cubic_meters_per_second": "gauge", "submeter_water_flow_cubic_meters_per_second": "gauge",
    "submeter_http_rejected": "counter", "submeter_http_memory_errors": "counter",
    "submeter_memory_errors": "counter", "submeter_flash_errors": "counter", "submeter_watchdog_resets": "counter",
    "submeter_task_faults": "counter", "submeter_grid_frames": "counter", "submeter_grid_errors": "counter",
    "submeter_grid_import_energy_joules": "counter", "submeter_grid_import_index_energy_joules": "counter",
    "submeter_grid_voltage_volts": "gauge", "submeter_grid_current_amperes": "gauge",
}
ONLY = {"standard": {"submeter_grid_apparent_power_voltamperes": "gauge"},
        "p1": {"submeter_grid_power_watts": "gauge", "submeter_grid_export_power_watts": "gauge",
               "submeter_grid_export_energy_joules": "counter",
               "submeter_grid_export_index_energy_joules": "counter",
               "submeter_grid_gas_volume_cubic_meters": "counter"}}  # (the simulated S211 relays no water)


@pytest.fixture(scope="module")
def meters(tmp_path_factory):
    procs = {}
    try:
        for m in ("standard", "p1"):
            d = tmp_path_factory.mktemp("metrics-" + m)
            # (the grid meter's protocol set: no detection to wait for)
            cfg = {"grid": "tic" if m == "standard" else "p1"}
            if m == "standard":
                cfg["inputs"] = [{"name": n, "usage": u} for n, u in zip(NAMES, USAGES)]
            (d / "config.json").write_text(json.dumps(cfg))
            procs[m] = start(d, SUBMETER_METER=m, SUBMETER_SPEED="10")  # (gas pulses sooner)
        for p in procs.values():
            served(p)
        yield procs
    finally:
        for p in procs.values():
            try:
                stop(p)
            except Exception:
                kill(p)


def scrape(proc):
    """(state before, the families by name, state after, the answer's headers and size)."""
    before = json.loads(get(proc.port, "/api/state")[2])
    status, headers, body = get(proc.port, "/metrics")
    after = json.loads(get(proc.port, "/api/state")[2])
    assert status == 200
    fams = {f.name: f for f in text_string_to_metric_families(body.decode())}
    return before, fams, after, headers, len(body)


def value(fams, family, **labels):
    got = [s.value for s in fams[family].samples if all(s.labels.get(k) == str(v) for k, v in labels.items())]
    assert len(got) == 1, (family, labels, got)
    return got[0]


def between(v, a, b):
    return min(a, b) <= v <= max(a, b)


@pytest.mark.parametrize("m", ["standard", "p1"])
def test_metrics_parse_with_the_official_client_and_match_the_state(meters, m):
    proc = meters[m]
    assert state_when(proc, lambda s: s["grid"] and s["grid"]["reading"] and s["grid"]["reading"]["frames"] >= 2
                      and s["gas"]["l"] > 0 and s["water"]["l"] > 0, 60), m
    s0, fams, s1, headers, size = scrape(proc)
    assert headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert 3000 < size < 16000, size
    want = dict(EVERY, **ONLY[m])
    assert {n: fams[n].type for n in want if n in fams} == want, sorted(set(want) - set(fams))
    for f in fams.values():
        assert f.documentation, f.name
        for smp in f.samples:
            assert smp.name == (f.name + "_total" if f.type == "counter" else f.name), smp.name
    assert value(fams, "submeter_build_info", version=s1["version"], board="sim") == 1
    # every input, labelled as the config names it (a quote and a backslash read back as they are)
    rows = fams["submeter_input_energy_joules"].samples
    assert [(r.labels["input"], r.labels["name"], r.labels["usage"]) for r in rows] == [
        (str(i["id"]), i["name"], i["usage"]) for i in s1["inputs"]]
    if m == "standard":
        assert [r.labels["name"] for r in rows] == NAMES
    for i0, i1 in zip(s0["inputs"], s1["inputs"]):
        k = i1["id"]
        assert between(value(fams, "submeter_input_energy_joules", input=k) / 3600, i0["wh"], i1["wh"])
        w = value(fams, "submeter_input_power_watts", input=k)
        assert abs(w - i1["w"]) <= max(0.05 * i1["w"], 20), (k, w, i1["w"])
    assert between(value(fams, "submeter_energy_joules") / 3600, s0["total_wh"], s1["total_wh"]) and s1["total_wh"] > 0
    for u in USAGES:
        assert between(value(fams, "submeter_usage_energy_joules", usage=u) / 3600, s0["usages"][u]["wh"],
                       s1["usages"][u]["wh"])
    for kind in ("gas", "water"):
        assert between(round(value(fams, "submeter_%s_volume_cubic_meters" % kind) * 1000), s0[kind]["l"],
                       s1[kind]["l"])
    assert value(fams, "submeter_http_rejected") == s1["errors"]["http_rejected"]
    assert value(fams, "submeter_watchdog_resets") == s1["boot"]["watchdog_resets"]
    assert value(fams, "submeter_memory_errors") == s1["mem"]["errors"]
    # the grid meter: its indexes by the names the meter gives them, its powers
    r0, r1 = s0["grid"]["reading"], s1["grid"]["reading"]
    idx = fams["submeter_grid_import_index_energy_joules"].samples
    assert len(idx) == len(r1["import_wh"])
    for k, smp in enumerate(idx):
        assert between(smp.value / 3600, r0["import_wh"][k], r1["import_wh"][k]), (k, smp)
    names = [smp.labels["name"] for smp in idx]
    if m == "p1":
        assert names[:2] == ["T1", "T2"], names
    else:  # the names the Linky gave (LTARF, for the period running when it was read: "" for one not seen)
        std = r1["std"]["names"]
        assert names[:2] == [(std[k] if k < len(std) else None) or "" for k in range(2)], (names, std)
    assert value(fams, "submeter_grid_voltage_volts", phase=1) in (r0["voltage_v"][0], r1["voltage_v"][0])
    if m == "p1":
        assert between(value(fams, "submeter_grid_export_energy_joules") / 3600, r0["export_wh"], r1["export_wh"])
        for k, name in enumerate(("T1", "T2")):
            assert between(value(fams, "submeter_grid_export_index_energy_joules", index=k + 1, name=name) / 3600,
                           r0["export_tariff_wh"][k], r1["export_tariff_wh"][k])
        assert value(fams, "submeter_grid_power_watts") in (r0["power_w"], r1["power_w"])
        assert between(round(value(fams, "submeter_grid_gas_volume_cubic_meters") * 1000), r0["gas_l"], r1["gas_l"])
    else:
        assert value(fams, "submeter_grid_apparent_power_voltamperes") in (r0["power_va"], r1["power_va"])


def test_metrics_need_no_password_and_answer_quickly(meters):
    proc = meters["standard"]
    t0 = time.monotonic()
    for _ in range(5):
        assert get(proc.port, "/metrics")[0] == 200
    ms = (time.monotonic() - t0) / 5 * 1000
    assert ms < 1000, ms  # (the unix port; made between metering rounds, a line at a time)
    assert get(proc.port, "/api/state")[0] == 200  # the meter still answers after the scrapes


def test_the_figures_of_the_voltage_reference_and_the_standby_parse_with_the_official_client():
    # issue 22 (the simulated board has no reference yet: a snapshot with its figures put in)
    from submeter.net.metrics import chunks
    from test_metrics import own_state
    s = own_state()
    fams = {f.name: f for f in text_string_to_metric_families(b"".join(chunks(s, "sim")).decode())}
    want = {"submeter_input_apparent_power_voltamperes": "gauge", "submeter_input_power_factor": "gauge",
            "submeter_input_reversed": "gauge", "submeter_input_export_energy_joules": "counter",
            "submeter_mains_voltage_volts": "gauge", "submeter_mains_frequency_hertz": "gauge",
            "submeter_standby_watts": "gauge", "submeter_input_standby_watts": "gauge",
            "submeter_standby_year_energy_joules": "gauge", "submeter_standby_year_cost": "gauge"}
    assert {n: fams[n].type for n in want if n in fams} == want, sorted(set(want) - set(fams))
    assert value(fams, "submeter_input_power_watts", input=2) == -850.0
    assert value(fams, "submeter_input_export_energy_joules", input=2) == 12345 * 3600
    assert value(fams, "submeter_input_reversed", input=3) == 1 and value(fams, "submeter_input_power_factor", input=1) == 0.871
    assert value(fams, "submeter_mains_frequency_hertz") == 50.02
    assert value(fams, "submeter_standby_year_cost", currency=s["currency"]) == 315.73
