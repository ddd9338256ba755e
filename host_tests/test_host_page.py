# The page as its users read it, in Chromium (issue 20): the history charts (fixed slots,
# a legend in the page's language, today and this month marked as running, a bar's
# figures on a tap, what a fresh meter says instead of an empty chart), the language
# switch (?lang=fr: French with its accents), the page's weight (everything it loads,
# gzipped, <= 36 KB, nothing from another site) and the screenshot tool.
import gzip
import json
import os
import re
import tempfile
import urllib.request

import pytest
from fwrun import ROOT, get, kill, served, start, state_when, until
from pageshots import CHROMIUM, CHROMIUM_ARGS, shoot, write_history
from submeter.view.units import kwh
from submeter.view.labels import labels

TODAY = "2026-11-20"
DAYS = ("2026-11-16", "2026-11-17", "2026-11-19")  # closed days with a record (the 18th: none)
MONTHS = ("2026-09", "2026-10")
BUDGET = 36 * 1024  # (30 KB until issue 22 added real power, standby, the CT fix and the phase calibration)


def meter(history):
    data = tempfile.mkdtemp(prefix="submeter-page-")
    wrote = write_history(data, TODAY, days=4, months=2, skip=("2026-11-18",)) if history else {}
    proc = start(data, SUBMETER_START=TODAY + " 10:00", SUBMETER_METER="standard")
    served(proc)
    assert state_when(proc, lambda s: s["today"] and s["today"]["wh"] > 0, 30)["today"]["date"] == TODAY
    proc.wrote = wrote
    return proc


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def with_history():
    proc = meter(True)
    yield proc
    kill(proc)


@pytest.fixture(scope="module")
def fresh():
    proc = meter(False)
    yield proc
    kill(proc)


def open_page(browser, proc, width, lang):
    page = browser.new_page(viewport={"width": width, "height": 800}, locale=lang)
    page.errors = []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.goto("http://127.0.0.1:%d/?lang=%s" % (proc.port, lang))
    page.wait_for_function("document.querySelectorAll('#chart_days rect.run').length === 1 && "
                           "document.querySelectorAll('#chart_months rect.run').length === 1", timeout=15000)
    return page


def tap(page, selector):
    """A tap where the element is (the chart is drawn again as the pointer moves over it)."""
    el = page.locator(selector).first
    el.scroll_into_view_if_needed()
    box = el.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


BARS = """(id) => {
  const svg = document.getElementById(id), vb = svg.viewBox.baseVal, out = {};
  for (const r of svg.querySelectorAll("rect[data-d]")) {
    const d = r.dataset.d, x = +r.getAttribute("x"), w = +r.getAttribute("width");
    out[d] = [x, w];
  }
  const run = svg.querySelector("rect.run");
  return {width: vb.width, scale: svg.getBoundingClientRect().width / vb.width, bars: out,
          run: [+run.getAttribute("x"), +run.getAttribute("width")],
          fonts: [...svg.querySelectorAll("text")].map((t) => parseFloat(getComputedStyle(t).fontSize))};
}"""


