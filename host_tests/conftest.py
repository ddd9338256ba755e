# pytest on CPython: the firmware, the boards and the logic tests shared with MicroPython.
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for p in (os.path.join(HERE, "cpython"), os.path.join(ROOT, "firmware"), os.path.join(ROOT, "boards"), HERE):
    if p not in sys.path:
        sys.path.insert(0, p)
# the tools some tests use as libraries (memrun, soakrun; deploy, virtdev_esp32; montage),
# after everything else: tools/README.md
for group in ("bench", "device", "sim"):
    p = os.path.join(ROOT, "tools", group)
    if p not in sys.path:
        sys.path.append(p)

# umqtt.simple (build/lib, as on the unix port), the firmware's PUBLISH builder, with the
# u-names of the modules it imports
import binascii  # noqa: E402
import socket  # noqa: E402
import struct  # noqa: E402

sys.path.append(os.path.join(ROOT, "build", "lib"))
for _u, _m in (("usocket", socket), ("ustruct", struct), ("ubinascii", binascii)):
    sys.modules.setdefault(_u, _m)

# the in-process simulated boards start at noon today, whatever the hour (boards/sim/board.py START)
import sim.board  # noqa: E402

sim.board.START = "12:00"

# MicroPython's asyncio has sleep_ms (and wait_for_ms); the firmware's tasks use them
import asyncio  # noqa: E402

if not hasattr(asyncio, "sleep_ms"):
    asyncio.sleep_ms = lambda ms: asyncio.sleep(ms / 1000)
if not hasattr(asyncio, "wait_for_ms"):  # (the web server's, reading what a refused client still sends)
    asyncio.wait_for_ms = lambda aw, ms: asyncio.wait_for(aw, ms / 1000)
