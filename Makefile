# The sub-meter firmware: `make run` (simulated board, web page on :8080), `make test`.
SHELL := /bin/bash
B := build
MP := $(B)/bin/micropython
VENV := $(B)/venv
# sys.path of the unix port: the firmware, the boards, umqtt.simple, frozen asyncio
export MICROPYPATH := firmware:boards:$(B)/lib:.frozen

.PHONY: setup run test test-cpython test-mp test-mpy bench memcheck soak static pageshots deploy console device-log virtual-device image clean

# Idempotent: each step is cached under build/ and skipped once done.
setup:
	@bash tools/build/bootstrap.sh

# The firmware on the 32-bit unix port with the simulated board. Ctrl-C, q or SIGTERM
# stops it (counters saved; tools/sim/hostrun.py says how SIGTERM is caught).
run: setup
	$(VENV)/bin/python tools/sim/hostrun.py $(MP) firmware/main.py

# Every test: the logic tests on MicroPython (32-bit unix port), then pytest on CPython
# (logic tests again, mpy-cross -march=xtensawin over every module, the running firmware).
test: setup test-mp test-cpython

# (a 2 MB heap: some tests read a 54 KB file whole, and a long run leaves the default 1 MB
# too cut up for it; the firmware's own budget is measured by memcheck, in 112 KB)
test-mp: setup
	$(MP) -X heapsize=2m tools/test/mptest.py host_tests

test-cpython: setup
	$(VENV)/bin/python -m pytest -q host_tests

bench: setup
	@bash tools/build/bootstrap.sh bench
	$(VENV)/bin/python tools/bench/bench_report.py

# The whole firmware in a 112 KB heap on the device model (firmware frozen in), under load:
# figures per simulated meter (tools/bench/memrun.py, tools/bench/memcheck.py).
memcheck: setup
	$(VENV)/bin/python tools/bench/memrun.py

# A simulated week (about 35 min at 300x) of the whole firmware on the device model in a
# 112 KB heap, web polled, broker restarted, every fault injected in turn (tools/bench/soak.py):
# report in build/soak.md (and soak.json, soak.log); exit 1 if anything failed.
# SOAK_HOURS=24 make soak for a day.
SOAK_HOURS ?= 168
soak: setup
	$(VENV)/bin/python tools/bench/soakrun.py $(SOAK_HOURS)

# The firmware onto a device: make deploy PORT=/dev/ttyUSB0 BOARD=olimex_esp32_poe
# (our image: IMAGE= into the other OTA slot, kept once healthy; a stock SPIRAM image: .mpy
# files, only what changed; a stock image without PSRAM: refused; config, counters and
# history stay; HEALTH_S= how long to wait for the firmware's health line, 90 s). PORT may be the
# virtual device's pty: make virtual-device, then make deploy PORT=build/vdev.tty BOARD=sim
# Over Ethernet (our image only): make deploy URL=http://METER PASSWORD=... [IMAGE=...] (the
# meter's POST /api/upgrade; docs/deploy.md "Upgrading over Ethernet")
PORT ?=
BOARD ?= olimex_esp32_poe
deploy: setup
	@SUBMETER_PASSWORD="$(PASSWORD)" $(VENV)/bin/python tools/device/deploy.py \
	  $(if $(URL),--url "$(URL)",--port "$(PORT)" --board $(BOARD)) \
	  $(if $(IMAGE),--image "$(IMAGE)") $(if $(HEALTH_S),--health-s $(HEALTH_S))

console: setup
	$(VENV)/bin/mpremote connect "$(PORT)" repl

# What the running firmware prints (its log), without resetting it; Ctrl-] leaves.
device-log: setup
	$(VENV)/bin/mpremote connect "$(PORT)" resume repl

# KIND=plain (default) | stock | spiram | ours: see docs/deploy.md, "The virtual device"
virtual-device: setup
	$(VENV)/bin/python tools/device/virtdev.py --root $(B)/vdev-flash --link $(B)/vdev.tty --kind $(or $(KIND),plain)

# Our MicroPython image for boards without PSRAM (boards/SUBMETER, docs/image.md): needs
# ESP-IDF v5.2.x (IDF_PATH) and a MicroPython v1.25.0 tree (MICROPY_DIR); says what to
# install when they are missing. build/image/micropython.bin (OTA) and firmware.bin.
image:
	bash tools/build/image.sh

# The page's script gzipped as the meter serves it (firmware/static/*.gz, committed).
static:
	python3 tools/build/build_static.py

# The web page in Chromium at 1280 and 390 px, English and French, with a year of simulated
# history: docs/img/page-*.png (docs/page.md). Look at them before committing.
pageshots: setup
	$(VENV)/bin/python tools/sim/pageshots.py

clean:
	rm -rf $(B)/sim-data
