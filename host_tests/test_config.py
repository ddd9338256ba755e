# Configuration: a missing file means defaults, a broken file never stops the meter
# (defaults, and a message naming what was wrong), every field is checked.
import json

from compat import raises
from submeter import config

PATH = "build/test-config.json"


def write(text):
    with open(PATH, "w") as f:
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
                                             "inputs": [{"name": "Boiler"}, {}, {}, {}, {"ct_ratio": 2000}]})
    assert new["price_kwh"] == 0.3 and new["inputs"][0]["name"] == "Boiler"
    assert new["inputs"][0]["usage"] == "heating"          # the rest of input 1 kept
    assert sorted(restart) == ["http_port", "inputs[4].ct_ratio"]
    back, err = config.load(path)
    assert err is None and back == new                      # what was saved is what boots
    pub = config.public(config.validate({"mqtt_password": "s3cret"}))
    assert pub["mqtt_password"] is True and "s3cret" not in str(pub)
