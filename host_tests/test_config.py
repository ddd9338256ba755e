# Configuration: a missing file means defaults, a broken file never stops the meter
# (defaults, and a message naming what was wrong), every field is checked.
import json

from compat import raises
from submeter import config

PATH = "build/test-config.json"


def write(path, text=None):
    if text is None:
        path, text = PATH, path
    with open(path, "wb" if isinstance(text, bytes) else "w") as f:
        f.write(text)


def test_missing_file_gives_defaults_without_error():
    cfg, err = config.load("build/no-such-dir/config.json")
    assert err is None
    assert cfg["voltage"] == 230.0 and len(cfg["inputs"]) == 5


def test_board_overrides_and_user_file_win_in_that_order():
    write(json.dumps({"http_port": 8099, "voltage": 240}))
    cfg, err = config.load(PATH, {"http_port": 8080, "http_host": "127.0.0.1"})
    assert err is None
    assert cfg["http_port"] == 8099 and cfg["http_host"] == "127.0.0.1" and cfg["voltage"] == 240


def test_truncated_file_boots_with_defaults_and_says_so():
    write('{"voltage": 2')
    cfg, err = config.load(PATH)
    assert cfg["voltage"] == 230.0
    assert err.startswith("config.json ignored")


def test_bad_values_are_named():
    for doc, field in (({"voltage": 5000}, "voltage"), ({"lang": "de"}, "lang"),
                       ({"inputs": [{}] * 4}, "inputs"), ({"bogus": 1}, "bogus"),
                       ({"inputs": [{"usage": "sauna"}] + [{}] * 4}, "inputs[0].usage"),
                       ({"inputs": [{}] * 4 + [{"pf": 2}]}, "inputs[4].pf"),
                       ({"http_port": "80"}, "http_port")):
        write(json.dumps(doc))
        cfg, err = config.load(PATH)
        assert err is not None and field in err, (doc, err)
        e = raises(config.ConfigError, config.validate, doc)
        assert field in str(e)


def test_input_names_are_kept():
    doc = {"inputs": [{"name": "Radiateurs", "usage": "heating", "ct_ratio": 2000}] + [{}] * 4}
    cfg = config.validate(doc)
    assert cfg["inputs"][0]["name"] == "Radiateurs" and cfg["inputs"][0]["ct_ratio"] == 2000
    assert cfg["inputs"][1]["usage"] == "other"


def test_network_settings_are_checked():
    assert config.validate({"ip": "192.168.1.50", "gateway": "192.168.1.1"})["ip"] == "192.168.1.50"
    for bad in ({"ip": "192.168.1"}, {"ip": "300.1.1.1"}, {"netmask": ""}, {"hostname": "my meter"},
                {"gateway": "router"}):
        try:
            config.validate(bad)
            assert False, bad
        except config.ConfigError as e:
            assert list(bad)[0] in str(e)


def test_a_change_is_checked_whole_then_saved_and_says_what_waits_for_a_restart():
    from compat import fresh_dir
    d = fresh_dir("cfgchange")
    path = d + "/config.json"
    with open(path, "w") as f:
        f.write('{"price_kwh": 0.2}')
    cur = config.validate({"price_kwh": 0.2})
    try:
        config.change(path, cur, {"price_kwh": 0.3, "voltage": 999})
        assert False, "a bad value was taken"
    except config.ConfigError as e:
        assert "voltage" in str(e)
    with open(path) as f:
        assert f.read() == '{"price_kwh": 0.2}'           # nothing applied
    new, restart = config.change(path, cur, {"price_kwh": 0.3, "http_port": 8081,
                                             "inputs": [{"name": "Boiler"}, {}, {}, {}, {"ct_ratio": 2000, "cts": 2}]})
    assert new["price_kwh"] == 0.3 and new["inputs"][0]["name"] == "Boiler"
    assert new["inputs"][0]["usage"] == "heating"          # the rest of input 1 kept
    assert new["inputs"][4]["ct_ratio"] == 2000
    assert sorted(restart) == ["http_port", "inputs[4].cts"]  # (a CT ratio applies at once)
    back, err = config.load(path)
    assert err is None and back == new                      # what was saved is what boots
    pub = config.public(config.validate({"mqtt_password": "s3cret"}))
    assert pub["mqtt_password"] is True and "s3cret" not in str(pub)


# --- files that survive a cut at any instant ------------------------------------------

class Cut(Exception):
    """The power went."""


