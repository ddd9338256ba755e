# GridReading: what the grid meter says, whatever its protocol.
#
# Energies in Wh (ints), powers in VA or W, currents in A, voltages in V. None = the
# meter does not send it. `import_wh[k]` is the index of tariff period k+1, in the
# meter's own order (historic: BASE; HCHC, HCHP; EJPHN, EJPHPM; BBRHCJB..BBRHPJR;
# standard: EASF01..EASF10); `period_index` (1-based) says which one is running.

TEMPO = (None, "blue", "white", "red")


def import_total(r):
    """Grid import in Wh from a reading as to_dict() gives it: the meter's total index, else
    the sum of its per-period indexes; None when it sends neither."""
    total = r.get("import_total_wh")
    if total is None and r.get("import_wh"):
        total = sum(r["import_wh"])
    return total


def index_name(r, k):
    """The name of index k (1-based) of a reading as to_dict() gives it, as the meter calls
    it: historic labels by OPTARIF (HCHC, BBRHPJW...), P1 T1, T2; standard: the name the
    Linky announced (LTARF while NTARF was k: names, as sent), else Tempo's (NGTF TEMPO);
    None where no name is known (a Linky's EASF01-10). Constants or the meter's strings
    already held: nothing made (the page asks for each index, the snapshot has none)."""
    src = r.get("source")
    o = r.get("tariff_option") or ""
    if src == "tic_standard":
        d = (r.get("std") or {}).get("names")
        return (d[k - 1] if d and k <= len(d) else None) or (_TEMPO_STD[k - 1] if "TEMPO" in o and k <= 6 else None)
    names = _P1_NAMES if src == "p1" else _BBR_NAMES if o.startswith("BBR") else (
        _HIST_NAMES[_HIST_NAMES.index(o) + 1] if o in _HIST_NAMES else ())
    return names[k - 1] if k <= len(names) else None


def std_dict():
    """What a Linky in standard mode sends besides: SMAXSN (today's highest apparent power)
    and its horodate, SMAXSN-1 (yesterday's), PCOUP (the cut-off power, kVA), PRM (the
    delivery point), names: [name of index 1..10] as LTARF announced them, as sent."""
    return {"smax_va": None, "smax_time": None, "smax_prev_va": None, "cutoff_kva": None, "prm": None,
            "names": None}


def p1_power(r):
    """A P1 meter's power as its own display shows it (from to_dict()): 'P+ 261 W' while
    drawing from the grid, 'P- 1520 W' while injecting."""
    imp, exp = r.get("power_w"), r.get("export_w")
    return "P- %d W" % exp if exp and not imp else "P+ %s W" % ("-" if imp is None else imp)


# GridReading.to_dict's keys: the attributes as they are, then what is computed
_DICT_KEYS = ("source", "meter_id", "tariff_option", "period", "period_index", "tempo_today",
              "tempo_tomorrow", "import_wh", "import_total_wh", "export_wh", "power_va",
              "power_va_phases", "export_va", "current_a", "voltage_v", "subscribed_a",
              "subscribed_kva", "overload", "overload_a", "stge", "motdetat", "time",
              "messages", "frames", "meter_version", "power_w", "export_w", "power_w_phases",
              "export_w_phases", "export_tariff_wh", "demand_w", "peak_w", "peak_time",
              "peak_history", "breaker", "limiter_w", "fuse_a", "gas_l", "gas_time", "water_l",
              "water_time", "hhphc", "ejp_notice_min", "imax_a", "pmax_w", "ppot",
              "std", "stge_flags", "meter_model", "motdetat_flags", "option", "alerts")
_ATTRS = 47  # the first 47
# the meter's own names of its indexes (index_name): historic labels by option; P1 T1-T4;
# standard: the names the Linky announced (LTARF), else Tempo's as LTARF calls them
_HIST_NAMES = ("BASE", ("BASE",), "HC", ("HCHC", "HCHP"), "EJP", ("EJPHN", "EJPHPM"))  # (a tuple: in flash)
_BBR_NAMES = ("BBRHCJB", "BBRHPJB", "BBRHCJW", "BBRHPJW", "BBRHCJR", "BBRHPJR")
_P1_NAMES = ("T1", "T2", "T3", "T4")
_TEMPO_STD = ("HC BLEU", "HP BLEU", "HC BLANC", "HP BLANC", "HC ROUGE", "HP ROUGE")


