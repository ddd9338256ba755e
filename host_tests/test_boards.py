# Every board module offers the same surface (boards/README.md), so the firmware runs
# on any of them unchanged. Real boards are built here against stand-ins for the ESP32's
# `machine` and `network` that check pins and signatures.
import sys

from compat import IS_MP, raises, skip


def check_surface(b, cfg, pulses=("gas", "water")):
    assert isinstance(b.name, str) and isinstance(b.CONFIG, dict) and isinstance(b.data_dir, str)
    assert hasattr(b.clock, "ticks_ms") and hasattr(b.clock, "real_ms")
    assert len(b.ct) == 5
    for ch in b.ct:
        assert 0 <= ch.read_u16() <= 65535 and ch.uv_per_count > 0
    assert isinstance(b.ct_sample_us, int)
    assert b.vref is None or 0 <= b.vref.read_u16() <= 65535  # the voltage reference, read like a CT
    assert sorted(b.pulse) == sorted(pulses)  # a board may give one up (the voltage reference's trade)
    for p in b.pulse.values():
        p.irq(None)
    assert sorted(b.buttons) == ["back", "down", "ok", "up"]
    assert all(p.value() in (0, 1) for p in b.buttons.values())
    assert "grid" in b.leds and set(b.leds) <= {"power", "grid", "boot"}  # a board without one leaves it out
    for led in b.leds.values():
        led.value(1)
    if b.display is not None:
        assert (b.display.width, b.display.height) == (128, 64)
        b.display.fill(0)
        b.display.text("ok", 0, 0, 1)
        b.display.show()
    b.configure(cfg)
    assert hasattr(b.net, "connect") and hasattr(b.net, "isconnected")
    extra = b.background(None)
    assert isinstance(extra, list)
    for coro in extra:  # coroutines for the app to run; not run here
        coro.close()
    for name in ("grid_port", "stopped", "close"):
        assert callable(getattr(b, name))


def test_sim_board_surface():
    import sim
    from submeter import config
    from submeter.clock import ManualClock
    b = sim.Board(clock=ManualClock(), term="0", display=IS_MP)
    # the écocompteur's three LEDs, the red boot LED lit from the start (until healthy)
    assert sorted(b.leds) == ["boot", "grid", "power"] and b.leds["boot"].value() == 1
    check_surface(b, config.validate(b.CONFIG))
    port = b.grid_port("tic_historic")
    assert port.any() >= 0 and port.readinto(bytearray(8), 8) >= 0
    assert b.grid_port("p1").any() >= 0 and b.grid_port("rs485") is None  # unknown kinds: none


def test_a_board_giving_only_what_it_must_meters_on_the_bases_defaults():
    # a new board gives its name, id, clock, CT inputs, pulse inputs, buttons, network and
    # grid port; the rest is base.BaseBoard's (no RTC, no watchdog, no LEDs, no display,
    # no panel): the firmware meters on it as it is, asking it nothing it has not
    from base import BaseBoard
    from compat import fresh_dir
    from submeter import config
    from submeter.app import App
    from submeter.clock import ManualClock
    import sim

    class Bare(BaseBoard):
        name = "bare"
        uid = "0a1b2c"
        ct_sample_us = sim.SAMPLE_US

        def __init__(self):
            self.clock = ManualClock()
            t = sim.SimTime(self.clock)
            mains = sim.SimMains(t, drift=False)  # the simulated ADC keeps its own time
            self.ct_ticks_us = mains.now_us
            self.ct_wait = mains.wait_until
            self.ct = [sim.SimCT(sim.Steady(), t, i, mains=mains) for i in range(5)]
            self.pulse = {}
            self.buttons = {}
            self.data_dir = fresh_dir("bare")
            self.net = None

        def configure(self, cfg):
            self.net = Link()

        def grid_port(self, kind):
            return None

    class Link:
        async def connect(self):
            return "192.168.1.9"

        def isconnected(self):
            return True

        def ip(self):
            return "192.168.1.9"

    b = Bare()
    cfg = config.validate(dict(b.CONFIG, grid="none", mqtt_host="broker", ntp_host=""))
    b.configure(cfg)
    app = App(b, cfg)
    watts = app.measure_round()
    for w, truth in zip(watts, sim.Steady.watts):
        assert abs(w - truth) <= 0.02 * truth + 1, (watts, sim.Steady.watts)
    s = app.state()
    boot = dict(s["boot"])
    assert boot.pop("mpy") == getattr(sys.implementation, "_mpy", None)
    assert boot == {"cause": "", "watchdog_resets": 0, "watchdog": False,  # no OTA slots, no upgrade
                    "slot": None, "upgrade": None, "upgrading": None, "upgrade_path": None, "board": "bare"}
    assert app.mqtt.node == "submeter-0a1b2c"  # the meter's name on MQTT: the board's id
    app.panel.step(0)  # no LEDs, no display, no buttons: nothing to drive
    assert app.panel.screens is None and b.leds == {} and b.display is None
    assert b.utc_s() is None and b.watchdog(60000) is None and b.reset_cause() == ""
    assert b.healthy() is None and b.background(app) == [] and b.reset() is None  # the host: no reset