def test_charts_have_fixed_slots_a_legend_and_running_marks(browser, with_history):
    page = open_page(browser, with_history, 390, "fr")   # a phone, in French
    try:
        for chart, slots, dates, now in (("chart_days", 31, DAYS, TODAY), ("chart_months", 12, MONTHS, "2026-11")):
            c = page.evaluate(BARS, chart)
            assert set(c["bars"]) == set(dates) | {now}, (chart, c["bars"])
            # a slot per day (month) whatever the records: the bars do not stretch to the width
            pitch = c["bars"][now][0] - c["bars"][dates[-1]][0]   # (the slot before now has a record)
            assert 0.8 * c["width"] < pitch * slots < c["width"], (chart, pitch, c["width"])
            assert c["bars"][now][1] < c["width"] / slots and len({round(w, 1) for _, w in c["bars"].values()}) == 1
            # today (this month) is the last slot, marked as still counting
            assert c["run"][0] == c["bars"][now][0] and c["bars"][now][0] == max(x for x, _ in c["bars"].values())
            # the text readable on a phone: 12 px in the SVG's units is 12 CSS px
            assert min(c["fonts"]) * c["scale"] >= 11, c
        d = page.evaluate(BARS, "chart_days")["bars"]
        step = d["2026-11-20"][0] - d["2026-11-19"][0]
        assert abs((d["2026-11-19"][0] - d["2026-11-17"][0]) - 2 * step) < 0.2   # the 18th: an empty slot
        assert abs((d["2026-11-17"][0] - d["2026-11-16"][0]) - step) < 0.2
        # the legend: every usage's name in the page's language and its colour, the running mark
        legend = page.inner_text("#legend_days")
        for word in ("Chauffage", "Eau chaude", "Prises", "Autres", "en cours"):
            assert word in legend, legend
        assert page.is_visible("#legend_days") and page.is_visible("#legend_months")
        colours = page.evaluate("""() => [...document.querySelectorAll('#legend_days i')].map((i) =>
            getComputedStyle(i).backgroundColor + '|' + getComputedStyle(i).backgroundImage)""")
        bar = page.evaluate("getComputedStyle(document.querySelector('#chart_days rect.f_heating')).fill")
        assert colours[0].split("|")[0] == bar and len(set(colours)) == 6, (colours, bar)
        assert page.inner_text("#note_days") == "" and page.inner_text("#note_months") == ""
        # a tap on a bar says its figures (nothing to hover on a phone)
        assert "en cours" in page.inner_text("#cap_days")            # at first: today so far
        tap(page, '#chart_days rect[data-d="2026-11-17"]')
        cap = page.inner_text("#cap_days")
        assert "17 nov" in cap and "Total %s kWh" % kwh(with_history.wrote["2026-11-17"]) in cap, cap
        assert "Chauffage" in cap and "en cours" not in cap
        tap(page, '#chart_months rect[data-d="2026-10"]')
        cap = page.inner_text("#cap_months")
        assert "octobre 2026" in cap and "Total %s kWh" % kwh(with_history.wrote["2026-10"]) in cap, cap
        assert page.errors == []
    finally:
        page.close()


FRENCH_ACCENTS = ("Entree", "Energie", "Cout", "Reseau", "Debit", "zero", "caracteres", "ecran", "donnee",
                  "donnees", "memoire", "Deplacer", "ecart", "Depassement", "Redemarre", "etait", "arrete",
                  "inversee", "erronees", "Rearmer", "deja", "parametres", "reglage", "enregistre", "hachuree")


def test_a_fresh_meter_says_when_its_history_begins_in_the_language_asked(browser, fresh):
    page = open_page(browser, fresh, 1280, "en")
    try:
        note = page.inner_text("#note_days")
        assert note.startswith("No history yet") and "tomorrow, Saturday, November 21" in note, note
        assert "the first on December 1, 2026" in page.inner_text("#note_months")
        for chart in ("chart_days", "chart_months"):  # no block across the width: today's slot alone
            c = page.evaluate(BARS, chart)
            assert set(c["bars"]) <= {TODAY, TODAY[:7]} and c["run"][1] < c["width"] / 10, c
        assert page.inner_text("#uptime").endswith((" s", " min")) and "(grid meter)" in page.inner_text("#time")
        assert page.errors == []
        # the language switch: a link to the same page in French, for this browser only
        page.click("text=Fran\u00e7ais")
        page.wait_for_function("document.getElementById('note_days').textContent.startsWith('Pas encore')"
                               " && document.getElementById('note_months').textContent.includes('premier')",
                               timeout=15000)  # (each note is written when its history has come: both awaited)
        assert page.url.endswith("/?lang=fr") and page.evaluate("document.documentElement.lang") == "fr"
        assert "le premier le 1 d\u00e9cembre 2026" in page.inner_text("#note_months")
        assert "(compteur)" in page.inner_text("#time")
        assert json.loads(get(fresh.port, "/api/config")[2])["lang"] == "en"   # the meter's own: unchanged
        # the page as read, and every word the script may say (its labels)
        text = page.inner_text("body") + " " + " ".join(json.loads(page.text_content("#labels")).values())
        for word in ("Energy", "Today", "Uptime", "(meter)", "Partial", "Input"):
            assert word not in text, word
        bad = [w for w in FRENCH_ACCENTS if re.search(r"\b%s\b" % w, text, re.I)]
        assert bad == [], bad
        assert page.errors == []
    finally:
        page.close()


