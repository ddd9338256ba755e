# The web password: made up at the first boot and shown on the screen, kept only as a
# salted hash once the owner sets theirs; after five wrong guesses from one address, that
# address waits (1 s, doubling up to a minute) while the others (the owner's) go on.
import json

from compat import fresh_dir, raises
from submeter.net.auth import Auth
from submeter.clock import ManualClock

ATTACKER = "192.168.1.66"
OWNER = "192.168.1.10"


def test_first_boot_makes_a_password_the_screen_shows():
    d = fresh_dir("auth1")
    clk = ManualClock()
    a = Auth(d, clk.ticks_ms)
    pw = a.initial
    assert isinstance(pw, str) and len(pw) == 8 and a.check(pw) is True and a.check(pw + "x") is False
    assert Auth(d, clk.ticks_ms).initial == pw        # the same after a reboot, until changed
    others = set()
    for _ in range(20):
        others.add(Auth(fresh_dir("auth1b"), clk.ticks_ms).initial)
    assert len(others) == 20 and pw not in others      # each meter its own
    assert not set("".join(others)) & set("0o1li")     # nothing to misread on the screen


def test_the_owners_password_is_kept_only_as_a_hash():
    d = fresh_dir("auth2")
    clk = ManualClock()
    a = Auth(d, clk.ticks_ms)
    first = a.initial
    raises(ValueError, a.set, "short")
    a.set("correct horse battery")
    assert a.initial is None and a.check("correct horse battery") and not a.check(first)
    with open(d + "/auth.json") as f:
        text = f.read()
    assert "correct horse" not in text and first not in text and "initial" not in json.loads(text)
    b = Auth(d, clk.ticks_ms)                          # after a reboot
    assert b.initial is None and b.check("correct horse battery")


def test_an_attacker_guessing_does_not_lock_the_owner_out():
    d = fresh_dir("auth3")
    clk = ManualClock()
    a = Auth(d, clk.ticks_ms)
    pw = a.initial
    for _ in range(30):                                # five, then one at each end of a wait
        assert a.check("guess", ATTACKER) is not True
        clk.advance(a.wait_ms(ATTACKER))
        assert a.check(pw, OWNER) is True              # the owner, elsewhere, always gets in
    assert a.check("guess", ATTACKER) is False
    assert a.check(pw, ATTACKER) is None               # the attacker's address waits, right or wrong
    assert a.check(pw, OWNER) is True and a.check(pw, "192.168.1.11") is True


def test_an_addresss_waits_grow_up_to_a_minute_and_a_success_clears_them():
    d = fresh_dir("auth3b")
    clk = ManualClock()
    a = Auth(d, clk.ticks_ms)
    pw = a.initial
    for _ in range(4):
        assert a.check("guess", ATTACKER) is False and a.wait_ms(ATTACKER) == 0
    waits = []
    for _ in range(10):
        assert a.check("guess", ATTACKER) is False     # counted: its wait was over
        waits.append(a.wait_ms(ATTACKER))
        clk.advance(waits[-1] - 1)
        assert a.check("guess", ATTACKER) is None and a.check(pw, ATTACKER) is None
        clk.advance(1)
    assert waits == [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000, 60000], waits
    assert a.failures == 14                            # the refused checks are not counted
    assert a.check(pw, ATTACKER) is True               # the owner on that address, once its wait is over...
    for _ in range(4):                                 # ...starts again from nothing
        assert a.check("guess", ATTACKER) is False and a.wait_ms(ATTACKER) == 0
    assert a.check("guess", ATTACKER) is False and a.wait_ms(ATTACKER) == 1000


