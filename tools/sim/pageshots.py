# pageshots: the meter's web page as a user sees it, in Chromium, saved as PNG: the
# firmware on the simulated board (32-bit unix port) with a year of history written for
# it, the page at 1280 px (a desktop) and 390 px (a phone) wide, in English and French.
# Usage: tools/sim/pageshots [--out docs/img] [--port N]   (make pageshots)
# Files: page-en-1280.png, page-en-390.png, page-fr-1280.png, page-fr-390.png (docs/page.md).
# write_history() is also what host_tests/test_host_page.py prepares its meter with.
import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
for p in ("host_tests/cpython", "firmware"):  # the firmware's own history file format
    if os.path.join(ROOT, p) not in sys.path:
        sys.path.insert(0, os.path.join(ROOT, p))

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
START = "2026-11-27 18:30"   # the simulated clock: a late-November evening, heating on
PRICE = 0.2516               # EUR/kWh, the default tariff's order of magnitude
SHOTS = [(lang, w) for lang in ("en", "fr") for w in (1280, 390)]


def day_use(rng, y, m):
    """A made-up but plausible day of a French house, Wh per usage (USAGES order):
    heating in winter, cooling in summer, hot water, sockets, the rest."""
    cold = (0, 16, 14, 10, 6, 3, 0, 0, 0, 2, 6, 11, 15)[m]   # heating degree-ish, by month
    hot = (0, 0, 0, 0, 0, 0, 2, 4, 3, 0, 0, 0, 0)[m]
    return [int(cold * rng.uniform(900, 1300)), int(hot * rng.uniform(700, 1100)),
            int(rng.uniform(3500, 5500)), int(rng.uniform(2500, 5000)), int(rng.uniform(800, 1800))]


def write_history(data, today, days=30, months=11, skip=(), seed=20):
    """history.bin in folder `data` as the firmware keeps it, for a meter whose day is
    `today` ("YYYY-MM-DD"): the `days` days before it (but the dates in `skip`: no record,
    as when the meter was off) and the `months` months before this one, each month the sum
    of its days; this month's days so far too. The five inputs as the default config has
    them (an input per usage). Returns {date: Wh} of the records written."""
    from submeter.clock import civil, day_number, month_civil, month_of_day
    from submeter.ledger.history import History, Totals
    y, m, d = (int(x) for x in today.split("-"))
    t0 = day_number(y, m, d)
    h = History(data, 5)
    h.prepare()
    rng = random.Random(seed)
    mk0 = month_of_day(t0)
    first = day_number(*civil(t0)[:2], 1)
    for _ in range(months):  # back to the first day of the oldest month asked for
        py, pm, _d = civil(first - 1)
        first = day_number(py, pm, 1)
    sums = {}
    wrote = {}
    for n in range(first, t0):
        yy, mm, dd = civil(n)
        t = Totals(n, 5, 10)
        t.usages = [0, 1, 2, 3, 4]
        t.wh = day_use(rng, yy, mm)
        t.cost = [int(w * PRICE) for w in t.wh]       # thousandths of the currency
        t.period_wh[0] = sum(t.wh) * 6 // 10           # HP / HC
        t.period_wh[1] = sum(t.wh) - t.period_wh[0]
        t.gas_l = int(rng.uniform(0, 2000)) if mm in (11, 12, 1, 2, 3) else 0
        t.water_l = int(rng.uniform(150, 400))
        t.gas_cost = t.gas_l * 11 // 100
        t.water_cost = t.water_l * 4
        date = "%04d-%02d-%02d" % (yy, mm, dd)
        if n >= t0 - days and date not in skip:
            h.put(True, t)
            wrote[date] = sum(t.wh)
        mk = month_of_day(n)
        if mk >= mk0 - months and (n >= t0 - days or mk != mk0) and date not in skip:
            if mk not in sums:
                sums[mk] = Totals(mk, 5, 10)
            sums[mk].add(t)
    for mk, t in sums.items():
        h.put(False, t)
        wrote["%04d-%02d" % month_civil(mk)] = sum(t.wh)
    return wrote


def start(data, port, **env):
    """The firmware serving on `port`, its files in `data`, the simulated board set by env."""
    full = dict(os.environ, SUBMETER_HTTP_PORT=str(port), SUBMETER_DATA=data, SUBMETER_TERM="0",
                MICROPYPATH="firmware:boards:build/lib:.frozen")
    full.update(env)
    return subprocess.Popen([os.path.join(ROOT, "build", "bin", "micropython"), "firmware/main.py"], cwd=ROOT,
                            env=full, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_dated(port, wh=0, timeout=60):
    """Waits until the meter knows the date (its day has a record to show) and has counted
    more than `wh` today."""
    import json
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/api/state" % port, timeout=2) as r:
                today = json.loads(r.read()).get("today")
                if today and today["wh"] > wh:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("pageshots: the meter did not know the date within %d s" % timeout)


def shoot(port, out, shots=SHOTS, browser=None):
    """Each (language, width) of `shots` saved as out/page-LANG-WIDTH.png, full page, by
    `browser` (playwright's Chromium), else by a Chromium of its own."""
    if browser is None:
        from playwright.sync_api import sync_playwright
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                return shoot(port, out, shots, browser)
            finally:
                browser.close()
    paths = []
    for lang, width in shots:
        page = browser.new_page(viewport={"width": width, "height": 800}, locale=lang)
        try:
            page.goto("http://127.0.0.1:%d/?lang=%s" % (port, lang))
            # the live figures and both charts drawn (the figures: a round of /api/state)
            page.wait_for_function("document.querySelectorAll('#chart_days rect.run').length === 1 && "
                                   "document.querySelectorAll('#chart_months rect.run').length === 1", timeout=15000)
            page.wait_for_timeout(2500)
            path = os.path.join(out, "page-%s-%d.png" % (lang, width))
            page.screenshot(path=path, full_page=True)
            paths.append(path)
        finally:
            page.close()
    return paths


def main(argv):
    out, port = os.path.join(ROOT, "docs", "img"), 8099
    i = 0
    while i < len(argv):
        if argv[i] == "--out":
            out, i = argv[i + 1], i + 2
        elif argv[i] == "--port":
            port, i = int(argv[i + 1]), i + 2
        else:
            sys.exit("usage: pageshots [--out DIR] [--port N]")
    os.makedirs(out, exist_ok=True)
    data = tempfile.mkdtemp(prefix="pageshots-")
    write_history(data, START[:10])
    with open(os.path.join(data, "config.json"), "w") as f:
        f.write('{"screen_sleep_s": 0}')  # the panel's mirror awake through the simulated hour
    # at 300 times the speed: an hour of the evening counted before the shots, in seconds
    proc = start(data, port, SUBMETER_START=START, SUBMETER_SCENARIO="house", SUBMETER_METER="standard",
                 SUBMETER_SPEED="300")
    try:
        wait_dated(port, wh=2500)
        for path in shoot(port, out):
            print("%s: %d bytes" % (os.path.relpath(path), os.path.getsize(path)))
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main(sys.argv[1:])
