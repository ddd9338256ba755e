# The password that guards every change (partial resets, configuration) made over the
# network. Reading the page and the API needs none.
#
# At the first boot the meter makes up a password and shows it on its screen (network
# screen) until the owner sets one of their own; only a salted, iterated SHA-256 of the
# owner's password is kept (auth.json, written atomically). Wrong passwords are counted,
# and after five in a row the meter refuses to check any for 30 s.
import binascii
import hashlib
import json
import os

from .clock import ticks_diff
from .config import describe, settle, write_json, NOTES, SaveError

ITERATIONS = 500        # a few ms on the ESP32's SHA-256 per check
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: it is read off a screen
MIN_LEN = 8
LOCK_AFTER = 5
LOCK_MS = 30000


def _hash(salt, password, iterations=ITERATIONS):
    h = salt + password.encode()
    for _ in range(iterations):
        h = hashlib.sha256(h + salt).digest()
    return binascii.hexlify(h).decode()


def _same(a, b):
    # compare without stopping at the first difference
    if len(a) != len(b):
        return False
    d = 0
    for x, y in zip(a, b):
        d |= ord(x) ^ ord(y)
    return d == 0


def _is_record(rec):
    return isinstance(rec, dict) and isinstance(rec.get("salt"), str) and isinstance(rec.get("hash"), str)


class Auth:
    def __init__(self, folder, ticks_ms):
        self.path = (folder + "/auth.json") if folder else "auth.json"
        self._ticks = ticks_ms
        self.failures = 0       # wrong passwords, all told
        self._row = 0           # wrong passwords in a row
        self._locked_at = None
        self.initial = None     # the made-up password, until the owner sets theirs
        self.error = None
        self._rec = None
        note = settle(self.path, _is_record)
        if note:
            NOTES.append(note)
        try:
            with open(self.path) as f:
                rec = json.loads(f.read())
            if not _is_record(rec):
                raise ValueError("not a password record")
            self._rec = rec
            self.initial = rec.get("initial")
        except OSError:
            self._first_boot()
        except ValueError as e:  # a damaged file: start over, and say so (the screen shows the new one)
            self.error = "auth.json damaged (%s): a new password is on the screen" % e
            self._first_boot()

    def _first_boot(self):
        raw = os.urandom(MIN_LEN)
        pw = "".join(_ALPHABET[b % len(_ALPHABET)] for b in raw)
        self._store(pw, initial=True)

    def _store(self, pw, initial=False):
        salt = os.urandom(16)
        rec = {"salt": binascii.hexlify(salt).decode(), "hash": _hash(salt, pw), "iter": ITERATIONS}
        if initial:
            rec["initial"] = pw
        try:
            write_json(self.path, rec)
        except OSError as e:
            if not initial:  # the owner's: not set, the password on flash stays the one
                raise SaveError("password not saved: %s" % describe(e))
            # the made-up one works until a reboot (the screen shows it)
            self.error = "cannot save the password: %s" % describe(e)
        self._rec = rec
        self.initial = pw if initial else None

    def locked(self):
        if self._locked_at is None:
            return False
        if ticks_diff(self._ticks(), self._locked_at) >= LOCK_MS:
            self._locked_at = None
            self._row = 0
            return False
        return True

    def check(self, password):
        """True for the right password; None while locked after too many wrong ones."""
        if self.locked():
            return None
        rec = self._rec
        ok = isinstance(password, str) and _same(
            _hash(binascii.unhexlify(rec["salt"]), password, rec.get("iter", ITERATIONS)), rec["hash"])
        if ok:
            self._row = 0
            return True
        self.failures += 1
        self._row += 1
        if self._row >= LOCK_AFTER:
            self._locked_at = self._ticks()
        return False

    def set(self, new):
        """The owner's own password (the made-up one is forgotten); raises ValueError, or
        SaveError (an OSError, in words) when the flash refuses: then nothing changed."""
        if not isinstance(new, str) or len(new) < MIN_LEN or len(new) > 64:
            raise ValueError("password: %d to 64 characters" % MIN_LEN)
        self._store(new)
