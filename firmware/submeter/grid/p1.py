# P1 decoder: Belgian (Fluvius e-MUCS) and Dutch (DSMR 2.2 to 5) smart meters.
#
# Streaming: feed() takes UART chunks of any size and split; a telegram is copied from
# '/' into a preallocated buffer (viper telegram_scan), resynchronising on every '/';
# one longer than the buffer is counted and dropped. On the CRC line the CRC-16/ARC
# over '/'..'!' is checked (viper crc16; lower-case and 3-digit CRCs accepted; DSMR
# 2.2/3 telegrams carry none, and are accepted without one on their own line setting). Only a telegram that passes becomes the current one; its
# objects are read (and allocated) only when asked, about once a second.
from array import array

from ..kernels import pick, crc16_table

_k = pick("p1scan")  # viper, or the twins (kernels/__init__.py)
crc16, telegram_scan, extract, milli_at = _k.crc16, _k.telegram_scan, _k.extract, _k.milli_at
same = pick("gridscan").same  # (the compare both grid decoders use)
CRC_TABLE = crc16_table()

TELEGRAM_MAX = 2048   # real Belgian telegrams are 0.5-1.4 KB; DSMR allows 1024-character texts


class P1Decoder:
    """A decoder of the grid package's protocol (grid/__init__.py)."""

    def __init__(self, cap=TELEGRAM_MAX, crc_required=True, bufs=None):
        """crc_required: DSMR 4/5 and e-MUCS (115200 Bd) always send a CRC, so a
        telegram without one is rejected (a '!' made by line noise must not pass as the
        end of a CRC-less telegram); DSMR 2.2/3 lines (9600 Bd 7E1) send none."""
        self.crc_required = crc_required
        self.st = array("i", (0, 0, cap, 0, 0))
        # bufs: two bytearrays of cap bytes lent by the grid reader (shared with its TIC
        # decoder: one of the two listens at a time), else its own
        self._buf = bufs[0] if bufs else bytearray(cap)
        self._done = bufs[1] if bufs else bytearray(cap)
        self._len = 0           # bytes of the current telegram, through '!'
        self.crc = None         # "valid" | "absent" (DSMR 2.2/3) of the current telegram
        self.last_crc = None    # verdict on the last telegram seen, good or not
        self.telegrams = 0      # telegrams accepted
        self.crc_errors = 0
        self.overflows = 0      # telegrams longer than the buffer, dropped
        self.restarts = 0       # telegrams cut short by a new '/'
        self.unknown_lines = 0  # lines of accepted telegrams that are no OBIS object
        self.rejected = 0       # objects of accepted telegrams rejected for their content
                                # (text not UTF-8, no number where one is due)
        self.on_telegram = None  # callable(telegram) for each one accepted ('/' to '!', a memoryview)
        self._raw = {}          # text values last decoded by update(), raw
        self._nums = array("i", bytes(4 * NUM_SLOTS))
        self._spans = array("H", bytes(4 * ALL_SLOTS))

    def buffers(self):
        """The two telegram buffers (the grid reader's, or this decoder's own)."""
        return self._buf, self._done

    def restart(self):
        """Forget the telegram in progress: another decoder has used the buffers since."""
        st = self.st
        st[0] = st[1] = st[3] = st[4] = 0

    def set_port(self, kind):
        """The port is now in setting `kind`: "p1" (DSMR 4/5, e-MUCS, 115200 Bd) requires a
        CRC; "p1_legacy" (DSMR 2.2/3, 9600 Bd 7E1) takes telegrams without one."""
        self.crc_required = kind == "p1"

    def good(self):
        """Good data so far: three a telegram accepted (as good a sign as three TIC groups)."""
        return self.telegrams * 3

    def state(self):
        """The counters /api/state's `grid` object shows."""
        return {"protocol": "p1", "mode": "dsmr" if self.crc_required else "dsmr2", "frames": self.telegrams,
                "checksum_errors": self.crc_errors, "overflows": self.overflows, "restarts": self.restarts,
                "unknown_lines": self.unknown_lines, "rejected_objects": self.rejected}

    def feed(self, data, n=-1):
        """Decode data[:n] (all by default); returns the telegrams accepted."""
        if n < 0:
            n = len(data)
        st = self.st
        i = 0
        done = 0
        while i < n:
            i = telegram_scan(data, i, n, self._buf, st)
            ev = st[4]
            if ev == 1:
                if self._check(st[3], st[1]):
                    done += 1
            elif ev == 2:
                self.overflows += 1
            elif ev == 3:
                self.restarts += 1
        return done

    def _check(self, bang, end):
        buf = self._buf
        sent = -1
        digits = 0
        for k in range(bang + 1, end):
            c = buf[k]
            if c == 13 or c == 10:
                continue
            v = c - 48 if 48 <= c <= 57 else (c | 32) - 87 if 97 <= (c | 32) <= 102 else -1
            if v < 0 or digits == 4:
                sent = -2  # not hex, or too long: can't be a CRC
                break
            sent = (sent if sent > 0 else 0) * 16 + v
            digits += 1
        if digits == 0 and sent == -1:
            verdict = "absent"      # DSMR 2.2 / 3: no CRC at all
        elif sent >= 0 and digits >= 3 and crc16(buf, 0, bang + 1, 0, CRC_TABLE) == sent:
            verdict = "valid"
        else:
            verdict = "invalid"
        self.last_crc = verdict
        if verdict == "invalid" or (verdict == "absent" and self.crc_required):
            self.crc_errors += 1
            return False
        self._buf, self._done = self._done, self._buf
        self._len = bang + 1
        self.crc = verdict
        self.telegrams += 1
        if self.on_telegram is not None:
            self.on_telegram(memoryview(self._done)[:bang + 1])
        return True

    def _changed(self, slot, name):
        """Did the text of `slot` change since update() last decoded it under `name`?
        (the new raw text is then in self._raw[name])"""
        s = self._spans[2 * slot]
        e = self._spans[2 * slot + 1]
        old = self._raw.get(name)
        if not s:  # absent: a change only if it was there before
            self._raw[name] = None
            return old is not None
        if old is not None and same(self._done, s, e, old, len(old)):
            return False
        self._raw[name] = bytes(memoryview(self._done)[s:e])
        return True

    def header(self):
        """The identification line, without '/' (bytes beyond ASCII kept as \\xNN)."""
        buf = self._done
        end = 0
        while end < self._len and buf[end] != 13 and buf[end] != 10:
            end += 1
        return "".join(chr(c) if 32 <= c < 127 else "\\x%02x" % c for c in buf[1:end])

    def objects(self):
        """{OBIS: [field, ...]} of the current telegram, each field the text between one
        pair of parentheses; a line that starts with '(' continues the previous object
        (DSMR 2.2 gas). Lines that are not OBIS objects, and objects whose code or a
        field is not UTF-8 (left out), are counted in `unknown`."""
        out = {}
        self.unknown = 0
        buf = self._done
        end = self._len
        mv = memoryview(buf)
        obis = None
        fields = None
        i = buf.find(b"\n", 0, end) + 1   # skip the identification line
        while 0 < i < end:
            j = buf.find(b"\n", i, end)
            if j < 0:
                j = end
            e = j
            while e > i and buf[e - 1] in (13, 32):
                e -= 1
            p = buf.find(b"(", i, e)
            if e == i or buf[i] == 33:  # blank line, or the "!" line
                pass
            elif p > i:
                try:
                    obis = bytes(mv[i:p]).decode()
                    fields = out[obis] = []
                except UnicodeError:
                    self.unknown += 1
                    obis = fields = None
                    p = -1
            elif p == i and fields is not None:
                pass  # a line of values continuing the previous object (DSMR 2.2 gas)
            else:
                self.unknown += 1
                p = -1
            while p >= 0:
                q = buf.find(b")", p, e)
                if q < 0:
                    self.unknown += 1
                    break
                try:
                    fields.append(bytes(mv[p + 1:q]).decode())
                except UnicodeError:  # the whole object is left out
                    self.unknown += 1
                    out.pop(obis, None)
                    obis = fields = None
                    break
                p = buf.find(b"(", q, e)
            i = j + 1
        return out

    def lookup(self, nums, spans, kernel=None):
        """The objects update() reads, found in the current telegram by one kernel call
        (`kernel`: a p1scan extract, the one picked by default): numbers in nums (NUM_SLOTS
        of them), the rest as (start, end) in spans (2 * ALL_SLOTS). Returns the objects
        found | the lines that are no OBIS object << 16."""
        return (kernel or extract)(self._done, self._len, _KEYS, len(_KEYS), _SLOTS, nums, NUM_SLOTS, spans,
                                   ALL_SLOTS)

    def update(self, r):
        """Fill GridReading r from the decoder's current telegram: one kernel pass finds
        every object of interest and parses its number; text (ids, times, the peak history)
        is decoded only when it changed, so a telegram allocates little."""
        buf = self._done
        nums = self._nums
        spans = self._spans
        self.unknown_lines += self.lookup(nums, spans) >> 16
        for slot in _DUAL:  # value and timestamp: the value is the field with a unit, in any order
            s = spans[2 * slot]
            if s:
                v = _unit_value(buf, s, spans[2 * slot + 1])
                if v >= 0:
                    nums[slot] = v
        for slot in range(NUM_SLOTS):
            if spans[2 * slot] and nums[slot] == -1:
                self.rejected += 1  # there, but not a number: rejected, the rest is used
        r.source = "p1"
        r.frames += 1

        def num(slot):
            v = nums[slot]
            return v if v >= 0 else None

        i0 = num(_S_IMP)
        i1 = num(_S_IMP + 1)
        if i0 is not None or i1 is not None:  # tariff 1 and 2 (Belgium: day, night)
            r.import_wh = _pair(r.import_wh, i0, i1)
            r.import_total_wh = num(_S_IMP_TOTAL) or (i0 or 0) + (i1 or 0)
        e0 = num(_S_EXP)
        e1 = num(_S_EXP + 1)
        if e0 is not None or e1 is not None:
            r.export_tariff_wh = _pair(r.export_tariff_wh, e0, e1)
            r.export_wh = (e0 or 0) + (e1 or 0)
        r.power_w = num(_S_POWER)
        r.export_w = num(_S_EXPORT_W)
        r.power_w_phases = _three(r.power_w_phases, nums, _S_PH_W, 1)
        r.export_w_phases = _three(r.export_w_phases, nums, _S_PH_X, 1)
        r.voltage_v = _three(r.voltage_v, nums, _S_VOLT, 1000)
        r.current_a = _three(r.current_a, nums, _S_AMP, 1000)
        r.demand_w = num(_S_DEMAND)
        r.peak_w = num(_S_PEAK)
        t = num(_S_TARIFF)
        if t is not None:
            r.period_index = t // 1000
            r.period = _PERIOD[r.period_index] if r.period_index < len(_PERIOD) else "T%d" % r.period_index
        b = num(_S_BREAKER)
        r.breaker = b // 1000 if b is not None else None
        r.limiter_w = num(_S_LIMITER)
        f = num(_S_FUSE)
        r.fuse_a = f // 1000 if f is not None else None
        # text, decoded when it changed
        changed = self._changed
        slot = _S_ID if spans[2 * _S_ID] else _S_ID2
        if changed(slot, "id"):
            raw = self._text("id")
            r.meter_id = hex_text(raw) if raw is not None else None
        slot = _S_VERSION_BE if spans[2 * _S_VERSION_BE] else _S_VERSION
        if changed(slot, "version"):
            raw = self._text("version")
            r.meter_version = raw
            r.tariff_option = "BE" if slot == _S_VERSION_BE and raw is not None else "NL"
        e = buf.find(b"\n", 0, self._len)  # the identification line: maker and model
        e = self._len if e < 0 else e - (buf[e - 1] == 13)
        old = self._raw.get("header")
        if old is None or not same(buf, 1, e, old, len(old)):
            self._raw["header"] = bytes(memoryview(buf)[1:e])
            r.header = self.header()
        if changed(_S_MESSAGE, "message"):
            raw = self._text("message")
            r.messages = {"text": hex_text(raw)} if raw else None
        if changed(_S_TIME, "time"):
            r.time = self._stamp("time")
        if changed(_S_PEAK, "peak"):
            r.peak_time = self._stamp("peak")
        if changed(_S_HISTORY, "history"):
            raw = self._raw["history"]
            try:
                r.peak_history = _peaks(_fields(raw)) if raw else None
            except UnicodeError:
                r.peak_history = self._reject("history")
        self._mbus(nums, spans, r)
        return r

    def _reject(self, name):
        # an object whose content is refused: counted, read as absent, and forgotten so
        # that it is counted again in each telegram that still carries it
        self.rejected += 1
        self._raw[name] = None
        return None

    def _text(self, name):
        # the first field of the object last read under `name` as str; None when absent, or
        # when it is not UTF-8 (rejected)
        raw = self._raw[name]
        if not raw:
            return None
        try:
            return _first(raw).decode()
        except UnicodeError:
            return self._reject(name)

    def _stamp(self, name):
        # the field of the object last read under `name` that has the form of a timestamp
        # (12 digits, then S, W or nothing), wherever it stands: some meters send the value
        # first. None when absent or a placeholder; no field of that form: rejected
        raw = self._raw[name]
        if not raw:
            return None
        for f in raw.rstrip(b")").split(b")("):
            if (len(f) == 12 or len(f) == 13 and f[12] in b"SWsw") and f[:12].isdigit():
                return timestamp(f.decode())
        return self._reject(name)

    def _mbus(self, nums, spans, r):
        # M-Bus channels are assigned at installation: find gas and water by device type
        # (0-n:24.1.0: 003 gas, 007 water), not by channel number; no type: gas (DSMR 2.2/3)
        gas = water = None
        for n in range(4):
            kind = nums[_S_MBUS_TYPE + n]
            kind = None if kind < 0 else kind // 1000
            if kind not in (None, 3, 7):
                continue
            for base in (_S_MBUS_BE, _S_MBUS_NL, _S_MBUS_22):
                v = nums[base + n]
                if v < 0:
                    continue
                if kind == 7:
                    if water is None:
                        water = (v, base + n)
                elif gas is None:
                    gas = (v, base + n)
                break
        r.gas_l = gas[0] if gas else None
        r.water_l = water[0] if water else None
        for name, found in (("gas_time", gas), ("water_time", water)):
            if found is None:
                setattr(r, name, None)
            elif self._changed(found[1], name):
                setattr(r, name, self._stamp(name))


