# The page shows every input's figures and escapes text from the config.
from submeter import config
from submeter.net.page import esc, page_chunks


def page_html(s, cfg):
    """The page as a browser gets it: its pieces (bytes, or views of the templates) in a row."""
    out = bytearray()
    for c in page_chunks(s, cfg):
        assert len(c) <= 512 or bytes(c).startswith(b"<style>"), bytes(c)  # only the style, from flash, is long
        out += c
    return out.decode()


def snap(names):
    return {
        "uptime_s": 12, "voltage": 230.0, "currency": "EUR", "total_w": 3456.7,
        "total_wh": 1234, "total_kwh": "1.234", "total_cost": 0.31,
        "inputs": [{"id": i + 1, "name": n, "usage": "other", "w": 100.0 * (i + 1), "a": 0.43 * (i + 1),
                    "wh": 10, "kwh": "0.010", "cost": 0.0, "partial_kwh": "0.00%d" % i, "partial_wh": i,
                    "partial_cost": 0.25 * i}
                   for i, n in enumerate(names)],
    }


def test_escape():
    assert esc('<b a="1">&\'') == "&lt;b a=&quot;1&quot;&gt;&amp;&#39;"


def test_page_shows_inputs_and_escapes_names():
    cfg = config.validate({})
    names = ["Heating", "<script>alert(1)</script>", "Eau chaude", "", "A&B"]
    html = page_html(snap(names), cfg)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "A&amp;B" in html
    for i in range(5):
        assert '<tr id="in%d">' % (i + 1) in html
        assert '<td class="w">%d</td>' % (100 * (i + 1)) in html
    assert "3457 W" in html and "1.234" in html


def test_page_in_french():
    cfg = config.validate({"lang": "fr"})
    html = page_html(snap(["a"] * 5), cfg)
    assert 'lang="fr"' in html and "Puissance" in html


def test_inputs_without_a_name_show_their_usage_in_the_meters_language():
    # the defaults have no names; a config saved with the old English defaults reads the
    # same; a name of the owner's own is kept in any language
    old = [{"name": n, "usage": u} for n, u in zip(("Heating", "Cooling", "Hot water", "Sockets", "Other"),
                                                     config.USAGES)]
    old[4]["name"] = "Garage"
    old[3]["usage"] = "other"                       # "Sockets" on an input now "other": the owner's name
    for doc in ({"lang": "fr"}, {"lang": "fr", "inputs": old}):
        cfg = config.validate(doc)
        s = snap([i["name"] for i in cfg["inputs"]])
        for i, inp in zip(s["inputs"], cfg["inputs"]):
            i["usage"] = inp["usage"]
        html = page_html(s, cfg)
        assert "1 &middot; Chauffage</td>" in html and "3 &middot; Eau chaude</td>" in html
        # the page has room for the word the panel cuts short: no "Refroid." on it
        assert "2 &middot; Refroidissement</td>" in html and "Refroid." not in html
        assert "Heating" not in html and "Hot water" not in html
    assert "4 &middot; Sockets</td>" in html and "5 &middot; Garage</td>" in html
    assert cfg["inputs"][0]["name"] == "" and cfg["inputs"][3]["name"] == "Sockets"
    assert config.validate({})["inputs"][2]["name"] == ""


def test_the_mirror_says_when_the_display_sleeps():
    s = snap(["a"] * 5)
    s["panel"] = "on"
    html = page_html(s, config.validate({}))
    assert '<img id="lcd"' in html and '<p class="muted" id="lcd_note"></p>' in html
    s["panel"] = "asleep"
    html = page_html(s, config.validate({"lang": "fr"}))
    assert "<p class=\"muted\" id=\"lcd_note\">L\u2019\u00e9cran est en veille : un appui sur un bouton le r\u00e9veille.</p>" in html
    s["panel"] = None                               # no display: no mirror
    assert 'id="lcd"' not in page_html(s, config.validate({}))


