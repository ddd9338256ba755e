# History: what each day and each month used, per input (hence per RT2012 usage), per
# tariff period, in gas and in water, with its cost; kept in one compact binary file.
#
# history.bin = a header, then DAYS daily slots, then MONTHS monthly slots. A day's record
# lives in slot (day number % DAYS), a month's in (month number % MONTHS): no pointer to
# keep, a slot holding another date than the one asked for is simply old. Each record has
# its own CRC-32, so a torn write spoils one record and nothing else.
#
# A day is closed when the wall clock enters the next one: its record is the ledger's
# counters minus the counters at the day's start (the "base"), priced at the prices of
# the moment (tariff.py, in integers). The base lives in the ledger's own file, saved in
# the same atomic write as the counters, so a power cut can never make a day count twice
# or go negative. A month's record is the sum of its days' records, rewritten after each
# day: idempotent too.
#
# The energy given back (export) per input lives beside it in export.bin, a slot for each
# of history.bin's (same day and month numbers), so history.bin kept its layout: a record
# with no export slot (written before, or the slot blank) reads as 0 given back. Each slot
# is 4 bytes per input and 3 bytes of CRC-32 taken over the day's (month's) number too:
# a slot of an older date, or a torn one, fails its CRC and reads as none. Both files are
# written before the ledger's save that moves the base on, so a cut between the two
# closes the day again, whole, at the next boot (see tick). 12.2 KB for 5 inputs: 3 of the
# flash's 4 KB blocks, the room the vfs partition had left (docs/storage.md).
import binascii
import os
import struct

from micropython import const

from ..clock import civil, day_number, month_days, month_of_day, month_civil
from ..config import USAGES, describe
from .tariff import energy_prices, gas_cost, milli, water_cost

MAGIC = b"SMHI"
VERSION = const(1)
DAYS = const(403)       # at least 400 days of daily totals
MONTHS = const(122)     # at least ten years of monthly totals
_HEAD = "<4sHBBHH"      # magic, version, inputs, tariff periods, day slots, month slots
EX_MAGIC = b"SMEX"      # export.bin: magic, version 1, inputs, day slots, month slots


class Totals:
    """One day's or one month's use. Costs in thousandths of the currency; energies in Wh;
    volumes in litres; `usages[i]` is input i's usage code (its index in USAGES) when the
    record was made, so a later change of the config does not rewrite the past; `wh` the
    energy taken per input, `export_wh` the energy given back (never netted, not priced)."""

    __slots__ = ("index", "usages", "wh", "cost", "period_wh", "gas_l", "water_l",
                 "gas_cost", "water_cost", "export_wh")

    def __init__(self, index, n, periods):
        self.index = index
        self.usages = [4] * n
        self.wh = [0] * n
        self.cost = [0] * n
        self.period_wh = [0] * periods
        self.gas_l = 0
        self.water_l = 0
        self.gas_cost = 0
        self.water_cost = 0
        self.export_wh = [0] * n

    def add(self, o):
        for i in range(len(self.wh)):
            self.wh[i] += o.wh[i]
            self.cost[i] += o.cost[i]
            self.export_wh[i] += o.export_wh[i]
        for k in range(len(self.period_wh)):
            self.period_wh[k] += o.period_wh[k]
        self.gas_l += o.gas_l
        self.water_l += o.water_l
        self.gas_cost += o.gas_cost
        self.water_cost += o.water_cost
        self.usages = o.usages

    def by_usage(self):
        """[[Wh, cost] per usage, in USAGES order]: the RT2012 breakdown."""
        out = [[0, 0] for _ in USAGES]
        for i, u in enumerate(self.usages):
            out[u][0] += self.wh[i]
            out[u][1] += self.cost[i]
        return out

    def to_dict(self, daily):
        if daily:
            date = "%04d-%02d-%02d" % civil(self.index)
        else:
            date = "%04d-%02d" % month_civil(self.index)
        usage = {}
        for k, (wh, cost) in enumerate(self.by_usage()):
            usage[USAGES[k]] = {"wh": wh, "cost": cost / 1000}
        return {"date": date, "wh": sum(self.wh), "cost": (sum(self.cost)) / 1000,
                "inputs_wh": self.wh, "export_wh": self.export_wh, "usage": usage, "periods_wh": self.period_wh,
                "gas_l": self.gas_l, "gas_cost": self.gas_cost / 1000, "water_l": self.water_l,
                "water_cost": self.water_cost / 1000}


