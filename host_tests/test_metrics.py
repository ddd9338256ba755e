# GET /metrics (net/metrics.py), on both runtimes: the Prometheus text format (0.0.4) made
# right (label values escaped: a circuit's name may hold a quote or a backslash; HELP and
# TYPE once, before a family's samples; families the meter does not measure left out),
# and its figures those of /api/state, over the in-memory server with no password. A
# parser written here reads it back; test_host_metrics.py reads it with Prometheus' own.
import sys

from httpclient import get
from submeter.net.metrics import esc, family, sample
from test_http_api import later, meter, state

NAMES = ('Four "pizza"', "C:\\chauffe-eau\\", 'a \\" b', "deux\nlignes", "S\u00e9jour \u00e9t\u00e9", "")


def unescape(s):
    out = ""
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\":
            i += 1
            c = {"\\": "\\", '"': '"', "n": "\n"}[s[i]]  # (anything else: KeyError, a failed test)
        out += c
        i += 1
    return out


def parse_line(line):
    """(name, {label: value}, value) of one sample line, label values unescaped."""
    i = 0
    while i < len(line) and line[i] not in "{ ":
        i += 1
    name = line[:i]
    labels = {}
    if line[i] == "{":
        i += 1
        while line[i] != "}":
            eq = line.index("=", i)
            key = line[i:eq]
            assert line[eq + 1] == '"', line
            j = eq + 2
            while line[j] != '"':
                j += 2 if line[j] == "\\" else 1
            assert key not in labels, line
            labels[key] = unescape(line[eq + 2:j])
            i = j + 1
            if line[i] == ",":
                i += 1
        i += 1
    assert line[i] == " " and " " not in line[i + 1:], line
    return name, labels, float(line[i + 1:])


def parse(text):
    """{family: (type, help, [(labels, value)])}, checking the format's rules on the way:
    every line ends with LF, HELP then TYPE once per family, its samples right after."""
    assert text.endswith("\n")
    fams = {}
    cur = None
    for line in text[:-1].split("\n"):
        if line.startswith("# HELP "):
            name, text_ = line[7:].split(" ", 1)
            assert name not in fams, name
            cur = name
            fams[name] = [None, text_, []]
        elif line.startswith("# TYPE "):
            name, kind = line[7:].split(" ")
            assert name == cur and fams[name][0] is None and kind in ("counter", "gauge"), line
            fams[name][0] = kind
        else:
            name, labels, v = parse_line(line)
            assert name == cur, (name, cur)
            fams[name][2].append((labels, v))
    return fams


def test_label_values_are_escaped_as_the_format_says():
    assert esc('Four "pizza"') == 'Four \\"pizza\\"'
    assert esc("C:\\eau\\") == "C:\\\\eau\\\\"
    assert esc('a \\" b') == 'a \\\\\\" b'
    assert esc("deux\nlignes") == "deux\\nlignes"
    assert esc(3) == "3" and esc("S\u00e9jour") == "S\u00e9jour"
    for n in NAMES:  # and read back as they were
        line = sample("m_total", (("name", n), ("input", 2)), 7).decode()
        assert parse_line(line[:-1]) == ("m_total", {"name": n, "input": "2"}, 7.0), line
        assert line.count("\n") == 1  # a newline in a name never ends the line


def test_values_are_written_as_numbers():
    assert sample("a", None, 12) == b"a 12\n"
    assert sample("a", None, True) == b"a 1\n"
    assert sample("a", None, 1993.4) == b"a 1993.4\n"
    assert sample("a", None, "12.345") == b"a 12.345\n"                       # an exact decimal, as made
    assert sample("a", None, 128888899200) == b"a 128888899200\n"             # joules past 2**31
    assert sample("a", (("k", "v"),), 0.0) == b'a{k="v"} 0.0\n'


def test_a_family_with_nothing_measured_is_left_out():
    assert list(family("x", "gauge", "X.", (((("p", 1),), None), ((("p", 2),), None)))) == []
    got = b"".join(family("x_total", "counter", "X.", ((None, None), ((("p", 2),), 5)))).decode()
    assert got == '# HELP x_total X.\n# TYPE x_total counter\nx_total{p="2"} 5\n'


