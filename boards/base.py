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
    ct_self_paced = False   # the firmware paces the CT reads with time.ticks_us

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
        try:
            from esp32 import Partition
            label = Partition(Partition.RUNNING).info()[4]
        except (ImportError, AttributeError, OSError):
            return None
        try:
            Partition.mark_app_valid_cancel_rollback()
        except OSError:
            return "app " + label
        return "app %s marked valid" % label

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
