# The built-in web page: readable with no JavaScript (the server fills in the figures)
# and live with it (firmware/static/app.js, served gzipped as /app.js, polls /api/state
# every 2 s and draws the history). Self-contained: no CDN, no internet.
from ..config import USAGES
from ..grid.reading import import_total, index_name, p1_power
from ..view.units import duration, kwh
from ..view.labels import alert_text, labels, notice_text


def js(s):
    """JSON of `s` (a JavaScript literal), safe inside the page's <script>."""
    import json
    return json.dumps(s).replace("<", "\\u003c")


def js_chunks(s, n=48):
    """js(s) in pieces of `n` characters' JSON each: a hint's words run to 400 characters,
    and under load the heap's largest free block is smaller than the 3-4 copies one piece
    of that size makes (measured: a page answer cut in the 3-hour soak); each piece is
    escaped on its own (JSON escapes a character at a time)."""
    yield b'"'
    for i in range(0, len(s), n):
        yield js(s[i:i + n])[1:-1].encode()
    yield b'"'


def esc(s):
    """HTML-escape any text from the meter or the config before it reaches the page."""
    s = str(s)
    for a, b in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("'", "&#39;")):
        if a in s:
            s = s.replace(a, b)
    return s


_HEAD = b"""<!doctype html><html lang="%s"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>%s</title>"""

# constant parts are sent as they are (bytes in flash when frozen): no copy in the heap
_STYLE = b"""<style>
body{font-family:system-ui,sans-serif;margin:0;padding:1em;background:#f4f5f7;color:#222}
h1{font-size:1.3em;margin:0 0 .6em}
h2{font-size:1.1em;margin:1.2em 0 .4em}
.total{font-size:2.4em;font-weight:600}
table{border-collapse:collapse;width:100%;max-width:40em;background:#fff}
th,td{padding:.45em .6em;border-bottom:1px solid #ddd;text-align:right}
th:first-child,td:first-child{text-align:left;overflow-wrap:anywhere}
td small{color:#555}
.muted{color:#777;font-size:.85em}
.warn{background:#fff3cd;border-left:4px solid #e0a800;padding:.5em .8em;max-width:40em}
#lcd{image-rendering:pixelated;background:#000;max-width:100%;height:auto}
svg{width:100%;max-width:40em;background:#fff}
svg text{font-size:12px;fill:#444}
svg:empty{display:none}
.lang{float:right;margin:.2em 0}
.legend{display:flex;flex-wrap:wrap;gap:.2em 1em;margin:.3em 0;font-size:.9em;max-width:40em}
.legend i{display:inline-block;width:.9em;height:.9em;margin-right:.3em;vertical-align:-.1em}
.f_heating{fill:#d9534f;background:#d9534f}.f_cooling{fill:#5bc0de;background:#5bc0de}
.f_hot_water{fill:#f0ad4e;background:#f0ad4e}.f_sockets{fill:#5cb85c;background:#5cb85c}.f_other{fill:#777;background:#777}
.f_run{background:repeating-linear-gradient(45deg,#bbb 0 2px,#fff 2px 4px);outline:1px dashed #333}
.note{max-width:40em;margin:.3em 0}
.cap{min-height:2.6em;max-width:40em;margin:.2em 0}
tr.x td{padding-top:0;text-align:left;color:#555}.fix{margin:.2em 0}.fix b{color:#a00}
@media(max-width:480px){body{padding:.6em}th,td{padding:.4em .25em;font-size:.9em}.total{font-size:2em}}
</style></head><body>
"""

_NAV = b"""<a id="settings_link" href="/settings?lang=%s" style="float:right;margin:.2em 0 0 1em">%s</a>
"""

_TOP = b"""<h1>%s</h1>
<p><span class="total" id="total_w">%s</span> &middot; <span id="total_kwh">%s</span> kWh
&middot; <span id="total_cost">%s</span> %s</p>
<table><thead><tr><th>%s</th><th>%s (W)</th><th>%s (A)</th><th>%s (kWh, %s)</th><th>%s (kWh, %s)</th></tr></thead><tbody>
"""

