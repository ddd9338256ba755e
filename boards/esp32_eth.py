# What every ESP32 Ethernet board here has in common, built from the board's pin table.
# A board module (olimex_esp32_poe.py, wt32_eth01.py, esp32_ethernet_kit.py) holds only
# its pins and its PHY; this module turns them into the objects the firmware duck-types
# (boards/README.md); what it leaves out, the board inherits from base.BaseBoard (the
# defaults; the OTA rollback's `healthy`, `reset`). Deployed beside the board module, with
# base.py; with it, the only code that touches `machine` and `network`. Wiring and its
# reasons: docs/hardware.md.
#
# A pin table (dict):
#   ct          five ADC pins, input order: ADC1 (GPIO32-39) where the board has them free,
#               else ADC2 (0, 2, 4, 12-15; 25-27 are RMII), which reads only while Wi-Fi is
#               off: this firmware never starts it (docs/hardware.md)
#   vref        the ADC pin of the optional voltage reference (a 9 V AC-AC adapter through
#               a divider, docs/hardware.md), or None where the board has no pin left for it
#   ladder      the ADC pin of the four-button resistor ladder
#   i2c         (SDA, SCL) of the display, or None
#   grid_rx     UART RX of the grid-meter input (TIC demodulator or P1 data)
#   p1_request  the pin that raises the P1 Data Request through an optocoupler, or None
#               where Data Request is wired to the P1 plug's +5 V (the meter then sends
#               all the time, which DSMR allows)
#   pulse       {"gas": (pin, active), "water": (pin, active)}: active "low" = contact
#               to GND with a pull-up (counts the closing, a falling edge); "high" =
#               contact to 3.3 V with a pull-down (a rising edge), for strapping pins
#               that must not be pulled up at boot
#   led_grid    (pin, active) of the TIC/P1 activity LED (green), on the grid UART's TX pin:
#               see _TxLed. active "high" = LED to GND (lit when the pin is high); "low" =
#               LED from 3.3 V (lit when the pin is low): a strapping pin's LED pulls it
#               toward its boot level, never away from it
#   led_power   (pin, active) of the power LED (green): steady, blinking on a fault; None
#               where the board has no pin left for it (left out of `leds`)
#   led_boot    (pin, active) of the boot LED (red): lit as the board starts, turned off
#               once the firmware reports healthy; None where the board has no pin for it
import time

import network
from machine import ADC, I2C, RTC, Pin, UART

from base import BaseBoard
from submeter.clock import Clock, civil, day_number, weekday

SAMPLE_US = 500  # 2 kHz: 40 samples per 50 Hz cycle
# ladder readings (read_u16) per button: 10 k pull-up to 3.3 V, buttons to GND through
# 0 (back), 2.2 k (up), 4.7 k (down), 10 k (ok); nothing pressed reads the rail
LADDER = (("back", 0, 4000), ("up", 7000, 16000), ("down", 16000, 26000), ("ok", 26000, 40000))
WDT_IDLE_MS = 3600000  # the watchdog's timeout once the firmware stopped at the REPL (close)


# grid port kinds: baud, data bits, parity, P1 (inverted RX, Data Request raised), RX buffer;
# "p1_legacy" is DSMR 2.2/3: 9600 Bd 7E1, inverted, no CRC
_PORTS = {"tic_historic": (1200, 7, 0, False, 2048), "tic_standard": (9600, 7, 0, False, 2048),
          "p1": (115200, 8, None, True, 4096), "p1_legacy": (9600, 7, 0, True, 4096)}


class _Ladder:
    """All four buttons share one ADC pin: one reading per poll round."""

    def __init__(self, pin):
        # (atten= is the ESP32's ADC keyword, missing from micropython-esp32-stubs 1.25)
        self.adc = ADC(Pin(pin), atten=ADC.ATTN_11DB)  # type: ignore[call-arg]
        self.read_ms = None     # ticks_ms of the last reading (None: read at the next call)
        self._v = 65535

    def read(self):
        t = time.ticks_ms()
        if t != self.read_ms:
            self.read_ms = t
            self._v = self.adc.read_u16()
        return self._v


class _LadderButton:
    """Looks like a pull-up Pin to the firmware: value() is 0 while pressed."""

    def __init__(self, ladder, lo, hi):
        self.ladder = ladder
        self.lo = lo
        self.hi = hi

    def value(self):
        return 0 if self.lo <= self.ladder.read() < self.hi else 1


