# The P1 kernels this port runs best: viper where there is a native emitter, else the
# pure-Python twins. See p1scan_viper.py for what each does.
from array import array

try:
    from .p1scan_viper import crc16, telegram_scan, milli_at, extract
    KERNEL = "viper"
except Exception:  # no native emitter, or CPython
    from .p1scan_py import crc16, telegram_scan, milli_at, extract
    KERNEL = "python"


def _table():
    t = array("H", bytes(512))
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0xA001 if c & 1 else c >> 1
        t[n] = c
    return t


CRC_TABLE = _table()
