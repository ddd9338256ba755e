# Phase balance, for three-phase installations: each phase's current against what the
# contract lets one phase draw, the meter's maxima, and the CT inputs wired on each phase
# (config "phase"), so an installer can see which circuit to move to the lighter phase.
from micropython import const

NOMINAL_V = const(230)
MIN_GAP_A = const(5)     # a smaller imbalance is not worth rewiring a circuit


def limit(r, n):
    """(amps one phase may draw, where that comes from), or (None, None). ISOUSC is per
    phase (the C2000 warns, ADIR1-3, when one phase's current reaches it); PREF (kVA) is
    shared by the n phases; a P1 meter may send its fuse supervision threshold (31.4.0;
    Fluvius sends 999 A when none is set)."""
    a = r.get("subscribed_a")
    if a:
        return a, "isousc"
    kva = r.get("subscribed_kva")
    if kva:
        return round(kva * 1000 / (n * NOMINAL_V), 1), "pref"
    a = r.get("fuse_a")
    if a and a < 999:
        return a, "fuse"
    return None, None


def _three(v):
    return v if isinstance(v, list) and len(v) == 3 else None


def balance(r, inputs):
    """The phase view as a dict, or None when nothing says the installation is
    three-phase (neither the meter's currents nor an input on phase 2 or 3).
    r: the meter's reading (GridReading.to_dict()) or None; inputs: the snapshot's."""
    r = r or {}
    cur = _three(r.get("current_a"))
    if cur is None and not any(i.get("phase", 1) > 1 for i in inputs):
        return None
    lim, src = limit(r, 3)
    imax = _three(r.get("imax_a"))
    w = _three(r.get("power_w_phases")) or _three(r.get("power_va_phases"))
    x = _three(r.get("export_w_phases"))
    phases = []
    for k in range(3):
        on = [i for i in inputs if i.get("phase", 1) == k + 1]
        a = cur[k] if cur else None
        pw = None
        if w and w[k] is not None:
            pw = w[k] - ((x[k] or 0) if x else 0)  # P1: import minus export on this phase
        phases.append({"n": k + 1, "a": a, "pct": round(100 * a / lim) if lim and a is not None else None,
                       "max_a": imax[k] if imax else None, "w": pw,
                       "ct_a": round(sum(i["a"] for i in on), 2), "inputs": [i["id"] for i in on]})
    return {"limit_a": lim, "limit_from": src, "metered": cur is not None, "pmax_w": r.get("pmax_w"),
            "phases": phases, "move": _move(phases, inputs, lim, cur is not None)}


def _move(phases, inputs, lim, metered):
    """The circuit whose move from the heaviest phase to the lightest leaves them closest
    (moving I amps narrows the gap by up to 2I), when the gap and the gain are worth
    rewiring a circuit; else None."""
    vals = [(p["a"] if metered else p["ct_a"]) or 0 for p in phases]
    hi = vals.index(max(vals))
    lo = vals.index(min(vals))
    gap = vals[hi] - vals[lo]
    if gap < MIN_GAP_A or (lim and gap < 0.2 * lim):
        return None
    best = None
    for i in inputs:
        if i.get("phase", 1) == hi + 1 and i["a"] > 0:
            after = abs(gap - 2 * i["a"])
            if gap - after >= MIN_GAP_A and (best is None or after < best[0]):
                best = (after, i)
    if best is None:
        return None
    i = best[1]
    return {"input": i["id"], "name": i["name"], "usage": i.get("usage"), "from": hi + 1, "to": lo + 1,
            "gap_a": int(gap + 0.5), "after_a": int(best[0] + 0.5)}
