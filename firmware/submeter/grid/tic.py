# TIC decoder: French meters' téléinformation, historic (1200 Bd) and standard (9600 Bd).
#
# Streaming: feed() takes UART chunks of any size, split anywhere. The bytes of each
# group go into a preallocated frame buffer (viper frame_scan), groups are checked in
# one pass (viper check_groups), and the frame's good groups become the current values
# on ETX; EOT drops the frame in progress. No allocation per byte or per group: only
# reading the values (GridReading, values()) makes objects, once per frame at most.
from array import array

from micropython import const

from ..kernels import pick, label_hash
from .reading import GridReading, TEMPO, std_dict

_k = pick("ticscan")  # viper, or the twins (kernels/__init__.py)
frame_scan, check_groups, extract = _k.frame_scan, _k.check_groups, _k.extract
same = pick("gridscan").same  # (the compare both grid decoders use)

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


# slots of the values update() reads: numbers first (0-9: the energy indexes), then text
_SRC_STD = "tic_standard"
_SRC_HIST = "tic_historic"
_S_EAST = const(10)
_S_EAIT = const(11)
_S_PAPP = const(12)
_S_SINSTI = const(13)
_S_SINSTS1 = const(14)
_S_IINST = const(17)
_S_I1 = const(18)
_S_U1 = const(21)
_S_ADPS = const(24)      # then ADIR1-3
_S_ISOUSC = const(28)
_S_PREF = const(29)
_S_NTARF = const(30)
_S_IMAX1 = const(31)     # IMAX (single-phase) or IMAX1-3
_S_PMAX = const(34)
_S_PEJP = const(35)      # EJP notice: minutes, sent only in the 30 min before a peak day
_S_SMAXSN = const(36)    # standard: today's highest apparent power (its time: its horodate)
_S_SMAXSN1 = const(37)   # SMAXSN-1, yesterday's
_S_PCOUP = const(38)     # standard: the cut-off power, kVA
_NNUM = const(39)
_S_ID = const(39)
_S_OPTION = const(40)
_S_PTEC = const(41)
_S_LTARF = const(42)
_S_DEMAIN = const(43)
_S_MOTDETAT = const(44)
_S_MSG1 = const(45)
_S_MSG2 = const(46)
_S_STGE = const(47)
_S_HHPHC = const(48)
_S_PPOT = const(49)
_S_PRM = const(50)       # standard: the delivery point (PRM)
_S_VTIC = const(51)      # standard: the TIC version
_S_DATE = const(52)      # the last slot: extract() gives DATE's horodate
_NSLOT = const(53)
# single numbers and the GridReading attribute each one sets
_SCALARS = ((_S_EAST, "import_total_wh"), (_S_EAIT, "export_wh"), (_S_PAPP, "power_va"),
            (_S_SINSTI, "export_va"), (_S_ISOUSC, "subscribed_a"), (_S_PREF, "subscribed_kva"),
            (_S_NTARF, "period_index"), (_S_PMAX, "pmax_w"))
NUM_SLOTS = _NNUM        # the same, visible from outside (tests)
ALL_SLOTS = _NSLOT


