# Viper kernel: sum and sum of squares of one slice of ADC samples about a nominal centre,
# and the slice's lowest and highest sample (to see clipping).
# Its pure-Python twin (sums_py.py) gives the same sums on the same test vectors;
# kernels.pick("sums") takes one (see kernels/__init__.py).
import micropython


@micropython.viper
def window_sums(buf: ptr16, n: int, shift: int, centre: int, out: ptr32):
    # d = (sample >> shift) - centre; with 12-bit samples |d| <= 4095, so d*d < 2**24
    # and n <= 127 keeps the sum of squares inside a signed 32-bit int.
    s = 0
    q = 0
    lo = 0xFFFF
    hi = 0
    i = 0
    while i < n:
        v = buf[i] >> shift
        if v < lo:
            lo = v
        if v > hi:
            hi = v
        d = v - centre
        s += d
        q += d * d
        i += 1
    out[0] = s
    out[1] = q
    out[2] = lo
    out[3] = hi
