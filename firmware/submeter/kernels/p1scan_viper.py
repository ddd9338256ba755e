# Viper kernels of the P1 decoder (DSMR 5.0.2 P1 Companion Standard, Fluvius e-MUCS).
# Their pure-Python twins (p1scan_py.py) give the same results on the same test vectors;
# kernels.pick("p1scan") takes one (see kernels/__init__.py).
import micropython


@micropython.viper
def crc16(buf: ptr8, start: int, end: int, crc: int, table: ptr16) -> int:
    # CRC-16/ARC (poly 0x8005 reflected, init 0, no final XOR), continued from crc over
    # buf[start:end]; table: the 256 precomputed values (kernels.crc16_table()).
    c = crc & 0xFFFF
    i = start
    while i < end:
        c = (c >> 8) ^ int(table[(c ^ buf[i]) & 0xFF])
        i += 1
    return c


@micropython.viper
def telegram_scan(src: ptr8, i: int, n: int, buf: ptr8, st: ptr32) -> int:
    # Copies a telegram from '/' into buf, through '!', the CRC and the LF after it.
    # st: 0 state (0 waiting for '/', 1 in the telegram, 2 after '!'), 1 bytes in buf,
    # 2 capacity, 3 position of '!', 4 event (0 none, 1 telegram complete, 2 overflow,
    # 3 restarted by a '/' before the LF of the CRC line). Stops after an event.
    # A '/' starts a telegram in any state: none is sent inside one (DSMR 5.0.2 6.2, 6.5:
    # strings go as hex), nor on its CRC line (4 hex digits, or none, then CR LF), so one
    # there ends a telegram cut short (a stray '!' in line noise leaves a CRC line open)
    # and the meter's next telegram is not lost with it.
    state = int(st[0])
    pos = int(st[1])
    cap = int(st[2])
    ev = 0
    while i < n:
        b = src[i]
        i += 1
        if b == 47:  # '/': a telegram starts (again)
            if state != 0 and pos > 0:
                ev = 3
            state = 1
            pos = 0
        if state == 0:
            continue
        if pos >= cap:
            state = 0
            pos = 0
            ev = 2
            break
        buf[pos] = b
        if b == 33 and state == 1:  # '!'
            st[3] = pos
            state = 2
        pos += 1
        if state == 2 and b == 10:  # the line of the CRC has ended
            state = 0
            ev = 1
            break
        if ev == 3:
            break
    st[0] = state
    st[1] = pos
    st[4] = ev
    return i


@micropython.viper
def milli_at(buf: ptr8, p: int, end: int) -> int:
    # The decimal at buf[p:] up to '*' or ')' as thousandths ("000301.548" -> 301548,
    # "0001" -> 1000); -1 if it is not a number of at most 9 significant digits + 3 decimals.
    v = 0
    frac = -1
    digits = 0
    seen = 0
    while p < end:
        c = buf[p]
        if c == 42 or c == 41:  # '*' or ')'
            break
        if c == 46:  # '.'
            if frac >= 0:
                return -1
            frac = 0
        elif c >= 48 and c <= 57:
            seen = 1
            if frac >= 0:
                if frac < 3:
                    v = v * 10 + (c - 48)
                frac += 1
            else:
                if v > 0:
                    digits += 1
                if digits > 5:
                    return -1
                v = v * 10 + (c - 48)
        else:
            return -1
        p += 1
    if p >= end or not seen:
        return -1
    if frac < 0:
        frac = 0
    while frac < 3:
        v = v * 10
        frac += 1
    return v


@micropython.viper
def extract(buf: ptr8, end: int, keys: ptr32, nkeys: int, slots: ptr8, nums: ptr32, nnum: int,
            spans: ptr16, nslot: int) -> int:
    # One pass over a telegram's lines (after the identification line): each line's
    # OBIS code is hashed (as kernels.label_hash) and looked up in keys (sorted) by
    # bisection. A known object gets the span of its fields, '(' excluded, to the end of
    # its line in spans[2 slot]; a numeric slot (< nnum) also gets the number of its
    # last field, continuation lines included (DSMR 2.2 gas), in thousandths (-1: not a
    # number). Slots no line filled read -2 and (0, 0). Returns the objects found.
    j = 0
    while j < nnum:
        nums[j] = -2
        j += 1
    j = 0
    while j < 2 * nslot:
        spans[j] = 0
        j += 1
    found = 0
    unknown = 0
    i = 0
    while i < end and buf[i] != 10:
        i += 1
    i += 1
    while i < end:
        s = i
        h = 5381
        while i < end and buf[i] != 40 and buf[i] != 10:  # up to '(' or LF
            h = ((h * 33) ^ buf[i]) & 0x3FFFFFFF
            i += 1
        p = i
        while i < end and buf[i] != 10:
            i += 1
        le = i
        while le > p and (buf[le - 1] == 13 or buf[le - 1] == 32):
            le -= 1
        i += 1
        if p >= end or buf[p] != 40 or p == s:
            if le > s and buf[s] != 13 and buf[s] != 33 and buf[s] != 40:
                unknown += 1  # neither blank, nor "!", nor a continuation: not an object
            continue
        lo = 0
        hi = nkeys
        while lo < hi:
            mid = (lo + hi) >> 1
            if keys[mid] < h:
                lo = mid + 1
            else:
                hi = mid
        if lo >= nkeys or keys[lo] != h:
            continue
        found += 1
        slot = int(slots[lo])
        spans[2 * slot] = p + 1
        spans[2 * slot + 1] = le
        if slot >= nnum:
            continue
        # the last field: on this line, or on the continuation lines that follow
        last = le
        while i < end and buf[i] == 40:
            k = i
            while i < end and buf[i] != 10:
                i += 1
            last = i
            while last > k and (buf[last - 1] == 13 or buf[last - 1] == 32):
                last -= 1
            i += 1
        f = last - 1
        while f > p and buf[f] != 40:
            f -= 1
        v = 0
        frac = -1
        digits = 0
        seen = 0
        q = f + 1
        while q < last:
            c = buf[q]
            if c == 42 or c == 41:
                break
            if c == 46:
                if frac >= 0:
                    v = -1
                    break
                frac = 0
            elif c >= 48 and c <= 57:
                seen = 1
                if frac >= 0:
                    if frac < 3:
                        v = v * 10 + (c - 48)
                    frac += 1
                else:
                    if v > 0:
                        digits += 1
                    if digits > 5:
                        v = -1
                        break
                    v = v * 10 + (c - 48)
            else:
                v = -1
                break
            q += 1
        if v >= 0 and (q >= last or not seen):
            v = -1
        if v >= 0:
            if frac < 0:
                frac = 0
            while frac < 3:
                v = v * 10
                frac += 1
        nums[slot] = v
    return found | (unknown << 16)