def test_the_page_and_all_it_loads_weigh_at_most_36_kb_gzipped(fresh):
    # what a phone downloads: every page reachable from the main page, gzipped as a server
    # would send them, and every file on the meter's flash for the page (firmware/static/*.gz)
    sizes = {}
    pages = ["/"]
    for path in pages:
        html = get(fresh.port, path)[2]
        sizes[path] = len(gzip.compress(html, 9))
        text = html.decode()
        refs = re.findall(r'(?:src|href)="([^"]*)"', text)
        for r in refs:  # nothing from another site: no CDN, no font, no image from the internet
            assert r.startswith(("/", "?", "#")) and not r.startswith("//"), r
            target = r.split("?")[0].split("#")[0]
            if target.startswith("/") and not target.startswith("/api/") and "." not in target.rsplit("/", 1)[-1] \
                    and target not in pages:
                pages.append(target)   # another page of the meter's (its settings)
        for src in re.findall(r'<script src="([^"]*)"', text):
            req = urllib.request.Request("http://127.0.0.1:%d%s" % (fresh.port, src),
                                         headers={"Accept-Encoding": "gzip"})
            with urllib.request.urlopen(req, timeout=5) as r:
                assert r.headers["Content-Encoding"] == "gzip", (src, r.headers)
                body = r.read()
            name = os.path.join(ROOT, "firmware", "static", src.lstrip("/") + ".gz")
            with open(name, "rb") as f:
                assert f.read() == body, src  # served as it is on flash
    static = os.path.join(ROOT, "firmware", "static")
    served = set(p.lstrip("/") + ".html" for p in pages)  # (a page kept on flash: counted once)
    for name in sorted(os.listdir(static)):
        if name.endswith(".gz") and name[:-3] not in served:
            with open(os.path.join(static, name), "rb") as f:
                data = f.read()
            sizes[name] = len(data)
            assert b"http://" not in gzip.decompress(data) and b"https://" not in gzip.decompress(data), name
    total = sum(sizes.values())
    print("page budget (gzipped bytes): %s, total %d of %d" % (sizes, total, BUDGET))
    assert total <= BUDGET, sizes


def test_the_screenshot_tool_makes_four_pages_that_differ_by_language(browser, with_history):
    out = tempfile.mkdtemp(prefix="pageshots-")
    paths = shoot(with_history.port, out, [("en", 1280), ("en", 390), ("fr", 1280), ("fr", 390)], browser)
    assert sorted(os.path.basename(p) for p in paths) == [
        "page-en-1280.png", "page-en-390.png", "page-fr-1280.png", "page-fr-390.png"]
    data = {}
    for p in paths:
        with open(p, "rb") as f:
            data[os.path.basename(p)] = f.read()
        assert data[os.path.basename(p)][:8] == b"\x89PNG\r\n\x1a\n"
        w = int.from_bytes(data[os.path.basename(p)][16:20], "big")
        assert w == int(p[-8:-4].strip("-")), (p, w)   # as wide as the window asked for
    assert data["page-en-1280.png"] != data["page-fr-1280.png"] and data["page-en-390.png"] != data["page-fr-390.png"]


# --- issue 22, slice "page": real power, direction, export, standby, "CT reversed?" and its
# fix, with and without the script; the phase calibration on the settings page. The
# simulated board has no voltage reference yet (its power is V x A x pf, never negative,
# never flagged): the state the page reads is made so on its way (a circuit giving back,
# flagged reversed), and the firmware's own page.py renders the same made-up state for the
# page without the script; the fix itself goes to the running firmware, its config checked.
def made_up(s):
    i = s["inputs"][1]
    i.update(w=-1240.4, va=1302.0, pf=0.953, method="vi", reversed=True, export_wh=4321, export_kwh="4.321")
    s["mains"] = {"reference": True, "v": 231.24, "hz": 49.987}
    s["standby"] = {"w": 85.4, "kwh_year": 748.1, "cost_year": 188.2, "w_inputs": [40.2, None, 45.2, 0, 0],
                    "kwh_year_inputs": [352.2, None, 396, 0, 0], "cost_year_inputs": [88.6, None, 99.6, 0, 0],
                    "window": "01:00-05:00", "night": "2026-11-27"}
    s["today"]["export_wh"] = [0, 1500, 0, 0, 0]
    s["month"]["export_wh"] = [0, 4321, 0, 0, 0]
    return s


