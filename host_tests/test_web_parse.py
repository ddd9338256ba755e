# HTTP request heads: valid ones parse, malformed ones get the right status code.
from compat import raises
from submeter.web import HTTPError, parse_head


def test_valid_request():
    m, path, q, h = parse_head(b"GET /api/state?x=1 HTTP/1.1\r\nHost: meter\r\nAccept: */*")
    assert (m, path, q) == ("GET", "/api/state", "x=1")
    assert h["host"] == "meter" and h["accept"] == "*/*"


def test_absolute_form_target_is_accepted():
    assert parse_head(b"GET http://meter.local/api/state HTTP/1.1")[1] == "/api/state"
    assert parse_head(b"GET http://meter.local HTTP/1.0")[1] == "/"


def test_malformed_requests_are_rejected_with_a_status():
    cases = [
        (b"GARBAGE", 400),
        (b"GET /", 400),
        (b"get / HTTP/1.1", 400),
        (b"GET / HTTP/2.0", 505),
        (b"GET / FTP/1.0", 400),
        (b"GET x HTTP/1.1", 400),
        (b"GET /" + b"a" * 300 + b" HTTP/1.1", 414),
        (b"GET / HTTP/1.1\r\nno colon here", 400),
        (b"GET / HTTP/1.1\r\n : empty name", 400),
        (b"\xff\xfe / HTTP/1.1", 400),
        (b"", 400),
    ]
    for head, status in cases:
        e = raises(HTTPError, parse_head, head)
        assert e.status == status, (head, e.status)