class _CutFile:
    def __init__(self, cutter, f):
        self.cutter, self.f = cutter, f

    def write(self, text):
        if self.cutter.due():  # half the text reached the flash
            self.f.write(text[:len(text) // 2])
            self.f.close()
            raise Cut()
        return self.f.write(text)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()


class Cutter:
    """The `os` and `open` of config.write_json, with the power cut before step `at`
    (each open for writing, write, remove and rename is a step); -1: no cut."""

    def __init__(self, at):
        self.at, self.step = at, 0

    def due(self):
        self.step += 1
        return self.step - 1 == self.at

    def open(self, path, mode="r"):
        if "w" in mode and self.due():
            raise Cut()
        f = open(path, mode)
        return _CutFile(self, f) if "w" in mode else f

    def remove(self, path):
        if self.due():
            raise Cut()
        import os
        os.remove(path)

    def rename(self, a, b):
        if self.due():
            raise Cut()
        import os
        os.rename(a, b)


def cutting(mod, cutter, fn, *args):
    """fn(*args) with mod's os and open replaced by `cutter`; True when it ran to its end."""
    real_os = mod.os
    mod.os, mod.open = cutter, cutter.open
    try:
        fn(*args)
        return True
    except Cut:
        return False
    finally:
        mod.os = real_os
        del mod.open


def test_a_cut_at_any_step_of_a_save_boots_on_the_old_or_the_new_config():
    from compat import fresh_dir
    old, new = {"price_kwh": 0.2, "voltage": 240}, {"price_kwh": 0.3, "voltage": 240}
    seen = set()
    for at in range(10):
        d = fresh_dir("cfgcut")
        path = d + "/config.json"
        config.write_json(path, old)
        done = cutting(config, Cutter(at), config.write_json, path, new)
        cfg, err = config.load(path)                  # the next boot
        assert err is None, (at, err)
        assert cfg["voltage"] == 240, (at, "booted on defaults")  # never the defaults
        assert cfg["price_kwh"] in (0.2, 0.3), at
        assert not done or cfg["price_kwh"] == 0.3, at  # a save that ended is kept
        seen.add(cfg["price_kwh"])
        import os
        assert os.listdir(d) == ["config.json"], (at, os.listdir(d))  # nothing left over
    assert seen == {0.2, 0.3}


def test_a_copy_left_by_a_cut_is_used_when_whole_and_dropped_when_not():
    import os
    from compat import fresh_dir
    d = fresh_dir("cfgnew")
    path = d + "/config.json"
    for old in ('{"price_kwh": 0.2}', None):      # None: an older firmware had removed it
        for left, want in (('{"price_kwh": 0.3}\n', 0.3), ('{"price_kwh": 0.', 0.2), ('{"price_kwh": 0.3}', 0.2),
                           ('{"price_kwh": 9999}\n', 0.2), (b'{"price_kwh": 0.3\xff}\n', 0.2)):
            if old is None:
                want = 0.3 if want == 0.3 else config.DEFAULTS["price_kwh"]
                try:
                    os.remove(path)
                except OSError:
                    pass
            else:
                write(path, old)
            write(path + ".new", left)
            del config.NOTES[:]
            cfg, err = config.load(path)
            assert cfg["price_kwh"] == want and err is None, (old, left, cfg["price_kwh"], err)
            assert os.listdir(d) == (["config.json"] if want == 0.3 or old else []), os.listdir(d)
            note = config.NOTES[0]                     # the log says what was done
            assert ("used" in note) == (want == 0.3) and ("dropped" in note) == (want != 0.3), note
    del config.NOTES[:]


def test_a_config_save_on_a_full_flash_is_an_error_in_words_and_keeps_the_file():
    from compat import fresh_dir
    d = fresh_dir("cfgfull")
    path = d + "/config.json"
    write(path, '{"price_kwh": 0.2}')
    cur = config.validate({"price_kwh": 0.2})

    def full(p, mode="r"):
        if "w" in mode:
            raise OSError(28)                          # ENOSPC, as littlefs raises it
        return open(p, mode)
    config.open = full
    try:
        e = raises(OSError, config.change, path, cur, {"price_kwh": 0.3})
    finally:
        del config.open
    assert str(e) == "config.json not saved: no space left on the flash", str(e)
    assert config.load(path)[0]["price_kwh"] == 0.2
    import os
    assert os.listdir(d) == ["config.json"]


def test_save_errors_read_as_words():
    assert config.describe(OSError(28)) == "no space left on the flash"
    assert config.describe(OSError(5)) == "I/O error"
    assert config.describe(OSError(99)) == "error 99"
    assert config.describe(OSError("gone")) == "gone"
