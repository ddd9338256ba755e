# Olimex ESP32-POE and ESP32-POE-ISO (rev. C and later): LAN8720 Ethernet with PoE.
# Deployed to the device as /board.py, with esp32_eth.py beside it. Wiring, with the
# reasons for each pin: docs/hardware.md.
#
#   CT inputs 1-5   GPIO32, 33, 35, 36, 39 (ADC1), 11 dB
#   buttons         GPIO34 (ADC1): a resistor ladder; BUT1 on the board is "back"
#   display         SSD1306 or SH1106 on I2C: SDA GPIO13, SCL GPIO16 (UEXT)
#   grid meter RX   GPIO4 (UART2); P1 Data Request GPIO5 (through an optocoupler)
#   pulse inputs    gas GPIO14, water GPIO15 (pull-up, RC filter, contact to GND)
#   grid LED        GPIO2, to GND: the grid UART drives it as its TX (esp32_eth._TxLed);
#                   the power LED is on the 3.3 V rail
#   Ethernet        LAN8720 at address 0, MDC GPIO23, MDIO GPIO18, power GPIO12,
#                   50 MHz RMII clock out on GPIO17
import network
from machine import Pin

from esp32_eth import EthBoard

PINS = {
    "ct": (32, 33, 35, 36, 39),
    "ladder": 34,
    "i2c": (13, 16),
    "grid_rx": 4,
    "p1_request": 5,
    "pulse": {"gas": (14, "low"), "water": (15, "low")},
    "led_grid": 2,
}


class Board(EthBoard):
    name = "olimex_esp32_poe"
    PINS = PINS
    DISPLAY = "ssd1306"  # the I2C display on UEXT: "ssd1306" (0.96") or "sh1106" (1.3"); None: none

    def lan(self):
        # the ESP32's LAN keywords (MicroPython docs, network.LAN: mdc, mdio, power, ref_clk),
        # which micropython-esp32-stubs 1.25 leaves out
        return network.LAN(mdc=Pin(23), mdio=Pin(18), power=Pin(12),  # type: ignore[call-arg]
                           phy_type=network.PHY_LAN8720, phy_addr=0, ref_clk=Pin(17), ref_clk_mode=Pin.OUT)
