# TIC decoder: French meters' téléinformation, historic (1200 Bd) and standard (9600 Bd).
#
# Streaming: feed() takes UART chunks of any size, split anywhere. The bytes of each
# group go into a preallocated frame buffer (viper frame_scan), groups are checked in
# one pass (viper check_groups), and the frame's good groups become the current values
# on ETX; EOT drops the frame in progress. No allocation per byte or per group: only
# reading the values (GridReading, values()) makes objects, once per frame at most.
from array import array

from micropython import const

from .ticscan import frame_scan, check_groups, parse_uint, same, label_hash, KERNEL
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


# field codes of the labels update() reads (see _codes)
_SRC_STD = "tic_standard"
_SRC_HIST = "tic_historic"
_C_EAST = const(201)
_C_EAIT = const(202)
_C_PAPP = const(203)
_C_IINST = const(220)
_C_ISOUSC = const(250)
_C_PREF = const(251)
_C_NTARF = const(252)
_C_ID = const(301)
_C_OPTION = const(302)
_C_PTEC = const(303)
_C_LTARF = const(304)
_C_DEMAIN = const(305)
_C_MOTDETAT = const(306)
_C_MSG1 = const(307)
_C_MSG2 = const(308)
_C_STGE = const(309)
_C_DATE = const(310)