class TicDecoder:
    """A decoder of the grid package's protocol (grid/__init__.py)."""

    def __init__(self, frame_max=FRAME_MAX, groups_max=GROUPS_MAX, bufs=None):
        """bufs: two bytearrays of frame_max bytes to use for the frames (the grid reader
        lends the same two to its P1 decoder: one of the two listens at a time)."""
        self.st = array("i", (0, 0, 0, 0, frame_max, groups_max, 0, 0, 0))
        # work: the frame being received; done: the last complete frame (swapped on ETX)
        self._wbuf = bufs[0] if bufs else bytearray(frame_max)
        self._widx = array("H", bytes(4 * groups_max))
        self._winfo = array("H", bytes(8 * groups_max))
        self._whash = array("i", bytes(4 * groups_max))
        self._dbuf = bufs[1] if bufs else bytearray(frame_max)
        self._didx = array("H", bytes(4 * groups_max))
        self._dinfo = array("H", bytes(8 * groups_max))
        self._dhash = array("i", bytes(4 * groups_max))
        self._nums = array("i", bytes(4 * _NNUM))
        self._spans = array("H", bytes(4 * _NSLOT))
        self._text = {}         # slot -> raw bytes of the text value last decoded
        self._dn = 0
        self._checked = 0
        self._fok = 0           # good groups in the frame in progress, and of them
        self._fht = 0           # those separated by HT (standard mode)
        self._in_frame = False
        self.on_group = None    # callable(label, horodate or None, value) for every good group
        self.frames = 0         # frames committed (ETX after STX, one good group or more)
        self.noise_frames = 0   # STX..ETX with no good group in it: noise, dropped
        self.groups_ok = 0
        self.groups_bad = 0     # checksum errors
        self._malformed = 0     # groups of the wrong shape (no separator, no label,
                                # control bytes or DEL, e.g. a non-UTF-8 byte)
        self.eot = 0            # EOT received: the frame in progress, if any, is dropped
        self.mode = None        # "historic" | "standard": separator of the last frame
        self.id_only = 0        # frames in a row whose one good group is ADCO: a SAGEM C2000
                                # whose output is in VEILLE mode (its serial number, no figures)

    @property
    def malformed(self):
        # unterminated or oversized groups (counted by frame_scan) + misshapen ones
        return self.st[7] + self._malformed

    def buffers(self):
        """The two frame buffers (to lend to a decoder that listens at other times)."""
        return self._wbuf, self._dbuf

    def groups(self):
        """The last frame: its bytes, its groups' offsets and their count (the kernels' bench)."""
        return self._dbuf, self._didx, self._dn

    def restart(self):
        """Forget the frame in progress: another decoder has used the buffers since."""
        st = self.st
        st[0] = st[1] = st[2] = st[3] = st[8] = 0
        self._checked = 0
        self._fok = self._fht = 0
        self._in_frame = False

    def set_port(self, kind):
        """The port is now in setting `kind`: nothing to change (both modes are decoded,
        told apart by their separator)."""

    def good(self):
        """Good data so far: the groups with a right checksum."""
        return self.groups_ok

    def state(self):
        """The counters /api/state's `grid` object shows."""
        return {"protocol": "tic", "mode": self.mode, "frames": self.frames, "groups_ok": self.groups_ok,
                "checksum_errors": self.groups_bad, "malformed": self.malformed, "eot": self.eot,
                "noise_frames": self.noise_frames}

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
                    if self._fok:
                        self._commit()
                        done += 1
                    else:  # STX..ETX with no good group: line noise, not a frame
                        self.noise_frames += 1
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
        self.id_only = self.id_only + 1 if self._fok == 1 and self._label_at(_ADCO) >= 0 else 0

    def _label_at(self, h):
        """The last frame's good group whose label hashes to h, or -1."""
        for g in range(self._dn):
            if self._dhash[g] == h and self._dinfo[4 * g + 2] == 1:
                return g
        return -1

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

    def lookup(self, nums, spans, kernel=None):
        """The values of the labels update() reads, found in the last complete frame by
        one kernel call (`kernel`: a ticscan extract, the one picked by default): numbers
        in nums (NUM_SLOTS of them), text as (start, end) in spans (2 * ALL_SLOTS).
        Returns the labels found."""
        return (kernel or extract)(self._dbuf, self._didx, self._dinfo, self._dhash, self._dn, _KEYS,
                                   len(_KEYS), _SLOTS, nums, _NNUM, spans, _NSLOT)

    def update(self, r):
        """Fill GridReading r from the last complete frame. Labels the frame does not
        carry keep their previous value (a three-phase meter's short overload frames
        only carry ADIRn, ADCO and IINSTn). One kernel call finds and parses every
        label of interest; text values are only decoded when they changed, so a frame
        allocates next to nothing once the reading has its shape."""
        r.source = _SRC_STD if self.mode == "standard" else _SRC_HIST
        r.frames += 1
        buf = self._dbuf
        nums = self._nums
        spans = self._spans
        self.lookup(nums, spans)
        imp = r.import_wh
        for k in range(10):
            v = nums[k]
            if v >= 0:
                while len(imp) <= k:
                    imp.append(None)
                imp[k] = v
        for slot, name in _SCALARS:
            v = nums[slot]
            if v >= 0:
                setattr(r, name, v)
        r.power_va_phases = _phases(nums, _S_SINSTS1, r.power_va_phases)
        v = nums[_S_IINST]
        if v >= 0:
            if r.current_a is None or len(r.current_a) != 1:
                r.current_a = [v]
            else:
                r.current_a[0] = v
        else:
            r.current_a = _phases(nums, _S_I1, r.current_a)
        r.voltage_v = _phases(nums, _S_U1, r.voltage_v)
        r.imax_a = _phases(nums, _S_IMAX1, r.imax_a)
        r.ejp_notice_min = nums[_S_PEJP] if nums[_S_PEJP] >= 0 else None  # this frame only
        std = r.std
        if self.mode == "standard":
            if std is None:
                std = r.std = std_dict()
            for slot, key in ((_S_SMAXSN1, "smax_prev_va"), (_S_PCOUP, "cutoff_kva")):
                if nums[slot] >= 0:
                    std[key] = nums[slot]
            v = nums[_S_SMAXSN]
            if v >= 0 and (v != std["smax_va"] or std["smax_time"] is None):  # a new peak today: its time
                std["smax_va"] = v
                g = self._label_at(_SMAXSN)
                hd = self._dinfo[4 * g + 1] if g >= 0 else 0
                std["smax_time"] = bytes(buf[self._dinfo[4 * g] + 1:hd]).decode() if hd else None
        over = -1
        for k in range(_S_ADPS, _S_ADPS + 4):  # ADPS, ADIR1-3: current over the subscription
            if nums[k] > over:
                over = nums[k]
        for slot in range(_NNUM, _NSLOT):
            s = spans[2 * slot]
            if not s:
                continue
            e = spans[2 * slot + 1]
            old = self._text.get(slot, b"")
            if not same(buf, s, e, old, len(old)):
                raw = bytes(buf[s:e])
                self._text[slot] = raw
                _text(r, slot, raw)
        r.overload = over >= 0 or (spans[2 * _S_STGE] != 0 and r.stge is not None and r.stge & 0x80 != 0)
        r.overload_a = over if over >= 0 else None
        return r


