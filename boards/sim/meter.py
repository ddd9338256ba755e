# The simulated grid meter (sim/board.py plugs it into the grid port), agreeing with the
# simulated loads: a Linky sending its TIC frames byte by byte at the real line rate, or a
# Fluvius meter (Sagemcom S211) sending a P1 telegram (e-MUCS 1.7.1, valid CRC) every second.
#
# Power = the five metered circuits + an unmetered base load; its energy goes to the
# off-peak index from 22:00 to 06:00 (TIC "HC" option; P1 tariff 2, night), else to the
# peak one. The port can be opened at the wrong setting, as a real one can: it then
# reads line noise. A SAGEM C2000's customer output can be left in its other modes (its
# guide, 8.2): VEILLE sends frames of its serial number alone, METROL a metrological
# pulse per Wh and no frame (modelled as 30 ms of the line held low: zero bytes, at
# whatever rate the port is opened).
import gc
import random

BASE_LOAD_W = 180.0     # circuits the sub-meter does not meter
VOLTAGE = 230
SEP = {"historic": b" ", "standard": b"\t"}
# the line setting each meter mode sends with, and the one each port kind opens with
LINE = {"historic": (1200, 7), "standard": (9600, 7), "p1": (115200, 8)}
KIND_LINE = {"tic_historic": (1200, 7), "tic_standard": (9600, 7), "p1": (115200, 8),
             "p1_legacy": (9600, 7)}


def group(label, value, sep, horodate=None):
    """One TIC group, LF ... CR, with its checksum (historic mode 1: the last separator
    is not summed; standard: it is)."""
    body = label + sep + (horodate + sep if horodate is not None else b"") + value
    s = sum(body) + (sum(sep) if sep == b"\t" else 0)
    return b"\n" + body + sep + bytes(((s & 0x3F) + 0x20,)) + b"\r"


def off_peak(tod):
    h = (tod % 86400) / 3600
    return h >= 22 or h < 6


