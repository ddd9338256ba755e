# The device model's frozen modules (build/bin/micropython-frozen, made by tools/build/bootstrap.sh):
# the firmware frozen as in the ESP32 image (boards/manifest.py), with the simulated board
# in place of a real one and umqtt.simple as the ESP32 port freezes it.
include("$(MPY_DIR)/extmod/asyncio")
include("../../firmware/manifest.py")
module("sim.py", base_path="../../boards")
module("simtic.py", base_path="../../boards")
module("simreplay.py", base_path="../../boards")  # SUBMETER_REPLAY: imported only when set
package("umqtt", base_path="../../build/lib")
