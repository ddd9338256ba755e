# The launcher of `make run`: the firmware on the unix port, with SIGTERM blocked.
#
# MicroPython's unix port has no `signal` module (nor `ffi` in our build): it catches
# SIGINT (Ctrl-C, a KeyboardInterrupt) and nothing else, so a SIGTERM (`kill`, systemd,
# a container stopping) ended it at once, counters unsaved since the last scheduled save.
# A blocked signal stays pending instead, and the signal mask is kept across exec: the
# simulated board (boards/sim/board.py, Board._sigterm) sees the pending SIGTERM in
# /proc/self/status and stops as `q` does (counters saved, a clean exit). The process is
# the firmware itself (exec, same pid), so killing it or its group reaches it directly.
#
#   python tools/sim/hostrun.py build/bin/micropython firmware/main.py
import os
import signal
import sys

signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
os.execv(sys.argv[1], sys.argv[1:])
