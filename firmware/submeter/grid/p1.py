# P1 decoder: Belgian (Fluvius e-MUCS) and Dutch (DSMR 2.2 to 5) smart meters.
#
# Streaming: feed() takes UART chunks of any size and split; a telegram is copied from
# '/' into a preallocated buffer (viper telegram_scan), resynchronising on every '/';
# one longer than the buffer is counted and dropped. On the CRC line the CRC-16/ARC
# over '/'..'!' is checked (viper crc16; lower-case and 3-digit CRCs accepted; DSMR
# 2.2/3 telegrams carry none, and are accepted without one on their own line setting). Only a telegram that passes becomes the current one; its
# objects are read (and allocated) only when asked, about once a second.
from array import array

from .p1scan import crc16, telegram_scan, CRC_TABLE, KERNEL

TELEGRAM_MAX = 2048   # real Belgian telegrams are 0.5-1.4 KB; DSMR allows 1024-character texts


class P1Decoder:
    def __init__(self, cap=TELEGRAM_MAX, crc_required=True):
        """crc_required: DSMR 4/5 and e-MUCS (115200 Bd) always send a CRC, so a
        telegram without one is rejected (a '!' made by line noise must not pass as the
        end of a CRC-less telegram); DSMR 2.2/3 lines (9600 Bd 7E1) send none."""
        self.crc_required = crc_required
        self.st = array("i", (0, 0, cap, 0, 0))
        self._buf = bytearray(cap)
        self._done = bytearray(cap)
        self._len = 0           # bytes of the current telegram, through '!'
        self.crc = None         # "valid" | "absent" (DSMR 2.2/3) of the current telegram
        self.last_crc = None    # verdict on the last telegram seen, good or not
        self.telegrams = 0      # telegrams accepted
        self.crc_errors = 0
        self.overflows = 0      # telegrams longer than the buffer, dropped
        self.restarts = 0       # telegrams cut short by a new '/'
        self.kernel = KERNEL

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
        (DSMR 2.2 gas). Lines that are not OBIS objects are counted in `unknown`."""
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
                obis = bytes(mv[i:p]).decode()
                fields = out[obis] = []
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
                except UnicodeError:
                    fields.append("")
                p = buf.find(b"(", q, e)
            i = j + 1
        return out


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


_PHASE_W = (("1-0:21.7.0", "1-0:41.7.0", "1-0:61.7.0"), ("1-0:22.7.0", "1-0:42.7.0", "1-0:62.7.0"))
_VOLT = ("1-0:32.7.0", "1-0:52.7.0", "1-0:72.7.0")
_AMP = ("1-0:31.7.0", "1-0:51.7.0", "1-0:71.7.0")


def update(dec, r):
    """Fill GridReading r from the decoder's current telegram."""
    obj = dec.objects()
    r.source = "p1"
    r.frames += 1

    def val(obis, k=-1):
        f = obj.get(obis)
        return split_unit(f[k])[0] if f else None

    def num(obis):
        v = val(obis)
        try:
            return milli(v) if v is not None else None
        except ValueError:
            return None

    mid = val("0-0:96.1.1") or val("0-0:96.1.0")
    r.meter_id = hex_text(mid) if mid else None
    r.meter_version = val("0-0:96.1.4") or val("1-3:0.2.8")
    r.tariff_option = "BE" if "0-0:96.1.4" in obj else "NL"
    t = val("0-0:96.14.0")
    if t is not None and t.isdigit():
        r.period_index = int(t)
        r.period = "T%d" % int(t)
    imp = [num("1-0:1.8.1"), num("1-0:1.8.2")]
    if imp[0] is not None or imp[1] is not None:
        r.import_wh = imp
        r.import_total_wh = num("1-0:1.8.0") or sum(x for x in imp if x is not None)
    exp = [num("1-0:2.8.1"), num("1-0:2.8.2")]
    if exp[0] is not None or exp[1] is not None:
        r.export_tariff_wh = exp
        r.export_wh = sum(x for x in exp if x is not None)
    p = num("1-0:1.7.0")
    r.power_w = p
    r.export_w = num("1-0:2.7.0")
    ph = [num(o) for o in _PHASE_W[0]]
    r.power_w_phases = ph if any(x is not None for x in ph) else None
    ph = [num(o) for o in _PHASE_W[1]]
    r.export_w_phases = ph if any(x is not None for x in ph) else None
    v = [num(o) for o in _VOLT]
    r.voltage_v = [x / 1000 if x is not None else None for x in v] if any(x is not None for x in v) else None
    a = [num(o) for o in _AMP]
    r.current_a = [x / 1000 if x is not None else None for x in a] if any(x is not None for x in a) else None
    r.demand_w = num("1-0:1.4.0")
    peak = obj.get("1-0:1.6.0")
    if peak and len(peak) >= 2:
        r.peak_time = timestamp(peak[0])
        try:
            r.peak_w = milli(split_unit(peak[1])[0])
        except ValueError:
            r.peak_w = None
    r.peak_history = _peaks(obj.get("0-0:98.1.0"))
    b = val("0-0:96.3.10")
    r.breaker = int(b) if b is not None and b.isdigit() else None
    r.limiter_w = num("0-0:17.0.0")
    fuse = num("1-0:31.4.0")
    r.fuse_a = fuse // 1000 if fuse is not None else None
    msg = val("0-0:96.13.0")
    r.messages = {"text": hex_text(msg)} if msg else None
    r.time = timestamp(val("0-0:1.0.0") or "")
    _mbus(obj, r)
    return r


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


def _mbus(obj, r):
    # M-Bus channels are assigned at installation: find gas and water by device type
    # (0-n:24.1.0: 003 gas, 007 water), not by channel number
    r.gas_l = r.gas_time = r.water_l = r.water_time = None
    for n in range(1, 5):
        kind = obj.get("0-%d:24.1.0" % n)
        kind = int(kind[0]) if kind and kind[0].isdigit() else None
        for obis in ("0-%d:24.2.3" % n, "0-%d:24.2.1" % n, "0-%d:24.3.0" % n):
            f = obj.get(obis)
            if not f or len(f) < 2:
                continue
            value, unit = split_unit(f[-1])
            if unit is None and len(f) >= 3:
                unit = f[-2]  # DSMR 2.2: (...)(m3) then the value on the next line
            try:
                litres = milli(value)
            except ValueError:
                continue
            if unit is not None and unit.lower() not in ("m3", "m\u00b3"):
                continue
            water = kind == 7
            if kind not in (None, 3, 7):
                continue
            if water and r.water_l is None:
                r.water_l, r.water_time = litres, timestamp(f[0])
            elif not water and r.gas_l is None:
                r.gas_l, r.gas_time = litres, timestamp(f[0])
            break
