# The snapshot: one view of "now", built here and nowhere else after each metering round
# (and after a command), read (never changed) by the panel, the page, the API and MQTT.
#
# It is made from the parts' state: `src` is anything that holds the parts as attributes
# (the App: cfg, clock, ledger, meter (the metering part: channels, scales, pulses,
# rounds...), tasks (the tasks' books), panel, grid, store, history, web, mqtt, auth, ip
# and net_events (net.serve)...), read and never called back for a command. The view
# imports nothing from app.py.
import gc
import math
import sys

from .. import VERSION
from ..clock import ticks_diff, time_str
from ..kernels import taken as _kernels
from ..ledger import tariff
from ..ledger.standby import kwh_year
from .phases import balance

_mem_free = getattr(gc, "mem_free", lambda: 0)  # (MicroPython's; CPython runs the tests too)
FRESH_MS = 60000  # the grid meter's voltage is used while its frames are this recent


def build(src):
    """The snapshot, a dict made with every key it will hold at once: its table is made
    once at its size (a dict grown key by key is rebuilt at each step: garbage each round,
    and a block larger than the one it ends in)."""
    cfg = src.cfg
    m, books = src.meter, src.tasks
    led = src.ledger
    now = src.clock.ticks_ms()
    web, store, hist = src.web, src.store, src.history
    up = uptime_s(src)
    snap = {
        "version": VERSION,
        "sampling": {"kernel": _kernels["sums"], "kernels": _kernels, "rate_hz": m.rate_hz,
                     "rounds": m.rounds, "round_ms": m.round_ms[0], "round_max_ms": m.round_ms[1]},
        "errors": {"config": src.config_error, "late": led.late,
                   "http_rejected": web.rejected, "http_evicted": web.evicted,
                   "http_dropped_slow": web.dropped_slow, "http_refused_addr": web.refused_addr,
                   "http_mem_errors": web.mem_errors, "http_mem_refused": web.mem_refused,
                   "http_mem_retries": web.mem_retries, "zero": m.zero_error,
                   "auth_failures": src.auth.failures},
        "tasks": books.counts(src.grid, web, src.mqtt), "task_error": books.error,
        "mem": {"live": books.heap_live, "free": _mem_free(), "errors": books.mem_errors,
                "last_error_in": books.mem_where},
        "grid": grid_state(src.grid),
        "voltage": voltage(src.grid, cfg["voltage"], 1, now),
        # the voltage reference (docs/hardware.md): seen or not, the mains it measures
        "mains": {"reference": m.vref_on, "v": m.mains_v and round(m.mains_v, 1),
                  "hz": m.mains_hz and round(m.mains_hz, 2)},
        "store": {"saves": store.saves, "errors": store.errors,
                  "last_error": store.last_error, "seq": store.seq,
                  "restored": src.restored is not None,
                  "alert": store.alert, "recovered": store.recovered,
                  "writes_per_day": writes_per_day(src, up)},
        "history": {"writes": hist.writes, "errors": hist.errors,
                    "last_error": hist.last_error, "damaged": hist.damaged,
                    "clock_back": hist.clock_back},
        "ntp": src.ntp,
        "boot": {"cause": src.reset_cause, "watchdog_resets": src.resets, "watchdog": bool(m.wdt),
                 "slot": src.slot, "upgrade": src.upgrade, "upgrading": src.upgrading,
                 "upgrade_path": src.upgrade_path, "board": getattr(src.board, "name", None),
                 "mpy": getattr(sys.implementation, "_mpy", None)},
        "notices": src.notices,
        "uptime_s": up, "currency": cfg["currency"], "total_w": None, "total_wh": None, "total_kwh": None,
        "total_cost": None, "period": led.period + 1, "periods_wh": None, "usages": None, "inputs": None,
        "gas": None, "water": None, "adc": None, "zeroing": None, "net": None, "mqtt": None,
        "phases": None, "password_set": src.auth.initial is None, "panel": src.panel.state(),
        "restart_needed": src.restart_needed, "time": None, "today": None, "month": None,
        "calibration": m.calibration,  # the last scale calibration (sense/calib.py), None before one
        "phasecal": m.phasecal,        # the last phase calibration (sense/phasecal.py), None before one
        "standby": None,
    }
    _inputs(snap, cfg, led, m)
    _volumes(snap, cfg, led, m.pulses, now)
    snap["adc"] = _adc(m.scales, m.channels)
    snap["standby"] = standby(getattr(src, "standby", None), cfg)
    zg = m.zeroing
    snap["zeroing"] = {"inputs": [k + 1 for k in zg.inputs], "progress": zg.progress()} if zg else None
    net = src.board.net
    snap["net"] = {"ip": src.ip, "link": bool(net and net.isconnected()), "http_port": cfg["http_port"],
                   "link_events": src.net_events, "hostname": cfg["hostname"]}
    snap["mqtt"] = src.mqtt.status if src.mqtt else None
    g = snap["grid"]
    snap["phases"] = balance(g and g["reading"], snap["inputs"])
    t = src.wall.now()
    snap["time"] = {"local": time_str(t) if t is not None else None, "source": src.wall.source}
    if hist.base_day is not None:
        day = hist.live(led, cfg)
        snap["today"] = day.to_dict(True)
        snap["month"] = hist.month_so_far(led, cfg, day).to_dict(False)
    # (else no date yet: no day to count in, None)
    return snap


