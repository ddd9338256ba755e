# A capture file played into the simulated grid port (SUBMETER_REPLAY=FILE, sim/board.py):
# TIC or P1 bytes as they came off the wire, sent at the line's rate and looped at the
# end, so a meter's own capture runs through the whole firmware (make run) and the tests.
#
# The line setting is read from the capture itself: P1 when it holds OBIS lines ("(" and
# "!"), at 115200 Bd 8N1 when a CRC follows the "!" (DSMR 4/5, e-MUCS), else 9600 Bd 7E1
# (DSMR 2.2/3); TIC standard (9600 Bd 7E1) when its groups are separated by HT, else
# historic (1200 Bd 7E1). Every setting sends 10 bits a byte (start, 7 data + parity or 8
# data, stop): 120 bytes/s at 1200 Bd, 960 at 9600, 11,520 at 115200. The port opened at
# another setting reads noise, as SimUart's does: a 1200 Bd capture decodes only when the
# reader listens at 1200. On a 7-bit line the UART hands over 7 data bits, so a capture
# read as 8-bit bytes (the parity in bit 7) plays the same as one with it cleared.
#
# The file is read in small chunks as the line needs them (a capture may be far larger
# than the device model's heap), from the simulated clock: SUBMETER_SPEED speeds it too.
from .meter import SimUart

CHUNK = 256


def line_of(head):
    """The line setting, (baud, data bits), of a capture that begins with `head`, and
    the mode's name: ("p1" | "p1_legacy" | "standard" | "historic", (baud, bits))."""
    t = bytes(b & 0x7F for b in head)
    if t.count(b"(") >= 2 and b"!" in t:
        k = t.find(b"!")
        crc = t[k + 1:k + 5]
        hexd = b"0123456789ABCDEFabcdef"
        if len(crc) >= 3 and all(c in hexd for c in crc[:3]):
            return "p1", (115200, 8)
        return "p1_legacy", (9600, 7)
    if t.count(b"\t") * 2 > t.count(b"\n"):
        return "standard", (9600, 7)
    return "historic", (1200, 7)


class ReplayUart(SimUart):
    """The capture's line as a UART opened at some setting: any(), readinto(buf, n)."""

    def __init__(self, path, simtime, line, seed=1):
        self.path = path
        self.f = open(path, "rb")
        self.size = self.f.seek(0, 2)
        self.f.seek(0)
        if self.size <= 0:
            raise ValueError("SUBMETER_REPLAY: %s is empty" % path)
        head = self.f.read(4096)
        self.f.seek(0)
        self.mode, self.line = line_of(head)
        self.mask = self.line[1] == 7 and any(b & 0x80 for b in head)  # parity bits in the file
        self.pos = 0              # where the next byte comes from in the file
        self.loops = 0            # times the file was played to its end
        self.chunk = bytearray(CHUNK)
        self.sent = 0             # bytes put on the line at the right setting
        self.ring = bytearray(self.RXBUF)  # the UART's receive buffer, as SimUart's
        self.overruns = 0
        import random
        self.rng = random.Random(seed) if hasattr(random, "Random") else random
        self.time = simtime
        self.open(line)

    def open(self, line):
        self.baud = line[0]
        self.match = self.line == line
        self.t0 = self.time.now_s()
        self.emitted = 0
        self.head = 0
        self.count = 0

    def _play(self, n):
        """n bytes of the file (looping) onto the line."""
        free = self.RXBUF - self.count
        if n > free:  # a stalled reader: what the ring cannot hold is lost, unread
            self.overruns += 1
            self._skip(n - free)
            n = free
        buf = self.chunk
        while n > 0:
            k = self.f.readinto(memoryview(buf)[:min(n, CHUNK, self.size - self.pos)])
            if not k:  # the file is shorter than it was: from the start again
                if self.pos == 0:
                    return
                self._skip(self.size - self.pos)
                continue
            if self.mask:
                for i in range(k):
                    buf[i] &= 0x7F
            self._put(buf, 0, k)
            self._skip(k, False)
            self.sent += k
            n -= k

    def _skip(self, n, seek=True):
        p = self.pos + n
        self.loops += p // self.size
        self.pos = p % self.size
        if seek:
            self.f.seek(self.pos)
        elif self.pos == 0:
            self.f.seek(0)

    def _receive(self):
        now = self.time.now_s()
        rate = self.line[0]
        due = int((now - self.t0) * rate / 10) - self.emitted
        if due <= 0:
            return
        self.emitted += due
        if self.match:
            self._play(due)
        else:  # the wrong setting: framing errors and noise, now and then an STX or LF
            n = max(1, due * self.baud // rate) if self.baud < rate else due
            x = bytes(self.rng.getrandbits(7) for _ in range(min(n, 512)))
            self._put(x, 0, len(x))

    def deinit(self):
        pass