# What an ESP32 board's pins may and may not do (ESP32 datasheet, "Strapping Pins", and
# the module datasheets): the RMII data pins are fixed, 6-11 are the module's flash,
# 1 and 3 its console (mpremote), 34-39 are inputs only; a WROVER module's PSRAM takes
# GPIO16/17. GPIO36/39 are pulled low for ~80 ns whenever the ADC powers up (ESP32 errata,
# GPIO-3.11): no edge or UART input there on a meter that samples all the time.
RMII = {19, 21, 22, 25, 26, 27}
FLASH = {6, 7, 8, 9, 10, 11}
CONSOLE = {1, 3}
PSRAM = {16, 17}
GLITCH = {36, 39}
ADC_PINS = {32, 33, 34, 35, 36, 37, 38, 39,  # ADC1
            0, 2, 4, 12, 13, 14, 15, 25, 26, 27}  # ADC2: reads while Wi-Fi is off (this firmware never starts it)
# the level each strapping pin must have at reset: 0 high (else download mode), 2 low or
# floating (else no serial download), 5 and 15 high (their defaults), 12 low (high: 1.8 V flash)
STRAPS = {0: 1, 2: 0, 5: 1, 12: 0, 15: 1}
# The voltage reference's bias holds its pin near 1.34 V at reset, between the two levels:
# only a strap whose level does not matter for booting may carry it, GPIO15 (MTDO: low only
# silences the ROM's boot log; with GPIO5, the SDIO slave's timing, unused)
VREF_STRAP_OK = {15}
OUT, IN = 3, 1  # machine.Pin.OUT / .IN (host_tests/fakes/machine.py)

# Each board as its maker documents it: the module, the PHY as network.LAN takes it, and the
# board's own parts on the pins the table may use: {pin: (part, what frees the pin for a CT)}
# (None: nothing does). A CT input on such a pin reads the part too, unless the module's
# table names what frees it. Sources: docs/hardware.md ("Pins, per board").
OLIMEX_PARTS = {  # ESP32-POE rev L1 / ESP32-POE-ISO rev L schematics (Olimex, GitHub)
    39: ("+5 V sense divider R4 47k / R9 100k", ("R4", "R9")),
    36: ("UEXT RXD: R37 10k pull-up, D4", ("R37",)),
    34: ("BUT1, R48 10k pull-up", None),
    2: ("SD DAT0, 2.2k pull-up (RM3)", None),
    5: ("UEXT CS, R36 10k pull-up", None),
    15: ("SD CMD, R39 10k pull-up", ("R39",)),
    13: ("UEXT SDA, R35 2.2k pull-up", None),
}


def _merged(a, b):
    d = dict(a)
    d.update(b)
    return d


