# Entry point, on the device and on the host.
# The board module is /board.py on a device (deployed from boards/<name>.py); on the
# host, with no board.py on the path, the simulated board (boards/sim/) is used.
from submeter import app, config


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
        app.run(b, cfg, err)
    except Exception as e:  # a crash (Ctrl-C is no Exception): a device resets, so that
        # the bootloader rolls back a new image that never reported healthy (board.healthy)
        import sys
        sys.print_exception(e)
        b.reset()  # on a device, does not return (the host has no reset: base.BaseBoard)
        sys.exit(1)


main()
