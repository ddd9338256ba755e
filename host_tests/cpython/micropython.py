# CPython stand-in for the parts of MicroPython's `micropython` module that plain
# logic uses. No viper/native here: a kernel module asking for its decorator gets the
# ImportError a missing module would give, and kernels.pick takes the pure-Python twin.


def const(x):
    return x


def __getattr__(name):
    if name in ("viper", "native", "asm_thumb", "asm_xtensa"):
        raise ImportError("no native emitter on CPython (micropython.%s)" % name)
    raise AttributeError("module 'micropython' has no attribute %r" % name)
