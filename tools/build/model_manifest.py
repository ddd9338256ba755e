# The device model's frozen modules (build/bin/micropython-frozen, made by tools/build/bootstrap.sh):
# the firmware frozen as in the ESP32 image (boards/manifest.py), with the simulated board
# in place of a real one and umqtt.simple as the ESP32 port freezes it.
include("$(MPY_DIR)/extmod/asyncio")
include("../../firmware/manifest.py")
module("base.py", base_path="../../boards")  # the defaults every board inherits, the simulator too
package("sim", base_path="../../boards")  # (sim/replay.py: imported only when SUBMETER_REPLAY is set)
package("umqtt", base_path="../../build/lib")
# the soak's own code (tools/bench/soak.py, run as `-m soak`): frozen too, so that its ~8 KB
# of bytecode is not in the heap it measures (a device carries no soak)
module("soak.py", base_path="../bench")
