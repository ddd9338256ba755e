# The frozen modules of our ESP32 image (boards/SUBMETER, `make image`, docs/image.md):
# their bytecode runs from flash and leaves the heap to the data. main.py is not here: it
# stays a file on the device, beside board.py (one line naming the board).
#
# Not the port's own boards/manifest.py: of what it freezes, only what MicroPython needs
# at boot, asyncio and umqtt.simple are kept; its other modules (apa106, espnow,
# aioespnow, dht, ds18x20, neopixel, onewire, upysh, umqtt.robust, and mip, ntptime, ssl,
# requests, urequests, webrepl from bundle-networking) serve nothing an Ethernet meter does.
import os

# the port's boot: mount the `vfs` partition (_boot.py), find it (flashbdev.py) and format
# it as littlefs at the first boot (inisetup.py)
module("_boot.py", base_path="$(PORT_DIR)/modules")
module("flashbdev.py", base_path="$(PORT_DIR)/modules")
module("inisetup.py", base_path="$(PORT_DIR)/modules")

include("$(MPY_DIR)/extmod/asyncio")
require("umqtt.simple")  # from micropython-lib, as the stock images freeze it

# the firmware (the packages `submeter` and `drivers`); the device model freezes it through
# the same file
include("../firmware/manifest.py")


# Every ESP32 board module of this folder: those that import machine, network or esp32,
# or another such module (esp32_eth.py and every pin table, present and future), and the
# modules of this folder they import (base.py: the defaults every board inherits). The
# simulator (the package sim/) imports none of them and stays out.
def _imports(name):
    out = set()
    with open(name) as f:
        for line in f:  # the module's own imports, at its top level (not one inside a function)
            words = line.split()
            if len(words) > 1 and line[0] in "if" and words[0] in ("import", "from"):
                out.add(words[1].split(".")[0].rstrip(","))
    return out


_deps = {n[:-3]: _imports(n) for n in os.listdir(".") if n.endswith(".py") and n != "manifest.py"}
_esp32 = {"machine", "network", "esp32"}
while True:
    _more = {m for m, deps in _deps.items() if m not in _esp32 and deps & _esp32}
    if not _more:
        break
    _esp32 |= _more
_boards = _esp32 - {"machine", "network", "esp32"}
while True:
    _more = {d for m in _boards for d in _deps[m] if d in _deps} - _boards
    if not _more:
        break
    _boards |= _more
for _m in sorted(_boards):
    module(_m + ".py")