BOARDS = {
    "olimex_esp32_poe": dict(
        module="WROOM", lan=dict(mdc=23, mdio=18, power=12, phy_type=1, phy_addr=0, ref_clk=17, ref_clk_mode=OUT),
        straps={2: 1},  # SD DAT0's pull-up: the board's auto-program circuit pulls GPIO2 low to flash
        parts=_merged(OLIMEX_PARTS, {
            35: ("battery divider 470k/470k: behind BAT_SENS_E1 (ESP32-POE), R7/R16 (POE-ISO)",
                 ("BAT_SENS_E1", "R7", "R16")),
            16: ("UEXT SCL, R31 2.2k pull-up", None)})),
    "olimex_esp32_poe_iso_wrover": dict(
        module="WROVER", lan=dict(mdc=23, mdio=18, power=12, phy_type=1, phy_addr=0, ref_clk=0, ref_clk_mode=OUT),
        straps={2: 1},
        parts=_merged(OLIMEX_PARTS, {
            35: ("battery divider R7/R16 470k/470k", ("R7", "R16")),
            33: ("UEXT SCL through R42, R31 2.2k pull-up", None)})),
    # WT32-ETH01 v1.4 (MicroPython's ESP32 quickref; egnor/wt32-eth01's guide and V1.4 schematic):
    # the LAN8720A's oscillator, enabled by GPIO16 (pulled down at boot), clocks GPIO0; nothing
    # of the board's on the header pins the table uses
    "wt32_eth01": dict(
        module="WROOM", lan=dict(mdc=23, mdio=18, power=16, phy_type=1, phy_addr=1, ref_clk=0, ref_clk_mode=IN),
        straps={}, parts={}),
    # ESP32-Ethernet-Kit v1.2 (ESP-IDF's user guide: ESP32-WROVER-E with PSRAM; MicroPython's
    # quickref for its LAN): the IP101GRI's 50 MHz comes in on GPIO0; GPIO12-15 free with the
    # function switch off
    "esp32_ethernet_kit": dict(
        module="WROVER", lan=dict(mdc=23, mdio=18, power=5, phy_type=2, phy_addr=1, ref_clk=0, ref_clk_mode=IN),
        straps={}, parts={}),
}


