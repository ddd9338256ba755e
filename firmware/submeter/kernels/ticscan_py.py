# Pure-Python twins of ticscan_viper.py: same arguments, same results, checked by the
# same test vectors; used where there is no native emitter (and on CPython).


def frame_scan(src, i, n, fbuf, gidx, st):
    state = st[0]
    fpos = st[1]
    gstart = st[2]
    ng = st[3]
    fcap = st[4]
    gcap = st[5]
    ev = 0
    while i < n:
        b = src[i] & 0x7F
        i += 1
        if b == 13:
            if state == 2:
                if ng < gcap:
                    gidx[2 * ng] = gstart
                    gidx[2 * ng + 1] = fpos
                    ng += 1
                else:
                    st[7] += 1
                    fpos = gstart
                state = 1
        elif b == 10:
            if state == 2:
                st[7] += 1
                fpos = gstart
            gstart = fpos
            state = 2
        elif b == 2 or b == 3 or b == 4:
            if state == 2:
                st[7] += 1
                fpos = gstart
            state = 1 if b == 2 else 0
            ev = b
            break
        elif state == 2:
            if fpos < fcap:
                fbuf[fpos] = b
                fpos += 1
            else:
                st[7] += 1
                fpos = gstart
                state = 1
    st[0] = state
    st[1] = fpos
    st[2] = gstart
    st[3] = ng
    st[8] = ev
    return i


def check_groups(fbuf, gidx, g0, g1, info, hashes):
    ok = 0
    bad = 0
    ht = 0
    for g in range(g0, g1):
        s = gidx[2 * g]
        e = gidx[2 * g + 1]
        status = 2
        le = 0
        hd = 0
        sep = 0
        if e - s >= 3:
            sep = fbuf[e - 2]
            if sep == 9 or sep == 32:
                total = 0
                j = s
                while j < e - 2:
                    c = fbuf[j]
                    if (c < 32 and c != 9) or c == 127:
                        break
                    if c == sep:
                        if j == s:
                            break
                        if le == 0:
                            le = j
                        elif hd == 0 and sep == 9:
                            hd = j
                    total += c
                    j += 1
                if le == 0:
                    le = e - 2  # "label SEP checksum": an empty value, the checksum decides
                if j == e - 2 and le > s:
                    ck = fbuf[e - 1]
                    status = 0
                    if sep == 9:
                        if ((total + 9) & 0x3F) + 0x20 == ck:
                            status = 1
                    elif (total & 0x3F) + 0x20 == ck or ((total + 32) & 0x3F) + 0x20 == ck:
                        status = 1
        h = 5381
        j = s
        while j < le:
            h = ((h * 33) ^ fbuf[j]) & 0x3FFFFFFF
            j += 1
        hashes[g] = h
        info[4 * g] = le
        info[4 * g + 1] = hd
        info[4 * g + 2] = status
        info[4 * g + 3] = sep
        if status == 1:
            ok += 1
            if sep == 9:
                ht += 1
        elif status == 2:
            bad += 1
    return ok | (bad << 10) | (ht << 20)


def parse_uint(buf, s, e):
    if e <= s or e - s > 9:
        return -1
    v = 0
    while s < e:
        c = buf[s] - 48
        if c < 0 or c > 9:
            return -1
        v = v * 10 + c
        s += 1
    return v


def extract(fbuf, gidx, info, hashes, ng, keys, nkeys, slots, nums, nnum, spans, nslot):
    for j in range(nnum):
        nums[j] = -2
    for j in range(2 * nslot):
        spans[j] = 0
    found = 0
    for g in range(ng):
        if info[4 * g + 2] != 1:
            continue
        h = hashes[g]
        lo = 0
        hi = nkeys
        while lo < hi:
            mid = (lo + hi) >> 1
            if keys[mid] < h:
                lo = mid + 1
            else:
                hi = mid
        if lo < nkeys and keys[lo] == h:
            found += 1
            slot = slots[lo]
            le = info[4 * g]
            hd = info[4 * g + 1]
            vs = (hd if hd else le) + 1
            ve = gidx[2 * g + 1] - 2
            if slot < nnum:
                nums[slot] = parse_uint(fbuf, vs, ve)
            elif slot == nslot - 1:
                if hd:
                    spans[2 * slot] = le + 1
                    spans[2 * slot + 1] = hd
            else:
                spans[2 * slot] = vs
                spans[2 * slot + 1] = ve
    return found
