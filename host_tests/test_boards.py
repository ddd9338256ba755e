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


def test_olimex_board_surface_and_wiring():
    if not IS_MP:
        skip("the board module needs framebuf (MicroPython)")
    sys.path.insert(0, "host_tests/fakes")
    try:
        import machine
        import network
        import olimex_esp32_poe as olimex
        from submeter import config
        machine.calls.clear()
        b = olimex.Board()
        cfg = config.validate(b.CONFIG)
        check_surface(b, cfg)
        # five CTs and the button ladder on ADC1 (the fake refuses ADC2 and output on 34-39)
        adcs = sorted(c[1] for c in machine.calls if c[0] == "ADC")
        assert adcs == [32, 33, 34, 35, 36, 39]
        # nothing else on the RMII data pins or the console UART
        taken = {0, 19, 21, 22, 25, 26, 27, 1, 3}
        assert not [c for c in machine.calls if c[0] == "Pin" and c[1] in taken]
        assert b.net.lan.args == dict(mdc=23, mdio=18, power=12, phy_type=network.PHY_LAN8720,
                                      phy_addr=0, ref_clk=17, ref_clk_mode=machine.Pin.OUT)
        # the display was initialised (charge pump on, display on) and a frame sent
        writes = b.display.i2c.writes
        assert (0x3C, b"\x00\x8d\x14") in writes and (0x3C, b"\x00\xaf") in writes
        data = [w for w in writes if w[1][0] == 0x40]
        assert len(data) == 8 and all(len(w[1]) == 129 for w in data)  # a frame: 8 pages of 128 columns
        # grid port formats: TIC historic 1200 7E1, standard 9600 7E1, P1 115200 8N1 inverted
        assert b.grid_port("tic_historic").args[1:4] == (1200, 7, 0)
        assert b.grid_port("tic_standard").args[1:4] == (9600, 7, 0)
        p1 = b.grid_port("p1")
        assert p1.args[1:4] == (115200, 8, None) and p1.args[6] == machine.UART.INV_RX
        assert b._p1_request.value() == 1
        legacy = b.grid_port("p1_legacy")
        assert legacy.args[1:4] == (9600, 7, 0) and legacy.args[6] == machine.UART.INV_RX
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
        # the ladder: nothing pressed reads the rail; BUT1 pulls to 0 = back
        machine.ADC.reading = 65535
        b.buttons["back"].ladder._t = None
        assert [b.buttons[n].value() for n in ("up", "down", "ok", "back")] == [1, 1, 1, 1]
        machine.ADC.reading = 0
        b.buttons["back"].ladder._t = None
        assert b.buttons["back"].value() == 0 and b.buttons["up"].value() == 1
    finally:
        sys.path.remove("host_tests/fakes")
        for m in ("machine", "network", "olimex_esp32_poe"):
            sys.modules.pop(m, None)


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