def uptime_s(src):
    return ticks_diff(src.clock.ticks_ms(), src.started) // 1000


def writes_per_day(src, up):
    """Flash writes a day (counters and history): measured after an hour up, else foreseen."""
    if up >= 3600:  # measured
        return (src.store.saves + src.history.writes) * 86400 // up
    return 86400 // src.cfg["save_s"] + 2  # foreseen: the schedule, and a day's two records


def voltage(grid, nominal, phase, now):
    """The grid meter's measured voltage of this phase while its frames are fresh
    (URMS1-3, 32/52/72.7.0), else the nominal voltage: the one the metering multiplies
    the currents by, and the one the snapshot shows."""
    if grid is not None and grid.last_frame_ms is not None and ticks_diff(now, grid.last_frame_ms) < FRESH_MS:
        v = grid.reading.voltage_v
        if v and len(v) >= phase and v[phase - 1]:
            return v[phase - 1]
    return nominal


def grid_state(grid):
    if grid is None:
        return None
    d = grid.state()
    d["reading"] = grid.reading.to_dict() if grid.reading.frames else None
    return d


def notices(cause, resets, store):
    """What the meter tells its owner until the next start: one list, each (kind, data),
    that the page (a line each), the panel (a tag on its home screen) and MQTT (the kinds
    in `notices`, the words in `meter_alert`) read.
      ("watchdog", the watchdog resets counted): the board was reset by its watchdog;
      ("counters_lost", {"from", "kept", "day_wh", "text"}): every copy of the counters
      was damaged (store.recovered, and store.alert's words)."""
    out = []
    if cause == "watchdog":
        out.append(("watchdog", resets))
    r = store.recovered
    if r is not None:
        out.append(("counters_lost", {"from": r["from"], "kept": r["kept"], "day_wh": r["day_wh"],
                                      "text": store.alert}))
    return out


def _inputs(snap, cfg, led, m):
    """Each input's figures and the totals. Costs: tariff.py's exact integers (billionths),
    each shown to the cent, rounded once; a usage's cost is its inputs' costs as shown,
    added (in cents), the total the sum of every input's exact cost, rounded (both as the
    float costs were)."""
    volts = cfg["voltage"]
    method = m.method()
    since = led.partial_since
    used = led.periods_used
    price = tariff.energy_prices(cfg, used)
    inputs = [None] * len(cfg["inputs"])
    total_w = 0.0
    total_wh = 0
    total_mj = 0
    total_cost = 0
    usages = {}                 # RT2012: the inputs of one usage add up
    periods = [0] * used        # every input's energy per tariff period
    for i, inp in enumerate(cfg["inputs"]):
        w = led.power[i]
        t = led.total[i]
        p = led.partial[i]
        e = led.export[i]
        total_w += w
        total_wh += t.wh
        total_mj += t.mj
        row = led.by_period[i]
        split = [0] * used
        cost = 0                # billionths: each period's energy at its price
        for k in range(used):
            c = row[k]
            split[k] = c.wh
            periods[k] += c.wh
            cost += tariff.energy_cost(c.wh, c.mj, price[k])
        total_cost += cost
        u = usages.get(inp["usage"])
        if u is None:
            u = usages[inp["usage"]] = {"wh": 0, "cost": 0}
        u["wh"] += t.wh
        u["cost"] += tariff.cents(cost)
        # the partial counter is not split by period: priced at the input's average
        if t.wh or t.mj:
            part = tariff.share(cost, p.wh * 3600000 + p.mj, t.wh * 3600000 + t.mj)
        else:
            part = tariff.energy_cost(p.wh, p.mj, tariff.micro(cfg["price_kwh"]))
        ch = m.channels[i]
        z = ch.zero
        inputs[i] = {
            "id": i + 1,
            "name": inp["name"],
            "usage": inp["usage"],
            "phase": inp["phase"],
            "w": round(w, 1),   # real power; < 0: the circuit gives back
            "a": round(ch.irms, 3),
            "va": round(m.va[i], 1),
            "pf": round(m.pf[i], 3),
            # "vi": measured against the voltage reference; "v_pf": V x A x the set pf
            "method": method,
            "reversed": m.reversed(i),  # a consumption circuit reading steadily negative
            "clipped": ch.clipped,  # windows that touched an ADC rail: CT or burden too big
            "wh": t.wh,
            "kwh": t.kwh_str(),
            "periods_wh": split,
            "cost": tariff.money(cost),
            "partial_kwh": p.kwh_str(),
            "partial_wh": p.wh,
            "partial_cost": tariff.money(part),
            "partial_since": time_str(since[i]) if since[i] else None,
            # energy given back (w < 0: a solar inverter, a battery, an EV), counted apart
            "export_wh": e.wh,
            "export_kwh": e.kwh_str(),
            "partial_export_kwh": led.export_partial[i].kwh_str(),
            # the zero calibration: the smallest load told from idle (W at the nominal
            # voltage), when it was zeroed (None: never)
            "min_w": round(ch.min_a() * volts, 1),
            "zeroed": (z.get("at") or "yes") if z else None,
        }
    for u in usages.values():
        u["cost"] = u["cost"] / 100
    total_wh += total_mj // 3600000
    snap["total_w"] = round(total_w, 1)
    snap["total_wh"] = total_wh
    snap["total_kwh"] = "%d.%03d" % divmod(total_wh, 1000)
    snap["total_cost"] = tariff.money(total_cost)
    snap["periods_wh"] = periods
    snap["usages"] = usages
    snap["inputs"] = inputs


