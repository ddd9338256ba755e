# An in-memory HTTP client for the firmware's server, on MicroPython and CPython alike:
# a request's bytes are handed to the server's connection handler (Server.serve) through
# stand-in streams, and what it wrote is read back as (status, headers, body). No socket,
# no subprocess: the HTTP tests of the page, the API and the commands run on both runtimes
# (host_tests/test_http_api.py), against a real App on the simulated board.
import asyncio
import binascii
import json
import time

from submeter.net import server as _server

PEER = "192.168.1.20"  # the client's address, as the server sees it (auth.py counts per address)


class Reader:
    """The client's side as the server reads it: `data`, in pieces of at most `piece` bytes."""

    def __init__(self, data, piece=None):
        self.data = data
        self.piece = piece
        self.at = 0  # (read from here: the rest is never copied, a large upload's neither)

    async def read(self, n):
        k = n if self.piece is None else min(n, self.piece)
        out = self.data[self.at:self.at + k]
        self.at += len(out)
        return out


class Writer:
    """What the server writes, kept; the peer's address as asyncio's streams give it."""

    def __init__(self, peer=PEER):
        self.out = []
        self.peer = peer
        self.closed = False

    def get_extra_info(self, what):
        return (self.peer, 50000) if what == "peername" else None

    def write(self, b):
        self.out.append(bytes(b))

    async def drain(self):
        pass

    def close(self):
        self.closed = True

    async def wait_closed(self):
        pass


class _Ticks:
    """MicroPython's ms ticks (30 bits) for CPython, whose time module has none."""

    @staticmethod
    def ticks_ms():
        return int(time.monotonic() * 1000) & 0x3FFFFFFF

    @staticmethod
    def ticks_diff(a, b):
        return ((a - b + 0x20000000) & 0x3FFFFFFF) - 0x20000000


def exchange(srv, data, peer=PEER, piece=None):
    """The bytes the server answers to the request bytes `data` (the connection then closed)."""
    w = Writer(peer)
    saved = _server.time
    if not hasattr(saved, "ticks_ms"):
        _server.time = _Ticks
    try:
        asyncio.run(srv.serve(Reader(data, piece), w))
    finally:
        _server.time = saved
    assert w.closed
    return b"".join(w.out)


def parse(raw):
    """(status, {header name in lower case: value}, body) of an answer's bytes."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split(" ")[1]) if lines[0].startswith("HTTP/1.1 ") else 0
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


def basic(password, user="owner"):
    """The Authorization header of HTTP Basic, as curl -u sends it."""
    cred = binascii.b2a_base64((user + ":" + password).encode()).strip()
    return b"Authorization: Basic " + cred


def request(srv, method, path, body=b"", headers=(), peer=PEER):
    """One request: (status, headers, body) of its answer. `body` bytes, or an object sent
    as JSON; `headers` lines (bytes) added to the head."""
    if not isinstance(body, (bytes, bytearray)):
        body = json.dumps(body).encode()
    head = [method.encode() + b" " + path.encode() + b" HTTP/1.1", b"Host: meter"]
    head += list(headers)
    if method == "POST" and not any(h.startswith(b"Content-Length:") for h in headers):
        head.append(("Content-Length: %d" % len(body)).encode())
    return parse(exchange(srv, b"\r\n".join(head) + b"\r\n\r\n" + body, peer))


def get(srv, path, headers=()):
    return request(srv, "GET", path, b"", headers)


def post(srv, path, body, password=None, ctype=b"application/json", headers=()):
    """A command: `body` (an object, sent as JSON, or bytes) with that Content-Type, and the
    password if one is given."""
    extra = [b"Content-Type: " + ctype] + ([basic(password)] if password is not None else []) + list(headers)
    return request(srv, "POST", path, body, extra)
