# The built-in web page: readable with no JavaScript (the server fills in the figures)
# and live with it (firmware/static/app.js, served gzipped as /app.js, polls /api/state
# every 2 s and draws the history). Self-contained: no CDN, no internet.
from ..config import USAGES
from ..grid.reading import p1_power
from ..view.labels import alert_text, labels, notice_text


def js(s):
    """JSON of `s` (a JavaScript literal), safe inside the page's <script>."""
    import json
    return json.dumps(s).replace("<", "\\u003c")


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
th:first-child,td:first-child{text-align:left}
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

_MONTH = b"""</tbody></table>
<p><span class="muted" id="since">%s</span> <button id="reset" type="button">%s</button></p>
<h2 id="month_title">%s</h2>
<table id="month"><thead><tr><th>%s</th><th>%s (kWh)</th><th>%s (kWh)</th><th>%s (%s)</th></tr></thead><tbody>
"""

_MROW = b"""<tr id="u_%s"><td>%s</td><td class="d">%s</td><td class="m">%s</td><td class="c">%s</td></tr>
"""

_GRID = b"""</tbody></table>
<p id="volumes">%s</p>
<p id="grid">%s</p>
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
              "ph_hint", "h_p1_silent", "h_tic_silent", "h_silent", "h_garbled", "p1_portal",
              "c_d", "c_src_meter", "c_src_ntp", "c_src_rtc", "c_src_set", "c_no_date", "c_no_days",
              "c_no_months", "c_so_far", "total", "today", "lcd_asleep") + USAGES


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
            n = t.get(i["usage"], i["usage"])
        label = "%d &middot; %s" % (i["id"], esc(n))
        yield from fill(_ROW, i["id"], label, int(i["w"] + 0.5), "%.2f" % i["a"], kwh(i["wh"]),
                        "%.2f" % i["cost"], kwh(i["partial_wh"]), "%.2f" % i["partial_cost"])
    since = snap["inputs"][0].get("partial_since")
    m = snap.get("month")
    day = snap.get("today")
    yield from fill(_MONTH, esc("%s %s %s" % (t["partial"], t["since"], since)) if since else "", esc(t["reset"]),
                    esc(month_title(snap, t)), esc(t["usage"]), esc(t["today"]), esc(t["month"]),
                    esc(t["cost"]), cur)
    for u in USAGES:
        yield from fill(_MROW, u, esc(t[u]), kwh(day["usage"][u]["wh"]) if day else "-",
                        kwh(m["usage"][u]["wh"]) if m else "-",
                        "%.2f" % m["usage"][u]["cost"] if m else "-")
    yield from fill(_GRID, esc(volume_text(snap, t)), esc(grid_text(snap.get("grid"), t)))
    ph = snap.get("phases")
    if ph:
        yield from phases_chunks(ph, t)
    err = snap.get("errors", {}).get("config")
    if err:
        yield from fill(_WARN, esc(err))
    for n in snap.get("notices") or ():  # a watchdog reset, the counters lost: until the next start
        yield from fill(_WARN, esc(notice_text(n, t)))
    if snap.get("password_set") is False:
        yield from fill(_PW, esc(t["pw_hint"]), esc(t["set_pw"]))
    if snap.get("panel"):  # the mirror; under it, while the display sleeps, that a press wakes it
        yield from fill(_LCD, esc(t["panel"]), esc(t["panel"]), esc(t["lcd_asleep"]) if snap["panel"] == "asleep" else "")
    tm = snap.get("time") or {}
    now = "%s (%s)" % (tm["local"], t.get("c_src_" + tm["source"], tm["source"])) if tm.get("local") else "-"
    # a chart's legend: each usage's colour (the style's .f_ classes, the bars' too) and
    # name, and the mark of the bar still counting
    leg = "".join('<span><i class="f_%s"></i>%s</span>' % (u, esc(t[u] if u != "run" else t["c_run"]))
                  for u in USAGES + ("run",))
    for k in ("days", "months"):
        yield from fill(_CHART, esc(t[k]), k, leg, k, esc(t["c_noscript"]), k, esc(t[k]), k)
    up = snap["uptime_s"]
    yield from fill(_TAIL, esc(t["csv_days"]), esc(t["csv_months"]), esc(now), esc(t["uptime"]), up,
                    esc(uptime_text(up, t)), snap["voltage"])
    sep = "{"
    for k in _JS_LABELS:  # the script's words, a label at a time
        yield (sep + js(k) + ":" + js(t[k])).encode()
        sep = ","
    yield b"}"
    yield _END


def kwh(wh):
    """Energy in kWh as the panel and the script show it (Wh, whole, cut not rounded as a
    meter's index is): 3 decimals below 100 kWh, 1 below 10,000 kWh, none above."""
    wh = int(wh)
    if wh < 100000:
        return "%d.%03d" % divmod(wh, 1000)
    if wh < 10000000:
        return "%d.%d" % (wh // 1000, wh % 1000 // 100)
    return "%d" % (wh // 1000)


def watts(w):
    """Power: whole W, kW with 1 decimal from 10 kW."""
    return "%.1f kW" % (w / 1000) if abs(w) >= 10000 else "%d W" % (int(w + 0.5) if w >= 0 else -int(0.5 - w))


def uptime_text(s, t):
    """Time up in words: "3 d 4 h", "4 h 12 min", "12 min", "35 s" (French: "3 j 4 h")."""
    d, s = divmod(int(s), 86400)
    h, s = divmod(s, 3600)
    m = s // 60
    if d:
        return "%d %s %d h" % (d, t["c_d"], h)
    if h:
        return "%d h %d min" % (h, m)
    return "%d min" % m if m else "%d s" % s


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
    """One line on the grid meter; the page's script builds the same line."""
    if not g:
        return ""
    h = g.get("hint")
    if h:  # nothing valid: what to check first
        lines = [x.strip() for x in t["h_" + h].split("|")]
        s = "%s: %s: %s" % (t["grid"], lines[0], " ".join(lines[1:]))
        return s + " " + t["p1_portal"] if h[:2] == "p1" or h == "silent" else s
    r = g.get("reading")
    if not r:
        return "%s: %s \u2026" % (t["grid"], g.get("port") or "-")
    if r["source"] == "p1":  # as the meter shows it: P+ drawing, P- injecting
        va = p1_power(r)
    else:
        va = ("%d VA" % r["power_va"] if r.get("power_va") is not None else
              "%d W" % r["power_w"] if r.get("power_w") is not None else "-")
    return "%s: %s \u00b7 %s \u00b7 %s%s" % (t["grid"], r["source"], r["period"] or "-", va,
                                           "".join(" \u00b7 " + alert_text(a, t) for a in r.get("alerts") or ()))


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