_standby = [None, None, None]  # (the figure, its price or window, the dict made of them): made once a night


def standby(sb, cfg):
    """The night-time base load (ledger/standby.py) of the last complete night: W, kWh a
    year (W x 8.766) and its cost a year at the price of the tariff period most in force
    that night (money as the other costs: integers, to the cent), per input and in total
    (the inputs' sum); the window it was measured over and the date the night began.
    Before a night is complete: every figure None, the configured window. The same dict
    from one snapshot to the next while the figure and its price stay (nothing made)."""
    r = sb.result if sb is not None else None
    if r is None:
        key = cfg["standby_window"]
    else:
        p = r["period"]
        key = tariff.energy_prices(cfg, p + 1)[p]
    memo = _standby
    if memo[0] is r and memo[1] == key:
        return memo[2]
    if r is None:
        none = [None] * len(cfg["inputs"])
        d = {"w": None, "kwh_year": None, "cost_year": None, "w_inputs": none, "kwh_year_inputs": none,
             "cost_year_inputs": none, "window": key, "night": None}
    else:
        w = r["w"]
        total = sum(w)
        nano = tariff.energy_cost(total * 8766, 0, key)  # (8766 Wh a year for each W)
        d = {"w": total, "kwh_year": kwh_year(total), "cost_year": tariff.money(nano), "w_inputs": w,
             "kwh_year_inputs": [kwh_year(x) for x in w],
             "cost_year_inputs": [tariff.money(tariff.energy_cost(x * 8766, 0, key)) for x in w],
             "window": r["window"], "night": r["night"]}
    memo[0], memo[1], memo[2] = r, key, d
    return d


def _volumes(snap, cfg, led, pulses, now):
    """Gas and water: litres, m3, the flow from the pulses' interval, the cost."""
    since = led.partial_since
    for kind in ("gas", "water"):
        total, partial = led.gas_l if kind == "gas" else led.water_l
        p = pulses.get(kind)
        iv = p.interval_ms(now) if p else None
        m3 = "%d.%03d" % divmod(total, 1000)
        flow = round(cfg[kind + "_l_per_pulse"] * 3600000 / iv, 1) if iv else 0.0
        bounces = p.bounces if p else 0
        at = since[-2] if kind == "gas" else since[-1]
        at = time_str(at) if at else None
        if kind == "gas":  # (each dict with all its keys at once: see build)
            f = cfg["gas_kwh_per_m3"]
            snap[kind] = {"l": total, "m3": m3, "partial_l": partial, "flow_l_h": flow, "bounces": bounces,
                          "kwh": round(total / 1000 * f, 3), "partial_kwh": round(partial / 1000 * f, 3),
                          "cost": tariff.money(tariff.gas_cost(total, cfg)), "partial_since": at}
        else:
            snap[kind] = {"l": total, "m3": m3, "partial_l": partial, "flow_l_h": flow, "bounces": bounces,
                          "cost": tariff.money(tariff.water_cost(total, cfg)), "partial_since": at}


def _adc(scales, channels):
    sc = scales[0]
    adc = {"uv_per_count": round(sc.uv, 2), "source": sc.source,
           "error_pct": round(sc.err_pct, 2) if sc.err_pct is not None else None, "error": sc.error,
           "noise_a": [round(math.sqrt(ch.noise_var) * ch.amps_per_count, 3) for ch in channels]}
    if len(scales) > 1:  # inputs on two ADC units: each unit's scale (the first's above)
        adc["units"] = [{"unit": sc.unit, "uv_per_count": round(sc.uv, 2), "source": sc.source,
                         "error_pct": round(sc.err_pct, 2) if sc.err_pct is not None else None}
                        for sc in scales]
    return adc
