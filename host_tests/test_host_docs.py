# The wiring docs say what the board modules do: an installer wires from docs/hardware.md,
# so a pin there that differs from the board's table is a board that does not work.
import ast
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOARDS = ("olimex_esp32_poe", "olimex_esp32_poe_iso_wrover", "wt32_eth01", "esp32_ethernet_kit")


def pins_of(board):
    tree = ast.parse(open(os.path.join(ROOT, "boards", board + ".py")).read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "PINS":
            return ast.literal_eval(node.value)
    raise AssertionError("no PINS in " + board)


def doc_table(board):
    text = open(os.path.join(ROOT, "docs", "hardware.md")).read()
    at = text.index("(`BOARD=%s`)" % board)
    section = text[at:text.index("\n### ", at)]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) >= 2 and not cells[0].startswith("---"):
            rows[cells[0]] = cells[1]
            rows[cells[0] + " notes"] = " ".join(cells[2:])
    return rows


def first_int(cell):
    digits = ""
    for ch in cell:
        if ch.isdigit():
            digits += ch
        elif digits:
            break
    return int(digits) if digits else None


def test_every_board_pin_table_in_the_docs_matches_its_module():
    for board in BOARDS:
        pins, rows = pins_of(board), doc_table(board)
        assert rows["CT inputs 1–5"] == ", ".join(str(p) for p in pins["ct"]), board
        assert first_int(rows["buttons"]) == pins["ladder"], board
        assert first_int(rows["grid meter RX"]) == pins["grid_rx"], board
        for row, key in (("TIC/P1 LED", "led_grid"), ("power LED", "led_power"), ("boot LED", "led_boot")):
            led = pins[key]  # (pin, active) or None: the docs say "—" and what shows it instead
            assert (first_int(rows[row]) if led else rows[row]) == (led[0] if led else "—"), (board, row)
            if led:  # which way it is wired: lit low = from 3.3 V into the pin
                assert ("from 3.3 V" in rows[row + " notes"]) == (led[1] == "low"), (board, row)
        sda, scl = pins["i2c"]
        assert rows["display SSD1306/SH1106"].startswith("SDA %d, SCL %d" % (sda, scl)), board
        req = rows["P1 Data Request"]
        assert (first_int(req) if pins["p1_request"] is not None else req) == (pins["p1_request"] or "—"), board
        gas, water = pins["pulse"]["gas"], pins["pulse"]["water"]
        if "pulse gas / water" in rows:
            assert rows["pulse gas / water"] == "%d / %d" % (gas[0], water[0]), board
        else:
            assert first_int(rows["pulse gas"]) == gas[0] and first_int(rows["pulse water"]) == water[0], board
        for kind, (pin, active) in pins["pulse"].items():  # a pull-down input is called out
            if active == "high":
                assert "3.3 V" in rows["pulse " + kind + " notes"], (board, kind)
        vref = pins["vref"]  # its pin, or "—" and the trade the module holds (VREF_INSTEAD)
        if vref is None:
            assert rows["voltage reference"] == "—" and "VREF_INSTEAD" in rows["voltage reference notes"], board
        else:
            assert first_int(rows["voltage reference"]) == vref, board


def test_the_button_ladder_in_the_docs_reads_inside_the_firmwares_bands():
    # 10 k pull-up; each button to GND through its resistor: the reading must fall in the
    # band esp32_eth gives that button, with 5 % resistors either way
    src = open(os.path.join(ROOT, "boards", "esp32_eth.py")).read()
    tree = ast.parse(src)
    ladder = next(ast.literal_eval(n.value) for n in tree.body
                  if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "LADDER")
    bands = {name: (lo, hi) for name, lo, hi in ladder}
    text = open(os.path.join(ROOT, "docs", "hardware.md")).read()
    for name, ohms in (("back", 0), ("up", 2200), ("down", 4700), ("ok", 10000)):
        row = next(line for line in text.splitlines() if line.startswith("| %s |" % name))
        shown = row.split("|")[2].strip().replace(" Ω", "").replace("kΩ", "").strip()
        assert (float(shown) * 1000 if ohms else float(shown)) == ohms, row
        lo, hi = bands[name]
        for up, down in ((1.0, 1.0), (1.05, 0.95), (0.95, 1.05)):
            r = ohms * down
            reading = 65535 * r / (10000 * up + r)
            assert lo <= reading < hi, (name, up, down, reading)


def test_the_burden_in_the_docs_is_the_default_and_keeps_90_ma_inside_the_adc():
    from submeter import config
    text = open(os.path.join(ROOT, "docs", "hardware.md")).read()
    burden = config.INPUT_DEFAULTS["burden_ohm"]
    assert "**%s Ω**" % burden in text
    bias = 3.3 * 6.8 / 16.8
    swing = min(bias - 0.15, 2.45 - bias)          # the 11 dB range, 150-2450 mV
    assert 0.090 * 2 ** 0.5 * burden < swing       # one CT at 90 mA rms
    assert 2 * 0.090 * 2 ** 0.5 * 3.9 < swing      # two on 3.9 ohm


def test_the_voltage_reference_in_the_docs_is_the_default_and_stays_on_the_calibration_line():
    # the divider drawn in docs/hardware.md, with a "9 V" adapter giving 11.5 V unloaded at
    # 230 V, is the config's default figure; at 253 V on an adapter giving 12 V at 230 V the
    # pin stays above 150 mV and under raw 2880 (the top of ESP-IDF's 11 dB line, sense/ct.py)
    # on a chip at the low end of the eFuse Vref spread (1000 mV: 0.733 mV a count from
    # 142 mV), with the 3.3 V rail 3 % high
    import re
    from submeter import config
    text = open(os.path.join(ROOT, "docs", "hardware.md")).read()
    sec = text[text.index("## Voltage reference (optional)"):text.index("## Grid meter: TIC")]
    r1 = float(re.search(r"R1 (\d+) kΩ", sec).group(1))
    r2 = float(re.search(r"R2 (\d+) kΩ", sec).group(1))
    k = r2 / (r1 + r2)
    figure = config.DEFAULTS["vref_v_per_v"]
    assert abs(230 / (11.5 * k) - figure) < 0.5, (r1, r2, figure)
    assert "= %d mains volts per pin volt" % figure in sec
    peak = 12 * 1.1 * k * 2 ** 0.5
    for rail in (0.97, 1.0, 1.03):
        bias = 3.3 * rail * 6.8 / 16.8
        assert bias - peak > 0.15
        assert (bias + peak - 0.142) / 0.0007325 < 2880, rail
