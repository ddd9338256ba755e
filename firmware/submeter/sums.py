from micropython import const

# The fastest window_sums this port has: viper where there is a native emitter,
# else the pure-Python twin. KERNEL names which one was picked (shown on the about data).
try:
    from .sums_viper import window_sums
    KERNEL = "viper"
except Exception:  # no native emitter (SyntaxError/ValueError), or CPython (no micropython.viper)
    from .sums_py import window_sums
    KERNEL = "python"

# Largest slice one call may take: (4095**2) * 127 < 2**31.
MAX_SLICE = const(127)