def _phases(nums, first, old):
    # per-phase numbers nums[first:first + 3] into the list old (or a new one): three
    # entries on a three-phase meter, one when only phase 1 is sent (single-phase)
    n = 3 if nums[first + 1] >= 0 or nums[first + 2] >= 0 else (1 if nums[first] >= 0 else 0)
    if n == 0:
        return old
    if old is None or len(old) != n:
        old = [None] * n
    for k in range(n):
        v = nums[first + k]
        if v >= 0:
            old[k] = v
    return old


def _text(r, slot, raw):
    if slot == _S_ID:
        r.meter_id = raw.decode()
    elif slot == _S_OPTION:
        r.tariff_option = raw.decode().strip(" .")
    elif slot == _S_PTEC:
        r.period = raw.decode().strip(".")
        r.period_index = _PTEC_INDEX.get(raw)
        if raw[:2] in (b"HC", b"HP") and raw[2:] in _COLOUR:
            r.tempo_today = _COLOUR[raw[2:]]
    elif slot == _S_LTARF:
        r.period = raw.decode().strip()
        k = r.period_index
        if r.std is not None and k is not None and 1 <= k <= 10:  # index k's name, as the meter calls it
            names = r.std["names"]
            if names is None:
                names = r.std["names"] = [None] * 10
            names[k - 1] = r.period  # (the string held already: none made)
    elif slot == _S_PRM:
        if r.std is not None:
            r.std["prm"] = raw.decode()
    elif slot == _S_VTIC:
        r.meter_version = raw.decode()
    elif slot == _S_DEMAIN:
        r.tempo_tomorrow = _COLOUR.get(raw)
    elif slot == _S_MOTDETAT:
        r.motdetat = raw.decode()
    elif slot == _S_HHPHC:
        r.hhphc = raw.decode()
    elif slot == _S_PPOT:
        try:
            r.ppot = int(raw, 16)
        except ValueError:
            pass
    elif slot == _S_STGE:
        try:
            s = int(raw, 16)
        except ValueError:
            return
        r.stge = s
        r.tempo_today = TEMPO[(s >> 24) & 3]  # the status word is authoritative
        r.tempo_tomorrow = TEMPO[(s >> 26) & 3]
    elif slot == _S_DATE:
        r.time = raw.decode()
    else:  # MSG1, MSG2
        m = r.messages or {}
        m["MSG1" if slot == _S_MSG1 else "MSG2"] = raw.decode().strip()
        r.messages = m


