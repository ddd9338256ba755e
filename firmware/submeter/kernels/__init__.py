# The hot loops, each a viper kernel with a pure-Python twin that the same test vectors
# check: sums (a CT slice's sums), ticscan (TIC framing, checksums, lookup), p1scan (P1
# CRC-16, framing, lookup), gridscan (what both grid decoders use: a text value compared
# with the last one). NAME_viper.py and NAME_py.py each; see NAME_viper.py for what the
# functions do. A viper kernel sits alone in its module because a port without a native
# emitter rejects the whole module at compile time.

# Which module each kernel runs, as /api/state shows it (sampling.kernels): None until a
# part first asks for it (ticscan with a TIC meter, p1scan with a P1 one). fbsync is the
# display drivers' (they import nothing from here): the App copies its choice in.
taken = {"sums": None, "ticscan": None, "p1scan": None, "gridscan": None, "fbsync": None}


def pick(name):
    """The module of kernel `name`: NAME_viper, or its twin NAME_py on a runtime with no
    viper: a port built without the native emitter rejects the module's source
    (SyntaxError, "invalid micropython decorator") and its .mpy (ValueError, "native code
    in .mpy unsupported"), a .mpy for another architecture is refused (ValueError,
    "incompatible .mpy arch"), and CPython has no micropython.viper (ImportError, from the
    tests' stand-in). Any other error (a MemoryError while compiling, a slip in the
    kernel) is raised, not hidden behind a slower twin. taken[name] says which."""
    try:
        m = __import__(__name__ + "." + name + "_viper", None, None, ("*",))
        taken[name] = "viper"
    except (ImportError, SyntaxError, ValueError):
        m = __import__(__name__ + "." + name + "_py", None, None, ("*",))
        taken[name] = "python"
    return m


def label_hash(label):
    """The 30-bit hash the scanners' lookups compare (ticscan's check_groups and extract,
    p1scan's extract), of a label or OBIS code (bytes)."""
    h = 5381
    for c in label:
        h = ((h * 33) ^ c) & 0x3FFFFFFF
    return h


def crc16_table():
    """The 256 values p1scan's crc16 takes (CRC-16/ARC: poly 0x8005 reflected)."""
    from array import array
    t = array("H", bytes(512))
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0xA001 if c & 1 else c >> 1
        t[n] = c
    return t
