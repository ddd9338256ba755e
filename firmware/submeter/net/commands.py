# What the network side asks of the application: the one interface the HTTP server and
# its handlers (server.py, api.py) reach, and all of it. The App (app.py) satisfies it by
# duck typing; the firmware never imports this module (a class made at boot would cost
# heap): it is the declaration, and host_tests/test_http_api.py checks the App against it.
# MQTT and NTP need none of it: MQTT reads the snapshot, NTP returns the time.


class Commands:
    """The commands a request may give, and the little it may read besides the snapshot."""

    cfg = {}
    """The configuration in use (a dict, config.py): read only, for the page's language and
    the number of inputs; changes go through set_config."""

    auth = None
    """The password guarding every change (auth.Auth): check(password, address) -> True,
    False or None (that address must wait), wait_ms(address), set(password)."""

    board = None
    """The board (boards/): its `name` for GET /metrics' build_info; for POST /api/upgrade
    (net/upgrade.py) its data_dir, running_slot() and update_slot() (boards/base.py)."""

    upgrading = None
    """An upgrade being received (its words), else None: one upload at a time."""

    restarting = False
    """A restart is under way (POST /api/restart or an upgrade's end)."""

    def public_config(self):
        """GET /api/config: the configuration in use without its secrets (a dict); with
        "pending": {name: saved value} for the settings that wait for a restart."""
        raise NotImplementedError

    def set_config(self, changes):
        """POST /api/config: validate, save and apply `changes` (a dict); returns
        {"saved": True, "restart": [names]}. ValueError naming the field (nothing changed),
        OSError when it could not be written."""
        raise NotImplementedError

    def reset_partial(self, which=None):
        """POST /api/reset: the partial counter of input `which` (from 0), of "gas" or
        "water", or every one (None) starts again from zero."""
        raise NotImplementedError

    def start_zero(self, inputs):
        """POST /api/zero: zero these inputs (from 0; their circuits switched off); returns
        {"zeroing": [numbers from 1], "seconds": n}. ValueError while one runs."""
        raise NotImplementedError

    def start_calibration(self, k, watts):
        """POST /api/calibrate: calibrate input k's ct_ratio (from 0) against a load of
        `watts` W running on its circuit now; returns {"calibrating": n from 1, "seconds":
        s}, the progress and result in the snapshot's "calibration". ValueError while a
        zeroing or a calibration runs."""
        raise NotImplementedError

    def start_phasecal(self, k):
        """POST /api/phasecal: calibrate input k's phase_deg (from 0) against a resistive
        load running on its circuit now; returns {"phasecal": n from 1, "seconds": s}, the
        progress and result in the snapshot's "phasecal". ValueError without the voltage
        reference, or while a zeroing or a calibration runs."""
        raise NotImplementedError

    def set_time(self, utc_s):
        """POST /api/time: set the clock by hand to `utc_s` (UTC seconds since 2000); returns
        the snapshot's "time" ({"local", "source"}); ValueError, in words, when a better
        source (the grid meter's clock, NTP) holds it."""
        raise NotImplementedError

    def restart(self):
        """POST /api/restart: the counters saved, the meter restarts half a second later (a
        device resets; the host's `make run` starts the firmware again); returns
        {"restarting": True}."""
        raise NotImplementedError

    def history_records(self, kind, count):
        """GET /api/history and /api/history.csv: the last `count` closed records of `kind`
        ("days" or "months"), newest first, one at a time (ledger/history.py: each has
        to_dict(daily)); api.py formats them."""
        raise NotImplementedError

    def screen_png(self):
        """GET /screen.png: the front panel as a PNG, in pieces (a generator), or None
        without a display."""
        raise NotImplementedError
