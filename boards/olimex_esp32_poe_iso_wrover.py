# Olimex ESP32-POE-ISO-WROVER (hardware revision L; the WROVER variant exists from rev K):
# ESP32-WROVER-E module (with PSRAM), LAN8710A Ethernet, isolated PoE. It runs the stock
# MicroPython 1.25 ESP32_GENERIC-SPIRAM image (make deploy BOARD=olimex_esp32_poe_iso_wrover).
# Deployed as /board.py with esp32_eth.py beside it. Reasons and documents: docs/hardware.md.
#
# What the WROVER changes (Olimex's ESP32-POE-ISO change log, rev J, and schematic rev L):
# GPIO16/17 are the module's PSRAM and not connected on the board, so the LAN8710A's 50 MHz
# clock comes from GPIO0 through an inverter (U8) instead of GPIO17, and the UEXT's I2C SCL
# is moved to GPIO33 (R42, 10 ohm) instead of GPIO16. The rest is the POE-ISO's: GPIO39 =
# +5 V sense divider (R4 47k / R9 100k), GPIO35 = battery divider (R7/R16, 470k/470k, no
# jumper), GPIO36 = UEXT RXD with a 10k pull-up (R37), GPIO34 = BUT1 with a 10k pull-up,
# GPIO2/15 = SD lines with pull-ups, GPIO5 = UEXT CS with a 10k pull-up. Twelve pins for
# twelve signals, so two CT inputs need a resistor removed:
#   CT inputs 1-5   GPIO32, 35, 39 (ADC1), 4, 14 (ADC2: this firmware never starts Wi-Fi),
#                   11 dB. Remove R7 and R16 (GPIO35's battery divider) and R4 and R9
#                   (GPIO39's +5 V divider) before fitting CTs 2 and 3 (docs/hardware.md)
#   buttons         GPIO36 (ADC1): the ladder on the board's 10k pull-up (R37), wired to
#                   GPI36 on the extension header, not through UEXT (diode D4)
#   display         SSD1306 or SH1106 on I2C: SDA GPIO13, SCL GPIO33 (UEXT, through R42)
#   grid meter RX   GPIO34 (UART2; BUT1's line and 10k pull-up: BUT1 pressed garbles a frame)
#   P1 Data Request not switched: wire it to the P1 plug's +5 V
#   pulse inputs    gas GPIO5 (R36 pull-up), water GPIO15 (R39 pull-up): contacts to GND
#   LEDs            TIC/P1 on GPIO2 from 3.3 V (lit low; the grid UART's TX); no pin is left
#                   for the power and boot LEDs: faults show on the display and the page
#   Ethernet        LAN8710A (LAN8720 driver) at address 0, MDC GPIO23, MDIO GPIO18, power
#                   GPIO12, 50 MHz RMII clock out on GPIO0 (the ESP32's CLK_OUT1)
#   voltage ref.    no pin left. To fit it, give up the water pulse input: GPIO15 (ADC2)
#                   once R39 (the SD card's CMD pull-up) is removed; the reference then holds
#                   the MTDO strap between its levels at reset, which only decides whether
#                   the ROM prints its boot log. Uncomment the PINS.update line below
import network
from machine import Pin

from esp32_eth import EthBoard

PINS = {
    "ct": (32, 35, 39, 4, 14),
    "ladder": 36,
    "i2c": (13, 33),
    "grid_rx": 34,
    "p1_request": None,
    "pulse": {"gas": (5, "low"), "water": (15, "low")},
    "led_grid": (2, "low"),
    "led_power": None,
    "led_boot": None,
    # the board's own parts a pin above is freed from, and how (checked by test_boards.py)
    "freed": {35: "R7 and R16 removed (battery divider)", 39: "R4 and R9 removed (+5 V sense divider)"},
    "vref": None,  # no pin left: VREF_INSTEAD below
}
# the voltage reference instead of the water pulse input (docs/hardware.md; test_boards.py
# checks this table too)
VREF_INSTEAD = {"vref": 15, "pulse": {"gas": (5, "low")},
                "freed": {35: "R7 and R16 removed (battery divider)", 39: "R4 and R9 removed (+5 V sense divider)",
                          15: "R39 removed (the SD card's CMD pull-up)"}}
# PINS.update(VREF_INSTEAD)


class Board(EthBoard):
    name = "olimex_esp32_poe_iso_wrover"
    PINS = PINS
    DISPLAY = "ssd1306"  # the I2C display on UEXT: "ssd1306" (0.96") or "sh1106" (1.3"); None: none

    def lan(self):
        # (the ESP32's LAN keywords, which micropython-esp32-stubs 1.25 leaves out)
        return network.LAN(mdc=Pin(23), mdio=Pin(18), power=Pin(12),  # type: ignore[call-arg]
                           phy_type=network.PHY_LAN8720, phy_addr=0, ref_clk=Pin(0), ref_clk_mode=Pin.OUT)
