# Espressif ESP32-Ethernet-Kit v1.2 (ESP32-WROVER-E, PSRAM; v1.1: WROVER-B): IP101GRI Ethernet,
# optional PoE board. Deployed to the device as /board.py, with esp32_eth.py beside it.
# Wiring: docs/hardware.md. Set the kit's four-way Function Switch off (GPIO), so GPIO12
# to 15 are free rather than JTAG and UART flow control.
#
# Free: header 1 (GPIO32-36, 39: six ADC1 pins) and header 2 (GPIO2, 4, 12-15); GPIO16
# and 17 are taken by the WROVER's PSRAM. So:
#   CT inputs 1-5   GPIO32, 33, 35, 36, 39 (ADC1), 11 dB
#   buttons         GPIO34 (ADC1): the resistor ladder
#   display         SSD1306 or SH1106 on I2C: SDA GPIO13, SCL GPIO14
#   grid meter RX   GPIO4 (UART2)
#   P1 Data Request not switched: wire it to the P1 plug's +5 V
#   pulse inputs    gas GPIO15 (contact to GND, pull-up: MTDO's default level); water
#                   GPIO2 (contact to 3.3 V, pull-down: GPIO2 must not be high while flashing)
#   grid LED        GPIO12, to GND, driven as the grid UART's TX (esp32_eth._TxLed): the LED
#                   keeps it low at boot (GPIO12 high at boot selects 1.8 V flash). No pin
#                   is left for the power and boot LEDs: faults show on the display and the page
#   Ethernet        IP101GRI at address 1, MDC GPIO23, MDIO GPIO18; GPIO5 releases the
#                   PHY's reset, and with it the 50 MHz clock the PHY sends in on GPIO0
#   voltage ref.    no pin left. To fit it, give up the gas pulse input: the reference on
#                   GPIO15 (ADC2), which holds the MTDO strap between its levels at reset:
#                   that only decides whether the ROM prints its boot log. Uncomment the
#                   PINS.update line below
import network
from machine import Pin

from esp32_eth import EthBoard

PINS = {
    "ct": (32, 33, 35, 36, 39),
    "ladder": 34,
    "i2c": (13, 14),
    "grid_rx": 4,
    "p1_request": None,
    "pulse": {"gas": (15, "low"), "water": (2, "high")},
    "led_grid": (12, "high"),
    "led_power": None,
    "led_boot": None,
    "vref": None,  # no pin left: VREF_INSTEAD below
}
# the voltage reference instead of the gas pulse input (docs/hardware.md; test_boards.py
# checks this table too)
VREF_INSTEAD = {"vref": 15, "pulse": {"water": (2, "high")}}
# PINS.update(VREF_INSTEAD)


class Board(EthBoard):
    name = "esp32_ethernet_kit"
    PINS = PINS
    DISPLAY = "ssd1306"  # "ssd1306" (0.96") or "sh1106" (1.3"); None: none

    def lan(self):
        # (the ESP32's LAN keywords, which micropython-esp32-stubs 1.25 leaves out)
        return network.LAN(mdc=Pin(23), mdio=Pin(18), power=Pin(5),  # type: ignore[call-arg]
                           phy_type=network.PHY_IP101, phy_addr=1, ref_clk=Pin(0), ref_clk_mode=Pin.IN)