def _slots():
    t = {}
    for k, name in ((0, "BASE"), (0, "HCHC"), (1, "HCHP"), (0, "EJPHN"), (1, "EJPHPM"),
                    (0, "BBRHCJB"), (1, "BBRHPJB"), (2, "BBRHCJW"), (3, "BBRHPJW"),
                    (4, "BBRHCJR"), (5, "BBRHPJR")):
        t[name] = k
    for k in range(10):
        t["EASF%02d" % (k + 1)] = k
    for k in range(3):
        t["SINSTS%d" % (k + 1)] = _S_SINSTS1 + k
        t["IINST%d" % (k + 1)] = _S_I1 + k
        t["IRMS%d" % (k + 1)] = _S_I1 + k
        t["URMS%d" % (k + 1)] = _S_U1 + k
        t["ADIR%d" % (k + 1)] = _S_ADPS + 1 + k
        t["IMAX%d" % (k + 1)] = _S_IMAX1 + k
    for name, slot in (("EAST", _S_EAST), ("EAIT", _S_EAIT), ("PAPP", _S_PAPP), ("SINSTS", _S_PAPP),
                       ("SINSTI", _S_SINSTI), ("IINST", _S_IINST), ("ADPS", _S_ADPS),
                       ("ISOUSC", _S_ISOUSC), ("PREF", _S_PREF), ("NTARF", _S_NTARF),
                       ("ADCO", _S_ID), ("ADSC", _S_ID), ("OPTARIF", _S_OPTION), ("NGTF", _S_OPTION),
                       ("PTEC", _S_PTEC), ("LTARF", _S_LTARF), ("DEMAIN", _S_DEMAIN),
                       ("MOTDETAT", _S_MOTDETAT), ("MSG1", _S_MSG1), ("MSG2", _S_MSG2),
                       ("STGE", _S_STGE), ("DATE", _S_DATE), ("IMAX", _S_IMAX1), ("PMAX", _S_PMAX),
                       ("PEJP", _S_PEJP), ("HHPHC", _S_HHPHC), ("PPOT", _S_PPOT), ("SMAXSN", _S_SMAXSN),
                       ("SMAXSN-1", _S_SMAXSN1), ("PCOUP", _S_PCOUP), ("PRM", _S_PRM), ("VTIC", _S_VTIC)):
        t[name] = slot
    pairs = sorted((label_hash(k.encode()), v) for k, v in t.items())
    return array("i", [h for h, _ in pairs]), bytes(v for _, v in pairs)


_KEYS, _SLOTS = _slots()  # sorted label hashes (no two labels share one) and their slots
_ADCO = label_hash(b"ADCO")
_SMAXSN = label_hash(b"SMAXSN")


def _split(buf, idx, info, g):
    s = idx[2 * g]
    e = idx[2 * g + 1]
    le = info[4 * g]
    hd = info[4 * g + 1]
    label = bytes(buf[s:le])
    if hd:
        return label, bytes(buf[le + 1:hd]), bytes(buf[hd + 1:e - 2])
    return label, None, bytes(buf[le + 1:e - 2])