class _CT:
    """One CT input (or the voltage reference: the same ADC object, read the same way):
    read_u16 for the samples, read_uv for the scale. The firmware finds
    the scale itself (submeter.sense.ct.Scale: the slope of the chip's eFuse calibration line,
    from the spread of read_uv against read_u16, so the line's offset drops out);
    read_uv raises OSError on a chip with no eFuse calibration (MicroPython 1.25 gives
    ESP-IDF no default Vref), and the nominal scale is kept."""

    uv_per_count = 806.0  # nominal: 3.3 V over 12 bits, until the firmware has measured it
    noise_counts = 5.0    # assumed rms ADC noise until the input is zeroed (chips: 4-8)

    def __init__(self, pin):
        # (atten= is the ESP32's ADC keyword, missing from micropython-esp32-stubs 1.25)
        self.adc = ADC(Pin(pin), atten=ADC.ATTN_11DB)  # type: ignore[call-arg]
        self.read_u16 = self.adc.read_u16
        self.read_uv = self.adc.read_uv
        # ADC1 is GPIO32-39; the others are ADC2, whose calibration line is its own: the
        # firmware keeps one scale per unit (submeter.sense.ct.unit_scales)
        self.unit = 1 if pin >= 32 else 2


class _Led:
    """An LED on a pin, value(1) = lit, whichever way it is wired (active "high": to GND;
    "low": from 3.3 V, the pin sinks it)."""

    def __init__(self, pin, active, lit):
        self.low = 1 if active == "low" else 0
        self.lit = 1 if lit else 0
        self.pin = Pin(pin, Pin.OUT, value=self.lit ^ self.low)

    def value(self, v=None):
        if v is None:
            return self.lit
        self.lit = 1 if v else 0
        self.pin.value(self.lit ^ self.low)


