# GET /metrics: the snapshot in Prometheus' text format, version 0.0.4 (docs/api.md lists
# the metrics). Imported by its handler when /metrics is first asked (api.py), not at boot.
#
# Units are Prometheus' base units: energy in joules (the ledger's whole Wh times 3600:
# exact integers, never a float, which is single precision on an ESP32), power in watts,
# volumes in cubic metres (the litres as an exact decimal), flows in cubic metres a second.
# Made a line at a time (a generator of small chunks, gathered into writes by the server,
# made again from the same snapshot if the heap had no room for one): a scrape of a meter
# with a grid meter is ~10 KB, more than a busy heap's largest free block.
from ..grid.reading import import_total, index_name

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_J = 3600  # joules in a Wh


def esc(s):
    """A label value as the format writes it: backslash, double quote and line feed
    escaped (\\\\, \\", \\n); anything else as it is (UTF-8)."""
    s = str(s)
    if "\\" in s:
        s = s.replace("\\", "\\\\")
    if '"' in s:
        s = s.replace('"', '\\"')
    if "\n" in s:
        s = s.replace("\n", "\\n")
    return s


def sample(name, labels, v):
    """One line: name{label="value",...} value. `labels`: ((name, value), ...) or None;
    `v`: an int (bool: 0/1), a float, or a str already a number (an exact decimal)."""
    if isinstance(v, float):
        v = repr(v)
    elif not isinstance(v, str):
        v = "%d" % v
    if not labels:
        return ("%s %s\n" % (name, v)).encode()
    s = name
    sep = "{"
    for k, x in labels:
        s += '%s%s="%s"' % (sep, k, esc(x))
        sep = ","
    return ("%s} %s\n" % (s, v)).encode()


def family(name, kind, text, samples):
    """A metric's HELP and TYPE lines and its samples ((labels, value), ...), those whose
    value is None left out; nothing at all when every one is (the meter does not measure
    it: no empty family)."""
    head = True
    for labels, v in samples:
        if v is None:
            continue
        if head:
            yield ("# HELP %s %s\n# TYPE %s %s\n" % (name, text, name, kind)).encode()
            head = False
        yield sample(name, labels, v)


def _one(v):
    return ((None, v),)


def _j(wh):
    return None if wh is None else wh * _J


def _m3(litres):
    return None if litres is None else "%d.%03d" % divmod(litres, 1000)


# the counters of faults and errors: (name, help, snapshot key, key in it)
_COUNTERS = (
    ("submeter_http_rejected_total", "HTTP requests refused (too large, too many, malformed).", "errors",
     "http_rejected"),
    ("submeter_http_evicted_total", "HTTP connections closed to make room for another.", "errors", "http_evicted"),
    ("submeter_http_dropped_slow_total", "HTTP clients dropped for being too slow.", "errors", "http_dropped_slow"),
    ("submeter_http_refused_addr_total", "HTTP connections refused by address.", "errors", "http_refused_addr"),
    ("submeter_http_memory_errors_total", "HTTP answers cut short by a full heap.", "errors", "http_mem_errors"),
    ("submeter_http_memory_refused_total", "HTTP requests refused (503) for want of heap.", "errors",
     "http_mem_refused"),
    ("submeter_http_memory_retries_total", "Answer chunks made again after a full heap.", "errors",
     "http_mem_retries"),
    ("submeter_auth_failures_total", "Commands refused for a wrong password.", "errors", "auth_failures"),
    ("submeter_late_readings_total", "Metering rounds whose interval was capped (a late round).", "errors", "late"),
    ("submeter_memory_errors_total", "MemoryErrors caught in the tasks (they went on).", "mem", "errors"),
    ("submeter_flash_saves_total", "Counter saves written to flash.", "store", "saves"),
    ("submeter_flash_errors_total", "Counter saves that failed.", "store", "errors"),
    ("submeter_history_writes_total", "History records written to flash.", "history", "writes"),
    ("submeter_history_errors_total", "History writes that failed.", "history", "errors"),
    ("submeter_watchdog_resets_total", "Resets by the watchdog counted by this meter.", "boot", "watchdog_resets"),
    ("submeter_ntp_syncs_total", "Clock settings by NTP.", "ntp", "ok"),
    ("submeter_ntp_failures_total", "NTP requests that failed.", "ntp", "failed"),
    ("submeter_mqtt_connects_total", "Connections to the MQTT broker (the first and each reconnect).", "mqtt",
     "connects"),
    ("submeter_mqtt_failures_total", "MQTT sessions that failed or ended.", "mqtt", "failures"),
    ("submeter_mqtt_published_total", "MQTT state messages published.", "mqtt", "published"),
    ("submeter_mqtt_skipped_total", "MQTT state messages skipped (no room, no link).", "mqtt", "skipped"),
    ("submeter_link_events_total", "Ethernet link changes (down or up).", "net", "link_events"),
    ("submeter_sampling_rounds_total", "Metering rounds.", "sampling", "rounds"),
)
# the grid meter's port: (label kind, key in /api/state's grid)
_GRID_ERRORS = (("checksum", "checksum_errors"), ("malformed", "malformed"), ("port", "port_errors"),
                ("memory", "mem_errors"), ("reader", "errors"))


