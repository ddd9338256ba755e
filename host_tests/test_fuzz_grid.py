# Fuzzing the grid reader (issue 18, item 10), on both runtimes: ≥ 10,000 mutated TIC
# inputs and ≥ 10,000 mutated P1 inputs on the MicroPython unix port (tools/test/mptest.py,
# the viper kernels and their pure-Python twins by turns), fewer on CPython (twins only),
# made from the corpus captures: bit flips, insertions, deletions, truncations, splices
# of two frames, random junk, huge lines, separators or line ends removed, and, for a
# share, groups / telegrams whose content is damaged (non-text bytes, letters for
# digits, extra or missing separators and parentheses, huge values) with the TIC
# checksum or the P1 CRC computed again, so the content parsing runs too. They go
# through GridReader.poll() from a port that hands them over in random chunks.
# Asserted: nothing raises (the reader's own catch counts nothing in `errors`), every TIC
# group and P1 telegram accepted has a right checksum by an independent reading of the
# same bytes (ticref; a bitwise CRC-16 here), and after each batch the first good frame
# comes out with its values. Seeded: the same inputs every run.
import binascii

import ticref
from compat import IS_MP, rng
from submeter.grid import p1 as p1mod
from submeter.grid import tic as ticmod
from submeter.grid.reader import GridReader
from submeter.clock import ManualClock

P1_DIR = "host_tests/corpus/p1"
BATCH = 20                                  # inputs between two good frames
CASES = 10000 if IS_MP else 2000            # per protocol
TIC_GOOD = ("01_hist_mono_tempo_pyteleinfo_bin.tic", "12_std_mono_hc_goteleinfo.tic",
            "13_std_tri_tempo_teleinfo-nom.tic")
P1_GOOD = ("be_t211_50215_micropython_dsmr2influxdb.txt", "nl_dsmr50_iskra_am550_real.txt",
           "be_s211_50217_dsmrhub_stream_01.txt")


def _read(path):
    with open(path, "rb") as f:
        return f.read()


class Port:
    """A UART holding one input: any() says a random part of what is left is there."""

    def __init__(self, rnd):
        self.rnd = rnd
        self.data = b""
        self.at = 0

    def load(self, data):
        self.data = data
        self.at = 0

    def any(self):
        left = len(self.data) - self.at
        return min(left, 1 + self.rnd.getrandbits(10)) if left else 0

    def readinto(self, buf, n):
        k = min(n, len(self.data) - self.at)
        buf[:k] = memoryview(self.data)[self.at:self.at + k]
        self.at += k
        return k


class _NoBoard:
    pass


def reader(kind):
    r = GridReader(_NoBoard(), ManualClock(), "tic" if kind == "tic" else "p1")
    r.use("tic_standard" if kind == "tic" else "p1")
    return r


def feed(r, port, data, now):
    port.load(data)
    frames = 0
    while port.at < len(port.data):
        frames += r.poll(port, now)
    return frames


class Kernels:
    """The decoders' kernels switched to the pure-Python twins (MicroPython runs the viper
    ones otherwise; CPython has only the twins)."""

    TIC = ("frame_scan", "check_groups", "same", "extract")
    P1 = ("crc16", "telegram_scan", "extract", "milli_at", "same")

    def __init__(self):
        from submeter.kernels import p1scan_py, ticscan_py
        self.saved = [(m, n, getattr(m, n)) for m, names in ((ticmod, self.TIC), (p1mod, self.P1))
                      for n in names]
        self.twin = {ticmod: ticscan_py, p1mod: p1scan_py}

    def use(self, twins):
        from submeter.kernels import gridscan_py
        for m, n, f in self.saved:  # same() is gridscan's, in both decoders
            setattr(m, n, getattr(gridscan_py if n == "same" else self.twin[m], n) if twins else f)


# --- TIC ----------------------------------------------------------------------------

def tic_values(data):
    """{label: value} of a frame's good groups, by ticref's reading of the spec."""
    out = {}
    for g in ticref.naive_groups(data):
        if ticref.checksum_ok(g):
            sep = g[-2:-1]
            parts = g[:-2].split(sep)
            out[parts[0]] = parts[-1]
    return out


def tic_group(body, sep):
    """LF body sep checksum CR: body is label sep [horodate sep] value (7-bit summed)."""
    s = 0
    for c in body:
        s += c & 0x7F
    if sep == b"\t":
        s += 9
    return b"\n" + body + sep + bytes(((s & 0x3F) + 0x20,)) + b"\r"