_ROW = b"""<tr id="in%s"><td>%s</td><td class="w">%s</td><td class="a">%s</td><td><span class="kwh">%s</span><br><small class="cost">%s</small></td><td><span class="part">%s</span><br><small class="pcost">%s</small></td></tr>
"""

# issue 22, slice "page": under each input's row, its power in detail (VA, pf, how it was
# found, giving back, export, standby: power_text; app.js's powerText the same), and
# "CT reversed?" with its fix, a form that works without the script (POST /form/flip; the
# script adds and removes it as the flag comes and goes: app.js fixForm, the same form)
_XROW = b"""<tr class="x" id="ix%s"><td colspan="5"><small class="pq">%s</small>"""

_FIX = b"""<form class="fix" method="post" action="/form/flip"><input type="hidden" name="input" value="%s"><input type="hidden" name="ct_flip" value="%s"><input type="hidden" name="lang" value="%s"><b>%s</b> <button>%s</button></form>"""

_MONTH = b"""</tbody></table>
<p class="muted" id="mains">%s</p><p class="muted" id="standby">%s</p>
<p><span class="muted" id="since">%s</span> <button id="reset" type="button">%s</button></p>
<h2 id="month_title">%s</h2>
<table id="month"><thead><tr><th>%s</th><th>%s (kWh)</th><th>%s (kWh)</th><th>%s (%s)</th></tr></thead><tbody>
"""

_MROW = b"""<tr id="u_%s"><td>%s</td><td class="d">%s</td><td class="m">%s</td><td class="c">%s</td></tr>
"""

_GRID = b"""</tbody></table>
<p id="volumes">%s</p>
"""

# the grid meter: a line (what it is, the period, the power, or what to check), then a
# row a figure it sends; the script rebuilds the rows (gridRows in app.js)
_GHEAD = b"""<h2>%s</h2><p id="grid"%s>%s</p>
<table id="gridt"><tbody>
"""

_GROW = b"""<tr id="g_%s"><td>%s</td><td>%s</td></tr>
"""

# a chart: its legend (the usages' names and colours, the running bar's mark), the note
# the script writes when there is no history yet, the bars, the caption of the bar tapped
_CHART = b"""<h2>%s</h2><p class="legend" id="legend_%s">%s</p><p class="note" id="note_%s"><noscript>%s</noscript></p>
<svg id="chart_%s" viewBox="0 0 600 180" role="img" aria-label="%s"></svg><p class="muted cap" id="cap_%s"></p>
"""

_TAIL = b"""<p><a href="/api/history.csv?days=400" download="days.csv">%s</a> &middot;
<a href="/api/history.csv?months=120" download="months.csv">%s</a></p>
<p class="muted"><span id="time">%s</span> &middot; %s <span id="uptime" data-s="%s">%s</span> &middot; %s V</p>
<script type="application/json" id="labels">"""

_END = b"""</script>
<script src="/pw.js" defer></script><script src="/app.js" defer></script></body></html>
"""

_PHASES = b"""<h2>%s</h2><table id="phases"><thead><tr><th></th><th>%s (A)</th><th>%s</th><th>%s (A)</th><th>%s (W)</th><th>%s</th></tr></thead><tbody>
"""

_PROW = b"""<tr id="ph%s"><td>L%s</td><td class="a">%s</td><td><meter min="0" max="%s" high="%s" value="%s"></meter> <span class="pct">%s</span></td><td class="mx">%s</td><td class="w">%s</td><td class="ct">%s</td></tr>
"""

_WARN = b"""<p class="warn">%s</p>
"""

_PW = b"""<p class="warn" id="pw_hint">%s <button id="setpw" type="button">%s</button></p>
"""

_LCD = b"""<h2>%s</h2><img id="lcd" src="/screen.png" width="256" height="128" alt="%s">
<p class="muted" id="lcd_note">%s</p>
"""

