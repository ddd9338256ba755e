# Pure-Python twin of sums_viper.slice_sums: same arguments, same results, checked by the
# same test vectors (see sums_viper.py for what it does).


def slice_sums(buf, nsets, nch, vch, centre, acc):
    for c in range(nch):
        ce = centre[c]
        cv = centre[vch] if vch >= 0 else 0
        b = 10 * c
        lo = acc[b + 8]
        hi = acc[b + 9]
        s = q = x0 = x1 = prev = dv0 = 0
        i = c
        for n in range(nsets):
            v = buf[i] >> 4
            if v < lo:
                lo = v
            if v > hi:
                hi = v
            d = v - ce
            s += d
            q += d * d
            if vch >= 0:
                dv = (buf[i - c + vch] >> 4) - cv
                x0 += dv * d
                if n > 0:
                    x1 += dv * prev
                else:
                    dv0 = dv
            prev = d
            i += nch
        if vch >= 0 and nsets > 0:
            x1 += dv0 * prev
        acc[b + 8] = lo
        acc[b + 9] = hi
        for k, x in ((0, s), (2, q), (4, x0), (6, x1)):
            w = acc[b + k] + (x & 0xFFFFFF)
            acc[b + k] = w & 0xFFFFFF
            acc[b + k + 1] += (x >> 24) + (w >> 24)
    if vch < 0 or nsets < 2:
        return -1
    cv = centre[vch]
    i = vch
    p = (buf[i] >> 4) - cv
    for n in range(1, nsets):
        i += nch
        d = (buf[i] >> 4) - cv
        if p < 0 and d >= 0:
            return (n - 1) * 256 + (-p * 256) // (d - p)
        p = d
    return -1
