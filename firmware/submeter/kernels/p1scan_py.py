# Pure-Python twins of p1scan_viper.py: same arguments, same results.


def crc16(buf, start, end, crc, table):
    c = crc & 0xFFFF
    for i in range(start, end):
        c = (c >> 8) ^ table[(c ^ buf[i]) & 0xFF]
    return c


def telegram_scan(src, i, n, buf, st):
    state = st[0]
    pos = st[1]
    cap = st[2]
    ev = 0
    while i < n:
        b = src[i]
        i += 1
        if b == 47:
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
        if b == 33 and state == 1:
            st[3] = pos
            state = 2
        pos += 1
        if state == 2 and b == 10:
            state = 0
            ev = 1
            break
        if ev == 3:
            break
    st[0] = state
    st[1] = pos
    st[4] = ev
    return i


def milli_at(buf, p, end):
    v = 0
    frac = -1
    digits = 0
    seen = 0
    while p < end:
        c = buf[p]
        if c == 42 or c == 41:
            break
        if c == 46:
            if frac >= 0:
                return -1
            frac = 0
        elif 48 <= c <= 57:
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


def extract(buf, end, keys, nkeys, slots, nums, nnum, spans, nslot):
    for j in range(nnum):
        nums[j] = -2
    for j in range(2 * nslot):
        spans[j] = 0
    found = 0
    unknown = 0
    i = 0
    while i < end and buf[i] != 10:
        i += 1
    i += 1
    while i < end:
        s = i
        h = 5381
        while i < end and buf[i] != 40 and buf[i] != 10:
            h = ((h * 33) ^ buf[i]) & 0x3FFFFFFF
            i += 1
        p = i
        while i < end and buf[i] != 10:
            i += 1
        le = i
        while le > p and buf[le - 1] in (13, 32):
            le -= 1
        i += 1
        if p >= end or buf[p] != 40 or p == s:
            if le > s and buf[s] != 13 and buf[s] != 33 and buf[s] != 40:
                unknown += 1
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
        slot = slots[lo]
        spans[2 * slot] = p + 1
        spans[2 * slot + 1] = le
        if slot >= nnum:
            continue
        last = le
        while i < end and buf[i] == 40:
            k = i
            while i < end and buf[i] != 10:
                i += 1
            last = i
            while last > k and buf[last - 1] in (13, 32):
                last -= 1
            i += 1
        f = last - 1
        while f > p and buf[f] != 40:
            f -= 1
        v = milli_at(buf, f + 1, last)
        nums[slot] = v
    return found | (unknown << 16)