def test_the_table_of_addresses_stays_small_under_thousands_of_addresses():
    import gc
    from submeter.net import auth
    d = fresh_dir("auth3c")
    clk = ManualClock()
    auth.ITERATIONS = 1                                # (a fast hash: 3,000 checks in a test)
    try:
        a = Auth(d, clk.ticks_ms)
    finally:
        auth.ITERATIONS = 500
    pw = a.initial

    def size():
        gc.collect()
        n = 0
        for v in a.__dict__.values():
            if isinstance(v, (list, bytearray)):
                n += len(v)
                if isinstance(v, list):
                    n += sum(len(x) for x in v if isinstance(x, (str, bytes)))
        return n
    for i in range(5):
        a.check("guess", ATTACKER)
    first = size()
    for i in range(3000):
        clk.advance(1)
        assert a.check("guess", "10.%d.%d.1" % (i // 250, i % 250)) is False
        assert a.check(pw, OWNER) is True
    assert size() <= first + 8 * 16, (first, size())   # a fixed number of places (longer names aside)
    assert a.wait_ms(ATTACKER) == 0                    # the oldest entries made room
    assert a.failures == 3005


def test_the_hash_comparison_answers_right_without_stopping_early():
    from submeter.net.auth import _same
    h = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    assert _same(h, h) and _same(h, "" + h[:32] + h[32:]) and _same("", "")
    assert not _same(h, "0" + h[1:]) and not _same(h, h[:-1] + "9")
    assert not _same(h, h[:-1]) and not _same(h, h + "0") and not _same(h, "")


def test_a_damaged_password_file_starts_over_and_says_so():
    d = fresh_dir("auth4")
    with open(d + "/auth.json", "w") as f:
        f.write('{"salt": 3')
    a = Auth(d, ManualClock().ticks_ms)
    assert a.error and "damaged" in a.error and a.check(a.initial)


def test_a_password_change_on_a_full_flash_is_refused_in_words_and_the_old_one_holds():
    from submeter import config
    d = fresh_dir("auth5")
    clk = ManualClock()
    a = Auth(d, clk.ticks_ms)
    a.set("the old password")

    def full(path, mode="r"):
        if "w" in mode:
            raise OSError(28)                          # ENOSPC, as littlefs raises it
        return open(path, mode)
    config.open = full
    try:
        e = raises(OSError, a.set, "the new password")
    finally:
        del config.open
    assert str(e) == "password not saved: no space left on the flash", str(e)
    assert a.check("the old password") is True and a.check("the new password") is False
    b = Auth(d, clk.ticks_ms)                          # and after a reboot
    assert b.check("the old password") is True and b.error is None


def test_a_password_file_left_by_a_cut_is_used_when_whole_and_dropped_when_not():
    import os
    from submeter import config
    clk = ManualClock()
    src = fresh_dir("auth6src")
    Auth(src, clk.ticks_ms).set("the new password")
    with open(src + "/auth.json") as f:
        whole = f.read()
    for left, pw in ((whole, "the new password"), (whole[:-5], "the old password"), ("{}\n", "the old password")):
        d = fresh_dir("auth6")
        Auth(d, clk.ticks_ms).set("the old password")
        with open(d + "/auth.json.new", "w") as f:
            f.write(left)
        del config.NOTES[:]
        a = Auth(d, clk.ticks_ms)                      # the boot after the cut
        assert a.check(pw) is True and a.error is None, (left, pw)
        assert os.listdir(d) == ["auth.json"] and len(config.NOTES) == 1, config.NOTES
    del config.NOTES[:]


def test_the_api_answers_a_password_not_saved_as_an_error_in_words():
    from httpclient import post
    from submeter import config
    from submeter.net.server import Server
    d = fresh_dir("auth7")
    a = Auth(d, ManualClock().ticks_ms)
    first = a.initial

    class Commands:
        auth = a
    srv = Server(lambda: {}, {}, Commands())

    def full(path, mode="r"):
        if "w" in mode:
            raise OSError(28)
        return open(path, mode)
    config.open = full
    try:
        status, _, body = post(srv, "/api/password", {"password": "my own secret"}, first)
    finally:
        del config.open
    assert status == 500, (status, body)                   # not 200 "set"
    assert body == b"500 Internal Server Error: password not saved: no space left on the flash\n", body
    assert a.initial == first and a.check(first) is True  # the screen's password still works


def test_the_server_follows_a_client_by_its_address_not_its_port():
    from submeter.net.server import _peer

    class Writer:
        def __init__(self, a):
            self.a = a

        def get_extra_info(self, v):
            return self.a
    raw = bytearray(b"\x02\x00\x9f\xc4\xc0\xa8\x01\x42" + bytes(8))     # the unix port's sockaddr_in
    other = bytearray(b"\x02\x00\x11\x22\xc0\xa8\x01\x42" + bytes(8))   # same address, another port
    assert _peer(Writer(raw)) == _peer(Writer(other)) == b"\xc0\xa8\x01\x42"
    assert _peer(Writer(("192.168.1.66", 50001))) == "192.168.1.66"     # the ESP32's (host, port)
    assert _peer(Writer(None)) is None
