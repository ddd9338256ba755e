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
