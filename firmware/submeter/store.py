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

MAGIC = b"SMLG"
VERSION = 3         # 2: energy per tariff period; 3: gas and water; older files still read
_HEAD = "<4sHIBB"   # magic, version, sequence, inputs, tariff periods
_COUNTER = "<IIII"  # per input: total Wh, total mJ, partial Wh, partial mJ, then per
                    # period (Wh, mJ); at the end: partial_since, running period
NAMES = ("ledger.bin", "ledger.old", "ledger.new")


class Store:
    def __init__(self, folder):
        self.folder = folder
        self.seq = 0
        self.saves = 0          # saves done since boot
        self.errors = 0         # saves that failed (flash full, I/O error)
        self.last_error = None
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
        since = ledger.partial_since if ledger.partial_since is not None else 0
        parts.append(struct.pack("<IB", since, ledger.period))
        parts.append(struct.pack("<IIII", ledger.gas_l[0], ledger.gas_l[1], ledger.water_l[0], ledger.water_l[1]))
        body = b"".join(parts)
        return body + struct.pack("<I", binascii.crc32(body) & 0xFFFFFFFF)

    @staticmethod
    def decode(data, n):
        """(seq, [(total_wh, total_mj, partial_wh, partial_mj, [(wh, mj) per period])],
        partial_since, period, (gas, gas partial, water, water partial litres)) or None
        when the data is not a whole, valid copy."""
        head = struct.calcsize(_HEAD)
        if len(data) < head + 8:
            return None
        body, crc = data[:-4], struct.unpack("<I", data[-4:])[0]
        if binascii.crc32(body) & 0xFFFFFFFF != crc:
            return None
        magic, version, seq, count, periods = struct.unpack(_HEAD, body[:head])
        size = struct.calcsize(_COUNTER)
        if magic != MAGIC or version not in (1, 2, 3) or count != n:
            return None
        per = 8 * periods if version >= 2 else 0
        tail = (4, 5, 21)[version - 1]
        if len(body) != head + count * (size + per) + tail:
            return None
        counters = []
        p = head
        for _ in range(count):
            c = struct.unpack(_COUNTER, body[p:p + size])
            p += size
            split = [struct.unpack("<II", body[p + 8 * k:p + 8 * k + 8]) for k in range(per // 8)]
            p += per
            counters.append(c + (split or [(c[0], c[1])],))  # version 1: all in period 1
        since = struct.unpack("<I", body[p:p + 4])[0]
        period = body[p + 4] if version >= 2 else 0
        volumes = struct.unpack("<IIII", body[p + 5:p + 21]) if version >= 3 else (0, 0, 0, 0)
        return seq, counters, since or None, period, volumes

    def load(self, ledger):
        """Restore the newest valid copy into ledger; returns its sequence number or None."""
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
            if best is None or got[0] > best[0]:
                best = got
        if best is None:
            return None
        seq, counters, since, period, volumes = best
        ledger.gas_l[0], ledger.gas_l[1], ledger.water_l[0], ledger.water_l[1] = volumes
        for i, (twh, tmj, pwh, pmj, split) in enumerate(counters):
            ledger.total[i].wh, ledger.total[i].mj = twh, tmj
            ledger.partial[i].wh, ledger.partial[i].mj = pwh, pmj
            for k, (wh, mj) in enumerate(split[:len(ledger.by_period[i])]):
                ledger.by_period[i][k].wh, ledger.by_period[i][k].mj = wh, mj
        ledger.partial_since = since
        ledger.period = min(period, len(ledger.by_period[0]) - 1)
        ledger.periods_used = max(len(counters[0][4]) if counters else 1, ledger.period + 1)
        self.seq = seq
        return seq

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
            self.last_error = str(e)
            try:
                os.remove(new)  # a half-written file must not fill what space is left
            except OSError:
                pass
            return False
        self.saves += 1
        return True