def rendered(s, lang, ct_flip=False):
    """The page page.py makes of the state `s` (the firmware's own code, on CPython)."""
    from submeter import config as cf
    from submeter.net.page import page_chunks
    cfg = cf.validate({"lang": lang})
    cfg["inputs"][1]["ct_flip"] = ct_flip
    return b"".join(bytes(c) for c in page_chunks(s, cfg, lang)).decode()


def served_text(html_text, pattern):
    import html as h
    return h.unescape(re.search(pattern, html_text).group(1))


def test_power_direction_standby_and_the_ct_fix_with_and_without_the_script(browser, fresh):
    from fwrun import password
    pw, base = password(fresh.data), "http://127.0.0.1:%d" % fresh.port
    cfg = lambda: json.loads(get(fresh.port, "/api/config")[2])
    s = made_up(json.loads(get(fresh.port, "/api/state")[2]))
    body = json.dumps(s)
    ctx = browser.new_context(viewport={"width": 390, "height": 800}, locale="en")
    page = ctx.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.route("**/api/state", lambda route: route.fulfill(status=200, content_type="application/json", body=body))
        page.goto(base + "/?lang=en")
        # live: the circuit giving back reads negative, says so, its export and the fix shown
        page.wait_for_function("document.querySelector('#in2 .w').textContent === '-1240'", timeout=10000)
        pq = page.text_content("#ix2 .pq")
        assert pq.startswith("\u2190 giving back \u00b7 1302 VA \u00b7 pf 0.95 \u00b7 measured (voltage reference)"), pq
        assert "given back 4.321 kWh" in pq
        assert page.is_visible("#ix2 form.fix") and not page.is_visible("#ix1 form.fix")
        # the script's lines are the server's (page.py) for the same state, word for word
        server = rendered(s, "en")
        for k in range(1, 6):
            assert page.text_content("#ix%d .pq" % k) == served_text(
                server, r'<tr class="x" id="ix%d"><td colspan="5"><small class="pq">(.*?)</small>' % k), k
        assert page.eval_on_selector("#ix2 form.fix", "f => f.outerHTML") == re.search(
            r'<form class="fix".*?</form>', server).group(0)   # the script's form is page.py's
        for pid in ("mains", "standby"):
            assert page.text_content("#" + pid) == served_text(server, r'<p class="muted" id="%s">(.*?)</p>' % pid)
        assert "Voltage reference: 231.2 V \u00b7 49.99 Hz" in page.text_content("#mains")
        assert page.text_content("#standby").endswith("85 W \u00b7 748 kWh \u00b7 188.20 EUR a year")
        # one click (and the meter's password): input 2's ct_flip turned, through the config
        assert cfg()["inputs"][1]["ct_flip"] is False
        page.click("#ix2 form.fix button")
        page.wait_for_selector("#pwd[open]")
        page.fill("#pwd_in", pw)
        page.click("#pwd_ok")
        until(lambda: cfg()["inputs"][1]["ct_flip"] is True, 10, "ct_flip set from the page")
        assert [c["ct_flip"] for c in cfg()["inputs"]] == [False, True, False, False, False]
        # the meter's own state again (not flagged): the fix taken away by the script
        page.unroute("**/api/state")
        page.wait_for_function("!document.querySelector('#ix2 form.fix')", timeout=10000)
        pq = page.text_content("#ix2 .pq")
        # (the simulated board has the reference: its circuits measured, none giving back)
        assert not page.is_visible("#ix2 form.fix") and "measured (voltage reference)" in pq, pq
        assert "giving back" not in pq
        assert errors == [], errors
    finally:
        ctx.close()
    # without the script: the page as the meter renders the flagged state, in French; the
    # form posts itself, the browser asks for the password (here given by the context)
    ctx = browser.new_context(java_script_enabled=False, locale="fr",
                              http_credentials={"username": "owner", "password": pw})
    page = ctx.new_page()
    try:
        page.route(base + "/?lang=fr", lambda route: route.fulfill(
            status=200, content_type="text/html; charset=utf-8", body=rendered(s, "fr", ct_flip=True)))
        page.goto(base + "/?lang=fr")
        assert page.text_content("#in2 .w") == "-1240" and "\u2190 r\u00e9injecte" in page.text_content("#ix2 .pq")
        assert page.is_visible("#ix2 form.fix") and page.text_content("#ix2 form.fix b") == "TC invers\u00e9 ?"
        # (the energy given back today and this month: a row the meter renders when the ledger counts it)
        assert page.text_content("#u_export .d") == "1.500" and page.text_content("#u_export .m") == "4.321"
        page.click("#ix2 form.fix button")
        page.wait_for_load_state()
        assert "Enregistr\u00e9 : l\u2019entr\u00e9e 2 est lue dans l\u2019autre sens." in page.text_content("body")
        assert [c["ct_flip"] for c in cfg()["inputs"]] == [False] * 5
        # the meter's own page without the script: its figures, no fix where nothing is flagged
        page.unroute(base + "/?lang=fr")
        page.goto(base + "/?lang=fr")
        assert page.text_content("#mains").startswith("R\u00e9f\u00e9rence de tension : ")
        assert not page.is_visible("#ix2 form.fix") and "mesur\u00e9e (r\u00e9f\u00e9rence de tension)" in page.text_content("#ix2 .pq")
    finally:
        ctx.close()


