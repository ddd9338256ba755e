# Crash-safe persistence of the ledger: a power cut loses at most the time since the
# last save, and a counter never comes back lower than it was saved.
#
# A save writes ledger.new (magic, format version, sequence number, the counters, a
# CRC-32), then moves ledger.bin to ledger.old and ledger.new to ledger.bin. Whatever
# moment the power goes, one of the three files is whole: at boot every valid copy is
# read and the one with the highest sequence number wins; a truncated or corrupted one
# is reported and skipped.
#
# Here too what keeps the saves coming (keep: the save task, and `due`, the flag the parts
# raise when a change must be on flash at once) and the watchdog resets counted on flash
# (resets).
import asyncio
import binascii
import json
import os
import struct

from .. import log
from ..clock import civil, ticks_diff
from ..config import describe, write_json

MAGIC = b"SMLG"
VERSION = 5         # 2: energy per tariff period; 3: gas and water; 4: a reset time per
                    # partial counter, and the history's base; 5: the energy given back
                    # (export) per input; older files are still read (their export: 0)
_HEAD = "<4sHIBB"   # magic, version, sequence, inputs, tariff periods
_HEAD_SIZE = 12     # its size
_COUNTER = "<IIII"  # per input: total Wh, total mJ, partial Wh, partial mJ, then per
                    # period (Wh, mJ); then the tail (see encode); an input's export is
                    # a _COUNTER too (total Wh, mJ, partial Wh, mJ), in the tail