# what the script needs in the page's language
_JS_LABELS = ("gas", "water", "grid", "partial", "since", "month", "pw_q", "confirm", "new_pw", "al_phase",
              "al_overvoltage", "al_cover_opened", "al_memory_error", "al_index_refused",
              "al_lossy_resets", "al_ejp_notice", "al_overload", "al_breaker_open", "al_breaker_ready",
              "ph_hint", "h_p1_silent", "h_tic_silent", "h_silent", "h_garbled", "p1_portal", "hx_tic_veille",
              "hx_tic_pulses", "src_tic_historic", "src_tic_standard", "src_p1", "waiting", "blue", "white", "red",
              "gr_model", "gr_serial", "gr_version", "gr_prm", "gr_option", "gr_period", "gr_now", "gr_import",
              "gr_export", "gr_exp_t", "gr_power", "gr_power_x", "gr_va", "gr_va_x", "gr_demand", "gr_volts", "gr_amps", "gr_ph_w",
              "gr_ph_x", "gr_sub", "gr_cut", "gr_limiter", "gr_fuse", "gr_none", "gr_peak", "gr_peaks", "gr_pmax",
              "gr_imax", "gr_nolimit", "gr_smax", "gr_smax1", "gr_tempo", "gr_alerts", "gr_msg", "gr_gas", "gr_water",
              "gr_time", "gr_frames", "c_d", "c_src_meter", "c_src_ntp", "c_src_rtc", "c_src_set", "c_no_date",
              "c_no_days", "c_no_months", "c_so_far", "total", "today", "lcd_asleep")  # (and USAGES: a literal tuple each stays in flash, a sum would be in the heap)
_JS_PQ = ("pq_back", "pq_pf", "pq_vi", "pq_est", "pq_exp", "pq_sb", "sb_line", "sb_none", "sb_year", "mains_ref",
          "mains_none", "ct_rev", "ct_fix")  # (issue 22, slice "page")


def fill(tpl, *vals):
    """`tpl` (bytes, its slots %s) in pieces: the constant parts as views of the
    template (in flash once frozen: no copy), each value as its own small piece."""
    mv = memoryview(tpl)
    j = 0
    for v in vals:
        i = tpl.find(b"%s", j)
        if i > j:
            yield mv[j:i]
        yield str(v).encode()
        j = i + 2
    if j < len(tpl):
        yield mv[j:]


def usage_name(t, u):
    """A usage's name on the page: the panel's label, or the page's longer one where the
    panel's 16 characters made it short (French "Refroid.": "Refroidissement")."""
    return t.get("pg_" + u) or t[u]


def page_lang(query, cfg):
    """The page's language: ?lang=en|fr (a viewer's choice, no password), else the meter's."""
    for kv in query.split("&"):
        if kv[:5] == "lang=" and kv[5:] in ("en", "fr"):
            return kv[5:]
    return cfg["lang"]