def split_unit(field):
    """'000301.548*kWh' -> ('000301.548', 'kWh'); '0001' -> ('0001', None)."""
    star = field.find("*")
    if star < 0:
        return field, None
    return field[:star], field[star + 1:]


def milli(text):
    """A decimal as an int of thousandths, without floats: '000301.548' -> 301548."""
    whole, _, frac = text.partition(".")
    if not whole.isdigit() or (frac and not frac.isdigit()):
        raise ValueError(text)
    return int(whole) * 1000 + int((frac + "000")[:3])


def timestamp(text):
    """'YYMMDDhhmmssX' (X = S summer, W winter; absent before DSMR 4) when it is a real time, else None:
    meters send placeholders like 632525252525W or 000101000001W for "no time"."""
    if not (len(text) == 13 and text[12] in "SW" or len(text) == 12) or not text[:12].isdigit():
        return None  # DSMR 2.2/3 send 12 digits, with no summer/winter letter
    mo, d, h, mi, s = int(text[2:4]), int(text[4:6]), int(text[6:8]), int(text[8:10]), int(text[10:12])
    if not (1 <= mo <= 12 and 1 <= d <= 31 and h < 24 and mi < 60 and s < 60):
        return None
    return text


def hex_text(text):
    """An octet string sent as hex (meter ids, text messages); as it came if it is not."""
    if len(text) % 2 or not text:
        return text
    try:
        return "".join(chr(int(text[k:k + 2], 16)) for k in range(0, len(text), 2))
    except ValueError:
        return text


