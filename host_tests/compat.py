# What the shared logic tests need from their runner, on CPython (pytest) and on
# MicroPython (tools/test/mptest.py) alike.
import sys

IS_MP = sys.implementation.name == "micropython"

try:
    import pytest

    def skip(why):
        pytest.skip(why)
except ImportError:
    class SkipTest(Exception):
        pass

    def skip(why):
        raise SkipTest(why)


def raises(exc, fn, *args):
    """Call fn(*args); return the exception it raised, which must be an `exc`."""
    try:
        fn(*args)
    except exc as e:
        return e
    raise AssertionError("%s not raised" % exc.__name__)


def rng(seed):
    """A seeded random source with randint/getrandbits/random on both runtimes."""
    import random
    if hasattr(random, "Random"):
        return random.Random(seed)
    random.seed(seed)
    return random


def fresh_dir(name):
    """An empty folder under build/ for a test's files, on both runtimes."""
    import os
    path = "build/test-" + name
    try:
        os.mkdir(path)
    except OSError:
        for f in os.listdir(path):
            os.remove(path + "/" + f)
    return path


def press(app, clock, name, ms=80):
    """A front-panel button held `ms` ms and let go, the panel polled every 20 ms of the
    simulated clock (and three polls after)."""
    pin = app.board.buttons[name]
    pin.value(0)
    for _ in range(ms // 20):
        clock.advance(20)
        app.panel.step(clock.ticks_ms())
    pin.value(1)
    for _ in range(3):
        clock.advance(20)
        app.panel.step(clock.ticks_ms())