def tic_spans(frame):
    """(start, end) of each group's LF..CR in a frame."""
    out = []
    i = frame.find(b"\n")
    while i >= 0:
        j = frame.find(b"\r", i)
        if j < 0:
            break
        out.append((i, j + 1))
        i = frame.find(b"\n", j)
    return out


JUNK = (b"\xff", b"\xc3(", b"\x80", b"\xed\xa0\x80", b"\x00", b"\x7f", b"\x02", b"\x03", b"\x04",
        b"\n", b"\r", b"\t", b" ", b"-", b".", b"\xe9", b"99999999999999999999", b"A")


def tic_content(rnd, frame):
    """A frame with one to three groups damaged inside, their checksums made right again."""
    spans = tic_spans(frame)
    if not spans:
        return frame
    out = frame
    for _ in range(1 + rnd.getrandbits(8) % 3):
        a, b = spans[rnd.getrandbits(8) % len(spans)]
        g = out[a + 1:b - 1]
        if len(g) < 4:
            continue
        sep = g[-2:-1]
        body = g[:-2]
        how = rnd.getrandbits(8) % 8
        p = rnd.getrandbits(12) % (len(body) + 1)
        if how == 0:    # a non-text byte, or a run of them, anywhere in the body
            body = body[:p] + JUNK[rnd.getrandbits(8) % len(JUNK)] * (1 + rnd.getrandbits(2)) + body[p:]
        elif how == 1:  # letters where digits go
            body = body[:p] + b"x?Z" + body[p + 3:]
        elif how == 2:  # the value emptied
            k = body.find(sep)
            body = body[:k + 1] if k > 0 else body
        elif how == 3:  # a huge value
            body += b"1" * (50 + rnd.getrandbits(9))
        elif how == 4:  # an extra separator, or the label's removed
            body = body[:p] + sep + body[p:]
        elif how == 5:  # starts with its separator
            body = sep + body
        elif how == 6:  # a bit flipped
            body = flip(body, p % len(body), rnd)
        else:           # the other mode's separator
            body = body.replace(sep, b" " if sep == b"\t" else b"\t")
            sep = b" " if sep == b"\t" else b"\t"
        new = tic_group(bytes(body), sep)
        out = out[:a] + new + out[b:]
        spans = tic_spans(out)
    return out


def flip(data, p, rnd):
    """data with one bit of byte p flipped."""
    return data[:p] + bytes((data[p] ^ (1 << rnd.getrandbits(3)),)) + data[p + 1:]


def mutate(rnd, base, other, content):
    """One input from `base` (a frame or telegram), `other` (another, for splices) and
    content(rnd, base) (damage with the checksum made right again)."""
    data = base
    n = len(data)
    kind = rnd.getrandbits(8) % 12
    if kind == 0:    # bit flips
        for _ in range(1 + rnd.getrandbits(8) % 12):
            data = flip(data, rnd.getrandbits(16) % n, rnd)
    elif kind == 1:  # bytes inserted
        for _ in range(1 + rnd.getrandbits(8) % 8):
            p = rnd.getrandbits(16) % (n + 1)
            data = data[:p] + bytes([rnd.getrandbits(8) for _ in range(1 + rnd.getrandbits(3))]) + data[p:]
    elif kind == 2:  # bytes deleted
        for _ in range(1 + rnd.getrandbits(8) % 8):
            if not data:
                break
            p = rnd.getrandbits(16) % len(data)
            data = data[:p] + data[p + 1 + rnd.getrandbits(3):]
    elif kind == 3:  # truncated, at one end or both
        a = rnd.getrandbits(16) % n if rnd.getrandbits(1) else 0
        data = data[a:a + rnd.getrandbits(16) % (n + 1)]
    elif kind == 4:  # two frames spliced
        data = data[:rnd.getrandbits(16) % n] + other[rnd.getrandbits(16) % len(other):]
    elif kind == 5:  # random junk, 8-bit
        data = bytes(rnd.getrandbits(8) for _ in range(rnd.getrandbits(10)))
    elif kind == 6:  # a huge line: no line end for 3-6 KB
        p = rnd.getrandbits(16) % n
        data = data[:p] + b"A" * (3000 + rnd.getrandbits(11)) + data[p:]
    elif kind == 7:  # no separators: line ends removed
        data = data.replace(b"\r", b"").replace(b"\n", b"")
    elif kind == 8:  # no separators: SP / HT / parentheses removed
        data = data.replace(b" ", b"").replace(b"\t", b"").replace(b"(", b"")
    else:            # the content damaged, the checksum made right (a third of the inputs)
        data = content(rnd, base)
    return data


