# The sub-meter's image for the MicroPython 1.25 ESP32 port, built out of the port's tree:
#   make -C $MICROPY_DIR/ports/esp32 BOARD_DIR=$PWD/boards/SUBMETER   (what `make image` runs)
# The board's name is this folder's: sys.implementation._build reads "SUBMETER" on it.
set(IDF_TARGET esp32)

# The partition table by absolute path: ESP-IDF takes a relative one from the port's folder.
file(WRITE ${CMAKE_BINARY_DIR}/sdkconfig.partitions
    "CONFIG_PARTITION_TABLE_CUSTOM_FILENAME=\"${MICROPY_BOARD_DIR}/partitions.csv\"\n")

# The port's base settings, then ours; no boards/sdkconfig.ble (no Bluetooth).
set(SDKCONFIG_DEFAULTS
    boards/sdkconfig.base
    ${MICROPY_BOARD_DIR}/sdkconfig.board
    ${CMAKE_BINARY_DIR}/sdkconfig.partitions
)

# The frozen modules: the firmware, the board modules, asyncio, umqtt.simple.
get_filename_component(MICROPY_FROZEN_MANIFEST ${MICROPY_BOARD_DIR}/../manifest.py ABSOLUTE)
