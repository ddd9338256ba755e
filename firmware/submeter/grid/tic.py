# TIC decoder: French meters' téléinformation, historic (1200 Bd) and standard (9600 Bd).
#
# Streaming: feed() takes UART chunks of any size, split anywhere. The bytes of each
# group go into a preallocated frame buffer (viper frame_scan), groups are checked in
# one pass (viper check_groups), and the frame's good groups become the current values
# on ETX; EOT drops the frame in progress. No allocation per byte or per group: only
# reading the values (GridReading, values()) makes objects, once per frame at most.
from array import array

from micropython import const

from .ticscan import frame_scan, check_groups, KERNEL
from .reading import GridReading, TEMPO
from . import ticlabels

STX = const(2)
ETX = const(3)
EOT = const(4)
FRAME_MAX = const(2048)   # a three-phase standard frame is ~1.3 KB
GROUPS_MAX = const(128)   # ~70 groups in the largest frames

# historic PTEC -> index of the running period; DEMAIN / PTEC colour -> Tempo colour
_PTEC_INDEX = {b"TH..": 1, b"HC..": 1, b"HP..": 2, b"HN..": 1, b"PM..": 2,
               b"HCJB": 1, b"HPJB": 2, b"HCJW": 3, b"HPJW": 4, b"HCJR": 5, b"HPJR": 6}
_COLOUR = {b"BLEU": "blue", b"BLAN": "white", b"ROUG": "red", b"JB": "blue", b"JW": "white",
           b"JR": "red"}
_IMPORT = {b"BASE": 1, b"HCHC": 1, b"HCHP": 2, b"EJPHN": 1, b"EJPHPM": 2, b"BBRHCJB": 1,
           b"BBRHPJB": 2, b"BBRHCJW": 3, b"BBRHPJW": 4, b"BBRHCJR": 5, b"BBRHPJR": 6}


class TicDecoder:
    def __init__(self, frame_max=FRAME_MAX, groups_max=GROUPS_MAX):
        self.st = array("i", (0, 0, 0, 0, frame_max, groups_max, 0, 0, 0))
        # work: the frame being received; done: the last complete frame (swapped on ETX)
        self._wbuf = bytearray(frame_max)
        self._widx = array("H", bytes(4 * groups_max))
        self._winfo = array("H", bytes(8 * groups_max))
        self._dbuf = bytearray(frame_max)
        self._didx = array("H", bytes(4 * groups_max))
        self._dinfo = array("H", bytes(8 * groups_max))
        self._dn = 0
        self._checked = 0
        self._in_frame = False
        self.on_group = None    # callable(label, horodate or None, value) for every good group
        self.frames = 0         # frames committed (ETX after STX)
        self.groups_ok = 0
        self.groups_bad = 0     # checksum errors
        self._malformed = 0     # groups of the wrong shape (no separator, control bytes)
        self.eot = 0            # EOT received: the frame in progress, if any, is dropped
        self.mode = None        # "historic" | "standard": separator of the last frame
        self.kernel = KERNEL

    @property
    def malformed(self):
        # unterminated or oversized groups (counted by frame_scan) + misshapen ones
        return self.st[7] + self._malformed

    def feed(self, data, n=-1):
        """Decode data[:n] (all of it by default). Returns the frames completed."""
        if n < 0:
            n = len(data)
        st = self.st
        i = 0
        done = 0
        while i < n:
            i = frame_scan(data, i, n, self._wbuf, self._widx, st)
            self._check()
            ev = st[8]
            if ev == STX:
                self._clear()
                self._in_frame = True
            elif ev == ETX:
                if self._in_frame:
                    self._commit()
                    done += 1
                self._clear()
                self._in_frame = False
            elif ev == EOT:
                self.eot += 1
                self._clear()
                self._in_frame = False
            elif not self._in_frame and st[0] != 2:
                self._clear()  # groups outside a frame are counted, never kept
        return done

    def _clear(self):
        st = self.st
        st[1] = 0
        st[3] = 0
        self._checked = 0

    def _check(self):
        ng = self.st[3]
        g0 = self._checked
        if ng == g0:
            return
        r = check_groups(self._wbuf, self._widx, g0, ng, self._winfo)
        ok = r & 0xFFFF
        bad = r >> 16
        self.groups_ok += ok
        self._malformed += bad
        self.groups_bad += (ng - g0) - ok - bad
        self._checked = ng
        if self.on_group is not None and ok:
            for g in range(g0, ng):
                if self._winfo[4 * g + 2] == 1:
                    self.on_group(*_split(self._wbuf, self._widx, self._winfo, g))

    def _commit(self):
        self._wbuf, self._dbuf = self._dbuf, self._wbuf
        self._widx, self._didx = self._didx, self._widx
        self._winfo, self._dinfo = self._dinfo, self._winfo
        self._dn = self.st[3]
        self.frames += 1
        info = self._dinfo
        for g in range(self._dn):  # the separator of the first good group tells the mode
            if info[4 * g + 2] == 1:
                self.mode = "standard" if info[4 * g + 3] == 9 else "historic"
                break

    def items(self):
        """(label, horodate or None, value) of each good group of the last complete
        frame, as bytes."""
        for g in range(self._dn):
            if self._dinfo[4 * g + 2] == 1:
                yield _split(self._dbuf, self._didx, self._dinfo, g)

    def values(self):
        """{label: (horodate or None, value)} of the last complete frame, as str."""
        out = {}
        for label, hd, value in self.items():
            out[label.decode()] = (hd.decode() if hd is not None else None, value.decode())
        return out

    def update(self, r):
        """Fill GridReading r from the last complete frame. Labels the frame does not
        carry keep their previous value (a three-phase meter's short overload frames
        only carry ADIRn, ADCO and IINSTn)."""
        r.source = "tic_" + (self.mode or "historic")
        r.frames += 1
        over = False
        imports = {}
        cur = {}
        volt = {}
        phases = {}
        for label, hd, v in self.items():
            try:
                over = _apply(r, label, v, imports, cur, volt, phases) or over
                if label == b"DATE":
                    r.time = hd.decode() if hd is not None else None
            except ValueError:
                pass  # a good checksum on a value of the wrong shape: keep the old one
        r.overload = over or (r.stge is not None and r.stge & (1 << 7) != 0 and self.mode == "standard")
        if not over:
            r.overload_a = None
        if imports:
            top = max(imports)
            old = r.import_wh
            r.import_wh = [imports.get(k, old[k - 1] if k <= len(old) else None) for k in range(1, top + 1)]
        if cur:
            r.current_a = _merge(r.current_a, cur)
        if volt:
            r.voltage_v = _merge(r.voltage_v, volt)
        if phases:
            r.power_va_phases = _merge(r.power_va_phases, phases)
        return r