class TicRef:
    """The groups with a right checksum in the bytes fed, by ticref's reading, input by
    input (no 30 KB batch in one piece: the unix port's heap is fragmented by the tests
    before): a group under way at the end of one input is carried into the next, up to
    the decoder's frame buffer (a longer one is never accepted)."""

    def __init__(self):
        self.cores = set()
        self.carry = b""

    def add(self, data):
        text = self.carry + bytes(c & 0x7F for c in data)
        for g in ticref.naive_groups(text):
            if ticref.checksum_ok(g):
                self.cores.add(g[:-2])
        a = text.rfind(b"\n")
        self.carry = text[a:] if a >= 0 and text.find(b"\r", a) < 0 and len(text) - a <= 2100 else b""


def test_fuzz_the_tic_reader():
    names = sorted(n for n in __import__("os").listdir(ticref.CORPUS) if n.endswith(".tic"))
    material = [ticref.read(n) for n in names]
    goods = [(ticref.read(n), tic_values(ticref.read(n))) for n in TIC_GOOD]
    rnd = rng(18)
    port = Port(rnd)
    kern = Kernels()
    r = reader("tic")
    dec = r.decoders["tic"]
    seen = []
    dec.on_group = lambda label, hd, value: seen.append((label, hd, value))
    ref = TicRef()
    inputs = accepted = goods_out = 0
    try:
        for batch in range(CASES // BATCH):
            kern.use(twins=batch % 2 == 1)
            for k in range(BATCH):
                base = material[rnd.getrandbits(8) % len(material)]
                data = mutate(rnd, base, material[rnd.getrandbits(8) % len(material)], tic_content)
                feed(r, port, data, batch)
                ref.add(data)
                inputs += 1
            good, want = goods[batch % len(goods)]
            frames0 = dec.frames
            feed(r, port, good, batch)
            ref.add(good)
            assert r.errors == 0, (batch, r.last_error)
            # every group accepted is a group with a right checksum in the bytes fed
            cores = ref.cores
            for label, hd, value in seen:
                ok = value == b"" and hd is None and label in cores  # a label alone
                for sep in (b" ", b"\t"):
                    if label + sep + (hd + sep if hd is not None else b"") + value in cores:
                        ok = True
                assert ok, (batch, label, hd, value)
            accepted += len(seen)
            del seen[:]
            cores.clear()
            # the good frame after the batch comes out whole, with its values
            assert dec.frames == frames0 + 1, batch
            rd = r.reading
            mid = want.get(b"ADCO") or want[b"ADSC"]
            assert rd.meter_id == mid.decode(), (batch, rd.meter_id)
            assert rd.power_va == int(want.get(b"PAPP") or want[b"SINSTS"]), batch
            idx = want.get(b"BBRHCJB") or want[b"EASF01"]
            assert rd.import_wh[0] == int(idx), batch
            r.state()
            goods_out += 1
    finally:
        kern.use(twins=False)
    print("fuzz TIC: %d inputs, %d good frames after them, %d groups accepted, all checked; "
          "checksum errors %d, malformed %d" % (inputs, goods_out, accepted, dec.groups_bad, dec.malformed))
    assert inputs >= CASES and goods_out == CASES // BATCH


# --- P1 -----------------------------------------------------------------------------

def crc_bitwise(data):
    c = 0
    for b in data:
        c ^= b
        for _ in range(8):
            c = (c >> 1) ^ 0xA001 if c & 1 else c >> 1
    return c


def p1_objects(data):
    out = {}
    for line in data.split(b"\r\n"):
        p = line.find(b"(")
        if p > 0:
            out[line[:p]] = line[p + 1:line.find(b")", p)]
    return out


def sign(body, rnd=None):
    """body ('/'..'!') with its CRC line: upper case, now and then lower case."""
    crc = "%04X" % crc_bitwise(body)
    if rnd is not None and rnd.getrandbits(2) == 0:
        crc = crc.lower()
    return body + crc.encode() + b"\r\n"


P1_JUNK = JUNK + (b"(", b")", b"*", b"*kWh", b"()", b")(", b"/", b"!", b"S", b"W", b"123456789012W")


def p1_content(rnd, telegram):
    """A telegram with one to three lines damaged, its CRC computed again."""
    bang = telegram.rfind(b"!")
    if bang < 0:
        return telegram
    lines = telegram[:bang].split(b"\r\n")
    for _ in range(1 + rnd.getrandbits(8) % 3):
        k = 2 + rnd.getrandbits(8) % max(1, len(lines) - 3)
        if k >= len(lines):
            continue
        x = lines[k]
        p = rnd.getrandbits(12) % (len(x) + 1)
        how = rnd.getrandbits(8) % 7
        if how == 0:    # non-text bytes in a value or in the code
            x = x[:p] + P1_JUNK[rnd.getrandbits(8) % len(P1_JUNK)] * (1 + rnd.getrandbits(2)) + x[p:]
        elif how == 1:  # letters for digits
            x = x[:p] + b"x?Z" + x[p + 3:]
        elif how == 2:  # a huge value
            q = x.find(b"(")
            x = x[:q + 1] + b"9" * (20 + rnd.getrandbits(9)) + x[q + 1:]
        elif how == 3:  # the fields swapped, a field emptied, or many fields
            q = x.find(b"(")
            x = x[:q] + (b"()" if rnd.getrandbits(1) else b"(1)(2)(3)(4)(5)(6)(7)(8)") + x[q:]
        elif how == 4:  # parentheses removed
            x = x.replace(b")", b"")
        elif how == 5:  # a bit flipped
            if x:
                x = flip(x, p % len(x), rnd)
        else:           # the line doubled, or gone
            lines.insert(k, x) if rnd.getrandbits(1) else lines.pop(k)
            continue
        lines[k] = x
    return sign(b"\r\n".join(lines) + b"!", rnd)


class P1Ref:
    """The bytes an accepted telegram can be in: what the last input brought, after the
    end of those before (a telegram is at most the decoder's 2 KB, and its CRC line)."""

    def __init__(self):
        self.tail = b""

    def window(self, data):
        w = self.tail + data
        self.tail = w[-2200:]
        return w


def check_taken(taken, fed, batch):
    """Every telegram accepted is in the bytes fed, followed by its right CRC (3 or 4 hex
    digits, either case, by a bitwise CRC-16 here); returns how many, and forgets them."""
    for body in taken:
        crc = crc_bitwise(body)
        i = fed.find(body)
        ok = False
        while i >= 0 and not ok:
            j = i + len(body)
            e = fed.find(b"\n", j)
            sent = fed[j:e if e >= 0 else len(fed)].replace(b"\r", b"")
            ok = 3 <= len(sent) <= 4 and all(c in b"0123456789ABCDEFabcdef" for c in sent) and int(sent, 16) == crc
            i = fed.find(body, i + 1)
        assert ok, (batch, body[:40])
    n = len(taken)
    del taken[:]
    return n


def test_fuzz_the_p1_reader():
    import os
    names = sorted(n for n in os.listdir(P1_DIR) if n.endswith(".txt"))
    material = [_read(P1_DIR + "/" + n) for n in names]
    goods = []
    for n in P1_GOOD:
        data = _read(P1_DIR + "/" + n)
        o = p1_objects(data)
        goods.append((data, binascii.unhexlify(o[b"0-0:96.1.1"]).decode(),
                      [int(o[k].split(b"*")[0].replace(b".", b"")) for k in (b"1-0:1.8.1", b"1-0:1.8.2")]))
    rnd = rng(19)
    port = Port(rnd)
    kern = Kernels()
    r = reader("p1")
    dec = r.decoders["p1"]
    taken = []
    dec.on_telegram = lambda t: taken.append(bytes(t))  # the telegrams accepted, as they are
    ref = P1Ref()
    inputs = accepted = goods_out = 0
    try:
        for batch in range(CASES // BATCH):
            kern.use(twins=batch % 2 == 1)
            for k in range(BATCH):
                base = material[rnd.getrandbits(8) % len(material)]
                data = mutate(rnd, base, material[rnd.getrandbits(8) % len(material)], p1_content)
                feed(r, port, data, batch)
                accepted += check_taken(taken, ref.window(data), batch)
                inputs += 1
            good, mid, idx = goods[batch % len(goods)]
            n0 = dec.telegrams
            # the first good telegram after the noise comes out, whatever the noise left
            # under way (a telegram cut short, a CRC line a stray '!' opened): its '/'
            # starts it at once
            got = feed(r, port, good, batch)
            accepted += check_taken(taken, ref.window(good), batch)
            assert r.errors == 0, (batch, r.last_error)
            assert got == 1 and dec.telegrams - n0 == 1, (batch, got)
            rd = r.reading
            assert rd.meter_id == mid and rd.import_wh[:2] == idx, (batch, rd.meter_id, rd.import_wh)
            r.state()
            goods_out += 1
    finally:
        kern.use(twins=False)
    print("fuzz P1: %d inputs, %d good telegrams right after them, %d telegrams accepted, all "
          "checked; CRC errors %d, restarts %d, objects rejected %d, overflows %d"
          % (inputs, goods_out, accepted, dec.crc_errors, dec.restarts, dec.rejected, dec.overflows))
    assert inputs >= CASES and goods_out == CASES // BATCH
