# The sub-meter application package. Nothing here imports `machine` or `network`:
# the board module (boards/<name>.py) builds the hardware objects and passes them in.
#
# Here, below every layer, what every task shares: the log, and the books kept on the
# exceptions the tasks catch and go on after (per task, MemoryError apart) and on the
# heap. This module imports nothing of the firmware, so any part may use it: the App
# makes one Tasks and hands it to each part (the metering, the panel...), which count
# their faults there instead of calling back into the App. (Here and not in a module of
# its own: a module costs its globals dict, ~0.2 KB of heap when frozen.)
import asyncio
import gc

VERSION = "0.1.0"
# found in every image with the firmware frozen in (its bytes are in the frozen module):
# make deploy URL=... sends no image without it (tools/device/netdeploy.py)
IMAGE_MARK = "submeter:frozen-firmware-image"

_sink = print
_mem_alloc = getattr(gc, "mem_alloc", lambda: 0)  # (MicroPython's; CPython runs the tests too)


def log(*args):
    _sink("submeter:", *args)


def log_to(sink):
    """Where log() writes from now on (the board's log: the host's terminal, the device's
    UART)."""
    global _sink
    _sink = sink


class Tasks:
    """The fault books, one for the whole firmware. `errors`: exceptions each task caught
    and went on after, a dict made once at its size (/api/state "tasks"); `error`: the last
    one's words ("task_error"); `mem_errors` and `mem_where`: MemoryErrors caught and the
    task of the last; `heap_live`: the heap in use after the last collection."""

    def __init__(self, clock, names):
        self.clock = clock
        self.errors = {n: 0 for n in names}
        self.error = None
        self.mem_errors = 0
        self.mem_where = None
        self.heap_live = 0
        self._logged = {"grid": None, "web": None, "mqtt": None}  # each part's last error logged (counts)

    def fault(self, task, e, where=None):
        """An exception caught in a task that goes on: counted for that task; a
        MemoryError also as oom() does, any other logged with the task's name once while
        the same error repeats."""
        self.errors[task] += 1
        if isinstance(e, MemoryError):
            self.oom(where or task)
            return
        why = "%s: %s: %s" % (where or task, type(e).__name__, e)
        if why != self.error:
            self.error = why
            log("error in", why, "(going on)")

    def oom(self, where):
        """A MemoryError caught in a task that must go on: counted (errors.mem, and where
        the last one was), the heap collected; the task carries on."""
        self.mem_errors += 1
        self.mem_where = where
        gc.collect()

    def collect(self):
        """A collection (once a metering round: no fragmentation builds up), and what it
        left in use."""
        gc.collect()
        self.heap_live = _mem_alloc()

    async def guarded(self, task, run):
        """Runs run() again after an exception escaped it (counted, logged), until it
        returns; cancelling still stops it (CancelledError is not an Exception)."""
        while True:
            try:
                return await run()
            except Exception as e:
                self.fault(task, e)
                await asyncio.sleep_ms(max(1, self.clock.real_ms(1000)))

    def counts(self, grid, web, mqtt):
        """/api/state "tasks": the books above, and the grid reader's, the web server's and
        MQTT's own (parts that count their errors themselves: each one's new last error is
        logged here once). A dict made at its size."""
        te = self.errors
        for name, part in (("grid", grid), ("web", web), ("mqtt", mqtt)):
            if part is not None and part.last_error is not None and part.last_error != self._logged[name]:
                self._logged[name] = part.last_error
                self.error = "%s: %s" % (name, part.last_error)
                log("error in", self.error, "(going on)")
        return {"metering": te["metering"], "grid": te["grid"] + (grid.errors + grid.mem_errors if grid else 0),
                "web": te["web"] + web.errors + web.mem_errors, "panel": te["panel"],
                "mqtt": te["mqtt"] + (mqtt.errors if mqtt else 0), "save": te["save"], "clock": te["clock"]}
