# The defaults every board inherits: the optional part of the board surface
# (boards/README.md), so that the firmware calls each member plainly instead of asking
# whether the board has it. A board class derives from BaseBoard and sets or overrides
# what it has; the members a board must give itself (its name, uid, clock, CT inputs,
# pulse inputs, buttons, configure, net, grid_port) have no default here.
#
# Deployed and frozen beside the ESP32 board modules (boards/manifest.py freezes what they
# import); the simulator (boards/sim/) inherits it too. It imports nothing at its top:
# `machine` and `esp32` only inside the methods that need them, so it loads on the host
# and on a stock image alike.


class BaseBoard:
    """A board with nothing optional: no RTC, no watchdog, no LEDs, no display, no extra
    task, a firmware that runs until the device resets."""

    CONFIG: dict = {}       # board defaults under the user's config.json (read only)
    data_dir = ""           # the flash root
    leds: dict = {}         # none (read only: a board with LEDs sets its own dict)
    display: object = None  # none: the meter meters and serves its page without one
    vref: object = None     # no voltage reference: power is V x A x the configured pf

    def utc_s(self):
        """The board's RTC in UTC seconds since 2000; None: it does not know the time."""
        return None

    def set_utc(self, t):
        """Set the RTC after an NTP answer: a board without one forgets it."""

    def tune_socket(self, writer):
        """Called with each accepted HTTP connection: nothing to tune."""

    def background(self, app):
        """Extra coroutines the board needs running."""
        return []

    async def stopped(self):
        """Returns when the board wants the firmware to stop: a meter never does."""
        import asyncio
        await asyncio.Event().wait()

    def close(self):
        """Release what the board holds (the firmware stopped, at the REPL)."""

    def log(self, *args):
        print(*args)

    def healthy(self):
        """The firmware is healthy (the App calls this once): keep this image and turn the
        red boot LED off. On our image (two OTA slots, the bootloader's app rollback on) a
        new image boots pending; marked valid here, it stays; if it is not before the next
        reset, the bootloader goes back to the previous one. A stock image (no OTA slots) or
        one flashed whole with esptool (blank otadata) has nothing pending: ESP-IDF refuses
        and that is fine; the host has no esp32 module (the virtual device with OTA slots,
        tools/device/virtdev --kind ours, has a fake one). Returns what the App's log line adds
        (make deploy reads it)."""
        led = self.leds.get("boot")
        if led is not None:
            led.value(0)
        label = self.running_slot()
        if label is None:
            return None
        from esp32 import Partition
        try:
            Partition.mark_app_valid_cancel_rollback()
        except OSError:
            return "app " + label
        return "app %s marked valid" % label

    def running_slot(self):
        """The OTA slot the image runs from ("ota_0", "ota_1"), or None: an image without
        OTA slots (a stock image, the host)."""
        try:
            from esp32 import Partition
            return Partition(Partition.RUNNING).info()[4]
        except (ImportError, AttributeError, OSError):
            return None

    def update_slot(self):
        """The OTA slot a new image goes into (the one not running), as a Slot; None where
        the image has no OTA slots."""
        try:
            from esp32 import Partition
            run = Partition(Partition.RUNNING)
            if run.info()[0] != Partition.TYPE_APP:
                return None
            return Slot(run.get_next_update())
        except (ImportError, AttributeError, OSError):
            return None

    def reset(self):
        """A hard reset (main.py, after a crash): on a device the bootloader then runs,
        rollback included, and does not return. The plain host has no machine.reset: the
        call returns and the run ends with the error."""
        try:
            from machine import reset
        except ImportError:
            return
        reset()

    def watchdog(self, timeout_ms):
        """Arm the board's watchdog (called again: change its timeout); an object with
        feed(), or None: this board has none."""
        return None

    def reset_cause(self):
        """Why the board started: "power", "watchdog", "reset", "soft"; "": it cannot say."""
        return ""


class Slot:
    """The other OTA slot, for an upgrade over the network (net/upgrade.py): esp32.Partition's
    extended block calls, 4 KB sectors erased explicitly before they are written."""
    SECTOR = 4096

    def __init__(self, part):
        self._p = part
        info = part.info()
        self.label = info[4]
        self.size = info[3]

    def erase(self, sector):
        self._p.ioctl(6, sector)  # MP_BLOCKDEV_IOCTL_BLOCK_ERASE: one 4 KB sector

    def write(self, sector, buf, offset):
        self._p.writeblocks(sector, buf, offset)  # extended write: no erase of its own

    def read(self, sector, buf, offset):
        self._p.readblocks(sector, buf, offset)

    def boot(self):
        """Boot this slot next (ESP-IDF checks the image first: OSError if it is not an app
        image for this chip); the bootloader keeps it on probation (boards/SUBMETER/sdkconfig.board)."""
        self._p.set_boot()
