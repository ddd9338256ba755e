# Every board module offers the same surface (boards/README.md), so the firmware runs
# on any of them unchanged. Real boards are built here against stand-ins for the ESP32's
# `machine` and `network` that check pins and signatures.
import sys

from compat import IS_MP, skip


def check_surface(b, cfg):
    assert isinstance(b.name, str) and isinstance(b.CONFIG, dict) and isinstance(b.data_dir, str)
    assert hasattr(b.clock, "ticks_ms") and hasattr(b.clock, "real_ms")
    assert len(b.ct) == 5
    for ch in b.ct:
        assert 0 <= ch.read_u16() <= 65535 and ch.uv_per_count > 0
    assert isinstance(b.ct_sample_us, int)
    assert sorted(b.pulse) == ["gas", "water"]
    for p in b.pulse.values():
        p.irq(None)
    assert sorted(b.buttons) == ["back", "down", "ok", "up"]
    assert all(p.value() in (0, 1) for p in b.buttons.values())
    assert "grid" in b.leds
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
    check_surface(b, config.validate(b.CONFIG))
    port = b.grid_port("tic_historic")
    assert port.any() >= 0 and port.readinto(bytearray(8), 8) >= 0
    assert b.grid_port("p1").any() >= 0 and b.grid_port("rs485") is None  # unknown kinds: none


# What an ESP32 board's pins may and may not do (ESP32 datasheet, "Strapping Pins", and
# the module datasheets): the RMII data pins are fixed, 6-11 are the module's flash,
# 1 and 3 its console (mpremote), 34-39 are inputs only.
RMII = {19, 21, 22, 25, 26, 27}
FLASH = {6, 7, 8, 9, 10, 11}
CONSOLE = {1, 3}


