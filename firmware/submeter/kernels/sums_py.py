# Pure-Python twin of sums_viper.window_sums, checked against it by the same test vectors.


def window_sums(buf, n, shift, centre, out):
    s = 0
    q = 0
    lo = 0xFFFF
    hi = 0
    for i in range(n):
        v = buf[i] >> shift
        if v < lo:
            lo = v
        if v > hi:
            hi = v
        d = v - centre
        s += d
        q += d * d
    out[0] = s
    out[1] = q
    out[2] = lo
    out[3] = hi