def page_chunks(snap, cfg, lang=None):
    """The page in small pieces, so it is never whole in RAM (nor any large part of it);
    in `lang` (page_lang), else in the meter's language."""
    lang = lang or cfg["lang"]
    t = labels(lang)
    cur = esc(snap["currency"])
    yield from fill(_HEAD, lang, esc(t["title"]))
    yield _STYLE
    yield from fill(_NAV, lang, esc(t["settings"]))  # (the settings in the page's language)
    # the language switch: this page in the other language, this viewer's choice (the links keep it)
    yield (b'<p class="lang"><b>English</b> &middot; <a href="?lang=fr" hreflang="fr" lang="fr">Fran\xc3\xa7ais</a></p>\n'
           if lang == "en" else
           b'<p class="lang"><a href="?lang=en" hreflang="en" lang="en">English</a> &middot; <b>Fran\xc3\xa7ais</b></p>\n')
    yield from fill(_TOP, esc(t["title"]), watts(snap["total_w"]), kwh(snap["total_wh"]), "%.2f" % snap["total_cost"],
                    cur, esc(t["input"]), esc(t["power"]), esc(t["current"]), esc(t["energy"]), cur, esc(t["partial"]),
                    cur)
    en = labels("en")
    for i in snap["inputs"]:
        n = i["name"]
        if not n or n == en.get(i["usage"]):  # none, or still the default: its usage's, in this language
            n = usage_name(t, i["usage"])
        label = "%d &middot; %s" % (i["id"], esc(n))
        yield from fill(_ROW, i["id"], label, _int(i["w"]), "%.2f" % i["a"], kwh(i["wh"]),
                        "%.2f" % i["cost"], kwh(i["partial_wh"]), "%.2f" % i["partial_cost"])
        yield from fill(_XROW, i["id"], esc(power_text(snap, i, t)))
        if i.get("reversed"):  # the fix: this input's ct_flip the other way round from the config's now
            flip = i["id"] <= len(cfg["inputs"]) and cfg["inputs"][i["id"] - 1].get("ct_flip")
            yield from fill(_FIX, i["id"], 0 if flip else 1, lang, esc(t["ct_rev"]), esc(t["ct_fix"]))
        yield b"</td></tr>\n"
    since = snap["inputs"][0].get("partial_since")
    m = snap.get("month")
    day = snap.get("today")
    yield from fill(_MONTH, esc(mains_text(snap, t)), esc(standby_text(snap, t, cur)),
                    esc("%s %s %s" % (t["partial"], t["since"], since)) if since else "", esc(t["reset"]),
                    esc(month_title(snap, t)), esc(t["usage"]), esc(t["today"]), esc(t["month"]),
                    esc(t["cost"]), cur)
    for u in USAGES:
        yield from fill(_MROW, u, esc(usage_name(t, u)), kwh(day["usage"][u]["wh"]) if day else "-",
                        kwh(m["usage"][u]["wh"]) if m else "-",
                        "%.2f" % m["usage"][u]["cost"] if m else "-")
    dx = day and day.get("export_wh")
    if dx is not None:  # energy the circuits gave back (issue 22), when the ledger counts it
        mx = m and m.get("export_wh")
        yield from fill(_MROW, "export", esc(t["u_export"]), kwh(sum(dx)), kwh(sum(mx)) if mx is not None else "-", "")
    yield from fill(_GRID, esc(volume_text(snap, t)))
    g = snap.get("grid")
    if g:
        yield from fill(_GHEAD, esc(t["grid"]), ' class="warn"' if g.get("hint") else "", esc(grid_text(g, t)))
        for key, label, value in grid_rows(g, t):
            yield from fill(_GROW, key, esc(label), esc(value))
        yield b"</tbody></table>\n"
    ph = snap.get("phases")
    if ph:
        yield from phases_chunks(ph, t)
    err = snap.get("errors", {}).get("config")
    if err:
        yield from fill(_WARN, esc(err))
    for n in snap.get("notices") or ():  # a watchdog reset, the counters lost: until the next start
        yield from fill(_WARN, esc(notice_text(n, t)))
    mq = snap.get("mqtt")
    if mq and mq["state"] != "connected" and mq["last_error"]:  # why, in words (a TLS certificate refused...)
        yield from fill(_WARN, esc(t["mqtt_down"] % (mq["broker"], mq["last_error"])))
    if snap.get("password_set") is False:
        yield from fill(_PW, esc(t["pw_hint"]), esc(t["set_pw"]))
    if snap.get("panel"):  # the mirror; under it, while the display sleeps, that a press wakes it
        yield from fill(_LCD, esc(t["panel"]), esc(t["panel"]), esc(t["lcd_asleep"]) if snap["panel"] == "asleep" else "")
    tm = snap.get("time") or {}
    now = "%s (%s)" % (tm["local"], t.get("c_src_" + tm["source"], tm["source"])) if tm.get("local") else "-"
    # a chart's legend: each usage's colour (the style's .f_ classes, the bars' too) and
    # name, and the mark of the bar still counting
    leg = "".join('<span><i class="f_%s"></i>%s</span>' % (u, esc(usage_name(t, u) if u != "run" else t["c_run"]))
                  for u in USAGES + ("run",))
    for k in ("days", "months"):
        yield from fill(_CHART, esc(t[k]), k, leg, k, esc(t["c_noscript"]), k, esc(t[k]), k)
    up = snap["uptime_s"]
    yield from fill(_TAIL, esc(t["csv_days"]), esc(t["csv_months"]), esc(now), esc(t["uptime"]), up,
                    esc(duration(up, lang)), snap["voltage"])
    sep = "{"
    for keys in (_JS_LABELS, _JS_PQ, USAGES):
        for k in keys:  # the script's words, a label at a time
            yield (sep + js(k) + ":").encode()
            yield from js_chunks(usage_name(t, k) if keys is USAGES else t[k])
            sep = ","
    yield b"}"
    yield _END