class History:
    def __init__(self, folder, n, periods=10, days=DAYS, months=MONTHS):
        self.path = (folder + "/history.bin") if folder else "history.bin"
        self.n = n
        self.periods = periods
        self.days = days
        self.months = months
        self._fmt = "<HH%dI" % (2 * n + periods + 4)
        self.rsize = struct.calcsize(self._fmt) + 4
        # the index: the ledger's counters at a day's start (see write_index)
        self._ifmt = "<HB%dI" % (n * periods + 3 * n + 6)
        self.isize = struct.calcsize(self._ifmt) + 4
        self._head = struct.pack(_HEAD, MAGIC, VERSION, n, periods, days, months)
        # export.bin (see the top): a slot per record, then two for the index's export
        self.epath = (folder + "/export.bin") if folder else "export.bin"
        self._ehead = struct.pack("<4sHBHH", EX_MAGIC, 1, n, days, months)
        self.esize = 4 * n + 3
        self.eisize = 2 + 8 * n + 4
        self._eok = None
        self.base_day = None    # the day being counted, and the counters at its start
        self.base = None        # n * periods Wh, gas and water litres, then n export Wh
        self.writes = 0         # records written since boot
        self.errors = 0         # records that could not be written (flash full, I/O)
        self.last_error = None
        self.damaged = 0        # records read back with a bad CRC
        self.clock_back = 0     # times the wall clock went back more than a day
        self._ok = None         # the file checked or made
        self._month = None      # this month's record as last written: (index, Totals)

    # -- the base, saved with the ledger ---------------------------------------------------
    def state(self):
        if self.base is None:
            return b""
        return struct.pack("<H%dI" % len(self.base), self.base_day, *self.base)

    def state_size(self):
        """The most state() can hold: the ledger's file keeps room for it."""
        return 2 + 4 * (self.n * self.periods + 2 + self.n)

    def pack_state(self, buf, offset):
        """state() packed into buf at offset, value by value (a save allocates nothing for
        it); returns its length."""
        base = self.base
        if base is None:
            return 0
        struct.pack_into("<H", buf, offset, self.base_day)
        q = offset + 2
        for k in range(len(base)):
            struct.pack_into("<I", buf, q, base[k])
            q += 4
        return q - offset

    def restore(self, data):
        k = self.n * self.periods + 2
        if len(data) == 2 + 4 * k:
            extra = [0] * self.n  # saved before export was counted: none was
        elif len(data) == 2 + 4 * (k + self.n):
            extra = []
        else:
            return False  # none saved yet, or another layout: the next day starts afresh
        v = struct.unpack("<H%dI" % ((len(data) - 2) // 4), data)
        self.base_day = v[0]
        self.base = list(v[1:]) + extra
        return True

    # -- the file ----------------------------------------------------------------------------
    def _size(self):
        return len(self._head) + (self.days + self.months) * self.rsize + 2 * self.isize

    def _check(self):
        if self._ok:
            return True
        try:
            with open(self.path, "rb") as f:
                ok = f.read(len(self._head)) == self._head
            size = os.stat(self.path)[6]
            if ok and size == self._size() - 2 * self.isize:
                with open(self.path, "ab") as f:  # a file made before the index: its slots added
                    f.write(bytes(2 * self.isize))
                size = os.stat(self.path)[6]
            if ok and size == self._size():
                self._ok = True
                return True
            try:
                os.remove(self.path + ".old")
            except OSError:
                pass
            os.rename(self.path, self.path + ".old")  # another layout: kept aside, not lost
        except OSError:
            pass
        if self._blank(self.path, self._head, self.rsize, self.isize):
            self._ok = True
        return bool(self._ok)

    def _blank(self, path, head, rsize, isize):
        """A blank file at `path`: its head, a zero record of rsize bytes for every day and
        month, two index slots of isize; True once written (else the failure noted, and a
        partial file removed: it must not eat the space left)."""
        try:
            with open(path, "wb") as f:
                f.write(head)
                blank = bytes(rsize)
                for _ in range(self.days + self.months):
                    f.write(blank)
                f.write(bytes(2 * isize))
            return True
        except OSError as e:
            self._fail(e)
            try:
                os.remove(path)
            except OSError:
                pass
        return False

    def _echeck(self):
        """export.bin checked, or made (blank: every record's export 0). One of another
        layout (another count of inputs) is replaced: history.bin.old keeps those days."""
        if self._eok:
            return True
        try:
            with open(self.epath, "rb") as f:
                ok = f.read(len(self._ehead)) == self._ehead
            if ok and os.stat(self.epath)[6] == self._esize():
                self._eok = True
                return True
        except OSError:
            pass
        if self._blank(self.epath, self._ehead, self.esize, self.eisize):
            self._eok = True
        return bool(self._eok)

    def _esize(self):
        return len(self._ehead) + (self.days + self.months) * self.esize + 2 * self.eisize

    def _eslot(self, daily, index):
        """(offset, the 2 bytes the CRC starts with) of a record's export slot."""
        slot = index % self.days if daily else self.days + index % self.months
        return len(self._ehead) + slot * self.esize, struct.pack("<H", index)

    def _ecrc(self, key, body):
        return binascii.crc32(body, binascii.crc32(key)) & 0xFFFFFF

    def _ewrite(self, f, daily, t):
        off, key = self._eslot(daily, t.index)
        body = struct.pack("<%dI" % self.n, *t.export_wh)
        c = self._ecrc(key, body)
        f.seek(off)
        f.write(body + struct.pack("<HB", c & 0xFFFF, c >> 16))

    def _eread(self, daily, t):
        """t.export_wh from its slot; left at 0 when there is none (written before export
        was counted, an older date's, torn)."""
        off, key = self._eslot(daily, t.index)
        try:
            with open(self.epath, "rb") as f:
                f.seek(off)
                data = f.read(self.esize)
        except OSError:
            return
        if len(data) != self.esize:
            return
        lo, hi = struct.unpack("<HB", data[-3:])
        if self._ecrc(key, data[:-3]) == lo | hi << 16:
            t.export_wh = list(struct.unpack("<%dI" % self.n, data[:-3]))

    def prepare(self):
        """Make (or check) the files now: at boot, rather than in the loop at midnight."""
        return self._check() and self._echeck()

    def _fail(self, e):
        self.errors += 1
        self.last_error = describe(e)

    def _offset(self, daily, index):
        slot = index % self.days if daily else self.days + index % self.months
        return len(self._head) + slot * self.rsize

    def encode(self, t):
        codes = 0
        for i, u in enumerate(t.usages):
            codes |= u << (3 * i)
        body = struct.pack(self._fmt, t.index, codes, *(t.wh + t.cost + t.period_wh + [
            t.gas_l, t.water_l, t.gas_cost, t.water_cost]))
        return body + struct.pack("<I", binascii.crc32(body) & 0xFFFFFFFF)

    def decode(self, data, index):
        if len(data) != self.rsize:
            return None
        body = data[:-4]
        if binascii.crc32(body) & 0xFFFFFFFF != struct.unpack("<I", data[-4:])[0]:
            if any(data):
                self.damaged += 1  # a blank slot is no damage
            return None
        v = struct.unpack(self._fmt, body)
        if v[0] != index:
            return None  # an older date that shares the slot
        n, p = self.n, self.periods
        t = Totals(index, n, p)
        t.usages = [(v[1] >> (3 * i)) & 7 for i in range(n)]
        t.wh = list(v[2:2 + n])
        t.cost = list(v[2 + n:2 + 2 * n])
        t.period_wh = list(v[2 + 2 * n:2 + 2 * n + p])
        t.gas_l, t.water_l, t.gas_cost, t.water_cost = v[2 + 2 * n + p:]
        return t

    def _write(self, daily, t):
        """The record into history.bin, then its export into export.bin (a failure of the
        second, counted, costs that record's export only)."""
        if not self._check():
            return False
        try:
            with open(self.path, "r+b") as f:
                f.seek(self._offset(daily, t.index))
                f.write(self.encode(t))
            if not daily:
                self._month = (t.index, t)
        except OSError as e:
            self._fail(e)
            return False
        self.writes += 1
        if self._echeck():
            try:
                with open(self.epath, "r+b") as f:
                    self._ewrite(f, daily, t)
            except OSError as e:
                self._fail(e)
        return True

    def put(self, daily, t):
        """Write the record `t` of a day (daily) or of a month, as a day's close does: for
        the tools that prepare a history (tools/sim/pageshots.py)."""
        return self._write(daily, t)

    def read(self, daily, index):
        """The record of day (or month) `index`, or None when there is none."""
        try:
            with open(self.path, "rb") as f:
                f.seek(self._offset(daily, index))
                t = self.decode(f.read(self.rsize), index)
        except OSError:
            return None
        if t is not None:
            self._eread(daily, t)
        return t

    # -- the index: the ledger's counters at the newest day's start -------------------------
    # Two slots after the months, the newer one never overwritten: whatever instant a cut
    # comes, one is whole. Should every copy of the ledger be lost, its counters come back
    # from here (Store.load), less what was counted since that day began.
    def _ioffset(self, slot):
        return len(self._head) + (self.days + self.months) * self.rsize + slot * self.isize

    def write_index(self, ledger, day):
        """The ledger's counters now (in Wh; litres), at the start of `day`."""
        if not self._check():
            return False
        n = self.n
        try:  # (once a day: a full heap or flash costs this index, counted, not the day)
            since = [t or 0 for t in ledger.partial_since]
            vals = (self._counters(ledger)[:n * self.periods] + [c.wh for c in ledger.total]
                    + [c.wh for c in ledger.partial] + ledger.gas_l + ledger.water_l + since)
            best = self.index()
            slot = 1 - best["slot"] if best is not None else 0
            if self._echeck():  # its export first: a cut between leaves this slot the older
                body = struct.pack("<H%dI" % (2 * n), day, *([c.wh for c in ledger.export]
                                                            + [c.wh for c in ledger.export_partial]))
                with open(self.epath, "r+b") as f:
                    f.seek(self._eioffset(slot))
                    f.write(body + struct.pack("<I", binascii.crc32(body) & 0xFFFFFFFF))
            body = struct.pack(self._ifmt, day, ledger.period, *vals)
            with open(self.path, "r+b") as f:
                f.seek(self._ioffset(slot))
                f.write(body + struct.pack("<I", binascii.crc32(body) & 0xFFFFFFFF))
        except (OSError, MemoryError) as e:
            self._fail(e)
            return False
        return True

    def index(self):
        """The newest whole index, as a dict (day, period, by_period: n x periods Wh,
        total, partial: Wh per input, gas, water: [total, partial] litres, since: reset
        time or None per partial counter, export, export_partial: Wh per input (0 when
        that day's were not kept), slot), or None. The newer of two is the one with
        the larger counters: they never go down, whatever the clock said."""
        best = None
        n, p = self.n, self.periods
        for slot in (0, 1):
            try:
                with open(self.path, "rb") as f:
                    f.seek(self._ioffset(slot))
                    data = f.read(self.isize)
            except OSError:
                return None
            if len(data) != self.isize or not any(data):
                continue
            body = data[:-4]
            if binascii.crc32(body) & 0xFFFFFFFF != struct.unpack("<I", data[-4:])[0]:
                continue
            v = struct.unpack(self._ifmt, body)
            q = 2 + n * p
            got = {"day": v[0], "period": v[1], "by_period": list(v[2:q]), "total": list(v[q:q + n]),
                   "partial": list(v[q + n:q + 2 * n]), "gas": list(v[q + 2 * n:q + 2 * n + 2]),
                   "water": list(v[q + 2 * n + 2:q + 2 * n + 4]),
                   "since": [t or None for t in v[q + 2 * n + 4:]], "slot": slot}
            if best is None or (sum(got["total"]), got["day"]) > (sum(best["total"]), best["day"]):
                best = got
        if best is not None:
            best["export"], best["export_partial"] = [0] * n, [0] * n
            try:
                with open(self.epath, "rb") as f:
                    f.seek(self._eioffset(best["slot"]))
                    data = f.read(self.eisize)
                if len(data) == self.eisize and binascii.crc32(data[:-4]) & 0xFFFFFFFF == struct.unpack(
                        "<I", data[-4:])[0]:
                    v = struct.unpack("<H%dI" % (2 * n), data[:-4])
                    if v[0] == best["day"]:  # (the same day's: written just before)
                        best["export"], best["export_partial"] = list(v[1:n + 1]), list(v[n + 1:])
            except OSError:
                pass
        return best

    def _eioffset(self, slot):
        return len(self._ehead) + (self.days + self.months) * self.esize + slot * self.eisize

    # -- counting --------------------------------------------------------------------------
    def _counters(self, ledger):
        out = []
        for i in range(self.n):
            row = ledger.by_period[i]
            for k in range(self.periods):
                out.append(row[k].wh if k < len(row) else 0)
        out.append(ledger.gas_l[0])
        out.append(ledger.water_l[0])
        for c in ledger.export:
            out.append(c.wh)
        return out

    def live(self, ledger, cfg, index=None):
        """What the ledger has counted since the base: the day so far, priced now."""
        n, p = self.n, self.periods
        t = Totals(self.base_day if index is None else index, n, p)
        if self.base is None:
            return t
        cur = self._counters(ledger)
        price = energy_prices(cfg, p)
        for i, inp in enumerate(cfg["inputs"][:n]):
            t.usages[i] = USAGES.index(inp["usage"])
            wh = 0
            nano = 0
            for k in range(p):
                j = i * p + k
                d = cur[j] - self.base[j]
                if d > 0:  # counters never go down; a negative difference is no energy
                    wh += d
                    nano += d * price[k]  # billionths (tariff.py: whole Wh)
                    t.period_wh[k] += d
            t.wh[i] = wh
            t.cost[i] = milli(nano)
        j = n * p
        t.gas_l = max(0, cur[j] - self.base[j])
        t.water_l = max(0, cur[j + 1] - self.base[j + 1])
        for i in range(n):
            t.export_wh[i] = max(0, cur[j + 2 + i] - self.base[j + 2 + i])
        t.gas_cost = milli(gas_cost(t.gas_l, cfg))
        t.water_cost = milli(water_cost(t.water_l, cfg))
        return t

    def tick(self, ledger, today, cfg):
        """Called after every metering round with the wall clock's day number (None while
        the time is unknown). True when the base changed: the caller saves the ledger."""
        if today is None:
            return False
        if self.base is None:
            self.base_day = today
            self.base = self._counters(ledger)
            self.write_index(ledger, today)
            return True
        if today == self.base_day:
            return False
        if today < self.base_day:
            if today < self.base_day - 1:
                # the clock was wrong and has been put right: what was counted goes to today
                self.clock_back += 1
                self.base_day = today
                return True
            return False  # a meter's clock a little behind another source's: wait
        day = self.live(ledger, cfg)
        self._write(True, day)
        self._update_month(month_of_day(self.base_day))
        self.base_day = today
        self.base = self._counters(ledger)
        self.write_index(ledger, today)
        return True

    def _update_month(self, mk):
        y, m = month_civil(mk)
        first = day_number(y, m, 1)
        t = Totals(mk, self.n, self.periods)
        for d in range(first, first + month_days(y, m)):
            r = self.read(True, d)
            if r is not None:
                t.add(r)
        self._write(False, t)

    def month_so_far(self, ledger, cfg, today=None):
        """This month's use: its closed days, plus today so far (`today`: live() already
        made by the caller, so it is not counted out twice)."""
        if self.base_day is None:
            return None
        mk = month_of_day(self.base_day)
        if self._month is None or self._month[0] != mk:
            self._month = (mk, self.read(False, mk))  # read once, then kept
        t = Totals(mk, self.n, self.periods)
        if self._month[1] is not None:
            t.add(self._month[1])
        t.add(today if today is not None else self.live(ledger, cfg))
        return t

    def records(self, kind, count):
        """daily(count) for kind "days", else monthly(count)."""
        return self.daily(count) if kind == "days" else self.monthly(count)

    def daily(self, count):
        """Up to `count` closed days, newest first, one at a time (days with no record are
        left out): a year of records is never in RAM at once."""
        if self.base_day is None:
            return
        for d in range(self.base_day - 1, max(-1, self.base_day - 1 - min(count, self.days)), -1):
            r = self.read(True, d)
            if r is not None:
                yield r

    def monthly(self, count):
        """Up to `count` months before this one, newest first, one at a time."""
        if self.base_day is None:
            return
        mk = month_of_day(self.base_day)
        for k in range(mk - 1, max(-1, mk - 1 - min(count, self.months)), -1):
            r = self.read(False, k)
            if r is not None:
                yield r
