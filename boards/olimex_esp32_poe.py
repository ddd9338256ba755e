# Olimex ESP32-POE (rev. C and later): LAN8720 Ethernet with PoE, in a DIN-rail box.
# Deployed to the device as /board.py. The only file, with the other board modules,
# that touches `machine` and `network`. Wiring (see boards/README.md):
#
#   CT inputs 1-5   GPIO32, 33, 35, 36, 39  (ADC1: RMII uses no ADC1 pin), 11 dB atten.
#   buttons         GPIO34 (ADC1): a resistor ladder, BUT1 on the board is "back"
#   display         SSD1306 on I2C: SDA GPIO13, SCL GPIO16 (UEXT)
#   grid meter RX   GPIO4 (UART2); P1 data request GPIO5 (through a transistor to 5 V)
#   pulse inputs    gas GPIO14, water GPIO15 (pull-up, RC filter, reed or open collector)
#   grid LED        GPIO2; the power LED is on the 3.3 V rail
#   Ethernet        LAN8720 at address 0, MDC GPIO23, MDIO GPIO18, power GPIO12,
#                   50 MHz RMII clock out on GPIO17
import time

import network
from machine import ADC, I2C, RTC, Pin, UART

from submeter.clock import Clock, civil, day_number, weekday

CT_PINS = (32, 33, 35, 36, 39)
LADDER_PIN = 34
# ladder readings (read_u16) per button: 10 k pull-up, buttons to GND through
# 0 (back, BUT1), 2.2 k (up), 4.7 k (down), 10 k (ok); nothing pressed reads the rail
LADDER = (("back", 0, 4000), ("up", 7000, 16000), ("down", 16000, 26000), ("ok", 26000, 40000))
I2C_SDA, I2C_SCL = 13, 16
DISPLAY = "ssd1306"  # the I2C display on UEXT: "ssd1306" (0.96") or "sh1106" (1.3"); None: none
GRID_RX, P1_REQUEST = 4, 5
PULSE = {"gas": 14, "water": 15}
LED_GRID = 2
SAMPLE_US = 500  # 2 kHz: 40 samples per 50 Hz cycle


class _Ladder:
    """All four buttons share one ADC pin: one reading per poll round."""

    def __init__(self, pin):
        # (atten= is the ESP32's ADC keyword, missing from micropython-esp32-stubs 1.25)
        self.adc = ADC(Pin(pin), atten=ADC.ATTN_11DB)  # type: ignore[call-arg]
        self._t = None
        self._v = 65535

    def read(self):
        t = time.ticks_ms()
        if t != self._t:
            self._t = t
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
    def __init__(self, pin):
        # (atten= is the ESP32's ADC keyword, missing from micropython-esp32-stubs 1.25)
        self.adc = ADC(Pin(pin), atten=ADC.ATTN_11DB)  # type: ignore[call-arg]
        self.read_u16 = self.adc.read_u16
        # calibrated scale of one 12-bit count, from the ADC's eFuse calibration:
        # read_uv() of a mid-scale reading against its raw value
        raw = self.adc.read_u16() >> 4
        self.uv_per_count = self.adc.read_uv() / raw if raw > 100 else 806.0
        self.noise_counts = 2.0  # typical ESP32 ADC noise; calibrated per unit later


class _Net:
    def __init__(self, cfg):
        self.cfg = cfg
        # the ESP32's LAN keywords (MicroPython docs, network.LAN: mdc, mdio, power, ref_clk),
        # which micropython-esp32-stubs 1.25 leaves out
        self.lan = network.LAN(mdc=Pin(23), mdio=Pin(18), power=Pin(12),  # type: ignore[call-arg]
                               phy_type=network.PHY_LAN8720, phy_addr=0, ref_clk=Pin(17), ref_clk_mode=Pin.OUT)

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


class Board:
    name = "olimex_esp32_poe"
    ct_sample_us = SAMPLE_US
    CONFIG: dict = {}
    data_dir = ""  # the root of the littlefs filesystem

    def __init__(self):
        import machine
        import binascii
        self.uid = binascii.hexlify(machine.unique_id()).decode()  # names the meter on MQTT
        self.clock = Clock()
        self.ct = [_CT(p) for p in CT_PINS]
        ladder = _Ladder(LADDER_PIN)
        self.buttons = {name: _LadderButton(ladder, lo, hi) for name, lo, hi in LADDER}
        self.leds = {"grid": Pin(LED_GRID, Pin.OUT, value=0)}
        self.pulse = {k: Pin(p, Pin.IN, Pin.PULL_UP) for k, p in PULSE.items()}
        self.display = None
        try:
            if DISPLAY == "sh1106":
                from submeter.sh1106 import SH1106_I2C as Driver
            elif DISPLAY == "ssd1306":
                from submeter.ssd1306 import SSD1306_I2C as Driver
            if DISPLAY:
                self.display = Driver(I2C(0, sda=Pin(I2C_SDA), scl=Pin(I2C_SCL), freq=400000))
        except OSError:  # no display answering: the meter still meters and serves its page
            self.display = None
        self.net = None
        self._p1_request = Pin(P1_REQUEST, Pin.OUT, value=0)

    def configure(self, cfg):
        self.net = _Net(cfg)

    def grid_port(self, kind):
        """A UART set up for the grid meter's customer port: TIC (historic 1200 Bd or
        standard 9600 Bd, 7E1) or P1 (115200 8N1, or 9600 7E1 for DSMR 2.2/3; inverted,
        data request raised); None for a kind this board does not know."""
        if kind == "p1":
            self._p1_request.value(1)
            return UART(2, baudrate=115200, bits=8, parity=None, stop=1, rx=GRID_RX,
                        invert=UART.INV_RX, rxbuf=4096)
        if kind == "p1_legacy":  # DSMR 2.2/3: 9600 Bd 7E1, inverted, no CRC
            self._p1_request.value(1)
            return UART(2, baudrate=9600, bits=7, parity=0, stop=1, rx=GRID_RX,
                        invert=UART.INV_RX, rxbuf=4096)
        if kind not in ("tic_standard", "tic_historic"):
            return None
        self._p1_request.value(0)
        baud = 9600 if kind == "tic_standard" else 1200
        return UART(2, baudrate=baud, bits=7, parity=0, stop=1, rx=GRID_RX, rxbuf=2048)

    def utc_s(self):
        """The ESP32's RTC, in UTC seconds since 2000; None until it has been set (it keeps
        the time over a reset, not over a power cut: the board has no backup cell)."""
        y, mo, d, _, h, mi, s, _ = RTC().datetime()
        if y < 2020:
            return None
        return day_number(y, mo, d) * 86400 + h * 3600 + mi * 60 + s

    def set_utc(self, t):
        """Set the RTC from a better source (NTP), so the next reset knows the time at once."""
        n, s = divmod(int(t), 86400)
        y, mo, d = civil(n)
        RTC().datetime((y, mo, d, weekday(n), s // 3600, s // 60 % 60, s % 60, 0))

    def background(self, app):
        return []

    async def stopped(self):
        import asyncio
        await asyncio.Event().wait()  # a meter never stops by itself

    def close(self):
        pass
