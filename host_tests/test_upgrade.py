# POST /api/upgrade on the simulated board given two OTA slots in RAM (the ESP32's are
# esp32.Partition: boards/base.py Slot; the virtual device's in test_host_ota.py): a new
# image goes into the slot not running, sector by sector, and is booted only when the
# SHA-256 sent matches what was received and what the flash holds; the password first;
# a refused, oversized or cut upload switches nothing and the meter goes on. At the next
# boot the record tells kept from rolled back.
import hashlib
import json

from compat import fresh_dir
from httpclient import exchange, basic, parse
from submeter import config
from submeter.app import App
from submeter.clock import ManualClock
from submeter.net.server import Server
import sim

SIZE = 8 * 1024  # a small slot: the same code as 1.75 MB


class RamSlot:
    """An OTA slot in RAM with the calls boards/base.py Slot makes on esp32.Partition's;
    flash semantics: a write only clears bits (an unerased sector keeps old bits)."""

    def __init__(self, label, size=SIZE):
        self.label, self.size = label, size
        self.flash = bytearray(b"\xab" * size)  # old contents: not erased
        self.erased = 0
        self.booted = False

    def erase(self, sector):
        self.flash[sector * 4096:(sector + 1) * 4096] = b"\xff" * 4096
        self.erased += 1

    def write(self, sector, buf, offset):
        at = sector * 4096 + offset
        for i, b in enumerate(bytes(buf)):
            self.flash[at + i] &= b

    def read(self, sector, buf, offset):
        at = sector * 4096 + offset
        buf[:] = self.flash[at:at + len(buf)]

    def boot(self):
        if self.flash[:4] != b"\xe9IMG":  # ESP-IDF checks the image (here: a made-up magic)
            raise OSError(5379)
        self.booted = True


class TwoSlots(sim.Board):
    running = "ota_0"

    def running_slot(self):
        return self.running

    def update_slot(self):
        return self.slot


def meter(running="ota_0", data_dir=None):
    """(server, app): the simulated meter with two OTA slots in RAM, running from `running`;
    its data in `data_dir` (a fresh folder by default)."""
    clock = ManualClock()
    board = TwoSlots(scenario=sim.Steady(), clock=clock, term="0", display=False,
                     data_dir=data_dir or fresh_dir("upgrade"))
    board.running = running
    board.slot = RamSlot("ota_1" if running == "ota_0" else "ota_0")
    cfg = config.validate(board.CONFIG)
    board.configure(cfg)
    app = App(board, cfg)
    app.measure_round()
    return Server(app.state, cfg, app), app


def password(app):
    with open(app.board.data_dir + "/auth.json") as f:
        return json.loads(f.read())["initial"]


def image(n=6000, seed=1):
    out = bytearray(b"\xe9IMG")
    x = seed
    while len(out) < n:
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        out.append(x >> 16 & 0xFF)
    return bytes(out)


def upload(srv, data, sha=None, pw=None, length=None, ctype=b"application/octet-stream", version="0.2.0"):
    if sha is None:
        sha = hexsha(data)
    head = [b"POST /api/upgrade?sha256=%s&version=%s HTTP/1.1" % (sha.encode(), version.encode()), b"Host: meter",
            b"Content-Type: " + ctype, b"Content-Length: %d" % (len(data) if length is None else length)]
    if pw is not None:
        head.append(basic(pw))
    return parse(exchange(srv, b"\r\n".join(head) + b"\r\n\r\n" + data, piece=700))


def hexsha(data):  # (MicroPython's hashlib has no hexdigest)
    return "".join("%02x" % b for b in hashlib.sha256(data).digest())


def record(app):
    try:
        with open(app.board.data_dir + "/upgrade.json") as f:
            return json.loads(f.read())
    except OSError:
        return None