class _TxLed:
    """The TIC/P1 LED, driven by the grid UART's TX pin.

    An ESP32 UART always drives a TX pin, and UART2's default is GPIO17: the Olimex's RMII
    clock, the WROVER's PSRAM, the WT32's only other free pin. So the board gives TX the
    LED's pin, idling dark: inverted for an LED to GND (TX idles low, and a strapping pin
    that must be low stays low at boot), as is for an LED from 3.3 V (TX idles high); a
    burst of zero bytes drives the LED for ~50 ms: one blink per good frame. No pin
    is spent on the LED alone, none is taken by surprise."""

    def __init__(self):
        self.uart = None
        self.burst = b""

    def attach(self, uart, baud):
        self.uart = uart
        self.burst = bytes(baud // 200)  # 50 ms of characters of 10 bits, 9 of them at 0

    def value(self, v=None):
        if v and self.uart is not None:
            try:
                self.uart.write(self.burst)  # the driver's TX buffer takes it: no wait
            except OSError:
                pass


class _PulsePin:
    """A pulse input armed on one edge: the contact closing. (Pin.irq's default on the ESP32
    is both edges, which would count every pulse twice.)"""

    def __init__(self, pin, active):
        low = active == "low"
        if pin >= 34:  # GPIO34-39 have no internal pulls: the board's own resistor does it
            self.pin = Pin(pin, Pin.IN)
        else:
            self.pin = Pin(pin, Pin.IN, Pin.PULL_UP if low else Pin.PULL_DOWN)
        self.trigger = Pin.IRQ_FALLING if low else Pin.IRQ_RISING
        self.value = self.pin.value

    def irq(self, handler=None, trigger=None):
        return self.pin.irq(handler=handler, trigger=self.trigger)


class _Net:
    def __init__(self, cfg, lan):
        self.cfg = cfg
        self.lan = lan

    async def connect(self, timeout_ms=20000):
        """DHCP, or the static address of the config; the hostname the router shows."""
        import asyncio
        cfg = self.cfg
        try:
            network.hostname(cfg["hostname"])
        except (AttributeError, ValueError, OSError):
            pass  # older firmware: the default name
        self.lan.active(True)
        if cfg["ip"]:
            self.lan.ifconfig((cfg["ip"], cfg["netmask"], cfg["gateway"] or cfg["ip"], cfg["dns"] or cfg["gateway"] or cfg["ip"]))
        t0 = time.ticks_ms()
        while not self.lan.isconnected() and time.ticks_diff(time.ticks_ms(), t0) < timeout_ms:
            await asyncio.sleep_ms(100)
        return self.lan.ifconfig()[0]

    def isconnected(self):
        return self.lan.isconnected()

    def ip(self):
        return self.lan.ifconfig()[0]


class EthBoard(BaseBoard):
    """A board from its pin table and its PHY: subclasses set name, PINS, DISPLAY and lan()."""
    name = ""
    PINS: dict = {}
    DISPLAY = "ssd1306"  # the I2C display: "ssd1306" (0.96") or "sh1106" (1.3"); None: none
    ct_sample_us = SAMPLE_US
    CONFIG: dict = {}
    data_dir = ""  # the root of the littlefs filesystem
    _wdt: object = None  # machine.WDT, once the App has armed it

    def lan(self):
        """The board's network.LAN (its PHY, address, MDC/MDIO, power and clock pins)."""
        raise NotImplementedError

    def __init__(self):
        import machine
        import binascii
        pins = self.PINS
        # the red boot LED first, as early as the board can: lit until the firmware is healthy
        leds: dict = {}
        if pins.get("led_boot"):
            leds["boot"] = _Led(pins["led_boot"][0], pins["led_boot"][1], True)
        self.uid = binascii.hexlify(machine.unique_id()).decode()  # names the meter on MQTT
        self.clock = Clock()
        self.ct = [_CT(p) for p in pins["ct"]]
        vref = pins.get("vref")
        self.vref = None if vref is None else _CT(vref)  # read whether or not an adapter is fitted
        ladder = _Ladder(pins["ladder"])
        self.buttons = {name: _LadderButton(ladder, lo, hi) for name, lo, hi in LADDER}
        if pins.get("led_power"):
            leds["power"] = _Led(pins["led_power"][0], pins["led_power"][1], True)
        self._grid_led = leds["grid"] = _TxLed()
        self.leds = leds
        self.pulse = {k: _PulsePin(p, active) for k, (p, active) in pins["pulse"].items()}
        self.display = None
        try:
            if pins["i2c"] and self.DISPLAY == "sh1106":
                from drivers.sh1106 import SH1106_I2C as Driver
            elif pins["i2c"] and self.DISPLAY == "ssd1306":
                from drivers.ssd1306 import SSD1306_I2C as Driver
            else:
                Driver = None
            if Driver:
                sda, scl = pins["i2c"]
                self.display = Driver(I2C(0, sda=Pin(sda), scl=Pin(scl), freq=400000))
        except OSError:  # no display answering: the meter still meters and serves its page
            self.display = None
        self.net = None
        req = pins["p1_request"]
        self.p1_request = None if req is None else Pin(req, Pin.OUT, value=0)  # P1's Data Request line

    def configure(self, cfg):
        self.net = _Net(cfg, self.lan())

    def _request(self, on):
        if self.p1_request is not None:
            self.p1_request.value(on)

    def grid_port(self, kind):
        """A UART set up for the grid meter's customer port: TIC (historic 1200 Bd or
        standard 9600 Bd, 7E1) or P1 (115200 8N1, or 9600 7E1 for DSMR 2.2/3; inverted,
        data request raised); None for a kind this board does not know."""
        fmt = _PORTS.get(kind)
        if fmt is None:
            return None
        baud, bits, parity, p1, rxbuf = fmt
        self._request(1 if p1 else 0)
        tx, active = self.PINS["led_grid"]
        inv = (UART.INV_RX if p1 else 0) | (UART.INV_TX if active == "high" else 0)
        u = UART(2, baudrate=baud, bits=bits, parity=parity, stop=1, tx=tx, rx=self.PINS["grid_rx"],
                 invert=inv, rxbuf=rxbuf, txbuf=1024)  # TX: the LED, idling dark (_TxLed)
        self._grid_led.attach(u, baud)
        return u

    def utc_s(self):
        """The ESP32's RTC, in UTC seconds since 2000; None until it has been set (it keeps
        the time over a reset, not over a power cut: these boards have no backup cell)."""
        y, mo, d, _, h, mi, s, _ = RTC().datetime()
        if y < 2020:
            return None
        return day_number(y, mo, d) * 86400 + h * 3600 + mi * 60 + s

    def set_utc(self, t):
        """Set the RTC from a better source (NTP), so the next reset knows the time at once."""
        n, s = divmod(int(t), 86400)
        y, mo, d = civil(n)
        RTC().datetime((y, mo, d, weekday(n), s // 3600, s // 60 % 60, s % 60, 0))

    def watchdog(self, timeout_ms):
        """The hardware watchdog (ESP-IDF's task watchdog through machine.WDT), armed by the
        App once it meters: unless fed within `timeout_ms` the chip resets, and the
        bootloader (rollback included) and the firmware start again. Called again, it
        changes the timeout (esp_task_wdt_reconfigure); it cannot be stopped."""
        import machine
        self._wdt = machine.WDT(timeout=timeout_ms)
        return self._wdt

    def reset_cause(self):
        """Why the chip last started: "power", "watchdog", "reset" (machine.reset(), the
        reset button or a panic), "soft" (Ctrl-D) or "" when ESP-IDF does not say."""
        import machine
        c = machine.reset_cause()
        return {machine.PWRON_RESET: "power", machine.WDT_RESET: "watchdog", machine.HARD_RESET: "reset",
                machine.SOFT_RESET: "soft"}.get(c, "")

    def close(self):
        # the firmware stopped at the REPL (Ctrl-C: mpremote, make deploy): a watchdog that
        # cannot be stopped gets an hour, so a session at the REPL is not reset under the
        # user's hands, and a device left there starts its firmware again within the hour
        if self._wdt is not None:
            import machine
            machine.WDT(timeout=WDT_IDLE_MS)
