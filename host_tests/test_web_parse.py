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


class _Pieces:
    """A client's bytes as the network may hand them over: in pieces of `n` bytes."""

    def __init__(self, data, n):
        self.data = data
        self.n = n

    async def read(self, n):
        k = min(n, self.n)
        out, self.data = self.data[:k], self.data[k:]
        return out


def _read_head(data, n):
    import asyncio
    from submeter.web import Server, parse_lines
    srv = Server(lambda: {}, {})
    box = []

    async def go():
        try:
            lines, early = await srv._read_head(_Pieces(data, n))
            box.append((parse_lines(lines), early))
        except HTTPError as e:
            box.append(e.status)
    asyncio.run(go())
    return box[0]


def test_a_head_split_anywhere_reads_the_same():
    # a phone's head (~600 B) is read in small pieces, never whole: a CRLF or the blank line
    # cut between two reads must not change what is understood, nor the body that follows
    head = (b"POST /api/reset HTTP/1.1\r\nHost: meter\r\nUser-Agent: " + b"M" * 140 +
            b"\r\nAccept-Language: fr-FR,fr;q=0.9\r\nContent-Type: application/json\r\n"
            b"Content-Length: 17\r\n\r\n{\"counter\": \"all\"}")
    for n in (1, 2, 3, 7, 64, 128, 1000):
        (m, path, q, h), early = _read_head(head, n)
        assert (m, path, h["content-length"], h["user-agent"]) == ("POST", "/api/reset", "17", "M" * 140), n
        assert early == head[head.find(b"\r\n\r\n") + 4:][:len(early)], n
    assert _read_head(b"GET / HTTP/1.1\r\nA: b\r\n" + b"X: " + b"y" * 3000, 128) == 431
    assert _read_head(b"GET /" + b"a" * 3000, 128) == 414
