# The strict JSON check in front of json.loads for commands (submeter/net/jsonck.py), on both
# runtimes: what MicroPython's json.loads takes but is no JSON is refused, every body the
# page and the docs send passes; on CPython, 3,000 mutated bodies get the verdict of
# CPython's own strict parser.
import json

from compat import IS_MP, rng
from submeter import config
from submeter.net.jsonck import well_formed

# taken by MicroPython 1.25's json.loads (as {}, {"counter": 1}, [1, 2] ...), no JSON
LENIENT = [b'{"a"}', b'{"a" }', b'{"a"\x00}', b'{"a":}', b'{,}', b'[,]', b'[1,]', b'{"a":1,}', b'{"counter" 1}',
           b'{"a":1 2}', b"[1 2]", b'{"counter"}']
BAD = LENIENT + [b"{", b"}", b"[", b"nul", b"{'a': 1}", b'"\x01"', b"01", b"1.", b".5", b"-", b"1e", b"+1",
                 b'"\\x41"', b'"\\u12G4"', b'"abc', b"\xef\xbb\xbf{}", b'{"a": "\xff"}', b"{} x", b"NaN",
                 b"[" * 9 + b"]" * 9, b"tru", b"nulll"]
GOOD = [b"{}", b"[]", b' {"counter": 1} ', b'{"counter": "all"}', b'{"input": 2}', b'{"password": "my own secret"}',
        b'{"price_kwh": 0.3, "inputs": [{"name": "Boiler"}], "http_port": 8099}', b'"\\u00e9\\n\\"x\\/"',
        b"-0.5e+10", b"[true, false, null]", b'{"a": {"b": [1, {"c": []}]}}', "{\"name\": \"Séjour\"}".encode(),
        b"[" * 8 + b"]" * 8, b"\t\r\n{}\n"]


def test_what_is_not_json_is_refused_and_json_passes():
    for b in BAD:
        assert not well_formed(b), b
    for b in GOOD:
        assert well_formed(b), b
    # the whole default configuration as the page would post it back
    assert well_formed(json.dumps(config.DEFAULTS).encode())


def test_mutated_bodies_get_the_verdict_of_a_strict_parser():
    if IS_MP:
        return  # the reference is CPython's parser (MicroPython's is the lenient one)
    rnd = rng(5)
    seeds = GOOD[:-2] + [json.dumps(config.DEFAULTS).encode()]
    alphabet = b'{}[]:,"\\ 0123456789.-+eEtrufalsn\x00\xff\t\n'
    checked = 0
    for k in range(3000):
        b = bytearray(rnd.choice(seeds))
        for _ in range(rnd.randint(1, 4)):
            p = rnd.randint(0, len(b))
            how = rnd.randint(0, 2)
            if how == 0:
                b[p:p] = bytes([rnd.choice(alphabet)])
            elif how == 1 and p < len(b):
                del b[p]
            elif p < len(b):
                b[p] = rnd.choice(alphabet)
        b = bytes(b)
        try:
            json.loads(b.decode(), parse_constant=lambda c: 1 / 0)
            want = True
        except (ValueError, ZeroDivisionError):
            want = False
        assert well_formed(b) == want, b
        checked += 1
    assert checked == 3000
