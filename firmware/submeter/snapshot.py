# The snapshot: one view of "now", rebuilt by the metering task after each round and
# read (never changed) by the display, the web page and, later, MQTT.


def prices(cfg, n):
    """The price of a kWh in each of n tariff periods."""
    base = cfg["price_kwh"]
    per = cfg.get("prices_kwh") or []
    return [per[k] if k < len(per) else base for k in range(n)]


def build(cfg, ledger, channels, uptime_s, extra=None):
    price = cfg["price_kwh"]
    used = ledger.periods_used
    tariff = prices(cfg, used)
    inputs = []
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
        inputs.append({
            "id": i + 1,
            "name": inp["name"],
            "usage": inp["usage"],
            "phase": inp["phase"],
            "w": round(w, 1),
            "a": round(channels[i].irms, 3),
            "clipped": channels[i].clipped,  # windows that touched an ADC rail: CT or burden too big
            "wh": t.wh,
            "kwh": t.kwh_str(),
            "periods_wh": [c.wh for c in split],
            "cost": round(cost, 2),
            "partial_kwh": p.kwh_str(),
            "partial_wh": p.wh,
            # the partial counter is not split by period: priced at the input's average
            "partial_cost": round(p.kwh() * (cost / t.kwh() if t.wh or t.mj else price), 2),
        })
    total_wh += total_mj // 3600000
    snap = {
        "uptime_s": uptime_s,
        "voltage": cfg["voltage"],
        "currency": cfg["currency"],
        "total_w": round(total_w, 1),
        "total_wh": total_wh,
        "total_kwh": "%d.%03d" % divmod(total_wh, 1000),
        "total_cost": round(total_cost, 2),
        "period": ledger.period + 1,
        "periods_wh": periods,
        "usages": usages,
        "inputs": inputs,
    }
    if extra:
        for k, v in extra.items():
            snap[k] = v
    return snap
