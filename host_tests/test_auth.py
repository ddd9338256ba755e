# The web password: made up at the first boot and shown on the screen, kept only as a
# salted hash once the owner sets theirs, wrong guesses locked out for 30 s after five.
import json

from compat import fresh_dir, raises
from submeter.auth import Auth, LOCK_MS
from submeter.clock import ManualClock


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


def test_five_wrong_passwords_lock_for_30_s():
    d = fresh_dir("auth3")
    clk = ManualClock()
    a = Auth(d, clk.ticks_ms)
    pw = a.initial
    for _ in range(5):
        assert a.check("guess") is False
    assert a.check(pw) is None and a.locked()          # even the right one waits
    clk.advance(LOCK_MS)
    assert a.check(pw) is True and a.failures == 5


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
    import asyncio
    from submeter import config
    from submeter.web import HTTPError, Server
    d = fresh_dir("auth7")
    a = Auth(d, ManualClock().ticks_ms)
    first = a.initial

    class Actions:
        auth = a
    srv = Server(lambda: {}, {}, Actions())

    def full(path, mode="r"):
        if "w" in mode:
            raise OSError(28)
        return open(path, mode)

    async def go():
        config.open = full
        try:
            await srv._post(None, "/api/password", b'{"password": "my own secret"}')
        except HTTPError as e:
            return e
        finally:
            del config.open
    e = asyncio.run(go())
    assert e is not None and e.status == 500, e          # not 200 "set"
    assert e.why == "password not saved: no space left on the flash", e.why
    assert a.initial == first and a.check(first) is True  # the screen's password still works