class GridReading:
    def __init__(self):
        self.source = None          # "tic_historic", "tic_standard", "p1"
        self.meter_id = None
        self.tariff_option = None   # OPTARIF / NGTF, as sent
        self.period = None          # PTEC / LTARF, as sent (stripped)
        self.period_index = None    # 1-based index into import_wh
        self.tempo_today = None     # "blue" | "white" | "red"
        self.tempo_tomorrow = None
        self.import_wh = []         # grows to the meter's number of indexes, updated in place
        self.import_total_wh = None
        self.export_wh = None       # producers: EAIT
        self.power_va = None        # PAPP, SINSTS
        self.power_va_phases = None  # SINSTS1-3
        self.export_va = None       # SINSTI
        self.current_a = None       # [IINST] or [IINST1, IINST2, IINST3] or IRMS1-3
        self.voltage_v = None       # URMS1-3
        self.subscribed_a = None    # ISOUSC
        self.subscribed_kva = None  # PREF
        self.overload = False       # ADPS, ADIR1-3, STGE bit 7, in the latest frame
        self.overload_a = None      # ADPS value
        self.stge = None            # standard status word (int)
        self.motdetat = None        # historic status word, raw: decoded for a SAGEM C2000 only
        self.hhphc = None           # historic HP/HC schedule code: A, C, D, E, Y
        self.ejp_notice_min = None  # PEJP: a mobile peak (EJP) starts in 30 min; this frame only
        self.imax_a = None          # [IMAX] or [IMAX1, IMAX2, IMAX3]: the highest current seen
        self.pmax_w = None          # PMAX: the highest three-phase power seen
        self.ppot = None            # PPOT: bits 1-3 set = phase 1-3 without voltage
        self.std = None             # Linky standard, one dict made once and updated in place
                                    # (the snapshot's reading dict stays at its size: std_dict)
        self.header = None          # P1: the identification line (maker and model)
        self.time = None            # DATE horodate, as sent
        self.messages = None        # MSG1, MSG2
        self.frames = 0             # frames that updated this reading
        # P1 (DSMR / Fluvius e-MUCS); the TIC leaves these at None
        self.meter_version = None   # 0-0:96.1.4 (Belgium) or 1-3:0.2.8 (DSMR)
        self.power_w = None         # 1-0:1.7.0 import, W
        self.export_w = None        # 1-0:2.7.0
        self.power_w_phases = None  # 21/41/61.7.0
        self.export_w_phases = None  # 22/42/62.7.0
        self.export_tariff_wh = None  # 2.8.1, 2.8.2
        self.demand_w = None        # 1-0:1.4.0 current 15-min average demand
        self.peak_w = None          # 1-0:1.6.0 this month's peak, and when
        self.peak_time = None
        self.peak_history = None    # 0-0:98.1.0: [{"month", "time", "w"}]
        self.breaker = None         # 0-0:96.3.10
        self.limiter_w = None       # 0-0:17.0.0
        self.fuse_a = None          # 1-0:31.4.0
        self.gas_l = None           # gas and water meters on M-Bus, litres, and their time
        self.gas_time = None
        self.water_l = None
        self.water_time = None

    def stge_flags(self):
        """The standard status word, decoded (Enedis-NOI-CPT_54E)."""
        s = self.stge
        if s is None:
            return None
        return {
            "dry_contact_open": bool(s & 1),
            "cutoff_state": (s >> 1) & 7,
            "cover_open": bool(s & (1 << 4)),
            "overvoltage": bool(s & (1 << 6)),
            "reference_power_exceeded": bool(s & (1 << 7)),
            "producer": bool(s & (1 << 8)),
            "negative_active_energy": bool(s & (1 << 9)),
            "supplier_index": ((s >> 10) & 15) + 1,
            "distributor_index": ((s >> 14) & 3) + 1,
            "clock_degraded": bool(s & (1 << 16)),
            "standard_mode": bool(s & (1 << 17)),
            "euridis": (s >> 19) & 3,
            "cpl_status": (s >> 21) & 3,
            "cpl_sync": bool(s & (1 << 23)),
            "tempo_today": TEMPO[(s >> 24) & 3],
            "tempo_tomorrow": TEMPO[(s >> 26) & 3],
            "mobile_peak_notice": (s >> 28) & 3,
            "mobile_peak": (s >> 30) & 3,
        }

    def meter_model(self):
        """The meter, where its identification number says it (SAGEM C2000 guide: maker 02,
        year, type 26 = three-phase 'plein taux', 27 = half rate), a P1 meter's
        identification line; None otherwise."""
        if self.source == "p1":
            return self.header
        i = self.meter_id
        if i and len(i) == 12 and i[:2] == "02" and i[4:6] in ("26", "27"):
            return "SAGEM C2000-4"
        return None

    def motdetat_flags(self):
        """The historic status word decoded, for a meter whose bits are documented (the
        SAGEM C2000); None for others (Enedis reserves the word: 'raw, not documented')."""
        raw = self.motdetat
        if raw is None or self.meter_model() is None:
            return None
        try:
            b1, b2, b3 = int(raw[0:2], 16), int(raw[2:4], 16), int(raw[4:6], 16)
        except (ValueError, IndexError):
            return None
        return {
            "implausible_index": [k + 1 for k in range(6) if b1 >> k & 1],  # index 1-6 refused
            "cover_opened_255": bool(b1 & 0x40),   # the terminal cover opened over 255 times
            "overvoltage_350v": bool(b1 & 0x80),   # over 350 V for 10 s: accuracy may suffer
            "watchdog_resets": b2 & 15,            # 0-15, stops at 15
            "lossy_resets": b2 >> 4,               # resets that lost consumption, 0-15
            "memory_error": bool(b3 & 1),
            "phase_lost": [k for k in (1, 2, 3) if b3 >> k & 1],  # under 15 V for 10 s, now
        }

    def option_details(self):
        """OPTARIF decoded: the option, and for Tempo the programmes of the meter's two
        output circuits (Enedis-NOI-CPT_02E: BBRx, x = parity, 0, 1, circuit 1 on 2 bits
        A/B/C, circuit 2 on 3 bits P0-P7); the HP/HC schedule code."""
        o = self.tariff_option
        if not o:
            return None
        d = {"option": {"BASE": "base", "HC": "hc", "EJP": "ejp"}.get(o, "tempo" if o[:3] == "BBR" else o)}
        if o[:3] == "BBR" and len(o) == 4:
            x = ord(o[3]) & 0x7F
            if x & 0x60 == 0x20:
                d["circuit1"] = (None, "A", "B", "C")[(x >> 3) & 3]
                d["circuit2"] = "P%d" % (x & 7)
        if self.hhphc:
            d["hhphc"] = self.hhphc
        return d

    def alerts(self, flags=False):
        """What the meter says is wrong, as named alerts (a list of codes, empty when all is
        well): 'phase_lost_N', 'overvoltage', 'cover_opened', 'memory_error', 'index_refused',
        'lossy_resets', 'ejp_notice', 'overload', 'breaker_open', 'breaker_ready'."""
        a = []
        lost = []
        if self.ppot is not None:
            lost = [k for k in (1, 2, 3) if self.ppot >> k & 1]
        f = self.motdetat_flags() if flags is False else flags  # (to_dict has them already)
        if f:
            lost = lost or f["phase_lost"]
        for k in lost:
            a.append("phase_lost_%d" % k)
        st = self.stge
        if (f and f["overvoltage_350v"]) or (st is not None and st & (1 << 6)):
            a.append("overvoltage")
        if (f and f["cover_opened_255"]) or (st is not None and st & (1 << 4)):
            a.append("cover_opened")
        if f:
            if f["memory_error"]:
                a.append("memory_error")
            if f["implausible_index"]:
                a.append("index_refused")
            if f["lossy_resets"]:
                a.append("lossy_resets")
        if self.ejp_notice_min is not None:
            a.append("ejp_notice")
        if self.overload:
            a.append("overload")
        # P1 0-0:96.3.10, the meter's breaker (DLMS disconnect control): 0 open (a prepaid
        # meter out of credit, or cut remotely), 2 ready: the customer presses its button
        if self.breaker == 0:
            a.append("breaker_open")
        elif self.breaker == 2:
            a.append("breaker_ready")
        return a

    def to_dict(self):
        # made at its size at once (57 keys): filled key by key its table grew 11
        # times to 472 B, 1.6 KB of garbage a snapshot (make memcheck's snapshots failed there)
        d = dict.fromkeys(_DICT_KEYS)
        for i in range(_ATTRS):
            k = _DICT_KEYS[i]
            d[k] = getattr(self, k)
        d["stge_flags"] = self.stge_flags()
        d["meter_model"] = self.meter_model()
        d["motdetat_flags"] = f = self.motdetat_flags()
        d["option"] = self.option_details()
        d["alerts"] = self.alerts(f)
        return d
