# The firmware frozen into a MicroPython image: its bytecode then runs from flash and
# leaves the heap to the data (docs/install.md, "Boards without PSRAM"). Included by
# boards/manifest.py (the ESP32 image) and tools/build/model_manifest.py (the unix port that
# models the device in the tests). main.py stays a file: MicroPython runs it at boot.
package("submeter")  # with every subpackage (grid, kernels, ledger, net, panel, sense, view): package() takes the folder whole
package("drivers")  # the display drivers, below the application (boards/esp32_eth.py)
