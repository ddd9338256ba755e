# Entry point, on the device and on the host.
# The board module is /board.py on a device (deployed from boards/<name>.py); on the
# host, with no board.py on the path, the simulated board (boards/sim/) is used.
# Everything that may fail is inside main()'s guard, the firmware's import included: an
# image that cannot even load it (a broken upgrade) resets the board rather than stopping
# at the REPL, so that the bootloader rolls it back (boards/base.py healthy).
import sys

RESTART = 75  # the exit code of a restart where the board cannot reset (the host): tools/sim/hostrun.py starts it again


def pick_folder():
    """On a stock image upgraded over the network (firmware/submeter/net/upgrade.py), the
    folder of the firmware's .mpy files that fw.json names goes first on the path. A
    folder on trial gets one boot: if the firmware has not reported healthy (which makes
    it "valid") by the next one, the folder before it runs again ("rolled_back"; the
    firmware then says so), as the bootloader does for an image in an OTA slot."""
    import json
    try:
        with open("fw.json") as f:
            d = json.load(f)
        run = d["run"]
    except (OSError, ValueError, KeyError, TypeError):
        return  # none: the files at the root (make deploy over USB), or frozen in the image
    if d.get("state") == "trial":
        if d.get("boots", 0) >= 1:
            d["state"], run = "rolled_back", d.get("prev") or ""
            d["run"] = run
        else:
            d["boots"] = d.get("boots", 0) + 1
        try:
            with open("fw.json.new", "w") as f:
                f.write(json.dumps(d) + "\n")
            import os
            os.rename("fw.json.new", "fw.json")
        except OSError:
            pass
    if run:
        sys.path.insert(0, "/" + run)


def pick_board():
    try:
        import board
    except ImportError:
        import sim as board
    return board


def no_board_reset():
    """No board could be made: the base board's reset (boards/base.py, frozen beside the
    board modules: the chip's reset on a device), so that the bootloader rolls back a new
    image whose board module fails. An image without even that (not ours: make deploy
    refuses to send one, see tools/device/netdeploy.py) stops at the REPL; on the host
    there is no reset and the error ends the run."""
    try:
        from base import BaseBoard
    except ImportError:
        return
    BaseBoard().reset()


def main():
    try:
        pick_folder()
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