def test_page_warns_when_the_config_file_was_ignored():
    cfg = config.validate({})
    s = snap(["a"] * 5)
    html = page_html(s, cfg)
    assert 'class="warn"' not in html
    s["errors"] = {"config": "config.json ignored: voltage: <5000> is outside 90..480"}
    html = page_html(s, cfg)
    assert '<p class="warn">config.json ignored: voltage: &lt;5000&gt; is outside 90..480</p>' in html


def test_page_shows_the_grid_meter():
    cfg = config.validate({})
    s = snap(["a"] * 5)
    s["grid"] = {"port": "tic_standard", "reading": {"source": "tic_standard", "period": "HEURE <CREUSE>",
                                                     "power_va": 2840, "overload": True,
                                                     "alerts": ["phase_lost_2", "overload"]}}
    html = page_html(s, cfg)
    assert ('<h2>Grid meter</h2><p id="grid">TIC, standard mode \u00b7 HEURE &lt;CREUSE&gt; \u00b7 2840 VA \u00b7 '
            'Phase 2 lost \u00b7 Overload</p>') in html
    assert '<tr id="g_alerts"><td>Alerts</td><td>Phase 2 lost, Overload</td></tr>' in html


def test_page_shows_a_p1_meter_in_watts():
    # P+ drawing from the grid, P- injecting, as the Fluvius meter's own display says
    cfg = config.validate({})
    s = snap(["a"] * 5)
    s["grid"] = {"port": "p1", "reading": {"source": "p1", "period": "T1", "power_va": None,
                                           "power_w": 4360, "export_w": 0, "overload": False}}
    html = page_html(s, cfg)
    assert ">P1 port \u00b7 T1 \u00b7 P+ 4360 W</p>" in html
    s["grid"]["reading"].update({"power_w": 0, "export_w": 1520, "alerts": ["breaker_open"]})
    html = page_html(s, cfg)
    assert ">P1 port \u00b7 T1 \u00b7 P- 1520 W \u00b7 Breaker open</p>" in html


def test_page_says_what_to_check_when_the_p1_port_is_silent():
    s = snap(["a"] * 5)
    s["grid"] = {"port": "p1", "hint": "p1_silent", "reading": None}
    html = page_html(s, config.validate({}))
    assert ('<p id="grid" class="warn">No P1 data: 1 port opened at grid operator? 2 cable plugged? 3 Data Request? '
            "In Belgium Fluvius keeps the P1 port closed until you open it on Mijn Fluvius") in html
    s["grid"]["hint"] = "garbled"
    html = page_html(s, config.validate({"lang": "fr"}))
    assert '<p id="grid" class="warn">Donn\u00e9es erron\u00e9es: 1 c\u00e2ble, bruit ? 2 mode compteur? 3 ligne invers\u00e9e</p>' in html


def test_page_shows_the_phase_balance():
    from submeter.view.phases import balance
    s = snap(["Heating", "Cooling", "Water", "Sockets", "Other"])
    for i, ph in zip(s["inputs"], (1, 1, 2, 3, 3)):
        i["phase"] = ph
    s["inputs"][1]["a"] = 9.0
    html = page_html(s, config.validate({}))
    assert 'id="phases"' not in html     # the snapshot has no phase view: no table
    r = {"current_a": [24.0, 4.0, 10.0], "fuse_a": 40, "power_w_phases": [5400, 900, 2300],
         "export_w_phases": [0, 0, 100]}
    s["phases"] = balance(r, s["inputs"])
    html = page_html(s, config.validate({}))
    assert html.index('<p id="volumes">') < html.index('<table id="phases">') < html.index('id="chart_days"')
    assert ('<tr id="ph3"><td>L3</td><td class="a">10.0</td><td><meter min="0" max="40" high="32.0" '
            'value="10.0"></meter> <span class="pct">25 %</span></td><td class="mx">-</td>'
            '<td class="w">2200</td><td class="ct">4,5 \u00b7 3.87 A</td></tr>') in html
    assert ('<p id="ph_move">Move input 2 (Cooling) from L1 to L2: 20 A apart now, 2 A after</p>') in html
    assert "PMAX" not in html
    s["inputs"][1]["name"] = ""    # no name of its own: its usage's label, in the meter's language
    fr = page_html(dict(s, phases=balance(r, s["inputs"])), config.validate({"lang": "fr"}))
    assert "D\u00e9placer l\u2019entr\u00e9e 2 (Autres) de L1 vers L2" in fr
    r.update({"pmax_w": 11250, "imax_a": [30, 21, 29]})    # a SAGEM C2000-4's maxima
    s["phases"] = balance(r, s["inputs"])
    html = page_html(s, config.validate({}))
    assert '<td class="mx">29</td>' in html and "Highest power the meter has seen (PMAX): 11250 W" in html