class TicDecoder:
    def __init__(self, frame_max=FRAME_MAX, groups_max=GROUPS_MAX):
        self.st = array("i", (0, 0, 0, 0, frame_max, groups_max, 0, 0, 0))
        # work: the frame being received; done: the last complete frame (swapped on ETX)
        self._wbuf = bytearray(frame_max)
        self._widx = array("H", bytes(4 * groups_max))
        self._winfo = array("H", bytes(8 * groups_max))
        self._whash = array("i", bytes(4 * groups_max))
        self._dbuf = bytearray(frame_max)
        self._didx = array("H", bytes(4 * groups_max))
        self._dinfo = array("H", bytes(8 * groups_max))
        self._dhash = array("i", bytes(4 * groups_max))
        self._text = {}         # field code -> raw bytes of the text value last decoded
        self._stge_raw = b""
        self._date_raw = b""
        self._dn = 0
        self._checked = 0
        self._fok = 0           # good groups in the frame in progress, and of them
        self._fht = 0           # those separated by HT (standard mode)
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
            if st[3] != self._checked:
                self._check()
            ev = st[8]
            if ev:
                if ev == ETX and self._in_frame:
                    self._commit()
                    done += 1
                elif ev == EOT:
                    self.eot += 1
                self._in_frame = ev == STX
            elif self._in_frame or st[0] == 2:
                continue  # mid-frame or mid-group: keep what we have
            st[1] = 0  # a new frame, an ended one, or groups outside any frame: start over
            st[3] = 0
            self._checked = 0
            self._fok = self._fht = 0
        return done

    def _check(self):
        ng = self.st[3]
        g0 = self._checked
        r = check_groups(self._wbuf, self._widx, g0, ng, self._winfo, self._whash)
        ok = r & 0x3FF
        bad = (r >> 10) & 0x3FF
        self.groups_ok += ok
        self._malformed += bad
        self.groups_bad += (ng - g0) - ok - bad
        self._fok += ok
        self._fht += r >> 20
        self._checked = ng
        if self.on_group is not None and ok:
            for g in range(g0, ng):
                if self._winfo[4 * g + 2] == 1:
                    self.on_group(*_split(self._wbuf, self._widx, self._winfo, g))

    def _commit(self):
        self._wbuf, self._dbuf = self._dbuf, self._wbuf
        self._widx, self._didx = self._didx, self._widx
        self._winfo, self._dinfo = self._dinfo, self._winfo
        self._whash, self._dhash = self._dhash, self._whash
        self._dn = self.st[3]
        self.frames += 1
        if self._fok:  # the separator of the good groups tells the mode
            self.mode = "standard" if self._fht * 2 > self._fok else "historic"

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
        only carry ADIRn, ADCO and IINSTn). Numbers are read in place (parse_uint) and
        text values are only decoded when they changed: a frame allocates next to
        nothing once the reading has its shape."""
        r.source = _SRC_STD if self.mode == "standard" else _SRC_HIST
        r.frames += 1
        over = False
        per_phase = False
        buf = self._dbuf
        idx = self._didx
        info = self._dinfo
        hashes = self._dhash
        codes = _CODES
        for g in range(self._dn):
            if info[4 * g + 2] != 1:
                continue
            code = codes.get(hashes[g])
            if code is None:
                continue
            le = info[4 * g]
            hd = info[4 * g + 1]
            vs = (hd or le) + 1
            ve = idx[2 * g + 1] - 2
            if code >= 300:
                if code == _C_STGE:
                    if not same(buf, vs, ve, self._stge_raw, len(self._stge_raw)):
                        self._stge_raw = bytes(buf[vs:ve])
                        _stge(r, self._stge_raw)
                    if r.stge is not None and r.stge & 0x80:
                        over = True  # reference power exceeded
                elif code == _C_DATE:
                    if hd and not same(buf, le + 1, hd, self._date_raw, len(self._date_raw)):
                        self._date_raw = bytes(buf[le + 1:hd])
                        r.time = self._date_raw.decode()
                else:
                    old = self._text.get(code, b"")
                    if not same(buf, vs, ve, old, len(old)):
                        raw = bytes(buf[vs:ve])
                        self._text[code] = raw
                        _text(r, code, raw)
                continue
            v = parse_uint(buf, vs, ve)
            if v < 0:
                continue  # a good checksum on a value of the wrong shape: keep the old one
            if code < 200:
                _put(r, "import_wh", code - 100, v)
            elif code < 210:
                if code == _C_EAST:
                    r.import_total_wh = v
                elif code == _C_EAIT:
                    r.export_wh = v
                elif code == _C_PAPP:
                    r.power_va = v
                else:
                    r.export_va = v
            elif code < 220:
                _put(r, "power_va_phases", code - 210, v)
            elif code == _C_IINST:
                if r.current_a is None or len(r.current_a) != 1:
                    r.current_a = [v]
                else:
                    r.current_a[0] = v
            elif code < 230:
                if not per_phase and r.current_a is not None and len(r.current_a) == 1:
                    r.current_a = None  # IINST before, now IINSTn/IRMSn: per phase from here
                per_phase = True
                _put(r, "current_a", code - 220, v)
            elif code < 240:
                _put(r, "voltage_v", code - 230, v)
            elif code < 250:  # ADPS, ADIR1-3: the largest current over the subscription
                r.overload_a = v if not over or r.overload_a is None else max(v, r.overload_a)
                over = True
            elif code == _C_ISOUSC:
                r.subscribed_a = v
            elif code == _C_PREF:
                r.subscribed_kva = v
            elif code == _C_NTARF:
                r.period_index = v
        r.overload = over
        if not over:
            r.overload_a = None
        return r


def _put(r, name, k, v):
    # r.<name>[k - 1] = v, growing the list the first time only
    lst = getattr(r, name)
    if lst is None:
        lst = []
        setattr(r, name, lst)
    while len(lst) < k:
        lst.append(None)
    lst[k - 1] = v


def _text(r, code, raw):
    if code == _C_ID:
        r.meter_id = raw.decode()
    elif code == _C_OPTION:
        r.tariff_option = raw.decode().strip(" .")
    elif code == _C_PTEC:
        r.period = raw.decode().strip(".")
        r.period_index = _PTEC_INDEX.get(raw)
        if raw[:2] in (b"HC", b"HP") and raw[2:] in _COLOUR:
            r.tempo_today = _COLOUR[raw[2:]]
    elif code == _C_LTARF:
        r.period = raw.decode().strip()
    elif code == _C_DEMAIN:
        r.tempo_tomorrow = _COLOUR.get(raw)
    elif code == _C_MOTDETAT:
        r.motdetat = raw.decode()
    else:  # MSG1, MSG2
        m = r.messages or {}
        m["MSG1" if code == _C_MSG1 else "MSG2"] = raw.decode().strip()
        r.messages = m


def _stge(r, raw):
    try:
        s = int(raw, 16)
    except ValueError:
        return
    r.stge = s
    r.tempo_today = TEMPO[(s >> 24) & 3]  # the status word is authoritative
    r.tempo_tomorrow = TEMPO[(s >> 26) & 3]


def _codes():
    t = {}
    for k, name in ((1, "BASE"), (1, "HCHC"), (2, "HCHP"), (1, "EJPHN"), (2, "EJPHPM"),
                    (1, "BBRHCJB"), (2, "BBRHPJB"), (3, "BBRHCJW"), (4, "BBRHPJW"),
                    (5, "BBRHCJR"), (6, "BBRHPJR")):
        t[name] = 100 + k
    for k in range(1, 11):
        t["EASF%02d" % k] = 100 + k
    for k in (1, 2, 3):
        t["SINSTS%d" % k] = 210 + k
        t["IINST%d" % k] = 220 + k
        t["IRMS%d" % k] = 220 + k
        t["URMS%d" % k] = 230 + k
        t["ADIR%d" % k] = 240 + k
    for name, code in (("EAST", _C_EAST), ("EAIT", _C_EAIT), ("PAPP", _C_PAPP), ("SINSTS", _C_PAPP),
                       ("SINSTI", 204), ("IINST", _C_IINST), ("ADPS", 240), ("ISOUSC", _C_ISOUSC),
                       ("PREF", _C_PREF), ("NTARF", _C_NTARF), ("ADCO", _C_ID), ("ADSC", _C_ID),
                       ("OPTARIF", _C_OPTION), ("NGTF", _C_OPTION), ("PTEC", _C_PTEC),
                       ("LTARF", _C_LTARF), ("DEMAIN", _C_DEMAIN), ("MOTDETAT", _C_MOTDETAT),
                       ("MSG1", _C_MSG1), ("MSG2", _C_MSG2), ("STGE", _C_STGE), ("DATE", _C_DATE)):
        t[name] = code
    return {label_hash(k.encode()): v for k, v in t.items()}


_CODES = _codes()  # label hash -> field code (no two labels of either mode share a hash)


def _split(buf, idx, info, g):
    s = idx[2 * g]
    e = idx[2 * g + 1]
    le = info[4 * g]
    hd = info[4 * g + 1]
    label = bytes(buf[s:le])
    if hd:
        return label, bytes(buf[le + 1:hd]), bytes(buf[hd + 1:e - 2])
    return label, None, bytes(buf[le + 1:e - 2])


def unit(label):
    return ticlabels.unit(label)