def chunks(snap, board):
    """The text of /metrics, a line (or a family's head) per chunk; `board` is the board's
    name (build_info)."""
    yield from family("submeter_build_info", "gauge", "The firmware's version and the board (always 1).",
                      (((("version", snap["version"]), ("board", board)), 1),))
    yield from family("submeter_uptime_seconds", "gauge", "Seconds since the firmware started.",
                      _one(snap["uptime_s"]))
    yield from _energy(snap)
    for name, text, key, kind in _COUNTERS:
        d = snap[key]
        yield from family(name, "counter", text, _one(d.get(kind) if d else None))
    yield from family("submeter_task_faults_total", "counter", "Exceptions caught in a task, by task (it went on).",
                      (((("task", t),), n) for t, n in sorted(snap["tasks"].items())))
    mem = snap["mem"]
    yield from family("submeter_heap_free_bytes", "gauge", "Heap free when the snapshot was made.",
                      _one(mem["free"] or None))
    yield from _volumes(snap)
    g = snap["grid"]
    if g:
        yield from _grid(g)


def _energy(snap):
    inputs = snap["inputs"]
    labels = lambda i: (("input", i["id"]), ("name", i["name"]), ("usage", i["usage"]), ("phase", i["phase"]))
    yield from family("submeter_power_watts", "gauge", "Power of all the inputs, W.", _one(snap["total_w"]))
    yield from family("submeter_energy_joules_total", "counter", "Energy of all the inputs, J (Wh x 3600).",
                      _one(_j(snap["total_wh"])))
    yield from family("submeter_input_power_watts", "gauge", "Real power of an input, W (< 0: it gives back).",
                      ((labels(i), i["w"]) for i in inputs))
    yield from family("submeter_input_current_amperes", "gauge", "RMS current of an input, A.",
                      ((labels(i), i["a"]) for i in inputs))
    yield from family("submeter_input_energy_joules_total", "counter", "Energy of an input, J (Wh x 3600).",
                      ((labels(i), _j(i["wh"])) for i in inputs))
    names = _period_names(snap)
    yield from family("submeter_input_period_energy_joules_total", "counter",
                      "Energy of an input in a tariff period (the grid meter's index), J.",
                      ((labels(i) + (("period", k + 1), ("period_name", names(k + 1))), _j(wh))
                       for i in inputs for k, wh in enumerate(i["periods_wh"])))
    yield from family("submeter_period_energy_joules_total", "counter",
                      "Energy of all the inputs in a tariff period, J.",
                      (((("period", k + 1), ("period_name", names(k + 1))), _j(wh))
                       for k, wh in enumerate(snap["periods_wh"])))
    yield from family("submeter_usage_energy_joules_total", "counter", "Energy of the inputs of a usage, J.",
                      (((("usage", u),), _j(d["wh"])) for u, d in sorted(snap["usages"].items())))
    yield from family("submeter_input_clipped_windows_total", "counter",
                      "Sampling windows of an input that touched an ADC rail (CT or burden too big).",
                      ((labels(i), i["clipped"]) for i in inputs))
    yield from family("submeter_tariff_period", "gauge", "The tariff period running (the grid meter's index, 1-).",
                      _one(snap["period"]))
    yield from family("submeter_voltage_volts", "gauge",
                      "The voltage the currents are multiplied by: the grid meter's, else the nominal one.",
                      _one(snap["voltage"]))
    yield from _own(snap, inputs, labels)


