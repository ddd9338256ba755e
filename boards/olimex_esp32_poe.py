# Olimex ESP32-POE (hardware revision L1; the pins below are the same from revision D on)
# and ESP32-POE-ISO (revision L), both with the ESP32-WROOM-32 module (no PSRAM: our image):
# LAN8720-family Ethernet with PoE. (The -WROVER boards: olimex_esp32_poe_iso_wrover.py.)
# Deployed as /board.py with esp32_eth.py beside it. The reasons and the documents for
# each pin: docs/hardware.md.
#
# The board uses more pins than its silkscreen says (Olimex's schematics, rev L1 / ISO rev L):
# GPIO39 = +5 V sense divider (R4 47k / R9 100k, from rev C, no jumper); GPIO35 = battery
# divider (470k/470k: behind jumper BAT_SENS_E1, open as shipped, on the ESP32-POE from rev D;
# wired straight, R7/R16, on the ESP32-POE-ISO); GPIO36 = UEXT RXD with a 10k pull-up (R37);
# GPIO34 = BUT1 with a 10k pull-up (R48); GPIO2 = SD DAT0 with a 2.2k pull-up; GPIO15 = SD
# CMD with a 10k pull-up (R39); GPIO5 = UEXT CS with a 10k pull-up (R36); GPIO13/16 = UEXT
# I2C with 2.2k pull-ups. A CT input needs a pin with nothing on it, and GPIO36/39 glitch
# low as a digital input while the ADC runs (ESP32 errata, GPIO-3.11), so:
#   CT inputs 1-5   GPIO32, 33, 35 (ADC1), 4, 14 (ADC2: it reads while Wi-Fi is off, and
#                   this firmware never starts Wi-Fi), 11 dB. ESP32-POE: BAT_SENS_E1 stays
#                   open (as shipped). ESP32-POE-ISO: remove R7 and R16 (470k) for input 3
#   buttons         GPIO36 (ADC1): the resistor ladder on the board's own 10k pull-up (R37);
#                   wire it to GPI36 on the EXT2 header, not through UEXT (diode D4)
#   display         SSD1306 or SH1106 on I2C: SDA GPIO13, SCL GPIO16 (UEXT)
#   grid meter RX   GPIO34 (UART2; BUT1's line and 10k pull-up: BUT1 pressed garbles a frame)
#   P1 Data Request not switched: wire it to the P1 plug's +5 V
#   pulse inputs    gas GPIO5 (R36 pull-up), water GPIO15 (R39 pull-up, MTDO's boot
#                   level): contacts to GND
#   LEDs            from 3.3 V through the resistor into the pin (lit low), so each keeps
#                   its strapping pin high at reset: TIC/P1 GPIO2 (the grid UART's TX,
#                   esp32_eth._TxLed), boot (red) GPIO0. No pin is left for the power LED:
#                   faults show on the display and the page (docs/hardware.md)
#   Ethernet        LAN8720 at address 0, MDC GPIO23, MDIO GPIO18, power GPIO12,
#                   50 MHz RMII clock out on GPIO17 (the WROVER boards: GPIO0)
#   voltage ref.    GPIO39 (ADC1), the last pin: remove R4 and R9 (the +5 V sense divider)
#                   before fitting it. Without an adapter the pin reads no waveform and the
#                   meter uses V x A x pf
import network
from machine import Pin

from esp32_eth import EthBoard

PINS = {
    "ct": (32, 33, 35, 4, 14),
    "ladder": 36,
    "i2c": (13, 16),
    "grid_rx": 34,
    "p1_request": None,
    "pulse": {"gas": (5, "low"), "water": (15, "low")},
    "led_grid": (2, "low"),
    "led_power": None,
    "led_boot": (0, "low"),
    "vref": 39,
    # the board's own parts a pin above is freed from, and how (checked by test_boards.py)
    "freed": {35: "BAT_SENS_E1 open (ESP32-POE, as shipped); R7 and R16 removed (ESP32-POE-ISO)",
              39: "R4 and R9 removed (+5 V sense divider) before the voltage reference is fitted"},
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
