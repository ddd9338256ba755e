# The frozen modules of the virtual device's stock images (tools/device/virtdev --kind stock and
# spiram: build/bin/micropython-stock, made by tools/build/bootstrap.sh): of what the ESP32 port's
# own manifest freezes (ports/esp32/boards/manifest.py), the two the firmware uses.
include("$(MPY_DIR)/extmod/asyncio")
package("umqtt", base_path="../../build/lib")
