# A small MQTT 3.1.1 subscriber for the tests (CPython, plain sockets): it connects to a
# broker, subscribes to a filter and collects (topic, payload, retain) as they come, and
# when each came (`times`, time.monotonic(), one per message).
import socket
import struct
import threading
import time


def _str(s):
    b = s.encode()
    return struct.pack("!H", len(b)) + b


def _packet(kind, body):
    n, out = len(body), bytearray([kind])
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out) + body


class Subscriber:
    def __init__(self, port, topic="#", host="127.0.0.1", tls=None, client_id="test-sub"):
        self.messages = []
        self.times = []
        self.sock = socket.create_connection((host, port), timeout=5)
        if tls:  # an ssl.SSLContext: MQTT over TLS
            self.sock = tls.wrap_socket(self.sock, server_hostname=host)
        self.sock.sendall(_packet(0x10, _str("MQTT") + b"\x04\x02\x00\x3c" + _str(client_id)))
        assert self._read()[0] == 0x20
        self.sock.sendall(_packet(0x82, b"\x00\x01" + _str(topic) + b"\x00"))
        assert self._read()[0] == 0x90
        self.sock.settimeout(None)
        self._t = threading.Thread(target=self._loop, daemon=True)
        self._t.start()

    def _recv(self, n):
        b = b""
        while len(b) < n:
            c = self.sock.recv(n - len(b))
            if not c:
                raise OSError("closed")
            b += c
        return b

    def _read(self):
        kind = self._recv(1)[0]
        n, shift = 0, 0
        while True:
            b = self._recv(1)[0]
            n |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        return kind, self._recv(n)

    def _loop(self):
        try:
            while True:
                kind, body = self._read()
                if kind >> 4 == 3:
                    tl = struct.unpack("!H", body[:2])[0]
                    topic = body[2:2 + tl].decode()
                    rest = body[2 + tl:]
                    if kind & 6:
                        rest = rest[2:]
                    self.times.append(time.monotonic())
                    self.messages.append((topic, rest, bool(kind & 1)))
        except OSError:
            pass

    def last(self, topic):
        for t, p, r in reversed(self.messages):
            if t == topic:
                return p
        return None

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
