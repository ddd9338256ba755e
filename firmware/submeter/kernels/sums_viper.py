# Viper kernel of the CT sampler (sense/ct.py): the sums of one slice of interleaved ADC
# samples. Its pure-Python twin (sums_py.py) gives the same results on the same test
# vectors; kernels.pick("sums") takes one (see kernels/__init__.py).
#
# slice_sums(buf, nsets, nch, vch, centre, acc) -> the first rising zero crossing of the
#   voltage channel in this slice, in 1/256 of a set from the slice's first set (-1: none,
#   or no voltage channel).
#   buf: nsets sets of nch samples (read_u16() values: >> 4 gives the 12-bit count), set
#   after set; vch: the voltage reference's channel in a set, or -1; centre[c]: channel c's
#   nominal centre (counts: its last window's mean), the sums are about it.
#   acc: 10 words per channel, added to (a window is many slices): sum, sum of squares,
#   sum of v[n] x i[n], sum of v[n] x i[n-1] (v the voltage channel: the second pairs a
#   voltage sample with the current sample of the set before; the slice being a whole mains
#   cycle, its first voltage sample pairs with its last current sample), each as
#   two words (low 24 bits, high part) so that a window of any length stays exact in
#   32-bit words; then the lowest and the highest count (acc[10c+8], acc[10c+9]).
# A slice holds at most 127 sets: 4095**2 * 127 < 2**31 (the per-slice sums are machine words).
import micropython


@micropython.viper
def slice_sums(buf: ptr16, nsets: int, nch: int, vch: int, centre: ptr32, acc: ptr32) -> int:
    c = 0
    while c < nch:
        ce = centre[c]
        cv = 0
        if vch >= 0:
            cv = centre[vch]
        b = 10 * c
        lo = acc[b + 8]
        hi = acc[b + 9]
        s = 0
        q = 0
        x0 = 0
        x1 = 0
        prev = 0
        dv0 = 0
        i = c
        n = 0
        while n < nsets:
            v = int(buf[i]) >> 4
            if v < lo:
                lo = v
            if v > hi:
                hi = v
            d = v - ce
            s += d
            q += d * d
            if vch >= 0:
                dv = (int(buf[i - c + vch]) >> 4) - cv
                x0 += dv * d
                if n > 0:
                    x1 += dv * prev
                else:
                    dv0 = dv
            prev = d
            i += nch
            n += 1
        if vch >= 0 and nsets > 0:
            x1 += dv0 * prev  # the slice is a whole cycle: its first voltage pairs with its last current
        acc[b + 8] = lo
        acc[b + 9] = hi
        # each sum into its two words: low 24 bits, and the rest (arithmetic shifts: the
        # sums about the centre are signed)
        w = acc[b] + (s & 0xFFFFFF)
        acc[b] = w & 0xFFFFFF
        acc[b + 1] = acc[b + 1] + (s >> 24) + (w >> 24)
        w = acc[b + 2] + (q & 0xFFFFFF)
        acc[b + 2] = w & 0xFFFFFF
        acc[b + 3] = acc[b + 3] + (q >> 24) + (w >> 24)
        w = acc[b + 4] + (x0 & 0xFFFFFF)
        acc[b + 4] = w & 0xFFFFFF
        acc[b + 5] = acc[b + 5] + (x0 >> 24) + (w >> 24)
        w = acc[b + 6] + (x1 & 0xFFFFFF)
        acc[b + 6] = w & 0xFFFFFF
        acc[b + 7] = acc[b + 7] + (x1 >> 24) + (w >> 24)
        c += 1
    if vch < 0 or nsets < 2:
        return -1
    # the first rising crossing of the voltage about its centre, interpolated
    cv = centre[vch]
    i = vch
    p = (int(buf[i]) >> 4) - cv
    n = 1
    while n < nsets:
        i += nch
        d = (int(buf[i]) >> 4) - cv
        if p < 0 and d >= 0:
            return (n - 1) * 256 + (-p * 256) // (d - p)
        p = d
        n += 1
    return -1
