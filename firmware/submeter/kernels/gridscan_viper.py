# Viper kernel both grid decoders use (TIC: tic.py, P1: p1.py), neither protocol's own;
# its pure-Python twin (gridscan_py.py) gives the same results on the same test vectors,
# and kernels.pick("gridscan") takes one (see kernels/__init__.py).
#
# same(buf, s, e, ref, n) -> 1 if buf[s:e] == ref[:n], else 0: lets a decoder skip the
#   text values that did not change since its last frame (no bytes object made for them).
import micropython


@micropython.viper
def same(buf: ptr8, s: int, e: int, ref: ptr8, n: int) -> int:
    if e - s != n:
        return 0
    i = 0
    while i < n:
        if buf[s + i] != ref[i]:
            return 0
        i += 1
    return 1