# --- issue 22, slice "page": real power, its method, direction, export, standby ----------
def _int(w):
    """Whole watts, rounded as the script's Math.round (half up: -1240.5 is -1240)."""
    n = int(w + 0.5)  # (towards zero: one less below zero)
    return n - 1 if n > w + 0.5 else n


def power_text(snap, i, t):
    """The line under input i's row: giving back, VA, pf and how the power was found
    (measured against the voltage reference, or V x A x the set pf), energy given back,
    standby. Absent keys (a branch not merged, no reference) say nothing. app.js's
    powerText builds the same line."""
    out = []
    w = i.get("w")
    if w is not None and w < 0:
        out.append(t["pq_back"])
    va, pf = i.get("va"), i.get("pf")
    if va is not None:
        out.append(watts(va)[:-1] + "VA")
    if pf is not None:
        if i.get("method") == "vi":
            out.append(t["pq_pf"] % ("%.2f" % pf))
            out.append(t["pq_vi"])
        else:
            out.append(t["pq_est"] % ("%.2f" % pf))
    if i.get("export_wh"):  # (once it gave back something)
        out.append(t["pq_exp"] % (i.get("export_kwh") or kwh(i["export_wh"])))
    sb = snap.get("standby")
    ws = sb and sb.get("w_inputs")
    k = i["id"] - 1
    if ws and k < len(ws) and ws[k] is not None:
        kw, co = sb.get("kwh_year_inputs") or (), sb.get("cost_year_inputs") or ()
        s = t["pq_sb"] % watts(ws[k])
        if k < len(kw) and k < len(co) and kw[k] is not None and co[k] is not None:
            s += " (%s)" % (t["sb_year"] % ("%d" % int(kw[k] + 0.5), "%.2f" % co[k], snap["currency"]))
        out.append(s)
    return " \u00b7 ".join(out)


def mains_text(snap, t):
    """Under the inputs: the mains as the voltage reference measures it, or that none is
    fitted and the power is estimated (app.js: the same)."""
    m = snap.get("mains")
    if not m:
        return ""
    if m.get("reference"):
        return t["mains_ref"] % ("-" if m.get("v") is None else "%.1f" % m["v"],
                                 "-" if m.get("hz") is None else "%.2f" % m["hz"])
    return t["mains_none"]


def standby_text(snap, t, cur):
    """The standby line: the night's base load in total, its kWh and cost a year, the
    window and the night measured; or not measured yet; nothing without the figures
    (app.js: the same)."""
    sb = snap.get("standby")
    if not sb:
        return ""
    win = sb.get("window") or "-"
    if sb.get("w") is None:
        return t["sb_none"] % win
    return t["sb_line"] % (win, sb.get("night") or "-", watts(sb["w"]), "%d" % int((sb.get("kwh_year") or 0) + 0.5),
                           "%.2f" % (sb.get("cost_year") or 0), cur)


def watts(w):
    """Power: whole W, kW with 1 decimal from 10 kW."""
    return "%.1f kW" % (w / 1000) if abs(w) >= 10000 else "%d W" % (int(w + 0.5) if w >= 0 else -int(0.5 - w))


