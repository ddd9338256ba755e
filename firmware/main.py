# Entry point, on the device and on the host.
# The board module is /board.py on a device (deployed from boards/<name>.py); on the
# host, with no board.py on the path, the simulated board (boards/sim.py) is used.
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
    cfg, err = config.load(b.data_dir + "/config.json", b.CONFIG)
    b.configure(cfg)
    app.run(b, cfg, err)


main()
