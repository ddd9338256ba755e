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