def check_esp32_board(modname, slip=None):
    """Build board `modname` (or `slip` of its Board class) against the stand-ins and check
    its wiring against its documentation (BOARDS): the surface, five CTs on ADC pins with
    nothing of the board's on them (or freed, as the table says how), no pin used twice or
    taken from RMII, flash, console, PSRAM or the PHY, the PHY and its clock as documented,
    the strapping pins left at their boot levels (LEDs included), no edge input on GPIO36/39,
    one edge per pulse, the grid-port formats, the LEDs, Ethernet, the RTC and the ladder;
    the voltage reference (or None) on an ADC pin like a CT's, off the straps whose level
    matters. Returns the board."""
    if not IS_MP:
        skip("the board module needs framebuf (MicroPython)")
    doc = BOARDS[modname]
    sys.path.insert(0, "host_tests/fakes")
    try:
        import machine
        import network
        mod = __import__(modname)
        Board = slip(mod.Board) if slip else mod.Board
        from submeter import config
        machine.calls.clear()
        machine.RTC.now = (2000, 1, 1, 5, 0, 0, 0, 0)
        b = Board()
        cfg = config.validate(b.CONFIG)
        pins = b.PINS
        check_surface(b, cfg, pins["pulse"])
        # the Ethernet PHY and its 50 MHz RMII clock as the board's documentation gives them; the
        # ESP32 sends the clock out only on GPIO0 (CLK_OUT1), 16 or 17 (EMAC_CLK_OUT / _180) and
        # takes it in only on GPIO0
        lan = b.net.lan.args
        assert lan["ref_clk_mode"] == doc["lan"]["ref_clk_mode"] and lan["ref_clk"] == doc["lan"]["ref_clk"], \
            "RMII clock on GPIO%s (%s), documented GPIO%s" % (lan["ref_clk"], lan["ref_clk_mode"], doc["lan"]["ref_clk"])
        assert lan["ref_clk"] in ((0, 16, 17) if lan["ref_clk_mode"] == OUT else (0,)), lan
        assert lan == doc["lan"], lan
        phy = {v for k, v in lan.items() if k in ("mdc", "mdio", "power", "ref_clk") and v is not None}
        leds = {k: pins.get("led_" + k) for k in ("grid", "power", "boot")}
        # every pin the board uses, once
        assert "vref" in pins, "say where the voltage reference goes (None: no pin left)"
        vref = pins["vref"]
        used = list(pins["ct"]) + [pins["ladder"], pins["grid_rx"]] + ([] if vref is None else [vref])
        used += [p for p, _ in pins["pulse"].values()] + list(pins["i2c"] or ())
        used += [led[0] for led in leds.values() if led]  # the grid LED's pin is the grid UART's TX
        if pins["p1_request"] is not None:
            used.append(pins["p1_request"])
        assert len(set(used)) == len(used), "a pin used twice"
        bad = set(used) & (RMII | FLASH | CONSOLE | phy)
        assert not bad, "pins taken elsewhere: %r" % bad
        if doc["module"] == "WROVER":  # nothing at all on the PSRAM's pins, the PHY's included
            assert not (set(used) | phy) & PSRAM, "GPIO16/17 are the WROVER's PSRAM: %r" % ((set(used) | phy) & PSRAM)
        pin_calls = [c for c in machine.calls if c[0] == "Pin"]
        assert {c[1] for c in pin_calls} <= set(used) | phy  # nothing else touched
        # five CT inputs on ADC pins with nothing of the board's on them: a divider or a pull-up
        # there adds its own voltage and load to the CT's (docs/hardware.md), unless the table
        # names what frees the pin (a jumper left open, a resistor removed)
        adcs = [c[1] for c in machine.calls if c[0] == "ADC"]
        assert adcs[:5] == list(pins["ct"]) and all(p in ADC_PINS for p in adcs[:5]), adcs
        assert pins["ladder"] in adcs
        # the voltage reference: an ADC read like a CT input (11 dB; read_u16, read_uv, its
        # unit for the scale), or None where the table has no pin for it
        if vref is None:
            assert b.vref is None
        else:
            assert ("ADC", vref, machine.ADC.ATTN_11DB) in machine.calls and vref in ADC_PINS, vref
            assert b.vref.unit == (1 if vref >= 32 else 2) and 0 <= b.vref.read_u16() <= 65535
            assert b.vref.read_uv() > 0
            assert vref not in STRAPS or vref in VREF_STRAP_OK, \
                "the voltage reference on GPIO%d holds that strap between its levels at reset" % vref
        freed = pins.get("freed", {})
        for p in list(pins["ct"]) + ([] if vref is None else [vref]):
            part = doc["parts"].get(p)
            if part:
                means = part[1]
                assert means and all(m in freed.get(p, "") for m in means), \
                    "%s on GPIO%d, which carries the board's %s%s" % (
                        "CT" if p in pins["ct"] else "voltage reference", p, part[0],
                        (": free it (%s) and say so" % ", ".join(means)) if means else "")
        # strapping pins at their boot levels: no internal pull against it, and an LED wired so
        # that it pulls toward it (from 3.3 V: high; to GND: low) (the PHY's own pins are the
        # board maker's design)
        straps = _merged(STRAPS, doc["straps"])
        for c in pin_calls:
            if c[1] in phy or c[1] not in straps:
                continue
            if straps[c[1]]:
                assert c[3] != machine.Pin.PULL_DOWN, c
            else:
                assert c[3] != machine.Pin.PULL_UP, c
        for name, led in leds.items():
            if led and led[0] in straps:
                assert (led[1] == "low") == bool(straps[led[0]]), \
                    "the %s LED pulls GPIO%d away from its boot level" % (name, led[0])
        # GPIO0: nothing but an LED (checked lit low above): an input or a contact may hold it
        # low at reset, which is download mode
        inputs = list(pins["ct"]) + [pins["ladder"], pins["grid_rx"], pins["p1_request"], vref]
        inputs += [p for p, _ in pins["pulse"].values()] + list(pins["i2c"] or ())
        assert 0 not in inputs, "GPIO0 used for more than an LED"
        # no edge or UART input on GPIO36/39: the ADC's ~80 ns glitches would count pulses and
        # break bytes (ESP32 errata GPIO-3.11); the ladder, the CTs and the voltage reference
        # read them as ADC pins
        glitchy = GLITCH & set([pins["grid_rx"]] + [p for p, _ in pins["pulse"].values()])
        assert not glitchy, "an edge input on GPIO%r, which glitches while the ADC runs" % sorted(glitchy)
        # LEDs: the ones the table has, the boot LED lit before anything else is set up, each
        # lit by value(1) whichever way it is wired
        assert sorted(b.leds) == sorted(k for k, led in leds.items() if led), sorted(b.leds)
        if leds["boot"]:
            first = machine.calls[0]
            assert first[:2] == ("Pin", leds["boot"][0]) and first[2] == OUT, machine.calls[:2]
            assert first[4] == (0 if leds["boot"][1] == "low" else 1), first  # lit at once
            assert b.leds["boot"].value() == 1
            b.leds["boot"].value(0)  # healthy: off
            assert b.leds["boot"].pin.value() == (1 if leds["boot"][1] == "low" else 0)
        if leds["power"]:
            b.leds["power"].value(0)
            assert b.leds["power"].pin.value() == (1 if leds["power"][1] == "low" else 0)
        # pulses: one edge per pulse, the contact closing (the ESP32's default is both edges)
        for kind, (p, active) in pins["pulse"].items():
            b.pulse[kind].irq(handler=lambda pin: None)
            edge = machine.Pin.IRQ_FALLING if active == "low" else machine.Pin.IRQ_RISING
            assert ("irq", p, edge) in machine.calls, (kind, p)
            assert active == "low" or p in (2, 12)  # pull-downs only where a strap needs them
        # the display was initialised (charge pump on, display on) and a frame sent; none
        # where the table gave its pins up
        if pins["i2c"] is None:
            assert b.display is None
        else:
            writes = b.display.i2c.writes
            assert (b.display.i2c.sda, b.display.i2c.scl) == tuple(pins["i2c"])
            assert (0x3C, b"\x00\x8d\x14") in writes and (0x3C, b"\x00\xaf") in writes
            data = [w for w in writes if w[1][0] == 0x40]
            assert len(data) == 8 and all(len(w[1]) == 129 for w in data)  # a frame: 8 pages of 128 columns
        # grid port formats: TIC historic 1200 7E1, standard 9600 7E1, P1 115200 8N1 inverted;
        # the UART's TX (which it always drives: UART2's default is GPIO17, the Olimex's RMII
        # clock and the WROVER's PSRAM) is the LED's pin, idling dark: inverted for an LED to
        # GND, as is for an LED from 3.3 V
        U = machine.UART
        rx, (led, active) = pins["grid_rx"], pins["led_grid"]
        tx_inv = U.INV_TX if active == "high" else 0
        for kind, fmt, inv in (("tic_historic", (1200, 7, 0, 1, rx), tx_inv),
                               ("tic_standard", (9600, 7, 0, 1, rx), tx_inv),
                               ("p1", (115200, 8, None, 1, rx), U.INV_RX | tx_inv),
                               ("p1_legacy", (9600, 7, 0, 1, rx), U.INV_RX | tx_inv)):
            port = b.grid_port(kind)
            assert port.args[1:6] == fmt and port.args[6] == inv and port.tx == led, (kind, port.args, port.tx)
            if pins["p1_request"] is not None:
                assert b.p1_request.value() == (1 if kind.startswith("p1") else 0)
            # a good frame blinks the LED: ~50 ms of zero bytes on TX, taken by the TX buffer
            b.leds["grid"].value(1)
            b.leds["grid"].value(0)
            assert port.written == [bytes(fmt[0] // 200)], (kind, [len(w) for w in port.written])
        assert b.grid_port("rs485") is None
        # Ethernet: the hostname the router shows; DHCP, or a static address from the config
        import asyncio
        assert asyncio.run(b.net.connect()) == "192.168.1.50" and network.hostname() == "submeter"
        b.configure(config.validate({"ip": "10.0.0.7", "gateway": "10.0.0.1", "hostname": "cellar"}))
        assert asyncio.run(b.net.connect()) == "10.0.0.7" and network.hostname() == "cellar"
        assert b.net.lan.static == ("10.0.0.7", "255.255.255.0", "10.0.0.1", "10.0.0.1")
        # the RTC: no time after a power cut; once NTP has set it, the same time back
        from submeter.clock import day_number
        assert b.utc_s() is None
        t = day_number(2026, 11, 23) * 86400 + 13 * 3600 + 7 * 60 + 9
        b.set_utc(t)
        assert machine.RTC.now[:4] == (2026, 11, 23, 0) and b.utc_s() == t  # a Monday
        # the ladder: nothing pressed reads the rail; the back button pulls to 0
        machine.ADC.reading = 65535
        b.buttons["back"].ladder.read_ms = None
        assert [b.buttons[n].value() for n in ("up", "down", "ok", "back")] == [1, 1, 1, 1]
        machine.ADC.reading = 0
        b.buttons["back"].ladder.read_ms = None
        assert b.buttons["back"].value() == 0 and b.buttons["up"].value() == 1
        machine.ADC.reading = 2048 << 4
        # the watchdog: armed with the App's timeout and fed; the reset's cause in words; at
        # the REPL (the firmware stopped: close) an hour, not the meter's minute
        wd = b.watchdog(60000)
        wd.feed()
        assert machine.WDT.timeout == 60000 and machine.WDT.feeds >= 1
        for c, word in ((machine.WDT_RESET, "watchdog"), (machine.PWRON_RESET, "power"),
                        (machine.HARD_RESET, "reset"), (99, "")):
            machine.cause = c
            assert b.reset_cause() == word
        b.close()
        assert machine.WDT.timeout == 3600000
        return b
    finally:
        sys.path.remove("host_tests/fakes")
        for m in ("machine", "network", "esp32_eth", modname):
            sys.modules.pop(m, None)


def test_olimex_esp32_poe_wiring():
    check_esp32_board("olimex_esp32_poe")


def test_olimex_esp32_poe_iso_wrover_wiring():
    check_esp32_board("olimex_esp32_poe_iso_wrover")


def test_wt32_eth01_wiring():
    check_esp32_board("wt32_eth01")


def test_esp32_ethernet_kit_wiring():
    check_esp32_board("esp32_ethernet_kit")


def test_each_board_has_a_voltage_reference_pin_or_a_checked_trade_for_one():
    # the Olimex ESP32-POE has one pin left (GPIO39, once its +5 V divider is off); the others
    # have none, and their modules name what the installer gives up: that table passes every
    # check above too, the reference then built on its pin
    if not IS_MP:
        skip("the board module needs framebuf (MicroPython)")
    b = check_esp32_board("olimex_esp32_poe")
    assert b.PINS["vref"] == 39 and b.vref.unit == 1
    for modname, pin, unit, gone in (("olimex_esp32_poe_iso_wrover", 15, 2, "water pulse"),
                                     ("wt32_eth01", 4, 2, "display"),
                                     ("esp32_ethernet_kit", 15, 2, "gas pulse")):
        b = check_esp32_board(modname)
        assert b.PINS["vref"] is None and b.vref is None, modname
        b = check_esp32_board(modname, lambda B: _with(B, **sys.modules[modname].VREF_INSTEAD))
        assert b.PINS["vref"] == pin and b.vref.unit == unit, modname
        if gone == "display":
            assert b.display is None and sorted(b.pulse) == ["gas", "water"]
        else:
            assert sorted(b.pulse) == [k for k in ("gas", "water") if k != gone.split()[0]], (modname, b.pulse)


# Each rule above shown catching a board with that slip.
def _with(Board, lan=None, **pins):
    attrs = {"PINS": dict(Board.PINS, **pins)}
    if lan:
        import network
        from machine import Pin

        def make(self):
            return network.LAN(mdc=Pin(23), mdio=Pin(18), power=Pin(12), phy_type=network.PHY_LAN8720,
                               phy_addr=0, ref_clk=Pin(lan[0]), ref_clk_mode=lan[1])
        attrs["lan"] = make
    return type("Slip", (Board,), attrs)


def _slip(modname, why, **change):
    e = raises(AssertionError, check_esp32_board, modname, lambda B: _with(B, **change))
    assert why in str(e), (why, str(e))


def test_a_ct_on_a_sense_divider_is_caught():
    _slip("olimex_esp32_poe", "CT on GPIO39, which carries the board's +5 V sense divider",
          ct=(32, 33, 35, 4, 39), grid_rx=14, vref=None,  # an old table had it, GPIO36 too
          freed={35: "BAT_SENS_E1 open; R7 and R16 removed"})
    _slip("olimex_esp32_poe", "CT on GPIO36", ct=(32, 33, 35, 4, 36), ladder=14)
    # GPIO35 on the POE-ISO(-WROVER): wired straight to the battery divider: R7 and R16 must go
    _slip("olimex_esp32_poe_iso_wrover", "CT on GPIO35", freed={39: "R4 and R9 removed", 35: "R7 removed"})
    _slip("olimex_esp32_poe", "CT on GPIO35", freed={35: "BAT_SENS_E1 open"})  # the ISO's R7/R16 unsaid


def test_anything_on_a_wrover_psram_pin_is_caught():
    _slip("olimex_esp32_poe_iso_wrover", "GPIO16/17 are the WROVER's PSRAM", i2c=(13, 16))  # the WROOM's SCL
    _slip("esp32_ethernet_kit", "GPIO16/17 are the WROVER's PSRAM", pulse={"gas": (15, "low"), "water": (17, "low")})


def test_an_rmii_clock_pin_mismatch_is_caught():
    # the WROOM board's clock on the WROVER board (GPIO17: its PSRAM, not connected)
    _slip("olimex_esp32_poe_iso_wrover", "RMII clock on GPIO17 (3), documented GPIO0", lan=(17, OUT))
    _slip("olimex_esp32_poe", "RMII clock on GPIO0 (3), documented GPIO17", lan=(0, OUT))


def test_an_edge_input_on_gpio36_or_39_is_caught():
    _slip("olimex_esp32_poe", "an edge input on GPIO[36]", pulse={"gas": (36, "low"), "water": (15, "low")}, ladder=39,
          vref=None)


def test_a_voltage_reference_pin_slip_is_caught():
    # on a CT's pin: the input would read the mains waveform as a current
    _slip("wt32_eth01", "a pin used twice", vref=36)
    # on GPIO39 of the ESP32-POE with its +5 V divider still there (the table must say it goes)
    _slip("olimex_esp32_poe", "voltage reference on GPIO39, which carries the board's +5 V sense divider",
          freed={35: "BAT_SENS_E1 open; R7 and R16 removed"})
    # on the WROVER's GPIO15 with the SD card's pull-up still on it
    _slip("olimex_esp32_poe_iso_wrover", "voltage reference on GPIO15, which carries the board's SD CMD",
          vref=15, pulse={"gas": (5, "low")})
    # on straps whose level matters: GPIO12 between its levels may select 1.8 V flash, GPIO2
    # may stop serial flashing
    _slip("esp32_ethernet_kit", "the voltage reference on GPIO12 holds that strap", vref=12, led_grid=(4, "high"),
          grid_rx=13, i2c=None)
    _slip("wt32_eth01", "the voltage reference on GPIO2 holds that strap", vref=2, pulse={"gas": (17, "low")})
    # on a pin with no ADC: the ESP32 port refuses it, as the stand-in does
    e = raises(ValueError, check_esp32_board, "wt32_eth01", lambda B: _with(B, vref=5, grid_rx=4, i2c=None))
    assert "invalid Pin for ADC" in str(e)


def test_an_led_against_a_strap_is_caught():
    # the boot LED to GND on GPIO0 holds it low at reset: download mode, not the firmware
    _slip("olimex_esp32_poe", "the boot LED pulls GPIO0 away from its boot level", led_boot=(0, "high"))
    _slip("wt32_eth01", "the grid LED pulls GPIO12 away", led_grid=(12, "low"))  # 1.8 V flash


def test_sim_linky_sends_the_mode_the_config_asks_for():
    import sim
    from submeter import config
    from submeter.clock import ManualClock
    for grid, mode in (("tic_historic", "historic"), ("tic_standard", "standard"), ("auto", "standard")):
        b = sim.Board(clock=ManualClock(), term="0", display=False)
        b.configure(config.validate({"grid": grid}))
        assert b.meter.mode == mode
    b = sim.Board(clock=ManualClock(), term="0", display=False, meter="historic")
    b.configure(config.validate({"grid": "tic_standard"}))
    assert b.meter.mode == "historic"  # told explicitly: the simulated meter wins