def test_page_shows_gas_and_water():
    s = snap(["a"] * 5)
    s["gas"] = {"m3": "92.287", "kwh": 1033.6}
    s["water"] = {"m3": "8.579"}
    html = page_html(s, config.validate({"lang": "fr"}))
    assert "Gaz 92.287 m\u00b3 \u00b7 1033.6 kWh \u00b7 Eau 8.579 m\u00b3" in html


def month(scale):
    usage = {}
    for k, u in enumerate(config.USAGES):
        usage[u] = {"wh": scale * (k + 1) * 1000, "cost": scale * (k + 1) * 0.25}
    return {"date": "2026-11", "wh": scale * 15000, "cost": scale * 3.75, "usage": usage}


def test_page_shows_the_month_by_usage_and_the_partials():
    cfg = config.validate({})
    s = snap(["a"] * 5)
    s["month"] = month(10)
    s["today"] = month(1)
    s["inputs"][0]["partial_since"] = "2026-11-02 08:15"
    html = page_html(s, cfg)
    assert "This month 2026-11" in html
    # RT2012: each usage's kWh today, this month, and the month's cost
    assert '<tr id="u_hot_water"><td>Hot water</td><td class="d">3.000</td><td class="m">30.000</td><td class="c">7.50</td></tr>' in html
    assert '<span class="part">0.003</span>' in html                      # input 4's partial counter
    assert "Partial since 2026-11-02 08:15" in html and 'id="reset"' in html
    s["month"] = s["today"] = None                                    # no date known yet
    html = page_html(s, cfg)
    assert '<tr id="u_heating"><td>Heating</td><td class="d">-</td><td class="m">-</td>' in html


def test_the_pages_script_is_in_the_page_and_fresh_on_flash():
    import os
    s = snap(["a"] * 5)
    s["panel"] = True
    html = page_html(s, config.validate({"lang": "fr"}))
    assert '<script src="/pw.js" defer></script><script src="/app.js" defer></script>' in html and '<img id="lcd" src="/screen.png"' in html
    assert 'id="chart_days"' in html and "/api/history.csv?days=400" in html
    i = html.index('<script type="application/json" id="labels">') + 44
    import json
    words = json.loads(html[i:html.index("</script>", i)])
    assert words["gas"] == "Gaz" and words["heating"] == "Chauffage"     # the script speaks French too
    # the gzipped copy the meter serves is the script as it is now (make static)
    try:
        import gzip
    except ImportError:
        import deflate
        import io

        class gzip:
            @staticmethod
            def decompress(b):
                return deflate.DeflateIO(io.BytesIO(b), deflate.GZIP).read()
    for name in ("app.js", "pw.js", "settings.js", "settings.html"):  # (and the settings page's files)
        with open("firmware/static/" + name, "rb") as f:
            src = f.read()
        with open("firmware/static/%s.gz" % name, "rb") as f:
            assert gzip.decompress(f.read()) == src, "firmware/static/%s.gz is stale: make static" % name
    # (their weight, with the pages': test_host_page's 30 KB budget)


# --- "charts" (issue 20): the panel's rounding, uptime in words, the page's language, the legend
def test_energy_power_and_uptime_are_shown_as_on_the_panel():
    # (the one rule of the panel, the page and its script: view/units.py, test_ui checks it; the
    # script's twin is checked against it in test_host_gridpage; here the page's own power)
    from submeter.net.page import watts
    assert [watts(w) for w in (0.0, 3456.4, 3456.5, 9999.4, 10000.0, 12345.0)] == [
        "0 W", "3456 W", "3457 W", "9999 W", "10.0 kW", "12.3 kW"]


