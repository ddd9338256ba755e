# Viper kernels of the TIC decoder (Enedis-NOI-CPT_02E historic, -54E standard); their
# pure-Python twins (ticscan_py.py) give the same results on the same test vectors, and
# kernels.pick("ticscan") takes one (see kernels/__init__.py).
#
# frame_scan(src, i, n, fbuf, gidx, st) -> index after the last byte consumed
#   Copies the bytes of each group (between LF and CR, both excluded) from src[i:n]
#   into fbuf and records its (start, end) in gidx; stops after STX, ETX or EOT (st[8]
#   says which) or at n. st (array 'i'): 0 state (0 outside a frame, 1 between groups,
#   2 in a group), 1 bytes used in fbuf, 2 start of the group in progress, 3 groups
#   recorded, 4 fbuf size, 5 group capacity, 6 unused, 7 malformed (unterminated or
#   oversized) groups, 8 the event that stopped the scan (0 none, 2 STX, 3 ETX, 4 EOT).
# check_groups(fbuf, gidx, g0, g1, info, hashes) -> ok | malformed << 10 | ok_ht << 20
#   (ok_ht: good groups separated by HT, i.e. standard mode; counts stay under 1024)
#   Checks groups g0..g1-1; info (array 'H', 4 per group): label end, horodate end
#   (0: none), status (1 ok, 0 checksum error, 2 malformed: a control byte or DEL, which
#   is what a non-text byte becomes once 7-bit, or no label before the first separator),
#   separator (9 HT or 32 SP);
#   hashes (array 'i'): kernels.label_hash() of each group's label, so the decoder finds
#   the labels it wants without making a bytes object per group.
# parse_uint(buf, s, e) -> int: decimal digits buf[s:e] (at most 9), or -1
# extract(fbuf, gidx, info, hashes, ng, keys, nkeys, slots, nums, nnum, spans, nslot)
#   -> groups matched: the values of the labels in keys (sorted hashes, slot of each in
#   slots), numbers parsed into nums[slot] (-2 absent, -1 not digits), text as
#   (start, end) in spans[2 slot]; the last slot is DATE's horodate.
import micropython


@micropython.viper
def frame_scan(src: ptr8, i: int, n: int, fbuf: ptr8, gidx: ptr16, st: ptr32) -> int:
    state = int(st[0])
    fpos = int(st[1])
    gstart = int(st[2])
    ng = int(st[3])
    fcap = int(st[4])
    gcap = int(st[5])
    ev = 0
    while i < n:
        b = src[i] & 0x7F  # parity bit, if the UART passed it on
        i += 1
        if b == 13:  # CR: end of group
            if state == 2:
                if ng < gcap:
                    gidx[2 * ng] = gstart
                    gidx[2 * ng + 1] = fpos
                    ng += 1
                else:
                    st[7] = int(st[7]) + 1  # no room: dropped, counted as malformed
                    fpos = gstart
                state = 1
        elif b == 10:  # LF: start of group
            if state == 2:
                st[7] = int(st[7]) + 1  # the previous group never ended
                fpos = gstart
            gstart = fpos
            state = 2
        elif b == 2 or b == 3 or b == 4:  # STX, ETX, EOT: the caller acts on them
            if state == 2:
                st[7] = int(st[7]) + 1
                fpos = gstart
            state = 1 if b == 2 else 0
            ev = b
            break
        elif state == 2:
            if fpos < fcap:
                fbuf[fpos] = b
                fpos += 1
            else:
                st[7] = int(st[7]) + 1  # a group longer than the buffer: malformed
                fpos = gstart
                state = 1
    st[0] = state
    st[1] = fpos
    st[2] = gstart
    st[3] = ng
    st[8] = ev
    return i


@micropython.viper
def check_groups(fbuf: ptr8, gidx: ptr16, g0: int, g1: int, info: ptr16, hashes: ptr32) -> int:
    # For each group: find the separator (the byte before the checksum: HT standard,
    # SP historic), the label's end (first separator), a second separator (standard
    # horodate), and check the checksum: (sum & 0x3F) + 0x20 over label..data, with the
    # last separator included (standard, historic "mode 2") or not (historic "mode 1").
    # info[4g..4g+3] = label end, horodate end (0: none), status (1 ok, 0 bad checksum,
    # 2 malformed), separator; hashes[g] = a 30-bit hash of the label (kernels.label_hash).
    # Returns ok | malformed << 10 | ok-with-HT-separator << 20 (counts < 1024).
    ok = 0
    bad = 0
    ht = 0
    g = g0
    while g < g1:
        s = int(gidx[2 * g])
        e = int(gidx[2 * g + 1])
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
                        break  # a control character (or DEL) inside a group: line noise
                    if c == sep:
                        if j == s:
                            break  # a group that starts with its separator has no label
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
        g += 1
    return ok | (bad << 10) | (ht << 20)


@micropython.viper
def parse_uint(buf: ptr8, s: int, e: int) -> int:
    # Decimal digits buf[s:e] as an int; -1 if empty, not all digits, or over 9 digits.
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


@micropython.viper
def extract(fbuf: ptr8, gidx: ptr16, info: ptr16, hashes: ptr32, ng: int, keys: ptr32,
            nkeys: int, slots: ptr8, nums: ptr32, nnum: int, spans: ptr16, nslot: int) -> int:
    # For each good group whose label hash is in keys (sorted), found by bisection:
    # numeric slots (< nnum) get their value parsed into nums (-1: not digits), text
    # slots get the (start, end) of their value (of the horodate for DATE) in spans.
    # Slots no group filled read -2 / (0, 0). Returns how many groups matched.
    j = 0
    while j < nnum:
        nums[j] = -2
        j += 1
    j = 0
    while j < 2 * nslot:
        spans[j] = 0
        j += 1
    found = 0
    g = 0
    while g < ng:
        if info[4 * g + 2] == 1:
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
                slot = int(slots[lo])
                le = int(info[4 * g])
                hd = int(info[4 * g + 1])
                vs = le + 1
                if hd:
                    vs = hd + 1
                ve = int(gidx[2 * g + 1]) - 2
                if slot < nnum:
                    v = -1
                    if ve > vs and ve - vs <= 9:
                        v = 0
                        k = vs
                        while k < ve:
                            c = fbuf[k] - 48
                            if c < 0 or c > 9:
                                v = -1
                                break
                            v = v * 10 + c
                            k += 1
                    nums[slot] = v
                elif slot == nslot - 1:  # DATE: the horodate is the value
                    if hd:
                        spans[2 * slot] = le + 1
                        spans[2 * slot + 1] = hd
                else:
                    spans[2 * slot] = vs
                    spans[2 * slot + 1] = ve
        g += 1
    return found
