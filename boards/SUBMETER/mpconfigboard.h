// The sub-meter's image: an ESP32 without PSRAM on Ethernet, the firmware frozen in
// (docs/image.md). What an Ethernet meter does not use is left out.

#define MICROPY_HW_BOARD_NAME "Sub-meter (ESP32, Ethernet)"
#define MICROPY_HW_MCU_NAME "ESP32"

// No Bluetooth: NimBLE and the controller stay out (sdkconfig.ble is not in the build).
#define MICROPY_PY_BLUETOOTH (0)

// No ESP-NOW (modespnow.c): a peer-to-peer Wi-Fi protocol the meter has no use for.
#define MICROPY_PY_ESPNOW (0)