def test_page_shows_todays_kwh_the_partial_cost_and_the_uptime_in_words():
    s = snap(["a"] * 5)
    s["today"] = month(0)
    s["today"]["usage"]["heating"]["wh"] = 12          # the panel shows 0.012 kWh, not "0.0"
    s["uptime_s"] = 4 * 3600 + 12 * 60 + 5
    s["inputs"][2]["partial_cost"] = 1.5
    html = page_html(s, config.validate({}))
    assert '<tr id="u_heating"><td>Heating</td><td class="d">0.012</td>' in html
    assert '<span class="part">0.002</span><br><small class="pcost">1.50</small>' in html
    assert "<th>Energy (kWh, EUR)</th><th>Partial (kWh, EUR)</th>" in html
    assert 'Uptime <span id="uptime" data-s="15125">4 h 12 min</span>' in html


def test_page_in_the_language_asked_for_with_a_switch_and_legends():
    from submeter.net import api
    cfg = config.validate({})                        # the meter speaks English
    s = snap(["Heating", "Chaudière", "", "Sockets", "Other"])
    s["time"] = {"local": "2026-11-27 10:00", "source": "meter"}
    for i, u in zip(s["inputs"], config.USAGES):
        i["usage"] = u

    class App:
        pass
    app = App()
    app.cfg = cfg

    def page(query):
        ctype, body = api.page({"query": query}, lambda: s, app)
        return b"".join(bytes(c) for c in body()).decode()
    fr = page("lang=fr")
    assert '<html lang="fr">' in fr and "Puissance" in fr
    assert '<p class="lang"><a href="?lang=en" hreflang="en" lang="en">English</a> &middot; <b>Fran\u00e7ais</b></p>' in fr
    # the default names in the page's language, the installer's own kept
    assert "1 &middot; Chauffage</td>" in fr and "2 &middot; Chaudi\u00e8re</td>" in fr and "3 &middot; Eau chaude<" in fr
    assert "(compteur)" in fr and "(meter)" not in fr
    legend = fr[fr.index('<p class="legend" id="legend_days">'):]
    legend = legend[:legend.index("</p>")]
    for u in config.USAGES:
        assert '<i class="f_%s"></i>' % u in legend
    assert "Chauffage" in legend and "Eau chaude" in legend and "f_run" in legend and "en cours" in legend
    assert 'id="legend_months"' in fr and 'id="cap_days"' in fr and 'id="note_months"' in fr
    assert "<noscript>Les graphiques demandent JavaScript ; les fichiers CSV ci-dessous" in fr  # read without it
    en = page("")
    assert '<html lang="en">' in en and '<a href="?lang=fr" hreflang="fr" lang="fr">Fran\u00e7ais</a>' in en
    assert "1 &middot; Heating</td>" in en and "(grid meter)" in en
    assert page("lang=de&x=1") == en and page("x=1&lang=fr") == fr     # an unknown one: the meter's


# --- issue 22, slice "page": real power signed, VA, pf and how each was found, export,
# standby, the mains, "CT reversed?" with its fix (made-up snapshots: the simulated board
# with a voltage reference is not there yet)
def snap22():
    s = snap(["a", "b", "c", "d", "e"])
    s["inputs"][0].update(w=460.0, va=511.1, pf=0.9, method="v_pf", reversed=False)
    s["inputs"][1].update(w=-1240.6, va=1302.0, pf=0.953, method="vi", reversed=True, export_wh=4321, export_kwh="4.321")
    s["mains"] = {"reference": True, "v": 231.24, "hz": 49.987}
    s["standby"] = {"w": 85.4, "kwh_year": 748.1, "cost_year": 188.2, "w_inputs": [40.2, None, 45.2, 0, 0],
                    "kwh_year_inputs": [352.2, None, 396, 0, 0], "cost_year_inputs": [88.6, None, 99.6, 0, 0],
                    "window": "01:00-05:00", "night": "2026-11-27"}
    s["today"] = month(0)
    s["today"]["export_wh"] = [0, 1500, 0, 0, 0]
    s["month"] = month(0)
    s["month"]["export_wh"] = [0, 4321, 0, 0, 0]
    return s