# slots of the objects update() reads (p1scan.extract): numbers first, then text
_NUMERIC = (b"1-0:1.8.1", b"1-0:1.8.2", b"1-0:1.8.0", b"1-0:2.8.1", b"1-0:2.8.2", b"1-0:1.7.0",
            b"1-0:2.7.0", b"1-0:21.7.0", b"1-0:41.7.0", b"1-0:61.7.0", b"1-0:22.7.0", b"1-0:42.7.0",
            b"1-0:62.7.0", b"1-0:32.7.0", b"1-0:52.7.0", b"1-0:72.7.0", b"1-0:31.7.0", b"1-0:51.7.0",
            b"1-0:71.7.0", b"1-0:1.4.0", b"1-0:1.6.0", b"0-0:96.14.0", b"0-0:96.3.10", b"0-0:17.0.0",
            b"1-0:31.4.0") + tuple(b"0-%d:24.%s" % (n, o) for o in (b"1.0", b"2.3", b"2.1", b"3.0")
                                   for n in (1, 2, 3, 4))
_TEXT = (b"0-0:96.1.1", b"0-0:96.1.0", b"0-0:96.1.4", b"1-3:0.2.8", b"0-0:96.13.0", b"0-0:1.0.0",
         b"0-0:98.1.0")
_S_IMP, _S_IMP_TOTAL, _S_EXP, _S_POWER, _S_EXPORT_W = 0, 2, 3, 5, 6
_S_PH_W, _S_PH_X, _S_VOLT, _S_AMP = 7, 10, 13, 16
_S_DEMAND, _S_PEAK, _S_TARIFF, _S_BREAKER, _S_LIMITER, _S_FUSE = 19, 20, 21, 22, 23, 24
_S_MBUS_TYPE, _S_MBUS_BE, _S_MBUS_NL, _S_MBUS_22 = 25, 29, 33, 37
NUM_SLOTS = len(_NUMERIC)
_S_ID, _S_ID2, _S_VERSION_BE, _S_VERSION, _S_MESSAGE, _S_TIME, _S_HISTORY = range(NUM_SLOTS, NUM_SLOTS + 7)
ALL_SLOTS = NUM_SLOTS + len(_TEXT)
_DUAL = bytes([_S_PEAK] + list(range(_S_MBUS_BE, _S_MBUS_22 + 4)))  # value and timestamp


