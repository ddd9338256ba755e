# The snapshot: one view of "now", rebuilt by the metering task after each round and
# read (never changed) by the display, the web page and, later, MQTT.
from .clock import time_str


def prices(cfg, n):
    """The price of a kWh in each of n tariff periods."""
    base = cfg["price_kwh"]
    per = cfg.get("prices_kwh") or []
    return [per[k] if k < len(per) else base for k in range(n)]


def build(cfg, ledger, channels, uptime_s, extra=None):
    """The snapshot: `extra` (a dict) with the counters' keys filled in; the caller makes
    it with every key it will hold, so that its table is made once at its size (a dict
    grown key by key is rebuilt at each step: garbage each round, and a block larger than
    the one it ends in)."""
    price = cfg["price_kwh"]
    volts = cfg["voltage"]
    since = ledger.partial_since
    used = ledger.periods_used
    tariff = prices(cfg, used)
    inputs = [None] * len(cfg["inputs"])
    total_w = 0.0
    total_wh = 0
    total_mj = 0
    total_cost = 0.0
    usages = {}                 # RT2012: the inputs of one usage add up
    periods = [0] * used        # every input's energy per tariff period
    for i, inp in enumerate(cfg["inputs"]):
        w = ledger.power[i]
        t = ledger.total[i]
        p = ledger.partial[i]
        total_w += w
        total_wh += t.wh
        total_mj += t.mj
        split = ledger.by_period[i][:used]
        cost = sum(c.kwh() * tariff[k] for k, c in enumerate(split))
        total_cost += cost
        for k, c in enumerate(split):
            periods[k] += c.wh
        u = usages.get(inp["usage"])
        if u is None:
            u = usages[inp["usage"]] = {"wh": 0, "cost": 0.0}
        u["wh"] += t.wh
        u["cost"] = round(u["cost"] + cost, 2)
        ch = channels[i]
        z = ch.zero
        inputs[i] = {
            "id": i + 1,
            "name": inp["name"],
            "usage": inp["usage"],
            "phase": inp["phase"],
            "w": round(w, 1),
            "a": round(ch.irms, 3),
            "clipped": ch.clipped,  # windows that touched an ADC rail: CT or burden too big
            "wh": t.wh,
            "kwh": t.kwh_str(),
            "periods_wh": [c.wh for c in split],
            "cost": round(cost, 2),
            "partial_kwh": p.kwh_str(),
            "partial_wh": p.wh,
            # the partial counter is not split by period: priced at the input's average
            "partial_cost": round(p.kwh() * (cost / t.kwh() if t.wh or t.mj else price), 2),
            "partial_since": time_str(since[i]) if since[i] else None,
            # the zero calibration: the smallest load told from idle (W at the nominal
            # voltage), when it was zeroed (None: never)
            "min_w": round(ch.min_a() * volts, 1),
            "zeroed": (z.get("at") or "yes") if z else None,
        }
    total_wh += total_mj // 3600000
    snap = {} if extra is None else extra
    snap["uptime_s"] = uptime_s
    if snap.get("voltage") is None:  # the grid meter's, when the caller has it
        snap["voltage"] = volts
    snap["currency"] = cfg["currency"]
    snap["total_w"] = round(total_w, 1)
    snap["total_wh"] = total_wh
    snap["total_kwh"] = "%d.%03d" % divmod(total_wh, 1000)
    snap["total_cost"] = round(total_cost, 2)
    snap["period"] = ledger.period + 1
    snap["periods_wh"] = periods
    snap["usages"] = usages
    snap["inputs"] = inputs
    return snap
