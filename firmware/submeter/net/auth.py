# The password that guards every change (partial resets, configuration) made over the
# network. Reading the page and the API needs none.
#
# At the first boot the meter makes up a password and shows it on its screen (network
# screen) until the owner sets one of their own; only a salted, iterated SHA-256 of the
# owner's password is kept (auth.json, written atomically). Wrong passwords are counted,
# per client address: after five in a row from one address, that address waits 1 s before
# its next check, then 2, 4... up to a minute; the other addresses (the owner's) go on
# as before. The table of addresses has a fixed size (the oldest entry makes room).
import binascii
import hashlib
import json
import os

from ..clock import ticks_diff
from ..config import describe, settle, write_json, SaveError

ITERATIONS = 500        # a few ms on the ESP32's SHA-256 per check
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: it is read off a screen
MIN_LEN = 8
LOCK_AFTER = 5          # wrong passwords in a row from one address before it waits
WAIT_MS = 1000          # its first wait, doubled at each wrong one after it...
WAIT_MAX_MS = 60000     # ...up to this
SLOTS = 8               # addresses followed: 0.4 KB in all (measured), whatever the number of attackers


def _hash(salt, password, iterations=ITERATIONS):
    h = salt + password.encode()
    for _ in range(iterations):
        h = hashlib.sha256(h + salt).digest()
    return binascii.hexlify(h).decode()


def _same(a, b):
    # compare two hashes (str) without stopping at the first difference: the time taken
    # tells nothing of how much of a guess's hash is right (a hash has a fixed length)
    if len(a) != len(b):
        return False
    d = 0
    for i in range(len(a)):
        d |= ord(a[i]) ^ ord(b[i])
    return d == 0


def _is_record(rec):
    return isinstance(rec, dict) and isinstance(rec.get("salt"), str) and isinstance(rec.get("hash"), str)


class Auth:
    def __init__(self, folder, ticks_ms):
        self.path = (folder + "/auth.json") if folder else "auth.json"
        self._ticks = ticks_ms
        self.failures = 0       # wrong passwords, all told
        # per address followed: the address, its wrong passwords in a row (to 255) and
        # the ticks of the last one; made once, never grown
        self._who = [None] * SLOTS
        self._row = bytearray(SLOTS)
        self._at = [0] * SLOTS
        self.initial = None     # the made-up password, until the owner sets theirs
        self.error = None
        self._rec = None
        settle(self.path, _is_record)
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
        rec = {"salt": binascii.hexlify(salt).decode(), "hash": _hash(salt, pw, ITERATIONS), "iter": ITERATIONS}
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

    def _slot(self, who):
        for i in range(SLOTS):
            if self._who[i] == who and self._row[i]:
                return i
        return -1

    def wait_ms(self, who=None):
        """How long the client at address `who` must still wait before its next check (0: none)."""
        i = self._slot(who)
        if i < 0 or self._row[i] < LOCK_AFTER:
            return 0
        wait = WAIT_MS << min(self._row[i] - LOCK_AFTER, 6)
        if wait > WAIT_MAX_MS:
            wait = WAIT_MAX_MS
        gone = ticks_diff(self._ticks(), self._at[i])
        if gone < 0 or gone >= wait:  # (< 0: older than half the ticks' period)
            return 0
        return wait - gone

    def check(self, password, who=None):
        """True for the right password; None while the address `who` (the client's, without
        its port) waits after too many wrong ones. A success forgets the address's errors."""
        if self.wait_ms(who):
            return None
        rec = self._rec
        ok = isinstance(password, str) and _same(
            _hash(binascii.unhexlify(rec["salt"]), password, rec.get("iter", ITERATIONS)), rec["hash"])
        i = self._slot(who)
        if ok:
            if i >= 0:
                self._who[i] = None
                self._row[i] = 0
            return True
        self.failures += 1
        now = self._ticks()
        if i < 0:  # a free place, else the one whose last error is the oldest
            old = -1
            for j in range(SLOTS):
                if not self._row[j]:
                    i = j
                    break
                gone = ticks_diff(now, self._at[j])
                if gone < 0:  # older than half the ticks' period: the oldest there is
                    gone = 1 << 29
                if gone > old:
                    i, old = j, gone
            self._who[i] = who
            self._row[i] = 0
        if self._row[i] < 255:
            self._row[i] += 1
        self._at[i] = now
        return False

    def set(self, new):
        """The owner's own password (the made-up one is forgotten); raises ValueError, or
        SaveError (an OSError, in words) when the flash refuses: then nothing changed."""
        if not isinstance(new, str) or len(new) < MIN_LEN or len(new) > 64:
            raise ValueError("password: %d to 64 characters" % MIN_LEN)
        self._store(new)
