# CPython stand-in for the parts of MicroPython's `micropython` module that plain
# logic uses. No viper/native here: kernels fall back to their pure-Python twins.


def const(x):
    return x
