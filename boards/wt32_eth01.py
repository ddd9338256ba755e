# Wireless-Tag WT32-ETH01 v1.4 (its LAN as MicroPython's ESP32 quick reference gives it):
# LAN8720A Ethernet, no PoE, no USB (program it through a 3.3 V USB-serial adapter on TX0/RX0,
# IO0 to GND at reset). Deployed to the device as /board.py, with esp32_eth.py beside it.
# Wiring: docs/hardware.md.
#
# It breaks out exactly five ADC1 pins (32, 33, 35, 36, 39) and seven more GPIOs (2, 4,
# 5, 12, 14, 15, 17), four of them strapping pins, for eleven signals; so:
#   CT inputs 1-5   GPIO32, 33, 35, 36, 39 (ADC1), 11 dB
#   buttons         GPIO14: the resistor ladder on an ADC2 pin (ADC2 reads while Wi-Fi is
#                   off; this firmware never starts Wi-Fi)
#   display         SSD1306 or SH1106 on I2C: SDA GPIO4, SCL GPIO15 (the bus pull-up keeps
#                   the MTDO strap high at boot: its default)
#   grid meter RX   GPIO5 (UART2; the demodulator's pull-up keeps this strap high: default)
#   P1 Data Request not switched: wire it to the P1 plug's +5 V (the meter then sends a
#                   telegram every second, all the time)
#   pulse inputs    gas GPIO17 (contact to GND, pull-up); water GPIO2 (contact to 3.3 V,
#                   pull-down: GPIO2 must not be pulled high while the board is flashed)
#   grid LED        GPIO12, to GND, driven as the grid UART's TX (esp32_eth._TxLed): the LED
#                   keeps it low at boot (GPIO12 high at boot selects 1.8 V flash). No pin
#                   is left for the power and boot LEDs: faults show on the display and the page
#   Ethernet        LAN8720A at address 1, MDC GPIO23, MDIO GPIO18; GPIO16 enables the
#                   50 MHz oscillator, whose clock comes in on GPIO0
#   voltage ref.    no pin left. To fit it, give up the display (and with it the use of the
#                   buttons): the reference on GPIO4 (ADC2), GPIO15 left unconnected (its
#                   internal pull-up keeps MTDO's default). The other free-able pins are
#                   straps whose level matters (2, 12) or not ADC pins (5, 17). Uncomment
#                   the PINS.update line below
import network
from machine import Pin

from esp32_eth import EthBoard

PINS = {
    "ct": (32, 33, 35, 36, 39),
    "ladder": 14,
    "i2c": (4, 15),
    "grid_rx": 5,
    "p1_request": None,
    "pulse": {"gas": (17, "low"), "water": (2, "high")},
    "led_grid": (12, "high"),
    "led_power": None,
    "led_boot": None,
    "vref": None,  # no pin left: VREF_INSTEAD below
}
# the voltage reference instead of the display (docs/hardware.md; test_boards.py checks
# this table too)
VREF_INSTEAD = {"vref": 4, "i2c": None}
# PINS.update(VREF_INSTEAD)


class Board(EthBoard):
    name = "wt32_eth01"
    PINS = PINS
    DISPLAY = "ssd1306"  # "ssd1306" (0.96") or "sh1106" (1.3"); None: none

    def lan(self):
        # (the ESP32's LAN keywords, which micropython-esp32-stubs 1.25 leaves out)
        return network.LAN(mdc=Pin(23), mdio=Pin(18), power=Pin(16),  # type: ignore[call-arg]
                           phy_type=network.PHY_LAN8720, phy_addr=1, ref_clk=Pin(0), ref_clk_mode=Pin.IN)
