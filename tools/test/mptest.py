# Runs the shared logic tests (host_tests/test_*.py, not test_host_*.py) on the
# MicroPython unix port: every function named test_*, with plain asserts.
# Usage: mptest.py [FOLDER [MODULE]]. Prints one line per failure and ends with "micropython: N passed, N failed, N skipped".
import gc
import os
import sys


def main(folder, only=None):
    sys.path.insert(0, folder)
    try:  # the simulated boards start at noon today, whatever the hour (boards/sim/board.py START)
        import sim.board
        sim.board.START = "12:00"
    except ImportError:
        pass
    names = sorted(n[:-3] for n in os.listdir(folder)
                   if n.startswith("test_") and n.endswith(".py") and not n.startswith("test_host_"))
    if only:
        names = [n for n in names if n == only]
    passed = failed = skipped = 0
    for name in names:
        try:
            mod = __import__(name)
        except Exception as e:
            print("ERROR importing", name)
            sys.print_exception(e)
            failed += 1
            continue
        for attr in sorted(dir(mod)):
            if not attr.startswith("test_"):
                continue
            fn = getattr(mod, attr)
            gc.collect()  # each test starts on a collected heap (some read a 54 KB file whole)
            try:
                fn()
                passed += 1
            except Exception as e:
                if type(e).__name__ == "SkipTest":
                    skipped += 1
                    print("SKIP %s.%s: %s" % (name, attr, e))
                else:
                    failed += 1
                    print("FAIL %s.%s" % (name, attr))
                    sys.print_exception(e)
        sys.modules.pop(name, None)  # a module done with: its tables and data go
        mod = fn = None
    print("micropython: %d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return failed


sys.exit(1 if main(sys.argv[1] if len(sys.argv) > 1 else "host_tests", sys.argv[2] if len(sys.argv) > 2 else None) else 0)