class SimMeter:
    def __init__(self, scenario, simtime, mode="standard", hc_wh=12345678, hp_wh=23456789, phases=1):
        """mode: the line it sends ("historic", "standard", "p1"); phases: 3 for a
        three-phase meter (a SAGEM C2000-4 in historic mode, a Sagemcom T211 on P1), whose
        circuits sit on the phases `circuit_phase` says (the config's), the unmetered base
        load spread evenly."""
        self.scenario = scenario
        self.time = simtime
        self.mode = mode
        self.phases = phases
        self.circuit_phase = [1] * 5
        self.silent = False   # a P1 port the grid operator has not opened, a cable pulled
        self.output = "telein"  # a C2000's customer output: "telein", "veille", "metrol"
        self.garble = 0       # line noise: one byte in `garble` has a bit flipped (0: clean)
        self.imax = [0] * phases
        self.pmax = 0
        self.wh = [hc_wh, hp_wh]
        self.mj = [0, 0]
        self.t_last = None
        self.frames = 0
        self.peak_w = 0.0
        self.peak_ts = b"261101000000W"
        if mode == "p1":
            self.period_s = 1.0  # DSMR 5 / e-MUCS: a telegram every second

    mains = None  # the board's SimMains: the voltage it measures (else VOLTAGE)

    def volts(self):
        return self.mains.vrms if self.mains is not None else VOLTAGE

    def power_w(self, t):
        # what the house draws from the grid (a circuit giving back lowers it; this meter
        # does not count export: never below zero)
        return max(0.0, sum(self.scenario.power(i, t) for i in range(5)) + BASE_LOAD_W)

    def phase_w(self, t):
        w = [BASE_LOAD_W / self.phases] * self.phases
        for i in range(5):
            w[min(self.circuit_phase[i], self.phases) - 1] += self.scenario.power(i, t)
        return [max(0.0, x) for x in w]

    def _integrate(self, t):
        if self.t_last is not None and t > self.t_last:
            k = 0 if off_peak(self.t_last) else 1
            mj = self.mj[k] + int(self.power_w(self.t_last) * (t - self.t_last) * 1000)
            self.wh[k] += mj // 3600000
            self.mj[k] = mj % 3600000
        self.t_last = t

    period_s = None  # TIC: frames back to back

    def pulses(self):
        """Metrological pulses since the last call (METROL: one a Wh)."""
        self._integrate(self.time.now_s())
        wh = self.wh[0] + self.wh[1]
        n = wh - self.pulsed if self.pulsed is not None else 0
        self.pulsed = wh
        return n

    pulsed = None

    def frame_parts(self):
        """One frame or telegram as the small pieces it is made of (groups, lines), so
        the simulator itself does not fragment the device model's heap with 1 KB strings."""
        t = self.time.now_s()
        self._integrate(t)
        self.frames += 1
        p = self.power_w(t)
        hc = off_peak(t)
        if self.mode == "p1":
            return self._telegram(t, p, hc)
        if self.output == "veille":  # the serial number alone
            return [b"\x02", group(b"ADCO", b"020426009006", SEP[self.mode]), b"\x03"]
        va = int(p)
        volts = self.volts()
        amps = int(p / volts + 0.5)
        sep = SEP[self.mode]
        g = []
        if self.mode == "historic" and self.phases == 3:  # a SAGEM C2000-4's long frame
            amps = [int(w / volts + 0.5) for w in self.phase_w(t)]
            self.imax = [max(a, m) for a, m in zip(amps, self.imax)]
            self.pmax = max(self.pmax, va)
            g += [group(b"ADCO", b"020426009006", sep), group(b"OPTARIF", b"HC..", sep),
                  group(b"ISOUSC", b"20", sep), group(b"HCHC", b"%09d" % self.wh[0], sep),
                  group(b"HCHP", b"%09d" % self.wh[1], sep), group(b"PTEC", b"HC.." if hc else b"HP..", sep)]
            g += [group(b"IINST%d" % (k + 1), b"%03d" % amps[k], sep) for k in range(3)]
            g += [group(b"IMAX%d" % (k + 1), b"%03d" % self.imax[k], sep) for k in range(3)]
            g += [group(b"PMAX", b"%05d" % self.pmax, sep), group(b"PAPP", b"%05d" % va, sep),
                  group(b"HHPHC", b"A", sep), group(b"MOTDETAT", b"000000", sep), group(b"PPOT", b"00", sep)]
        elif self.mode == "historic":
            g += [group(b"ADCO", b"021861348497", sep), group(b"OPTARIF", b"HC..", sep),
                  group(b"ISOUSC", b"45", sep), group(b"HCHC", b"%09d" % self.wh[0], sep),
                  group(b"HCHP", b"%09d" % self.wh[1], sep),
                  group(b"PTEC", b"HC.." if hc else b"HP..", sep), group(b"IINST", b"%03d" % amps, sep),
                  group(b"IMAX", b"090", sep), group(b"PAPP", b"%05d" % va, sep),
                  group(b"HHPHC", b"A", sep), group(b"MOTDETAT", b"000000", sep)]
            if amps > 45:
                g.insert(7, group(b"ADPS", b"%03d" % amps, sep))
        else:
            hd = (b"E" if self.time.summer() else b"H") + self.time.stamp()
            ntarf = 1 if hc else 2
            stge = (1 << 17) | ((ntarf - 1) << 10) | (1 << 21) | (1 << 23)
            g += [group(b"ADSC", b"041776199277", sep), group(b"VTIC", b"02", sep),
                  group(b"DATE", b"", sep, hd), group(b"NGTF", b"  H PLEINE/CREUSE  ", sep),
                  group(b"LTARF", b"  HEURE  CREUSE  " if hc else b"  HEURE  PLEINE  ", sep),
                  group(b"EAST", b"%09d" % (self.wh[0] + self.wh[1]), sep)]
            for k in range(10):
                g.append(group(b"EASF%02d" % (k + 1), b"%09d" % (self.wh[k] if k < 2 else 0), sep))
            g += [group(b"EASD01", b"%09d" % self.wh[0], sep), group(b"EASD02", b"%09d" % self.wh[1], sep),
                  group(b"IRMS1", b"%03d" % amps, sep), group(b"URMS1", b"%03d" % int(volts + 0.5), sep),
                  group(b"PREF", b"09", sep), group(b"PCOUP", b"09", sep),
                  group(b"SINSTS", b"%05d" % va, sep), group(b"SMAXSN", b"%05d" % va, sep, hd),
                  group(b"UMOY1", b"%03d" % int(volts + 0.5), sep, hd), group(b"STGE", b"%08X" % stge, sep),
                  group(b"MSG1", b"PAS DE          MESSAGE         ", sep),
                  group(b"PRM", b"07396328479201", sep), group(b"RELAIS", b"000", sep),
                  group(b"NTARF", b"%02d" % ntarf, sep), group(b"NJOURF", b"00", sep),
                  group(b"NJOURF+1", b"00", sep),
                  group(b"PJOURF+1", b"00008001 NONUTILE NONUTILE NONUTILE NONUTILE NONUTILE "
                                     b"NONUTILE NONUTILE NONUTILE NONUTILE NONUTILE", sep)]
        return [b"\x02"] + g + [b"\x03"]


    def _telegram(self, t, p, night):
        ts = self.time.stamp() + (b"S" if self.time.summer() else b"W")
        kw = b"%02d.%03d" % (int(p) // 1000, int(p) % 1000)
        if p > self.peak_w:
            self.peak_w, self.peak_ts = p, ts
        gas = 92287 + int(t / 36)  # litres: 0.1 m3 an hour
        lines = [b"/FLU5\\253769484_A", b"", b"0-0:96.1.4(50217)",
                 b"0-0:96.1.1(3153414731313030303037313930)", b"0-0:1.0.0(" + ts + b")",
                 b"1-0:1.8.1(%06d.%03d*kWh)" % divmod(self.wh[1], 1000),
                 b"1-0:1.8.2(%06d.%03d*kWh)" % divmod(self.wh[0], 1000),
                 b"1-0:2.8.1(000000.000*kWh)", b"1-0:2.8.2(000000.000*kWh)",
                 b"0-0:96.14.0(%04d)" % (2 if night else 1), b"1-0:1.4.0(" + kw + b"*kW)",
                 b"1-0:1.6.0(" + self.peak_ts + b")(%02d.%03d*kW)" % (int(self.peak_w) // 1000, int(self.peak_w) % 1000),
                 b"0-0:98.1.0(0)(1-0:1.6.0)(1-0:1.6.0)()",
                 b"1-0:1.7.0(" + kw + b"*kW)", b"1-0:2.7.0(00.000*kW)"]
        ph = self.phase_w(t)  # L1-L3: 21/41/61 import, 22/42/62 export, 32/52/72 V, 31/51/71 A
        lines += [b"1-0:%d1.7.0(%02d.%03d*kW)" % (2 * k + 2, int(w) // 1000, int(w) % 1000) for k, w in enumerate(ph)]
        lines += [b"1-0:%d2.7.0(00.000*kW)" % (2 * k + 2) for k in range(len(ph))]
        v10 = int(self.volts() * 10 + 0.5)
        lines += [b"1-0:%d2.7.0(%03d.%d*V)" % (2 * k + 3, v10 // 10, v10 % 10) for k in range(len(ph))]
        lines += [b"1-0:%d1.7.0(%03d.%02d*A)" % (2 * k + 3, int(w * 10 / v10), int(w * 1000 / v10) % 100)
                  for k, w in enumerate(ph)]
        # a T211 here has its fuse supervision set (25 A); an S211 sends 999 A: none
        fuse = b"025.00" if self.phases == 3 else b"999"
        lines += [b"0-0:96.3.10(1)", b"0-0:17.0.0(999.9*kW)", b"1-0:31.4.0(" + fuse + b"*A)", b"0-0:96.13.0()",
                 b"0-1:24.1.0(003)", b"0-1:96.1.1(37464C4F32313233303838303237)", b"0-1:24.4.0(1)",
                 b"0-1:24.2.3(" + ts + b")(%05d.%03d*m3)" % divmod(gas, 1000), b"!"]
        parts = [x + b"\r\n" for x in lines[:-1]] + [b"!"]
        c = 0
        for x in parts:
            c = crc16(x, c)
        return parts + [b"%04X\r\n" % c]


def crc16(data, c=0):
    """CRC-16/ARC, from its definition (the simulator's own, not the firmware's)."""
    for b in data:
        c ^= b
        for _ in range(8):
            c = (c >> 1) ^ 0xA001 if c & 1 else c >> 1
    return c


class SimUart:
    """The meter's line as a UART opened at some baud rate: any(), readinto(buf, n)."""

    RXBUF = 2048

    def __init__(self, meter, simtime, line, seed=1):
        self.meter = meter
        self.time = simtime
        self.ring = bytearray(self.RXBUF)  # the UART's receive buffer, as on the device
        self.work = bytearray(512)         # noise and garbled bytes are made here, in place
        self.overruns = 0
        self.deferred = 0  # bytes held back a poll: the simulator's own allocations found no room
        self.rng = random.Random(seed) if hasattr(random, "Random") else random
        self.open(line)

    def open(self, line):
        """Set up again for another line setting (as machine.UART.init): the receive
        buffer is emptied, not made anew."""
        self.baud = line[0]
        self.match = LINE[self.meter.mode] == line
        self.t0 = self.time.now_s()
        self.next_t = self.t0
        self.emitted = 0
        self.parts = []           # pieces the meter has put on the line but not yet sent
        self.part_at = 0          # bytes of parts[0] already sent
        self.head = 0             # where the oldest unread byte is
        self.count = 0            # unread bytes

    def _put(self, data, k0, k1):
        # data[k0:k1] into the ring; what does not fit is lost, as in a real UART
        ring, size = self.ring, self.RXBUF
        while k0 < k1:
            if self.count == size:
                self.overruns += 1
                return
            tail = (self.head + self.count) % size
            n = min(k1 - k0, size - self.count, size - tail)
            ring[tail:tail + n] = memoryview(data)[k0:k0 + n]
            self.count += n
            k0 += n

    def _send(self, data, k0, k1):
        # data[k0:k1] down the line: through a noisy one, bits flipped here and there
        g = self.meter.garble
        if not g:
            self._put(data, k0, k1)
            return
        y = self.work
        while k0 < k1:
            n = min(k1 - k0, len(y))
            for k in range(n):
                b = data[k0 + k]
                if self.rng.getrandbits(16) % g == 0:
                    b ^= 1 << (self.rng.getrandbits(3) % 7)
                y[k] = b
            self._put(y, 0, n)
            k0 += n

    def _receive(self):
        # A device's UART takes its bytes without the heap; the simulated meter makes its
        # frames in it. Its own allocations that find no room must not be the firmware's
        # MemoryError: they are tried again after a collection, then left for the next poll
        # (the bytes come late, as from a stalled loop, and are not lost).
        try:
            self._emit()
        except MemoryError:
            gc.collect()
            try:
                self._emit()
            except MemoryError:
                self.deferred += 1

    def _emit(self):
        now = self.time.now_s()
        rate = LINE[self.meter.mode][0]
        due = int((now - self.t0) * rate / 10) - self.emitted
        if due <= 0:
            return
        if self.meter.silent:  # nothing on the line, at any setting
            self.emitted += due
            self.next_t = now
            return
        if self.meter.output == "metrol":  # a pulse a Wh, read as zero bytes, never a frame
            self.emitted += due
            z = min(max(1, int(0.03 * self.baud / 10)), len(self.work))
            y = self.work
            for k in range(z):
                y[k] = 0
            for _ in range(min(self.meter.pulses(), 20)):
                self._put(y, 0, z)
            return
        if self.match and self.meter.period_s:  # P1: a whole telegram every period
            self.emitted += due
            while self.next_t <= now:
                parts = self.meter.frame_parts()  # (made whole before a byte is sent)
                for x in parts:
                    self._send(x, 0, len(x))
                self.next_t += self.meter.period_s
        elif self.match:  # TIC: frames back to back, `due` bytes of them
            while due > 0:
                if not self.parts:
                    self.parts = self.meter.frame_parts()
                    self.part_at = 0
                x = self.parts[0]
                n = min(due, len(x) - self.part_at)
                self._send(x, self.part_at, self.part_at + n)
                self.part_at += n
                self.emitted += n
                due -= n
                if self.part_at == len(x):
                    self.parts.pop(0)
                    self.part_at = 0
        else:  # the wrong baud rate: framing errors and noise, now and then an STX or LF
            self.emitted += due
            n = min(max(1, due * self.baud // rate) if self.baud < rate else due, len(self.work))
            y = self.work
            for k in range(n):
                y[k] = self.rng.getrandbits(7)
            self._put(y, 0, n)

    def any(self):
        self._receive()
        return self.count

    def readinto(self, buf, n=None):
        self._receive()
        n = min(len(buf) if n is None else n, self.count)
        size = self.RXBUF
        k = min(n, size - self.head)
        ring = memoryview(self.ring)
        buf[:k] = ring[self.head:self.head + k]
        if n > k:
            buf[k:n] = ring[:n - k]
        self.head = (self.head + n) % size
        self.count -= n
        return n

    def deinit(self):
        pass
