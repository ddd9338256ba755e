# The launcher of `make run`: the firmware on the unix port, with SIGTERM blocked, started
# again when it restarts.
#
# MicroPython's unix port has no `signal` module (nor `ffi` in our build): it catches
# SIGINT (Ctrl-C, a KeyboardInterrupt) and nothing else, so a SIGTERM (`kill`, systemd,
# a container stopping) ended it at once, counters unsaved since the last scheduled save.
# A blocked signal stays pending instead, and the signal mask is kept across fork and
# exec: the simulated board (boards/sim/board.py, Board._sigterm) sees the pending SIGTERM
# in /proc/self/status and stops as `q` does (counters saved, a clean exit).
#
# A restart (POST /api/restart, the settings page's button) ends the firmware, its
# counters saved, with the exit code RESTART (firmware/main.py: the host has no
# machine.reset): this launcher then starts it again, as a device's reset would. So it
# stays the firmware's parent: a SIGTERM sent to this process alone is passed on (one
# sent to the whole group reaches the firmware itself too); Ctrl-C in the terminal (and a
# SIGINT sent to the group) reaches the firmware, which stops; this launcher ignores it
# and ends with the firmware's exit code.
#
#   python tools/sim/hostrun.py build/bin/micropython firmware/main.py
import signal
import subprocess
import sys

RESTART = 75  # firmware/main.py's


def main(argv):
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})  # kept by the firmware (fork, exec)
    signal.signal(signal.SIGINT, lambda sig, frame: None)  # a handler, not SIG_IGN: exec resets it
    stopping = False
    while True:
        proc = subprocess.Popen(argv)
        while proc.poll() is None:
            if signal.sigtimedwait({signal.SIGTERM}, 0.1) is not None:
                stopping = True  # the firmware stops: not started again
                proc.send_signal(signal.SIGTERM)
        code = proc.returncode
        if code != RESTART or stopping:
            return code if code >= 0 else 128 - code
        print("hostrun: the firmware restarts", flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
