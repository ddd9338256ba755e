# Entry point, on the device and on the host.
# The board module is /board.py on a device (deployed from boards/<name>.py); on the
# host, with no board.py on the path, the simulated board (boards/sim/) is used.
# Everything that may fail is inside main()'s guard, the firmware's import included: an
# image that cannot even load it (a broken upgrade) resets the board rather than stopping
# at the REPL, so that the bootloader rolls it back (boards/base.py healthy).
import sys

RESTART = 75  # the exit code of a restart where the board cannot reset (the host): tools/sim/hostrun.py starts it again


def pick_board():
    try:
        import board
    except ImportError:
        import sim as board
    return board


def no_board_reset():
    """No board could be made (an image that cannot load even its board modules): the
    chip reset all the same, the one place outside boards/ that touches `machine`, as no
    board is there to do it; on the host there is no reset and the error ends the run."""
    try:
        from machine import reset
    except ImportError:
        return
    reset()


def main():
    try:
        b = pick_board().Board()
    except Exception as e:
        sys.print_exception(e)
        no_board_reset()  # on a device, does not return
        sys.exit(1)
    try:
        from submeter import app, config
        cfg, err = config.load(b.data_dir + "/config.json", b.CONFIG)
        b.configure(cfg)
        if app.run(b, cfg, err):  # a restart asked (POST /api/restart, an upgrade), the counters saved
            b.reset()  # on a device, does not return
            sys.exit(RESTART)
    except Exception as e:  # a crash (Ctrl-C is no Exception): a device resets, so that
        # the bootloader rolls back a new image that never reported healthy (board.healthy)
        sys.print_exception(e)
        b.reset()  # on a device, does not return (the host has no reset: base.BaseBoard)
        sys.exit(1)


main()