def test_metrics_over_http_match_the_state_without_a_password():
    srv, app, clock = meter(rounds=30)
    app.set_config({"inputs": [{"name": 'Four "pizza"'}, {"name": "C:\\eau\\"}]}, False)
    later(app, clock, 2)
    status, headers, body = get(srv, "/metrics")
    assert status == 200 and headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    s = state(srv)
    fams = parse(body.decode())
    for name, (kind, text, samples) in fams.items():
        assert name.startswith("submeter_") and text and samples, name
        assert name.endswith("_total") == (kind == "counter"), name
    one = lambda name: fams[name][2][0][1]
    assert fams["submeter_build_info"][2] == [({"version": s["version"], "board": "sim"}, 1.0)]
    assert one("submeter_energy_joules_total") == s["total_wh"] * 3600 > 0
    assert one("submeter_power_watts") == s["total_w"] > 0
    rows = fams["submeter_input_energy_joules_total"][2]
    assert [r[0] for r in rows] == [{"input": str(i["id"]), "name": i["name"], "usage": i["usage"],
                                     "phase": str(i["phase"])} for i in s["inputs"]]
    assert rows[0][0]["name"] == 'Four "pizza"' and rows[1][0]["name"] == "C:\\eau\\"
    assert [r[1] for r in rows] == [i["wh"] * 3600 for i in s["inputs"]]
    assert [r[1] for r in fams["submeter_input_power_watts"][2]] == [i["w"] for i in s["inputs"]]
    per = fams["submeter_input_period_energy_joules_total"][2]
    assert sum(r[1] for r in per) == sum(sum(i["periods_wh"]) for i in s["inputs"]) * 3600
    usage = {r[0]["usage"]: r[1] for r in fams["submeter_usage_energy_joules_total"][2]}
    assert usage == {u: d["wh"] * 3600 for u, d in s["usages"].items()}
    assert round(one("submeter_gas_volume_cubic_meters_total") * 1000) == s["gas"]["l"] > 0  # (litres, exact)
    assert round(one("submeter_water_volume_cubic_meters_total") * 1000) == s["water"]["l"] > 0
    assert one("submeter_http_rejected_total") == s["errors"]["http_rejected"]
    assert one("submeter_flash_saves_total") == s["store"]["saves"]
    assert one("submeter_watchdog_resets_total") == s["boot"]["watchdog_resets"]
    assert {r[0]["task"]: r[1] for r in fams["submeter_task_faults_total"][2]} == s["tasks"]
    assert "submeter.net.metrics" not in sys.modules  # its 0.4 KB let go once the answer is made


def own_state(ref=True):
    """The simulated meter's /api/state with the figures of issue 22 put in (the voltage
    reference seen or not, the export counts and the standby the other slices add)."""
    srv, app, clock = meter(rounds=3)
    s = state(srv)
    for k, i in enumerate(s["inputs"]):
        i.update(va=i["w"] + 100.5, pf=0.871, reversed=k == 2, export_wh=(0, 12345, 0, 0, 7)[k])
    s["inputs"][1]["w"] = -850.0
    s["mains"] = {"reference": ref, "v": 231.4 if ref else None, "hz": 50.02 if ref else None}
    s["standby"] = {"w": 143.3, "kwh_year": 1254.9, "cost_year": 315.73, "w_inputs": [60.0, 0.0, 3.5, 79.8, None],
                    "kwh_year_inputs": [525.6, 0, 30.7, 699.0, None], "cost_year_inputs": [132.2, 0, 7.7, 175.8, None],
                    "window": "01:00-05:00", "night": "2026-11-27"}
    return s


def own_families(s):
    from submeter.net.metrics import chunks
    return parse(b"".join(chunks(s, "sim")).decode())


def test_real_power_pf_export_orientation_mains_and_standby_per_input():
    s = own_state()
    fams = own_families(s)
    col = lambda name: [v for _, v in fams[name][2]]  # noqa: E731
    assert col("submeter_input_power_watts")[1] == -850.0                      # a circuit giving back: signed
    assert col("submeter_input_apparent_power_voltamperes") == [float(repr(i["va"])) for i in s["inputs"]]
    near = lambda a, b: len(a) == len(b) and all(abs(x - y) < 1e-4 * max(1, abs(y)) for x, y in zip(a, b))  # noqa: E731
    assert near(col("submeter_input_power_factor"), [0.871] * 5)  # (the device's floats: single precision)
    assert col("submeter_input_reversed") == [0, 0, 1, 0, 0]
    assert fams["submeter_input_export_energy_joules_total"][0] == "counter"
    assert col("submeter_input_export_energy_joules_total") == [0, 12345 * 3600, 0, 0, 7 * 3600]
    assert fams["submeter_input_reversed"][2][2][0]["input"] == "3"
    assert near(col("submeter_mains_voltage_volts"), [231.4]) and near(col("submeter_mains_frequency_hertz"), [50.02])
    assert near(col("submeter_standby_watts"), [143.3])
    assert near(col("submeter_input_standby_watts"), [60.0, 0.0, 3.5, 79.8])  # input 5: not measured, left out
    assert col("submeter_standby_year_energy_joules") == [1254900 * 3600]
    (lab, v), = fams["submeter_standby_year_cost"][2]
    assert lab == {"currency": s["currency"]} and near([v], [315.73])
    # without the reference: no VA, pf, orientation nor mains; without the other slices' keys, nothing of theirs
    s = own_state(False)
    for i in s["inputs"]:
        del i["export_wh"]
    del s["standby"]
    fams = own_families(s)
    for name in ("submeter_input_apparent_power_voltamperes", "submeter_input_power_factor", "submeter_input_reversed",
                 "submeter_mains_voltage_volts", "submeter_mains_frequency_hertz",
                 "submeter_input_export_energy_joules_total", "submeter_standby_watts", "submeter_input_standby_watts"):
        assert name not in fams, name
    assert "submeter_input_power_watts" in fams