def _own(snap, inputs, labels):
    """Issue 22: with the voltage reference, each input's apparent power, power factor and
    orientation, and the mains it measures; the energy given back and the standby when
    the snapshot has them (a key absent: its family left out)."""
    mn = snap.get("mains") or {}
    ref = mn.get("reference")
    yield from family("submeter_input_apparent_power_voltamperes", "gauge",
                      "Apparent power of an input, VA (with the voltage reference).",
                      ((labels(i), i.get("va") if ref else None) for i in inputs))
    yield from family("submeter_input_power_factor", "gauge",
                      "Power factor of an input, 0-1: real over apparent power (with the voltage reference).",
                      ((labels(i), i.get("pf") if ref else None) for i in inputs))
    yield from family("submeter_input_reversed", "gauge",
                      "1: a consumption circuit reading steadily negative, its CT likely fitted backwards.",
                      ((labels(i), i.get("reversed") if ref else None) for i in inputs))
    yield from family("submeter_input_export_energy_joules_total", "counter",
                      "Energy an input gave back (solar, battery, EV), J (Wh x 3600).",
                      ((labels(i), _j(i.get("export_wh"))) for i in inputs))
    yield from family("submeter_mains_voltage_volts", "gauge", "Mains voltage from the voltage reference, V.",
                      _one(mn.get("v") if ref else None))
    yield from family("submeter_mains_frequency_hertz", "gauge", "Mains frequency from the voltage reference, Hz.",
                      _one(mn.get("hz") if ref else None))
    sb = snap.get("standby")
    if not sb:
        return
    yield from family("submeter_standby_watts", "gauge", "Standby: the night's base load of all the inputs, W.",
                      _one(sb.get("w")))
    w = sb.get("w_inputs") or ()
    yield from family("submeter_input_standby_watts", "gauge", "Standby: the night's base load of an input, W.",
                      ((labels(i), w[k] if k < len(w) else None) for k, i in enumerate(inputs)))
    y = sb.get("kwh_year")
    yield from family("submeter_standby_year_energy_joules", "gauge",
                      "Standby: the energy its base load costs in a year, J (kWh x 3600000).",
                      _one(None if y is None else round(y * 1000) * _J))
    yield from family("submeter_standby_year_cost", "gauge", "Standby: what its base load costs in a year.",
                      (((("currency", snap["currency"]),), sb.get("cost_year")),))


def _period_names(snap):
    """index -> its name as the grid meter calls it ("" when none is known)."""
    g = snap["grid"]
    r = g and g["reading"]
    return lambda k: (index_name(r, k) if r else None) or ""


def _volumes(snap):
    for kind, what in (("gas", "Gas"), ("water", "Water")):
        d = snap[kind]
        yield from family("submeter_%s_volume_cubic_meters_total" % kind, "counter",
                          "%s counted from the pulse input, m3." % what, _one(d["m3"]))
        yield from family("submeter_%s_flow_cubic_meters_per_second" % kind, "gauge",
                          "%s flow from the pulses' interval, m3/s." % what,
                          _one(d["flow_l_h"] / 3600000))
    yield from family("submeter_pulse_bounces_total", "counter", "Pulses refused as contact bounce, by input.",
                      (((("input", k),), snap[k]["bounces"]) for k in ("gas", "water")))


def _grid(g):
    yield from family("submeter_grid_frames_total", "counter", "Frames (TIC) or telegrams (P1) from the grid meter.",
                      _one(g.get("frames")))
    yield from family("submeter_grid_errors_total", "counter",
                      "Errors on the grid meter's port, by kind (checksum, malformed, port, memory, reader).",
                      (((("kind", k),), g.get(key)) for k, key in _GRID_ERRORS))
    r = g["reading"]
    if not r:
        return
    yield from family("submeter_grid_import_energy_joules_total", "counter",
                      "The grid meter's import index (its total), J.", _one(_j(import_total(r))))
    yield from family("submeter_grid_import_index_energy_joules_total", "counter",
                      "The grid meter's import index of a tariff period, J.",
                      (((("index", k + 1), ("name", index_name(r, k + 1) or "")), _j(wh))
                       for k, wh in enumerate(r.get("import_wh") or ())))
    yield from family("submeter_grid_export_energy_joules_total", "counter",
                      "The grid meter's export index (energy injected), J.", _one(_j(r.get("export_wh"))))
    yield from family("submeter_grid_export_index_energy_joules_total", "counter",
                      "The grid meter's export index of a tariff period (P1 2.8.1, 2.8.2), J.",
                      (((("index", k + 1), ("name", index_name(r, k + 1) or "")), _j(wh))
                       for k, wh in enumerate(r.get("export_tariff_wh") or ())))
    yield from family("submeter_grid_power_watts", "gauge", "Active power drawn from the grid (P1), W.",
                      _one(r.get("power_w")))
    yield from family("submeter_grid_export_power_watts", "gauge", "Active power injected into the grid (P1), W.",
                      _one(r.get("export_w")))
    yield from family("submeter_grid_apparent_power_voltamperes", "gauge", "Apparent power drawn (TIC), VA.",
                      _one(r.get("power_va")))
    yield from family("submeter_grid_voltage_volts", "gauge", "The grid meter's voltage, by phase, V.",
                      _phases(r.get("voltage_v")))
    yield from family("submeter_grid_current_amperes", "gauge", "The grid meter's current, by phase, A.",
                      _phases(r.get("current_a")))
    yield from family("submeter_grid_gas_volume_cubic_meters_total", "counter",
                      "Gas the grid meter relays (P1, M-Bus), m3.", _one(_m3(r.get("gas_l"))))
    yield from family("submeter_grid_water_volume_cubic_meters_total", "counter",
                      "Water the grid meter relays (P1, M-Bus), m3.", _one(_m3(r.get("water_l"))))


def _phases(v):
    return () if not v else (((("phase", k + 1),), x) for k, x in enumerate(v))
