# The CT sampler's kernel (slice_sums: a slice of interleaved samples -> each channel's
# sums, its sums of products with the voltage reference, its range, the voltage's first
# rising crossing): the viper kernel and its pure-Python twin give the same results as a
# plain reference on the same vectors, a window of many slices stays exact in 32-bit
# words, and the kernel allocates nothing.
import math
import random
from array import array

from compat import IS_MP, fresh_dir, raises, skip
from submeter.kernels import sums_py


def reference(buf, nsets, nch, vch, centre):
    """Per channel: [sum, sum of squares, sum v[n] i[n], sum v[n] i[n-1] (the slice's first
    v with its last i), lowest, highest], and the crossing (1/256 set) or -1."""
    out = []
    for c in range(nch):
        d = [(buf[n * nch + c] >> 4) - centre[c] for n in range(nsets)]
        raw = [buf[n * nch + c] >> 4 for n in range(nsets)]
        if vch >= 0:
            v = [(buf[n * nch + vch] >> 4) - centre[vch] for n in range(nsets)]
            x0 = sum(v[n] * d[n] for n in range(nsets))
            x1 = sum(v[n] * d[n - 1] for n in range(nsets))  # (n = 0 takes d[-1]: the last)
        else:
            x0 = x1 = 0
        out.append([sum(d), sum(x * x for x in d), x0, x1, min(raw + [4095]), max(raw + [0])])
    cross = -1
    if vch >= 0:
        v = [(buf[n * nch + vch] >> 4) - centre[vch] for n in range(nsets)]
        for n in range(1, nsets):
            if v[n - 1] < 0 <= v[n]:
                cross = (n - 1) * 256 + (-v[n - 1] * 256) // (v[n] - v[n - 1])
                break
    return out, cross


def unpack(acc, nch):
    return [[acc[10 * c + 2 * j + 1] * 16777216 + acc[10 * c + 2 * j] for j in range(4)]
            + [acc[10 * c + 8], acc[10 * c + 9]] for c in range(nch)]


def fresh_acc(nch):
    acc = array("i", bytes(40 * nch))
    for c in range(nch):
        acc[10 * c + 8] = 4095
    return acc


def vectors():
    """(samples, nsets, nch, vch, centres): rails, silence, ramps, noise, a mains-like
    voltage with currents in and out of phase, one set, none."""
    rnd = random.Random(7) if hasattr(random, "Random") else random
    if not hasattr(random, "Random"):
        random.seed(7)
    yield [0] * 127 * 6, 127, 6, 0, [0] * 6                      # rail low, the largest slice
    yield [0xFFF0] * 127 * 6, 127, 6, 0, [2048] * 6              # rail high
    yield [0x8000] * 40 * 6, 40, 6, 0, [2048] * 6                # silence at the centre
    yield [(k * 517) & 0xFFF0 for k in range(40 * 7)], 40, 7, 0, [1500, 2048, 0, 4095, 10, 2000, 1300]
    yield [rnd.getrandbits(16) for _ in range(33 * 6)], 33, 6, 0, [rnd.getrandbits(12) for _ in range(6)]
    yield [rnd.getrandbits(16) for _ in range(40 * 5)], 40, 5, -1, [2048] * 5   # no reference
    wave = []
    for n in range(40):
        x = 2 * math.pi * n / 40
        wave += [int(1700 + 620 * math.sin(x + 0.3)) << 4] + [int(1658 + a * math.sin(x + p)) << 4
                                                             for a, p in ((900, 0.1), (300, 2.0), (5, 0), (1200, -1.0), (40, 3.0))]
    yield wave, 40, 6, 0, [1700, 1658, 1658, 1658, 1658, 1658]
    yield [1234 << 4, 2000 << 4], 1, 2, 0, [1200, 1990]          # one set
    yield [], 0, 6, 0, [2048] * 6                                 # nothing


def kernels():
    ks = [("python", sums_py.slice_sums)]
    if IS_MP:
        from submeter.kernels import sums_viper
        ks.append(("viper", sums_viper.slice_sums))
    return ks


def test_kernels_match_reference():
    for name, k in kernels():
        for vec, nsets, nch, vch, cen in vectors():
            buf = array("H", vec)
            acc = fresh_acc(nch)
            got = k(buf, nsets, nch, vch, array("i", cen), acc)
            want, cross = reference(vec, nsets, nch, vch, cen)
            assert got == cross, (name, nsets, nch, got, cross)
            assert unpack(acc, nch) == want, (name, nsets, nch, vch)


def test_a_long_window_stays_exact():
    # 3,000 slices (a minute at 50 Hz) of the largest sums: the two-word sums are exact
    # where one 32-bit word would have wrapped 30 times over
    buf = array("H", [4095 << 4, 0] * 127)
    for name, k in kernels():
        acc = fresh_acc(2)
        for _ in range(3000):
            k(buf, 127, 2, 0, array("i", (0, 4095)), acc)
        q = unpack(acc, 2)
        assert q[0][1] == 3000 * 127 * 4095 * 4095 and q[1][1] == 3000 * 127 * 4095 * 4095, name
        assert q[1][2] == -3000 * 127 * 4095 * 4095 and q[1][0] == -3000 * 127 * 4095, name


def test_viper_is_picked_on_micropython_and_reported():
    # every kernel the decoders and the CT sampler use, as /api/state reports them
    from submeter.sense import ct
    from submeter import kernels as k
    from submeter.grid import p1, tic  # noqa: F401
    want = "viper" if IS_MP else "python"
    assert k.taken["sums"] == k.taken["ticscan"] == k.taken["p1scan"] == k.taken["gridscan"] == want
    assert ct.slice_sums is k.pick("sums").slice_sums


def test_only_a_missing_viper_falls_back_to_the_twin():
    # a runtime without viper gets the twin; any other failure of a kernel's module is
    # raised, not hidden behind a slower twin (kernels found through the package's path:
    # CPython's, a list to add a folder to)
    from submeter import kernels as k
    if not isinstance(getattr(k, "__path__", None), list):
        skip("the package's __path__ is a string here")
    import os
    d = os.path.abspath(fresh_dir("kernels"))
    for name, text in (("noemit_viper", "import micropython\n\n\n@micropython.viper\ndef f():\n    pass\n"),
                       ("noemit_py", "TWIN = 1\n"), ("broken_viper", "raise MemoryError('compiling')\n"),
                       ("broken_py", "TWIN = 1\n")):
        with open(d + "/" + name + ".py", "w") as f:
            f.write(text)
    k.__path__.append(d)
    try:
        assert k.pick("noemit").TWIN == 1 and k.taken["noemit"] == "python"
        raises(MemoryError, k.pick, "broken")
        assert "broken" not in k.taken
    finally:
        k.__path__.remove(d)
        k.taken.pop("noemit", None)


def test_kernel_allocates_nothing():
    if not IS_MP:
        skip("heap_lock is MicroPython's")
    import micropython
    from submeter.sense.ct import slice_sums
    buf = array("H", range(0, 65536, 256))
    acc = fresh_acc(4)
    centre = array("i", (2048, 2048, 2048, 2048))
    micropython.heap_lock()
    try:
        got = slice_sums(buf, 64, 4, 0, centre, acc)
    finally:
        micropython.heap_unlock()
    want, cross = reference(list(buf), 64, 4, 0, list(centre))
    assert unpack(acc, 4) == want and got == cross