def test_the_settings_page_has_the_new_keys_and_calibrates_the_phase(browser, fresh):
    from fwrun import password
    base = "http://127.0.0.1:%d" % fresh.port
    asked, stage = [], [None]

    def state(route):
        r = route.fetch()
        s = r.json()
        s["phasecal"] = stage[0]
        route.fulfill(response=r, body=json.dumps(s))

    def phasecal(route):  # a stand-in for POST /api/phasecal (the lead's): what the page sends
        asked.append(json.loads(route.request.post_data))
        stage[0] = {"input": asked[-1]["input"], "progress": 40, "done": False, "phase_deg": None, "error": None}
        route.fulfill(status=200, content_type="application/json", body=json.dumps({"phasecal": asked[-1]["input"]}))
    page = browser.new_page(viewport={"width": 390, "height": 800})
    try:
        page.route("**/api/state", state)
        page.route("**/api/phasecal", phasecal)
        page.goto(base + "/settings?lang=en")
        page.wait_for_selector("#cp1")
        assert page.input_value("#f_vref_v_per_v") == "460" and page.input_value("#in0_phase_deg") == "0"
        assert page.input_value("#in3_ct_flip") == "false" and page.input_value("#in3_export") == "false"
        labels_ = page.inner_text("#g_circuits")
        assert "May give energy back (solar, battery, EV)" in labels_ and "CT read the other way round" in labels_
        page.click("#cp1")
        page.wait_for_selector("#pwd[open]")
        page.fill("#pwd_in", password(fresh.data))
        page.click("#pwd_ok")
        page.wait_for_function("document.getElementById('cq1').textContent === 'phase: 40 %'", timeout=10000)
        assert asked == [{"input": 2}] and page.text_content("#cq0") == ""
        stage[0] = {"input": 2, "progress": 100, "done": True, "phase_deg": 2.5, "error": None}
        page.wait_for_function("document.getElementById('cq1').textContent === 'phase: 2.5\u00b0'", timeout=10000)
        stage[0] = {"input": 2, "progress": 100, "done": True, "phase_deg": None, "error": "no resistive load"}
        page.wait_for_function("document.getElementById('cq1').textContent === 'phase: failed: no resistive load'",
                               timeout=10000)
        # a circuit that may give energy back, saved through the config (the password kept for the session)
        page.select_option("#in3_export", "true")
        page.click("#save")
        page.wait_for_function("document.getElementById('status').textContent.startsWith('Saved')", timeout=10000)
        assert json.loads(get(fresh.port, "/api/config")[2])["inputs"][3]["export"] is True
    finally:
        page.unroute_all(behavior="ignoreErrors")  # (a state being fetched as the page closes)
        page.close()