def test_a_good_image_goes_into_the_other_slot_and_boots_on_trial():
    srv, app = meter()
    data = image()
    status, _, body = upload(srv, data, pw=password(app))
    assert status == 200, (status, body)
    got = json.loads(body)
    assert got["slot"] == "ota_1" and got["written"] == len(data) and got["restarting"]
    slot = app.board.slot
    assert bytes(slot.flash[:len(data)]) == data and slot.booted
    assert slot.erased == (len(data) + 4095) // 4096  # each sector written erased once, no more
    assert app.restarting  # the counters saved, then the restart
    rec = record(app)
    assert rec == {"from": "ota_0", "to": "ota_1", "version": "0.2.0", "sha256": hexsha(data),
                   "size": len(data), "result": "pending"}
    # the new image boots (ota_1): on trial until healthy, then kept and said so
    srv2, app2 = meter_again(app, "ota_1")
    assert app2.upgrade["result"] == "trial" and app2.state()["boot"]["upgrade"]["result"] == "trial"
    app2._upgrade_kept()
    assert record(app2)["result"] == "kept" and ("upgraded", "0.2.0") in app2.notices


def meter_again(app, running):
    """The same meter booted again (its data folder), from slot `running`."""
    return meter(running, app.board.data_dir)


def test_a_new_image_that_never_reports_healthy_is_shown_rolled_back():
    srv, app = meter()
    assert upload(srv, image(), pw=password(app))[0] == 200
    _, app2 = meter_again(app, "ota_1")  # booted once on trial, crashed before healthy
    assert app2.upgrade["result"] == "trial"
    srv3, app3 = meter_again(app, "ota_0")  # the bootloader went back to the old slot
    assert app3.upgrade["result"] == "rolled_back" and ("rolled_back", "0.2.0") in app3.notices
    page = exchange(srv3, b"GET / HTTP/1.1\r\nHost: m\r\n\r\n")  # the owner reads it on the page
    assert b"The upgrade to version 0.2.0 did not come up healthy" in page
    assert record(app3)["result"] == "rolled_back"
    _, app4 = meter_again(app, "ota_0")  # said once: the next start has no notice
    assert app4.upgrade["result"] == "rolled_back" and not [n for n in app4.notices if n[0] == "rolled_back"]


def test_a_corrupted_upload_is_refused_and_nothing_switches():
    srv, app = meter()
    data = image()
    bad = data[:1000] + bytes([data[1000] ^ 1]) + data[1001:]  # one bit flipped on the way
    status, _, body = upload(srv, bad, sha=hexsha(data), pw=password(app))
    assert status == 400 and b"another SHA-256" in body and b"nothing switched" in body, body
    assert not app.board.slot.booted and not app.restarting and record(app) is None
    assert app.upgrading is None  # the next upload may come
    assert upload(srv, data, pw=password(app))[0] == 200 and app.board.slot.booted


def test_an_upload_cut_midway_switches_nothing():
    srv, app = meter()
    data = image()
    status, _, body = upload(srv, data[:3000], pw=password(app), length=len(data))
    assert status == 400 and b"ended after 3000 of 6000 bytes" in body, body
    assert not app.board.slot.booted and not app.restarting and record(app) is None and app.upgrading is None


def test_the_password_comes_first_and_the_size_is_bounded():
    srv, app = meter()
    data = image()
    assert upload(srv, data)[0] == 401
    assert upload(srv, data, pw="wrong")[0] == 401
    slot = app.board.slot
    assert slot.erased == 0 and not slot.booted  # nothing taken without the password
    status, _, body = upload(srv, image(SIZE + 1), pw=password(app))
    assert status == 413 and b"the slot ota_1 holds 8192" in body, body
    assert upload(srv, data, pw=password(app), ctype=b"application/json")[0] == 415
    status, _, body = upload(srv, data, sha="12ab", pw=password(app))
    assert status == 400 and b"sha256" in body
    status, _, body = upload(srv, b"\0" * 5000, pw=password(app))  # whole and matching, not an app image
    assert status == 400 and b"refused the image" in body and not slot.booted and not app.restarting
    assert slot.erased == 2 and record(app) is None


def test_a_meter_without_slots_says_to_upgrade_over_usb():
    clock = ManualClock()
    board = sim.Board(scenario=sim.Steady(), clock=clock, term="0", display=False, data_dir=fresh_dir("noslot"))
    cfg = config.validate(board.CONFIG)
    board.configure(cfg)
    app = App(board, cfg)
    srv = Server(app.state, cfg, app)
    status, _, body = upload(srv, image(), pw=password(app))
    assert status == 409 and b"over USB (make deploy)" in body, body
    assert app.state()["boot"]["slot"] is None and app.state()["boot"]["upgrade"] is None
