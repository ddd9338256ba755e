# The ESP32 image with the firmware frozen in (for boards without PSRAM: run from .mpy
# files the firmware's bytecode alone would take most of the 110 KB heap):
#   make -C ports/esp32 BOARD=ESP32_GENERIC FROZEN_MANIFEST=/path/to/boards/manifest.py
# The port's own manifest already freezes asyncio and umqtt.simple.
include("$(PORT_DIR)/boards/manifest.py")
include("../firmware/manifest.py")
module("esp32_eth.py")
module("olimex_esp32_poe.py")
module("wt32_eth01.py")
module("esp32_ethernet_kit.py")
module("olimex_esp32_poe_iso_wrover.py")