def row(html, k):
    i = html.index('<tr id="in%d">' % k)
    return html[i:html.index("</tr>", html.index('<tr class="x" id="ix%d">' % k)) + 5]


def test_page_shows_real_power_signed_its_method_export_and_standby():
    s = snap22()
    html = page_html(s, config.validate({}))
    two = row(html, 2)
    # giving back: negative watts and the word, its VA and pf, measured against the reference
    assert '<td class="w">-1241</td>' in two
    assert ("\u2190 giving back \u00b7 1302 VA \u00b7 pf 0.95 \u00b7 measured (voltage reference) \u00b7 "
            "given back 4.321 kWh</small>") in two
    # estimated when not measured: V x A x the set pf, said; standby per input with its year
    one = row(html, 1)
    assert ("511 VA \u00b7 estimated: V \u00d7 A \u00d7 pf 0.90 \u00b7 standby 40 W (352 kWh, 88.60 EUR a year)"
            "</small>") in one and "giving back" not in one and "given back" not in one
    assert ('<p class="muted" id="mains">Voltage reference: 231.2 V \u00b7 49.99 Hz; power, power factor and '
            'direction measured</p>') in html
    assert ("Standby (the night&#39;s base load, 01:00-05:00, night of 2026-11-27): 85 W \u00b7 748 kWh \u00b7 "
            "188.20 EUR a year") in html
    # today's and this month's energy given back, beside the usages
    assert '<tr id="u_export"><td>Given back</td><td class="d">1.500</td><td class="m">4.321</td>' in html
    # French
    fr = page_html(s, config.validate({"lang": "fr"}))
    assert "\u2190 r\u00e9injecte \u00b7 1302 VA \u00b7 cos \u03c6 0.95 \u00b7 mesur\u00e9e (r\u00e9f\u00e9rence de tension)" in fr
    assert "estim\u00e9e : V \u00d7 A \u00d7 cos \u03c6 0.90" in fr and "veille 40 W (352 kWh, 88.60 EUR par an)" in fr
    assert "<td>R\u00e9inject\u00e9</td>" in fr and "Veille (consommation de base la nuit" in fr


def test_page_says_when_no_reference_is_fitted_or_standby_not_measured_and_nothing_when_absent():
    s = snap22()
    s["mains"] = {"reference": False, "v": None, "hz": None}
    s["standby"] = {"w": None, "kwh_year": None, "cost_year": None, "w_inputs": [None] * 5, "kwh_year_inputs": [None] * 5,
                    "cost_year_inputs": [None] * 5, "window": "01:00-05:00", "night": None}
    html = page_html(s, config.validate({}))
    assert "No voltage reference fitted: power estimated as V \u00d7 A \u00d7 each input&#39;s set power factor" in html
    assert '<p class="muted" id="standby">Standby: not measured yet (the night&#39;s base load, 01:00-05:00)</p>' in html
    assert "standby" not in row(html, 1)
    # a snapshot without the new keys (another slice not merged): no line, no row, no word
    html = page_html(snap(["a"] * 5), config.validate({}))
    assert '<p class="muted" id="mains"></p><p class="muted" id="standby"></p>' in html
    assert '<small class="pq"></small>' in row(html, 1) and "u_export" not in html


def test_a_reversed_ct_shows_its_fix_a_form_that_works_without_the_script():
    s = snap22()
    cfg = config.validate({})
    html = page_html(s, cfg)
    # on the flagged input only
    fix = ('<form class="fix" method="post" action="/form/flip"><input type="hidden" name="input" value="2">'
           '<input type="hidden" name="ct_flip" value="1"><input type="hidden" name="lang" value="en">'
           '<b>CT reversed?</b> <button>Fix: read this CT the other way round</button></form>')
    assert fix in row(html, 2)
    assert html.count('<form class="fix"') == 1
    # the form sets ct_flip the other way from the config's now
    cfg["inputs"][1]["ct_flip"] = True
    assert '<input type="hidden" name="ct_flip" value="0">' in row(page_html(s, cfg), 2)
