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
        if b == 47 and state != 2:
            if state == 1 and pos > 0:
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
