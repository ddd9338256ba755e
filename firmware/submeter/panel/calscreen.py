# The scale calibration's screens (sense/calib.py, docs/calibration.md): on a usage's
# screen, down on the zero question opens it; the input (a usage with several: up/down,
# ok), the load's watts (up/down, ok starts it); its progress, then the ratio before and
# after, or why not in words, until ok or back. Screens.cal holds the flow, [step (0 the
# input, 1 the watts, 2 measuring or its result), input (from 0), watts]. Imported at the
# first use (nothing of it in the heap at boot), let go when the user leaves the flow.
from micropython import const

from .screens import fmt_w

_W = const(128)
# the known load, set with up/down (W): first, least, most, a step
_CAL_W = const(2000)
_CAL_MIN_W = const(500)
_CAL_MAX_W = const(4000)
_CAL_STEP_W = const(100)


def _inputs(sc):
    return [k for k, i in enumerate(sc.cfg["inputs"]) if i["usage"] == sc.page]


def _leave(sc):
    import sys
    sc.cal = None  # (a calibration running goes on: a notice says its end)
    sys.modules.pop(__name__, None)  # this module let go (submeter.panel.calscreen)
    pkg = sys.modules.get(__name__.rpartition(".")[0])
    if pkg is not None and hasattr(pkg, "calscreen"):
        delattr(pkg, "calscreen")


def button(sc, name):
    """A button in the flow (or down on the zero question, which opens it): the App's
    command ("calibrate", (input from 0, watts)) once ok starts it, else None."""
    c = sc.cal
    if c is None:  # down on the zero question
        sc.zero_ask = False
        ins = _inputs(sc)
        sc.cal = [0 if len(ins) > 1 else 1, ins[0], _CAL_W]
        return None
    if c[0] == 2 or name in ("back", "back_long"):  # measuring, or its result: seen
        if name in ("ok", "back", "back_long"):
            _leave(sc)
        return None
    if name == "ok":
        c[0] += 1
        return ("calibrate", (c[1], c[2])) if c[0] == 2 else None
    step = 1 if name == "up" else -1
    if c[0] == 0:
        ins = _inputs(sc)
        c[1] = ins[(ins.index(c[1]) + step) % len(ins)]
    else:
        c[2] = min(_CAL_MAX_W, max(_CAL_MIN_W, c[2] + step * _CAL_STEP_W))
    return None


def draw(sc, d, snap, t):
    """The flow's screen; True: it uses the bottom line (no "n/N")."""
    step, k, w = sc.cal
    cal = snap.get("calibration")
    if step == 0:
        sc._title(d, t["cal"])
        sc.big.draw(d, "%s %d" % (t["input"][:6], k + 1), 0, 14)
        d.text(t["cal_pick"], 0, 34, 1)
        d.text(t["cal_keys0"], 0, 56, 1)
        return True
    if step == 1 or not cal or cal["input"] != k + 1 or cal["state"] == "running":
        sc._title(d, "%s %d" % (t["cal"], k + 1))
        sc.big.draw(d, "%d W" % w, 0, 14)
        if step == 1:
            d.text(t["cal_on"], 0, 34, 1)
            d.text(t["cal_on2"], 0, 44, 1)
            d.text(t["cal_keys1"], 0, 56, 1)
            return True
        p = cal["progress"] if cal and cal["input"] == k + 1 else 0
        d.text(t["cal_run"] % p, 0, 34, 1)
        d.rect(0, 44, _W, 7, 1)
        d.fill_rect(1, 45, (_W - 2) * p // 100, 5, 1)
        d.text(t["cal_keep"], 0, 56, 1)
        return True
    if sc.notice_text in (t["cal_done"], t["cal_bad"]):
        sc.notice_text = None  # (this screen says it)
    m = cal["measured_w"]
    if cal["state"] == "done":
        sc._title(d, "%s %d" % (t["cal_done"], k + 1))
        d.text("%s %d W" % (t["cal_true"], cal["true_w"]), 0, 13, 1)
        d.text("%s %d W" % (t["cal_read"], m), 0, 23, 1)
        d.text("%s %d>%d" % (t["cal_ratio"], cal["ratio_before"], cal["ratio_after"]), 0, 33, 1)
        ins = snap.get("inputs") or ()
        if k < len(ins):  # what the input reads now, with the new ratio
            d.text("%s %s" % (t["now"], fmt_w(ins[k]["w"])), 0, 43, 1)
    else:
        sc._title(d, t["cal_bad"])
        for n, line in enumerate(t.get("cf_" + str(cal.get("reason")), "?").split("|")):
            d.text(line, 0, 13 + 9 * n, 1)
        if m is not None:
            d.text("%s %d W" % (t["cal_read"], m), 0, 44, 1)
    d.text(t["ack"], 0, 56, 1)
    return True