def _split(buf, idx, info, g):
    s = idx[2 * g]
    e = idx[2 * g + 1]
    le = info[4 * g]
    hd = info[4 * g + 1]
    label = bytes(buf[s:le])
    if hd:
        return label, bytes(buf[le + 1:hd]), bytes(buf[hd + 1:e - 2])
    return label, None, bytes(buf[le + 1:e - 2])


def _merge(old, new):
    # new: {phase (1-based): value}; a single-phase value is phase 0
    if 0 in new:
        return [new[0]]
    n = max(new)
    out = list(old) if old and len(old) == n else [None] * n
    for k, v in new.items():
        out[k - 1] = v
    return out


def _apply(r, label, v, imports, cur, volt, phases):
    """Apply one group to the reading; True when it signals an overload."""
    k = _IMPORT.get(label)
    if k is not None:
        imports[k] = int(v)
        return False
    first = label[:1]
    if first == b"E":
        if label[:4] == b"EASF" and len(label) == 6:
            imports[int(label[4:])] = int(v)
        elif label == b"EAST":
            r.import_total_wh = int(v)
        elif label == b"EAIT":
            r.export_wh = int(v)
        return False
    if label == b"PTEC":
        r.period = v.decode().strip(".")
        r.period_index = _PTEC_INDEX.get(v)
        if v[:2] in (b"HC", b"HP") and v[2:] in (b"JB", b"JW", b"JR"):
            r.tempo_today = _COLOUR[v[2:]]
    elif label == b"DEMAIN":
        r.tempo_tomorrow = _COLOUR.get(v)
    elif label == b"PAPP" or label == b"SINSTS":
        r.power_va = int(v)
    elif label[:6] == b"SINSTS" and len(label) == 7:
        phases[int(label[6:])] = int(v)
    elif label == b"SINSTI":
        r.export_va = int(v)
    elif label == b"IINST":
        cur[0] = int(v)
    elif label[:5] == b"IINST" or label[:4] == b"IRMS":
        cur[int(label[-1:])] = int(v)
    elif label[:4] == b"URMS":
        volt[int(label[-1:])] = int(v)
    elif label == b"ADPS":
        r.overload_a = int(v)
        return True
    elif label[:4] == b"ADIR":
        r.overload_a = max(r.overload_a or 0, int(v))
        return True
    elif label == b"ADCO" or label == b"ADSC":
        r.meter_id = v.decode()
    elif label == b"OPTARIF" or label == b"NGTF":
        r.tariff_option = v.decode().strip(" .")
    elif label == b"LTARF":
        r.period = v.decode().strip()
    elif label == b"NTARF":
        r.period_index = int(v)
    elif label == b"ISOUSC":
        r.subscribed_a = int(v)
    elif label == b"PREF":
        r.subscribed_kva = int(v)
    elif label == b"STGE":
        s = int(v, 16)
        r.stge = s
        r.tempo_today = TEMPO[(s >> 24) & 3]  # the status word is authoritative
        r.tempo_tomorrow = TEMPO[(s >> 26) & 3]
    elif label == b"MOTDETAT":
        r.motdetat = v.decode()
    elif label == b"MSG1" or label == b"MSG2":
        m = r.messages or {}
        m[label.decode()] = v.decode().strip()
        r.messages = m
    return False


def unit(label):
    return ticlabels.unit(label)