NAMES = ("ledger.bin", "ledger.old", "ledger.new")
KEEP = 3            # sets of damaged copies kept aside (ledger.bin.bad1...): the flash never fills


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
        # every copy damaged: what came back (see _recover), and the words that say so on
        # the page, the panel and MQTT until the next start
        self.recovered = None
        self.alert = None
        # the buffer a save encodes into, made once (at boot, by load), and the paths (made
        # with the folder): a save on a full heap still has what it needs
        self._buf = None
        self._mv = None
        self.due = False        # a tariff change, a partial reset, a closed day: saved at once (keep)

    @property
    def folder(self):
        return self._folder

    @folder.setter
    def folder(self, folder):
        self._folder = folder
        self._new, self._cur, self._old = self._path("ledger.new"), self._path("ledger.bin"), self._path("ledger.old")

    def _path(self, name):
        return (self._folder + "/" + name) if self._folder else name

    def _buffer(self, ledger):
        if self._buf is None:
            n = ledger.n
            per = len(ledger.by_period[0]) if n else 0  # every period the ledger can use
            extra = self.history.state_size() if self.history is not None else 0
            self._buf = bytearray(_HEAD_SIZE + n * (16 + 8 * per) + 1 + 4 * (n + 2) + 16 + 16 * n + 2 + extra + 4)
            self._mv = memoryview(self._buf)
        return self._buf

    def encode(self, ledger):
        """The file's bytes: a view of the one buffer made at boot, valid until the next
        encode. Packed in place, value by value: a save allocates next to nothing."""
        b = self._buffer(ledger)
        pack = struct.pack_into
        periods = ledger.periods_used
        pack(_HEAD, b, 0, MAGIC, VERSION, self.seq, ledger.n, periods)
        q = _HEAD_SIZE
        for i in range(ledger.n):
            t = ledger.total[i]
            p = ledger.partial[i]
            pack(_COUNTER, b, q, t.wh, t.mj, p.wh, p.mj)
            q += 16
            row = ledger.by_period[i]
            for k in range(periods):
                c = row[k]
                pack("<II", b, q, c.wh, c.mj)
                q += 8
        # tail: running period; reset time per partial counter (0: none); volumes; export
        # per input; history
        pack("<B", b, q, ledger.period)
        q += 1
        since = ledger.partial_since
        for k in range(len(since)):
            pack("<I", b, q, since[k] or 0)
            q += 4
        pack("<IIII", b, q, ledger.gas_l[0], ledger.gas_l[1], ledger.water_l[0], ledger.water_l[1])
        q += 16
        for i in range(ledger.n):
            t = ledger.export[i]
            p = ledger.export_partial[i]
            pack(_COUNTER, b, q, t.wh, t.mj, p.wh, p.mj)
            q += 16
        extra = self.history.pack_state(b, q + 2) if self.history is not None else 0
        pack("<H", b, q, extra)
        q += 2 + extra
        pack("<I", b, q, binascii.crc32(self._mv[:q]))  # (unsigned on both runtimes)
        return self._mv[:q + 4]

    @staticmethod
    def decode(data, n):
        """A dict (seq, counters: [(total_wh, total_mj, partial_wh, partial_mj, [(wh, mj)
        per period])], since: [reset time or None per partial counter], period, volumes:
        (gas, gas partial, water, water partial litres), export: [(total_wh, total_mj,
        partial_wh, partial_mj) per input] (zeros before version 5), history: bytes) or
        None when the data is not a whole, valid copy."""
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
        if len(body) < p + (4, 5, 21, 19 + 4 * (n + 2), 19 + 4 * (n + 2) + 16 * n)[version - 1]:
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
        export = [(0, 0, 0, 0)] * count
        if version >= 4:
            v = struct.unpack("<B%dI" % (n + 2), body[p:p + 1 + 4 * (n + 2)])
            period, since = v[0], [t or None for t in v[1:]]
            p += 1 + 4 * (n + 2)
            volumes = struct.unpack("<IIII", body[p:p + 16])
            p += 16
            if version >= 5:
                export = [struct.unpack(_COUNTER, body[p + size * i:p + size * i + size]) for i in range(count)]
                p += size * count
            hlen = struct.unpack("<H", body[p:p + 2])[0]
            history = body[p + 2:p + 2 + hlen]
            end = p + 2 + hlen
        else:  # one reset time for all partial counters
            t = struct.unpack("<I", body[p:p + 4])[0] or None
            since = [t] * (n + 2)
            period = body[p + 4] if version >= 2 else 0
            volumes = struct.unpack("<IIII", body[p + 5:p + 21]) if version >= 3 else (0, 0, 0, 0)
            end = p + (4, 5, 21)[version - 1]
        if len(body) != end:
            return None
        return {"seq": seq, "counters": counters, "since": since, "period": period,
                "volumes": volumes, "export": export, "history": history}

    def load(self, ledger):
        """Restore the newest valid copy into ledger (and the history's base); returns its
        sequence number or None."""
        self._buffer(ledger)  # the save's buffer, made while the heap is young
        best = None
        damaged = []
        for name in NAMES:
            try:
                with open(self._path(name), "rb") as f:
                    data = f.read()
            except OSError:
                continue
            got = self.decode(data, ledger.n)
            if got is None:
                self.warnings.append("%s is damaged: skipped" % name)
                damaged.append(name)
                continue
            if best is None or got["seq"] > best["seq"]:
                best = got
        if best is None:
            if damaged:
                self._recover(ledger, damaged)
            return None
        counters = best["counters"]
        ledger.gas_l[0], ledger.gas_l[1], ledger.water_l[0], ledger.water_l[1] = best["volumes"]
        for i, (twh, tmj, pwh, pmj, split) in enumerate(counters):
            ledger.total[i].wh, ledger.total[i].mj = twh, tmj
            ledger.partial[i].wh, ledger.partial[i].mj = pwh, pmj
            for k, (wh, mj) in enumerate(split[:len(ledger.by_period[i])]):
                ledger.by_period[i][k].wh, ledger.by_period[i][k].mj = wh, mj
        for i, (twh, tmj, pwh, pmj) in enumerate(best["export"]):
            ledger.export[i].wh, ledger.export[i].mj = twh, tmj
            ledger.export_partial[i].wh, ledger.export_partial[i].mj = pwh, pmj
        ledger.partial_since = best["since"]
        ledger.period = min(best["period"], len(ledger.by_period[0]) - 1)
        ledger.periods_used = max(len(counters[0][4]) if counters else 1, ledger.period + 1)
        if self.history is not None:
            self.history.restore(best["history"])
        self.seq = best["seq"]
        return self.seq

    def _keep_aside(self, names):
        """Move the damaged copies out of the save's way (name.badK, K the first set free,
        the last one reused once KEEP are there); returns their new names."""
        for k in range(1, KEEP + 1):
            taken = False
            for name in NAMES:
                try:
                    os.stat(self._path("%s.bad%d" % (name, k)))
                    taken = True
                except OSError:
                    pass
            if not taken:
                break
        kept = []
        for name in NAMES:
            bad = "%s.bad%d" % (name, k)
            try:
                os.remove(self._path(bad))  # (only when every set is taken)
            except OSError:
                pass
            if name in names:
                try:
                    os.rename(self._path(name), self._path(bad))
                    kept.append(bad)
                except OSError as e:
                    self.warnings.append("%s cannot be kept aside (%s)" % (name, describe(e)))
        return kept

    def _recover(self, ledger, damaged):
        """Every copy of the ledger is damaged. They are kept aside (the next save would
        replace them), and the counters come back from the history's index, the counters
        at the start of the newest day it holds: what was counted after is lost, and an
        alert says so. With no index either, the counters start at 0, and the alert says that."""
        kept = self._keep_aside(damaged)
        h = self.history
        idx = h.index() if h is not None and h.n == ledger.n else None
        self.recovered = {"from": None, "kept": kept, "day_wh": None}
        where = ", ".join(kept) or "none could be moved"
        if idx is None:
            self.alert = ("Every copy of the counters was damaged and no history holds them: the counters "
                          "restarted at 0. The damaged copies are kept as %s." % where)
            return
        p = h.periods
        used = idx["period"] + 1
        for i in range(ledger.n):
            ledger.total[i].wh = idx["total"][i]
            ledger.partial[i].wh = idx["partial"][i]
            ledger.export[i].wh = idx["export"][i]
            ledger.export_partial[i].wh = idx["export_partial"][i]
            row = ledger.by_period[i]
            for k in range(min(p, len(row))):
                row[k].wh = idx["by_period"][i * p + k]
                if row[k].wh and k + 1 > used:
                    used = k + 1
        ledger.gas_l[0], ledger.gas_l[1] = idx["gas"]
        ledger.water_l[0], ledger.water_l[1] = idx["water"]
        ledger.partial_since = idx["since"]
        ledger.period = min(idx["period"], len(ledger.by_period[0]) - 1)
        ledger.periods_used = min(used, len(ledger.by_period[0]))
        date = "%04d-%02d-%02d" % civil(idx["day"])
        day = h.read(True, idx["day"] - 1)  # the last whole day: how much a day may be
        self.recovered["from"] = date
        if day is not None:
            self.recovered["day_wh"] = sum(day.wh)
        self.alert = ("Every copy of the counters was damaged: they came back from the history of %s 00:00. "
                      "The energy counted since then is lost%s. The damaged copies are kept as %s." % (
                          date, " (the day before used %d.%03d kWh)" % divmod(sum(day.wh), 1000) if day else "",
                          where))

    def save(self, ledger):
        """Write the ledger; False (and counted) when the flash refuses."""
        self.seq += 1
        data = self.encode(ledger)
        new, cur, old = self._new, self._cur, self._old
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

    def save_or_log(self, ledger):
        if not self.save(ledger):
            log("cannot save the counters:", self.last_error)

    async def keep(self, ledger, clock, period_ms, tasks):
        """The save task: the counters saved every period_ms of clock time, and at once
        when `due` (a tariff change, a partial reset, a closed day)."""
        last = clock.ticks_ms()
        while True:
            await asyncio.sleep_ms(max(1, clock.real_ms(1000)))
            now = clock.ticks_ms()
            if self.due or ticks_diff(now, last) >= period_ms:
                try:
                    self.save_or_log(ledger)
                except Exception as e:  # tried again in a second
                    tasks.fault("save", e, "store")
                    continue
                self.due = False
                last = now


def resets(folder, count):
    """The watchdog resets counted on flash (resets.json), one more when `count`: written
    only then, so a healthy meter never writes it. A damaged file counts from 0 again."""
    path = (folder + "/resets.json") if folder else "resets.json"
    n = 0
    try:
        with open(path) as f:
            v = json.loads(f.read()).get("watchdog")
        if isinstance(v, int) and v >= 0:
            n = v
    except (OSError, ValueError, AttributeError):
        pass
    if count:
        n += 1
        try:
            write_json(path, {"watchdog": n})
        except OSError as e:
            log("resets.json not saved:", describe(e))
    return n
