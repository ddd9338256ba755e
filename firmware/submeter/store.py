# Crash-safe persistence of the ledger: a power cut loses at most the time since the
# last save, and a counter never comes back lower than it was saved.
#
# A save writes ledger.new (magic, format version, sequence number, the counters, a
# CRC-32), then moves ledger.bin to ledger.old and ledger.new to ledger.bin. Whatever
# moment the power goes, one of the three files is whole: at boot every valid copy is
# read and the one with the highest sequence number wins; a truncated or corrupted one
# is reported and skipped.
import binascii
import os
import struct

from .config import describe

MAGIC = b"SMLG"
VERSION = 4         # 2: energy per tariff period; 3: gas and water; 4: a reset time per
                    # partial counter, and the history's base; older files are still read
_HEAD = "<4sHIBB"   # magic, version, sequence, inputs, tariff periods
_COUNTER = "<IIII"  # per input: total Wh, total mJ, partial Wh, partial mJ, then per
                    # period (Wh, mJ); then the tail (see encode)
NAMES = ("ledger.bin", "ledger.old", "ledger.new")


class Store:
    def __init__(self, folder, history=None):
        self.folder = folder
        self.history = history  # its base (the counters at the day's start) is saved here
        self.seq = 0
        self.saves = 0          # saves done since boot
        self.errors = 0         # saves that failed (flash full, I/O error)
        self.last_error = None
        self.failing = False    # the last save failed
        self.warnings = []      # copies found damaged at boot

    def _path(self, name):
        return (self.folder + "/" + name) if self.folder else name

    def encode(self, ledger):
        periods = ledger.periods_used
        parts = [struct.pack(_HEAD, MAGIC, VERSION, self.seq, ledger.n, periods)]
        for i in range(ledger.n):
            t = ledger.total[i]
            p = ledger.partial[i]
            parts.append(struct.pack(_COUNTER, t.wh, t.mj, p.wh, p.mj))
            for c in ledger.by_period[i][:periods]:
                parts.append(struct.pack("<II", c.wh, c.mj))
        # tail: running period; reset time per partial counter (0: none); volumes; history
        since = [t or 0 for t in ledger.partial_since]
        parts.append(struct.pack("<B%dI" % len(since), ledger.period, *since))
        parts.append(struct.pack("<IIII", ledger.gas_l[0], ledger.gas_l[1], ledger.water_l[0], ledger.water_l[1]))
        extra = self.history.state() if self.history is not None else b""
        parts.append(struct.pack("<H", len(extra)))
        parts.append(extra)
        body = b"".join(parts)
        return body + struct.pack("<I", binascii.crc32(body) & 0xFFFFFFFF)

    @staticmethod
    def decode(data, n):
        """A dict (seq, counters: [(total_wh, total_mj, partial_wh, partial_mj, [(wh, mj)
        per period])], since: [reset time or None per partial counter], period, volumes:
        (gas, gas partial, water, water partial litres), history: bytes) or None when the
        data is not a whole, valid copy."""
        head = struct.calcsize(_HEAD)
        if len(data) < head + 8:
            return None
        body, crc = data[:-4], struct.unpack("<I", data[-4:])[0]
        if binascii.crc32(body) & 0xFFFFFFFF != crc:
            return None
        magic, version, seq, count, periods = struct.unpack(_HEAD, body[:head])
        size = struct.calcsize(_COUNTER)
        if magic != MAGIC or not 1 <= version <= VERSION or count != n:
            return None
        per = 8 * periods if version >= 2 else 0
        p = head + count * (size + per)
        if len(body) < p + (4, 5, 21, 19 + 4 * (n + 2))[version - 1]:
            return None
        counters = []
        q = head
        for _ in range(count):
            c = struct.unpack(_COUNTER, body[q:q + size])
            q += size
            split = [struct.unpack("<II", body[q + 8 * k:q + 8 * k + 8]) for k in range(per // 8)]
            q += per
            counters.append(c + (split or [(c[0], c[1])],))  # version 1: all in period 1
        history = b""
        if version >= 4:
            v = struct.unpack("<B%dI" % (n + 2), body[p:p + 1 + 4 * (n + 2)])
            period, since = v[0], [t or None for t in v[1:]]
            p += 1 + 4 * (n + 2)
            volumes = struct.unpack("<IIII", body[p:p + 16])
            hlen = struct.unpack("<H", body[p + 16:p + 18])[0]
            history = body[p + 18:p + 18 + hlen]
            end = p + 18 + hlen
        else:  # one reset time for all partial counters
            t = struct.unpack("<I", body[p:p + 4])[0] or None
            since = [t] * (n + 2)
            period = body[p + 4] if version >= 2 else 0
            volumes = struct.unpack("<IIII", body[p + 5:p + 21]) if version >= 3 else (0, 0, 0, 0)
            end = p + (4, 5, 21)[version - 1]
        if len(body) != end:
            return None
        return {"seq": seq, "counters": counters, "since": since, "period": period,
                "volumes": volumes, "history": history}

    def load(self, ledger):
        """Restore the newest valid copy into ledger (and the history's base); returns its
        sequence number or None."""
        best = None
        for name in NAMES:
            try:
                with open(self._path(name), "rb") as f:
                    data = f.read()
            except OSError:
                continue
            got = self.decode(data, ledger.n)
            if got is None:
                self.warnings.append("%s is damaged: skipped" % name)
                continue
            if best is None or got["seq"] > best["seq"]:
                best = got
        if best is None:
            return None
        counters = best["counters"]
        ledger.gas_l[0], ledger.gas_l[1], ledger.water_l[0], ledger.water_l[1] = best["volumes"]
        for i, (twh, tmj, pwh, pmj, split) in enumerate(counters):
            ledger.total[i].wh, ledger.total[i].mj = twh, tmj
            ledger.partial[i].wh, ledger.partial[i].mj = pwh, pmj
            for k, (wh, mj) in enumerate(split[:len(ledger.by_period[i])]):
                ledger.by_period[i][k].wh, ledger.by_period[i][k].mj = wh, mj
        ledger.partial_since = best["since"]
        ledger.period = min(best["period"], len(ledger.by_period[0]) - 1)
        ledger.periods_used = max(len(counters[0][4]) if counters else 1, ledger.period + 1)
        if self.history is not None:
            self.history.restore(best["history"])
        self.seq = best["seq"]
        return self.seq

    def save(self, ledger):
        """Write the ledger; False (and counted) when the flash refuses."""
        self.seq += 1
        data = self.encode(ledger)
        new, cur, old = self._path("ledger.new"), self._path("ledger.bin"), self._path("ledger.old")
        try:
            with open(new, "wb") as f:
                f.write(data)
            try:
                os.remove(old)
            except OSError:
                pass
            try:
                os.rename(cur, old)
            except OSError:
                pass  # first save: nothing to keep yet
            os.rename(new, cur)
        except OSError as e:
            self.errors += 1
            self.last_error = describe(e)  # "no space left on the flash", not "28"
            self.failing = True
            try:
                os.remove(new)  # a half-written file must not fill what space is left
            except OSError:
                pass
            return False
        self.saves += 1
        self.failing = False
        return True