def _keys():
    from ..kernels import label_hash
    pairs = sorted((label_hash(o), k) for k, o in enumerate(_NUMERIC + _TEXT))
    return array("i", [h for h, _ in pairs]), bytes(k for _, k in pairs)


_KEYS, _SLOTS = _keys()  # sorted OBIS hashes (no two codes share one) and their slots

_PERIOD = ("T0", "T1", "T2", "T3", "T4")


def _first(raw):
    # the first field of a span "a)(b)(c)": b"a"
    q = raw.find(b")")
    return raw[:q] if q >= 0 else raw


def _unit_value(buf, s, e):
    # thousandths of the field of buf[s:e] ("a)(b)...") that is a number with a unit
    # ("00123.456*m3"), wherever it stands; -1 when none is
    while s < e:
        q = buf.find(b")", s, e)
        if q < 0:
            q = e
        k = s
        while k < q and buf[k] != 42:
            k += 1
        if k < q:
            v = milli_at(buf, s, q + 1 if q < e else e)
            if v >= 0:
                return v
        s = q + 2
    return -1


def _pair(old, a, b):
    if old is None or len(old) != 2:
        old = [None, None]
    old[0] = a
    old[1] = b
    return old


def _three(old, nums, first, div):
    a = nums[first]
    b = nums[first + 1]
    c = nums[first + 2]
    if a < 0 and b < 0 and c < 0:
        return None
    n = 1 if b < 0 and c < 0 else 3  # a single-phase meter sends phase 1 only
    if old is None or len(old) != n:
        old = [None] * n
    for k, v in ((0, a), (1, b), (2, c)):
        if k < n:
            old[k] = None if v < 0 else (v if div == 1 else v / div)
    return old


def _fields(raw):
    return [f.decode() for f in raw.rstrip(b")").split(b")(")]


def _peaks(fields):
    # 0-0:98.1.0: (count)(capture object)(capture object) then per month
    # (month)(time of the peak)(kW); an empty history is (0)(1-0:1.6.0)(1-0:1.6.0)()
    if not fields or not fields[0].isdigit():
        return None
    out = []
    k = 3
    while k + 2 < len(fields) + 0 and len(out) < int(fields[0]):
        try:
            w = milli(split_unit(fields[k + 2])[0])
        except ValueError:
            w = None
        out.append({"month": timestamp(fields[k]), "time": timestamp(fields[k + 1]), "w": w})
        k += 3
    return out