def month_title(snap, t):
    """This month's title, as the page's script builds it too."""
    m = snap.get("month")
    return "%s %s" % (t["month"], m["date"]) if m else t["month"]


def volume_text(snap, t):
    """Gas and water, in one line; the page's script builds the same line."""
    g = snap.get("gas")
    w = snap.get("water")
    if not g or not w:
        return ""
    return "%s %s m\u00b3 \u00b7 %s kWh \u00b7 %s %s m\u00b3" % (t["gas"], g["m3"], kwh(g["kwh"] * 1000 + 0.5), t["water"],
                                                             w["m3"])


def grid_text(g, t):
    """One line on the grid meter: what it is, the period, the power; or what to check
    when nothing valid comes. The page's script builds the same line (gridText)."""
    if not g:
        return ""
    h = g.get("hint")
    if h:  # nothing valid: what to check first
        if "hx_" + h in t:  # (a hint the panel says short, the page in full)
            return t["hx_" + h]
        lines = [x.strip() for x in t["h_" + h].split("|")]
        s = "%s: %s" % (lines[0], " ".join(lines[1:]))
        return s + " " + t["p1_portal"] if h[:2] == "p1" or h == "silent" else s
    r = g.get("reading")
    if not r:
        return "%s %s \u2026" % (t["waiting"], g.get("port") or "-")
    if r["source"] == "p1":  # as the meter shows it: P+ drawing, P- injecting
        va = p1_power(r)
    else:
        va = ("%d VA" % r["power_va"] if r.get("power_va") is not None else
              "%d W" % r["power_w"] if r.get("power_w") is not None else "-")
    return "%s \u00b7 %s \u00b7 %s%s" % (t.get("src_" + r["source"], r["source"]), r["period"] or "-", va,
                                       "".join(" \u00b7 " + alert_text(a, t) for a in r.get("alerts") or ()))


def _kwh(wh):
    return kwh(wh) + " kWh"  # (the one rule, view/units.py, with its unit)