def check_esp32_board(modname, lan, reserved=()):
    """Build board `modname` against the stand-ins and check its wiring: the surface, five
    CTs on ADC1, no pin used twice or taken from RMII, flash, console or the PHY, the
    strapping pins left at their boot levels, one edge per pulse, the grid-port formats,
    Ethernet with the hostname and a static address, the RTC and the button ladder."""
    if not IS_MP:
        skip("the board module needs framebuf (MicroPython)")
    sys.path.insert(0, "host_tests/fakes")
    try:
        import machine
        import network
        mod = __import__(modname)
        from submeter import config
        machine.calls.clear()
        machine.RTC.now = (2000, 1, 1, 5, 0, 0, 0, 0)
        b = mod.Board()
        cfg = config.validate(b.CONFIG)
        check_surface(b, cfg)
        pins = b.PINS
        # five CTs on ADC1 (ADC2 stops reading when Wi-Fi starts); the ladder may be on either
        adcs = [c[1] for c in machine.calls if c[0] == "ADC"]
        assert adcs[:5] == list(pins["ct"]) and all(p in machine.ADC1 for p in adcs[:5])
        assert pins["ladder"] in adcs
        # the Ethernet PHY as the board's documentation gives it
        assert b.net.lan.args == lan, b.net.lan.args
        phy = {v for k, v in lan.items() if k in ("mdc", "mdio", "power", "ref_clk") and v is not None}
        # every pin the board uses, once
        used = list(pins["ct"]) + [pins["ladder"], pins["grid_rx"], pins["led_grid"]]  # LED = UART TX
        used += [p for p, _ in pins["pulse"].values()] + list(pins["i2c"] or ())
        if pins["p1_request"] is not None:
            used.append(pins["p1_request"])
        assert len(set(used)) == len(used), "a pin used twice"
        bad = set(used) & (RMII | FLASH | CONSOLE | phy | set(reserved))
        assert not bad, "pins taken elsewhere: %r" % bad
        pin_calls = [c for c in machine.calls if c[0] == "Pin"]
        assert {c[1] for c in pin_calls} <= set(used) | phy  # nothing else touched
        # strapping pins at their boot levels: GPIO12 (MTDI) high selects 1.8 V flash, GPIO2
        # high blocks serial download, GPIO0 low at reset is download mode (the PHY's own pins
        # are the board maker's design)
        for c in pin_calls:
            if c[1] in phy:
                continue
            if c[1] == 12:
                assert c[2] == machine.Pin.OUT and not c[4] or c[3] == machine.Pin.PULL_DOWN, c
            if c[1] == 2:
                assert c[3] != machine.Pin.PULL_UP, c
        assert 0 not in used
        # pulses: one edge per pulse, the contact closing (the ESP32's default is both edges)
        for kind, (p, active) in pins["pulse"].items():
            b.pulse[kind].irq(handler=lambda pin: None)
            edge = machine.Pin.IRQ_FALLING if active == "low" else machine.Pin.IRQ_RISING
            assert ("irq", p, edge) in machine.calls, (kind, p)
            assert active == "low" or p in (2, 12)  # pull-downs only where a strap needs them
        # the display was initialised (charge pump on, display on) and a frame sent
        writes = b.display.i2c.writes
        assert (b.display.i2c.sda, b.display.i2c.scl) == tuple(pins["i2c"])
        assert (0x3C, b"\x00\x8d\x14") in writes and (0x3C, b"\x00\xaf") in writes
        data = [w for w in writes if w[1][0] == 0x40]
        assert len(data) == 8 and all(len(w[1]) == 129 for w in data)  # a frame: 8 pages of 128 columns
        # grid port formats: TIC historic 1200 7E1, standard 9600 7E1, P1 115200 8N1 inverted;
        # the UART's TX (which it always drives: UART2's default is GPIO17, the Olimex's RMII
        # clock and the WROVER's PSRAM) is the LED's pin, inverted so it idles low
        U = machine.UART
        rx, led = pins["grid_rx"], pins["led_grid"]
        for kind, fmt, inv in (("tic_historic", (1200, 7, 0, 1, rx), U.INV_TX),
                               ("tic_standard", (9600, 7, 0, 1, rx), U.INV_TX),
                               ("p1", (115200, 8, None, 1, rx), U.INV_RX | U.INV_TX),
                               ("p1_legacy", (9600, 7, 0, 1, rx), U.INV_RX | U.INV_TX)):
            port = b.grid_port(kind)
            assert port.args[1:6] == fmt and port.args[6] == inv and port.tx == led, (kind, port.args, port.tx)
            if pins["p1_request"] is not None:
                assert b._p1_request.value() == (1 if kind.startswith("p1") else 0)
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
        b.buttons["back"].ladder._t = None
        assert [b.buttons[n].value() for n in ("up", "down", "ok", "back")] == [1, 1, 1, 1]
        machine.ADC.reading = 0
        b.buttons["back"].ladder._t = None
        assert b.buttons["back"].value() == 0 and b.buttons["up"].value() == 1
        machine.ADC.reading = 2048 << 4
    finally:
        sys.path.remove("host_tests/fakes")
        for m in ("machine", "network", "esp32_eth", modname):
            sys.modules.pop(m, None)


def test_olimex_esp32_poe_wiring():
    check_esp32_board("olimex_esp32_poe", dict(mdc=23, mdio=18, power=12, phy_type=1, phy_addr=0,
                                               ref_clk=17, ref_clk_mode=3))


def test_wt32_eth01_wiring():
    check_esp32_board("wt32_eth01", dict(mdc=23, mdio=18, power=16, phy_type=1, phy_addr=1,
                                         ref_clk=0, ref_clk_mode=1))


def test_esp32_ethernet_kit_wiring():
    # GPIO16 and 17 are the WROVER module's PSRAM
    check_esp32_board("esp32_ethernet_kit", dict(mdc=23, mdio=18, power=5, phy_type=2, phy_addr=1,
                                                 ref_clk=0, ref_clk_mode=1), reserved=(16, 17))


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
