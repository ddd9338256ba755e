# Entry point, on the device and on the host.
# The board module is /board.py on a device (deployed from boards/<name>.py); on the
# host, with no board.py on the path, the simulated board (boards/sim/) is used.
from submeter import app, config

RESTART = 75  # the exit code of a restart where the board cannot reset (the host): tools/sim/hostrun.py starts it again


def pick_board():
    try:
        import board
    except ImportError:
        import sim as board
    return board


def main():
    mod = pick_board()
    b = mod.Board()
    try:
        cfg, err = config.load(b.data_dir + "/config.json", b.CONFIG)
        b.configure(cfg)
        if app.run(b, cfg, err):  # a restart asked (POST /api/restart), the counters saved
            b.reset()  # on a device, does not return
            import sys
            sys.exit(RESTART)
    except Exception as e:  # a crash (Ctrl-C is no Exception): a device resets, so that
        # the bootloader rolls back a new image that never reported healthy (board.healthy)
        import sys
        sys.print_exception(e)
        b.reset()  # on a device, does not return (the host has no reset: base.BaseBoard)
        sys.exit(1)


main()