def _w(w, unit="W"):
    """A power: W (or VA), k with 1 decimal from 10 k."""
    w = int(w)
    return "%d.%d k%s" % (divmod((w + 50) // 100, 10) + (unit,)) if w >= 10000 else "%d %s" % (w, unit)


def _num(x):
    """A figure the meter sends with decimals (P1 volts, amps), as sent (to the thousandth)."""
    m = int(round(x * 1000))
    return "%d" % (m // 1000) if m % 1000 == 0 else ("%d.%03d" % divmod(m, 1000)).rstrip("0")


def _each(v, unit):
    """Per-phase figures: '230 \u00b7 231 \u00b7 229 V'."""
    return " \u00b7 ".join("-" if x is None else _num(x) for x in v) + " " + unit


def _stamp(s):
    """A meter's time (TIC horodate 'H200214175135', P1 '261101000000W') as '2020-02-14 17:51'."""
    if not s:
        return "-"
    s = s.strip()
    if s[:1].isalpha():
        s = s[1:]
    if len(s) < 10 or not s[:10].isdigit():
        return s
    return "20%s-%s-%s %s:%s" % (s[0:2], s[2:4], s[4:6], s[6:8], s[8:10])


def grid_rows(g, t):
    """(key, label, value) of each figure the grid meter sends, in the page's words, one at
    a time (no list of them in the heap); the page's script builds the same rows (gridRows
    in app.js)."""
    r = g.get("reading") if g else None
    if not r:
        return
    for key, label, v, code in _figures(g, r, t):
        if v is not None:
            yield key, "%s (%s)" % (label, code) if code else label, v


def _figures(g, r, t):
    # (key, label, value or None: not sent, the meter's code or None), in the page's order
    g1 = r.get
    src = g1("source") or ""
    p1 = src == "p1"
    std = src == "tic_standard"
    yield "model", t["gr_model"], " \u00b7 ".join(x for x in (t.get("src_" + src, src), g1("meter_model")) if x), None
    yield "serial", t["gr_serial"], g1("meter_id"), "96.1.1" if p1 else "ADSC" if std else "ADCO"
    yield ("version", t["gr_version"], g1("meter_version"),
           ("96.1.4" if g1("tariff_option") == "BE" else "0.2.8") if p1 else "VTIC")
    sd = g1("std") or {}  # (a Linky in standard mode: SMAXSN, PCOUP, PRM...)
    yield "prm", t["gr_prm"], sd.get("prm"), None
    o = g1("tariff_option")
    if o and not p1:  # (OPTARIF BBRx: Tempo, x the output circuits' programmes)
        yield "option", t["gr_option"], "Tempo (%s)" % o if o.startswith("BBR") else o, "NGTF" if std else "OPTARIF"
    per = g1("period")
    yield "period", t["gr_period"], " ".join(per.split()) if per else None, None
    now = g1("period_index")
    for k, wh in enumerate(g1("import_wh") or ()):
        if wh is None or (not wh and k + 1 != now):  # (a Linky's unused indexes, at 0)
            continue
        name = index_name(r, k + 1)
        code = "1.8.%d" % (k + 1) if p1 else "EASF%02d" % (k + 1) if std else None
        if not name:  # (no name known: the meter's code alone)
            name, code = code or str(k + 1), None
        name = " ".join(name.split())
        yield "i%d" % (k + 1), name, _kwh(wh) + (" (%s)" % t["gr_now"] if k + 1 == now else ""), code
    v = import_total(r)
    yield "imp", t["gr_import"], None if v is None else _kwh(v), "EAST" if std else None
    for k, wh in enumerate(g1("export_tariff_wh") or ()):
        yield "x%d" % (k + 1), "%s T%d" % (t["gr_exp_t"], k + 1), None if wh is None else _kwh(wh), "2.8.%d" % (k + 1)
    v = g1("export_wh")
    yield "exp", t["gr_export"], None if v is None else _kwh(v), None if p1 else "EAIT"
    if p1:
        v = g1("power_w")
        yield "pw", t["gr_power"], None if v is None else _w(v), "1.7.0"
        v = g1("export_w")
        yield "pwx", t["gr_power_x"], None if v is None else _w(v), "2.7.0"
        v = g1("demand_w")
        yield "demand", t["gr_demand"], None if v is None else _w(v), "1.4.0"
    else:
        v = g1("power_va")
        yield "va", t["gr_va"], None if v is None else _w(v, "VA"), "SINSTS" if std else "PAPP"
        v = g1("export_va")
        yield "vax", t["gr_va_x"], None if v is None else _w(v, "VA"), "SINSTI"
    v = g1("voltage_v")
    yield "ph_v", t["gr_volts"], _each(v, "V") if v else None, None
    v = g1("current_a")
    yield "ph_a", t["gr_amps"], _each(v, "A") if v else None, None
    v = g1("power_w_phases") if p1 else g1("power_va_phases")
    yield "ph_w", t["gr_ph_w"], _each(v, "W" if p1 else "VA") if v else None, None
    v = g1("export_w_phases")
    yield "ph_x", t["gr_ph_x"], _each(v, "W") if v else None, None
    v = g1("subscribed_a")
    yield "sub", t["gr_sub"], None if v is None else "%d A" % v, "ISOUSC"
    v = g1("subscribed_kva")
    yield "pref", t["gr_sub"], None if v is None else "%d kVA" % v, "PREF"
    v = sd.get("cutoff_kva")
    yield "cut", t["gr_cut"], None if v is None else "%d kVA" % v, "PCOUP"
    v = g1("limiter_w")
    yield ("lim", t["gr_limiter"], None if v is None else _w(v) + (" (%s)" % t["gr_nolimit"] if v >= 999000 else ""),
           "17.0.0")
    v = g1("fuse_a")
    yield ("fuse", t["gr_fuse"], None if v is None else "%d A" % v + (" (%s)" % t["gr_nolimit"] if v >= 999 else ""),
           "31.4.0")
    v = g1("peak_w")
    yield "peak", t["gr_peak"], None if v is None else "%s \u00b7 %s" % (_w(v), _stamp(g1("peak_time"))), "1.6.0"
    v = g1("peak_history")
    yield "peaks", t["gr_peaks"], None if v is None else " \u00b7 ".join(
        "%s %s" % (_stamp(p["month"])[:7], "-" if p["w"] is None else _w(p["w"])) for p in v) or t["gr_none"], "98.1.0"
    v = g1("pmax_w")
    yield "pmax", t["gr_pmax"], None if v is None else _w(v), "PMAX"
    v = g1("imax_a")
    yield "imax", t["gr_imax"], _each(v, "A") if v else None, "IMAX"
    v = sd.get("smax_va")
    yield ("smax", t["gr_smax"], None if v is None else "%s \u00b7 %s" % (_w(v, "VA"), _stamp(sd.get("smax_time"))),
           "SMAXSN")
    v = sd.get("smax_prev_va")
    yield "smax1", t["gr_smax1"], None if v is None else _w(v, "VA"), "SMAXSN-1"
    a, b = g1("tempo_today"), g1("tempo_tomorrow")
    yield "tempo", t["gr_tempo"], "%s, %s" % (t[a] if a else "?", t[b] if b else "?") if a or b else None, None
    yield "alerts", t["gr_alerts"], ", ".join(alert_text(a, t) for a in g1("alerts") or ()) or t["gr_none"], None
    v = g1("messages")
    v = " \u00b7 ".join(" ".join(v[k].split()) for k in sorted(v) if v[k]) if v else None
    yield "msg", t["gr_msg"], v or None, None
    for kind in ("gas", "water"):
        v = g1(kind + "_l")
        yield kind, t["gr_" + kind], None if v is None else "%d.%03d m\u00b3 \u00b7 %s" % (
            v // 1000, v % 1000, _stamp(g1(kind + "_time"))), None
    v = g1("time")
    yield "time", t["gr_time"], _stamp(v) if v else None, "1.0.0" if p1 else "DATE"
    yield "frames", t["gr_frames"], "%d (%d)" % (g.get("frames") or 0, g.get("checksum_errors") or 0), None


def phases_chunks(ph, t):
    """The phase-balance table (three-phase installations); the script refreshes it."""
    yield from fill(_PHASES, esc(t["phases"]), esc(t["current"]), esc(t["limit"]), esc(t["max"]), esc(t["power"]),
                    esc(t["input"]))
    for p in ph["phases"]:
        c = phase_cells(ph, p)
        yield from fill(_PROW, p["n"], p["n"], c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7])
    pmax = '<p class="muted">%s: %d W</p>\n' % (esc(t["pmax"]), ph["pmax_w"]) if ph.get("pmax_w") else ""
    yield ('</tbody></table>\n%s<p id="ph_move">%s</p>\n' % (pmax, esc(move_text(ph, t)))).encode()


def phase_cells(ph, p):
    """(current, bar max, bar high, bar value, percent, max, power, inputs) of one phase's
    row, as text; the page's script fills the same cells."""
    m = ph["metered"]
    a = p["a"] if m else p["ct_a"]
    lim = ph["limit_a"]
    top = lim or max(10, a or 0)
    return ("-" if a is None else "%.1f" % a, top, 0.8 * top if lim else top, a or 0,
            "%d %%" % p["pct"] if p["pct"] is not None else "",
            _dash(p["max_a"]), _dash(p["w"]),
            "%s \u00b7 %.2f A" % (",".join(str(i) for i in p["inputs"]) or "-", p["ct_a"]))


def _dash(v):
    return "-" if v is None else v


def move_text(ph, t):
    mv = ph.get("move")
    if not mv:
        return ""
    name = mv["name"] or t.get(mv.get("usage"), mv["input"])  # no name of its own: its usage's
    return t["ph_hint"] % (mv["input"], name, mv["from"], mv["to"], mv["gap_a"], mv["after_a"])
