# A small asyncio HTTP/1.1 server: the page and the JSON API, whose routes and handlers
# are api.py's table.
#
# Every request is bounded: the request head must arrive within `timeout_s` and fit in
# `max_head` bytes, at most `max_clients` connections are served at once; anything else
# gets a clear status code and the connection is closed. A bad request never reaches
# the metering: handlers read the snapshot, and change something only through the
# commands (commands.py), a command's body checked and its password too before.
import asyncio
import binascii
import select
import gc
import json
import time

from .jsonck import well_formed

# the reason phrase of each status we send: a tuple of constants, frozen in flash (a dict
# would be made in the heap at boot: 0.15 KB)
STATUS = (
    (200, "OK"), (204, "No Content"), (400, "Bad Request"), (404, "Not Found"), (405, "Method Not Allowed"),
    (401, "Unauthorized"), (403, "Forbidden"), (409, "Conflict"), (408, "Request Timeout"), (411, "Length Required"),
    (413, "Content Too Large"), (414, "URI Too Long"), (415, "Unsupported Media Type"), (429, "Too Many Requests"),
    (431, "Request Header Fields Too Large"), (500, "Internal Server Error"), (503, "Service Unavailable"),
    (505, "HTTP Version Not Supported"),
)


def reason(status):
    for code, text in STATUS:
        if code == status:
            return text
    raise KeyError(status)

BUSY = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
ACCEPT_MS = 20  # how often the listening socket is looked at (see Server._accept)


STREAM_BUF = 512
# An answer's body goes out through a 512 B buffer. Under make memcheck's load the largest
# free block after a collection falls to 350-1100 B: a 512 B one made per answer cut an
# answer or two in every 15 s run (MemoryError in _stream). So one is kept from boot and
# lent to an answer at a time; another answer meanwhile makes its own, of 128 B if the
# heap has no 512 B block (more writes, the same bytes).
# Unpacking the script for a client that takes no gzip needs the inflater's state in one
# block: 1,296 B on a 32-bit port, and its 512 B window in another (the body buffer kept
# for answers, STREAM_BUF, is let go for it: that answer goes out through 128 B).
# Work leaves the heap with much more free but in pieces (measured, make memcheck: 32 KB
# free, the largest block 0.9-2 KB; 71 to 570 unpacked scripts in 15 s were cut short
# before this): a block of that size is set aside at boot and lent to one client at a time.
INFLATE_ROOM = 1296


class Upload:
    """An upload's body (a POST whose POSTS limit is None: its handler sizes it), read
    into the handler's buffer piece by piece, never whole: application/octet-stream (which
    a page of another site cannot send without the browser asking first) with a
    Content-Length. Each piece marks the connection's place as moving; a client that
    sends nothing for WRITE_MS has its place dropped (Server._watch)."""

    def __init__(self, srv, reader, headers, early):
        if headers.get("content-type", "").split(";")[0].strip() != "application/octet-stream":
            raise HTTPError(415, "an upload is sent as application/octet-stream")
        if "transfer-encoding" in headers:
            raise HTTPError(411, "a Content-Length is needed")
        try:
            self.length = int(headers["content-length"])
        except (KeyError, ValueError):
            raise HTTPError(411, "a Content-Length is needed")
        if self.length <= 0:
            raise HTTPError(400, "an empty upload")
        self.got = 0
        self._srv, self._reader, self._early = srv, reader, early
        self._buf = None

    def buffer(self):
        """The server's answer buffer (STREAM_BUF, kept from boot: a fragmented heap may have
        no free block that large), lent for the upload; given back by the server after."""
        self._buf = self._srv._buffer()
        return self._buf

    async def readinto(self, mv):
        """Up to len(mv) bytes of the body into memoryview `mv`; 0 at its end. The
        connection closed before the end: HTTPError 400."""
        k = min(len(mv), self.length - self.got)
        if k <= 0:
            return 0
        early = self._early
        if early:
            n = min(k, len(early))
            mv[:n] = early[:n]
            self._early = early[n:]
        elif hasattr(self._reader, "readinto"):  # (asyncio's Stream on MicroPython)
            n = await self._reader.readinto(mv[:k])
        else:
            b = await self._reader.read(k)
            n = len(b)
            mv[:n] = b
        if not n:
            raise HTTPError(400, "the upload ended after %d of %d bytes" % (self.got, self.length))
        self.got += n
        self._srv._moved()
        return n


class HTTPError(Exception):
    def __init__(self, status, why=""):
        super().__init__(status, why)
        self.status = status
        self.why = why


def parse_head(head, max_target=256):
    """Parse a request head (bytes up to, excluding, the blank line).

    Returns (method, path, query, headers dict with lower-case names); raises HTTPError.
    """
    return parse_lines(head.split(b"\r\n"), max_target)


def parse_lines(lines, max_target=256, keep=None):
    """parse_head() of the head's lines (bytes, without their CRLF): the server keeps a
    head line by line, never whole (see Server._read_head). With `keep`, only the headers
    named there are kept (every line is checked all the same)."""
    try:
        first = lines[0].decode() if lines else ""
    except UnicodeError:
        raise HTTPError(400, "request is not text")
    parts = first.split(" ")
    if len(parts) != 3:
        raise HTTPError(400, "malformed request line")
    method, target, version = parts
    if not method or not method.isalpha() or not method.isupper():
        raise HTTPError(400, "malformed method")
    if not version.startswith("HTTP/"):
        raise HTTPError(400, "malformed version")
    if version not in ("HTTP/1.0", "HTTP/1.1"):
        raise HTTPError(505, version)
    if len(target) > max_target:
        raise HTTPError(414)
    if target.startswith("http://"):  # absolute form (RFC 9112 3.2.2): keep the path
        slash = target.find("/", 7)
        target = target[slash:] if slash > 0 else "/"
    if not target.startswith("/"):
        raise HTTPError(400, "target must start with /")
    path, _, query = target.partition("?")
    headers = {}
    for i in range(1, len(lines)):
        try:
            line = lines[i].decode()
        except UnicodeError:
            raise HTTPError(400, "request is not text")
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise HTTPError(400, "malformed header")
        name = name.lower()
        if keep is None or name in keep:
            headers[name] = value.strip()
    return method, path, query, headers


# the request headers the server reads; the others are checked and dropped (a phone's head
# is 550-750 B: kept whole, it was held for the whole answer)
USED = ("accept-encoding", "authorization", "content-length", "content-type", "transfer-encoding")

# the page's script and what else is kept gzipped on flash: firmware/static/ beside the
# package (this file is submeter/net/server.py: three names up)
_parts = __file__.replace("\\", "/").split("/")
STATIC = "/".join(_parts[:-3] + ["static", ""]) if len(_parts) > 3 else "static/"

IDLE_MS = 2000  # a connection that has sent no request head for this long may be closed for a new one
# Slow and hostile clients (issue 18). A client that stops reading its answer fills the
# socket's send buffer (5.7 KB on the ESP32's lwIP) and the write waits: an answer that has
# not moved for STALL_MS is stalled and may give its place to a newcomer; one that has not
# moved for WRITE_MS is dropped by the watchdog, whoever waits (measured on the host with
# the ESP32's buffers modelled, SUBMETER_SNDBUF: clients that asked for /app.js and never
# read held every place for good, 0 of 30 requests served). When every place is taken, a
# place silent or stalled for IDLE_MS, or an answer of another address stalled, goes to the
# newcomer. Else a place is taken back only for a newcomer whose request has come whole
# within GRACE_MS (a slowloris never sends one), which may wait GRACE_MS more: the place of
# a connection not being served from an address holding more places than its own, or of
# one not served for GRACE_MS from any address, its own too (an attacker sharing the
# owner's address kept 29 of 30 requests out without this; a real client's request is read
# within milliseconds: taken sooner, one that had arrived but was not read yet was closed
# unanswered in a burst); an address holding more than PER_ADDR places gives one up to an
# address holding fewer even while it is served. The address holding the most places
# gives first, its place silent longest; never an address holding fewer than the
# newcomer's. A slowloris at 10 sockets a second had 24 to 30 of 30 other requests refused
# when eviction went by age alone (its sockets were always the youngest); none now
# (host_tests/test_host_slowweb.py).
STALL_MS = 1000
WRITE_MS = 5000
PER_ADDR = 2
GRACE_MS = 500  # when every place is held, a newcomer's request must come whole within this
MEM_TRIES = 20  # a chunk the heap has no room for: made again up to this often (20 ms, 40 ms... 200 ms
                # apart: 3.1 s; 10 tries, 1.1 s, cut one page in two of the 3-hour soaks once the page
                # had the grid meter's rows: a longer answer is longer exposed to a full heap)
HEAD, ANSWER, WAIT = 0, 1, 2  # a place's state: reading the request, answering, waiting for the inflater

def _sockaddr(writer):
    """The peer's address as the stream gives it: a (host, port) tuple, the bytes of a raw
    sockaddr (MicroPython's unix port: 16 B for IPv4, 28 B for IPv6), or None."""
    try:
        a = writer.get_extra_info("peername")
    except (AttributeError, KeyError, OSError):
        return None
    if isinstance(a, tuple) or isinstance(a, (bytes, bytearray)) and len(a) >= 8:
        return a
    return None


def _peer(writer):
    """The client's address without its port: a tuple's host, or a raw sockaddr's address bytes."""
    a = _sockaddr(writer)
    if a is None or isinstance(a, tuple):
        return a[0] if a else None
    return bytes(a[4:8]) if len(a) == 16 else bytes(a[8:24])


def _key(writer):
    """The client's address as a small int (a raw sockaddr's address bytes folded into 30
    bits) or the host string of a (host, port) tuple: allocates nothing, unlike _peer."""
    a = _sockaddr(writer)
    if a is None or isinstance(a, tuple):
        return a[0] if a else None
    k = 0
    for i in range(4, 8) if len(a) == 16 else range(8, min(24, len(a))):
        k = ((k & 0x1FFFFFF) << 5) ^ (k >> 25) ^ a[i]
    return k


def _command(body):
    """A command's body (bytes): one JSON object, as a dict."""
    try:
        if body and not well_formed(body):  # json.loads takes '{"a"}' as {} (jsonck.py)
            raise ValueError
        cmd = json.loads(body) if body else {}
    except ValueError:
        raise HTTPError(400, "the body is not JSON")
    if not isinstance(cmd, dict):
        raise HTTPError(400, "a JSON object is needed")
    return cmd


# issue 22, slice "page": the page's forms that work without JavaScript (paths /form/...:
# "CT reversed?"'s fix). A browser sends a form from any site without asking, with the
# password it remembers: so a form's Origin, when sent (every browser sends it with a
# POST), must be this meter's own; and its 401 asks for the password (the browser's dialog).
_CHALLENGE = 'WWW-Authenticate: Basic realm="meter", charset="UTF-8"\r\n'


def _same_site(headers):
    o = headers.get("origin")
    if o is not None and o.partition("://")[2] != headers.get("host"):
        raise HTTPError(403, "a form from another site")


def _form(body):
    """A form's urlencoded body (bytes) as a dict of texts (+ and %XX decoded)."""
    out = {}
    try:
        for kv in body.decode().split("&"):
            k, _, v = kv.partition("=")
            v = v.replace("+", " ")
            i = v.find("%")
            while i >= 0:
                v = v[:i] + chr(int(v[i + 1:i + 3], 16)) + v[i + 3:]
                i = v.find("%", i + 1)
            out[k] = v
    except (UnicodeError, ValueError):
        raise HTTPError(400, "the form is not urlencoded")
    return out


class Server:
    max_head = 2048
    max_target = 256
    timeout_s = 10
    max_clients = 4

    def __init__(self, state, cfg, commands=None, routes=None, posts=None):
        self.state = state          # callable -> current snapshot dict (cfg: read here, not kept)
        self.commands = commands    # what the handlers may ask of the application (commands.py)
        if routes is None:  # the meter's (imported here: api.py imports this module)
            from .api import ROUTES as routes, POSTS as posts
        self.routes = routes        # (method, path) -> handler (api.py)
        self.posts = posts          # path of a command -> the largest body it takes
        self.max_clients = cfg.get("http_max_clients", self.max_clients)
        self.clients = 0
        self.requests = 0
        self.rejected = 0           # counted rejections: malformed, too big, too slow, busy
        self.evicted = 0            # connections closed to make room for a new one (silent, stalled, or over their address's share)
        self.dropped_slow = 0       # answers ended because the client did not read them (stalled or timed out)
        self.refused_addr = 0       # newcomers told "busy" while their address held PER_ADDR places or more
        self.mem_errors = 0         # answers cut short by a full heap
        self.mem_retries = 0        # chunks made again after a full heap (see _next)
        self.mem_refused = 0        # requests refused (503) for a full heap before their answer began
        self.errors = 0             # clients whose handling raised anything else (closed; serving goes on)
        self.last_error = None
        # the places: [task, address key, state (HEAD, ANSWER, WAIT), ticks of the last progress
        # (HEAD: when accepted)], made at boot; nothing per connection
        self._slots = [[None, None, HEAD, 0, False] for _ in range(max(1, self.max_clients))]
        self._watcher = None
        self.tune = None            # the board's tune_socket(writer), if it has one
        self._room = bytearray(INFLATE_ROOM)  # lent to the inflater (see INFLATE_ROOM)
        self._spare = bytearray(STREAM_BUF)   # lent to an answer's body (see STREAM_BUF)
        self._unpacking = asyncio.Lock()
        self._server = None

    async def start(self, host, port):
        import socket
        addr = socket.getaddrinfo(host, port)[0][-1]
        s = socket.socket()
        try:
            s.setblocking(False)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(addr)
            s.listen(16)
        except Exception:
            s.close()
            raise
        self._server = asyncio.create_task(self._accept(s))
        if self._watcher is None:
            self._watcher = asyncio.create_task(self._watch())
        return self._server

    def close(self):
        if self._server:
            self._server.cancel()  # (its finally closes the listening socket)
            self._server = None
        if self._watcher is not None:
            self._watcher.cancel()
            self._watcher = None

    async def _accept(self, s):
        """The accept loop. asyncio's own (start_server's Server._serve in 1.25) makes each
        connection's Stream and task outside any try: one MemoryError there ended it, and
        the page was gone until a reboot while the socket still took connections (seen in
        the soak). Here a connection that finds no room is told 503 and closed, and the
        loop goes on. The socket is looked at every ACCEPT_MS through a poll object made
        once (ipoll allocates nothing): asyncio's public API has no wait for a socket."""
        poller = select.poll()
        poller.register(s, select.POLLIN)
        try:
            while True:
                await asyncio.sleep_ms(ACCEPT_MS)
                while True:
                    ready = False
                    for _ in poller.ipoll(0):
                        ready = True
                    if not ready:
                        break
                    try:
                        c, addr = s.accept()
                    except OSError:  # (the client has gone already, or no socket is left)
                        break
                    try:
                        c.setblocking(False)
                        st = asyncio.StreamReader(c, {"peername": addr})  # (the one Stream class)
                        asyncio.create_task(self.serve(st, st))
                    except MemoryError:
                        self.mem_refused += 1  # (as a request refused before its answer)
                        try:
                            c.send(BUSY)  # (made at import: a full heap can still send it)
                        except OSError:
                            pass
                        c.close()
        finally:
            poller.unregister(s)
            s.close()

    async def _watch(self):
        """The write timeout: an answer that has not moved for WRITE_MS (its client reads
        nothing) is dropped and its place freed. One task for all the places: no timer per
        write (asyncio.wait_for makes a task and a coroutine each time)."""
        while True:
            await asyncio.sleep(0.5)
            now = time.ticks_ms()
            for s in self._slots:
                if s[0] is not None and s[2] == ANSWER and time.ticks_diff(now, s[3]) >= WRITE_MS:
                    try:
                        self._drop(s)
                    except Exception as e:  # (a bug: counted, the watch goes on)
                        self.errors += 1
                        self.last_error = "%s: %s" % (type(e).__name__, e)
                    self.dropped_slow += 1

    def _drop(self, s):
        t = s[0]
        s[0] = None  # the place is free now
        s[1] = None
        t.cancel()  # its finally closes the socket

    def _held(self, key):
        n = 0
        for s in self._slots:
            if s[0] is not None and s[1] == key:
                n += 1
        return n

    def _place(self, task, key, ready=False):
        """A place for a newcomer from address `key`: a free one, else one taken back (see
        STALL_MS); None if every place is held by a client being served (the newcomer is
        told "busy"). `ready`: its request has come whole (see GRACE_MS)."""
        now = time.ticks_ms()
        slots = self._slots
        mine = 0
        free = None
        for s in slots:
            if s[0] is None:
                free = free or s
            elif s[1] == key:
                mine += 1
        if free is None:
            best = None
            bn = bq = 0
            for s in slots:
                n = 0
                for o in slots:
                    if o[1] == s[1]:
                        n += 1
                quiet = time.ticks_diff(now, s[3])
                other = s[1] != key
                if quiet >= IDLE_MS:  # silent (or stalled) that long: anyone's newcomer may have it
                    ok = True
                elif n < mine:  # never from an address holding fewer places
                    ok = False
                elif s[2] == ANSWER and quiet >= STALL_MS:  # stalled: its client stopped reading
                    ok = ready or other
                elif not ready:  # (the rest only for a request that has come whole)
                    ok = False
                elif s[2] != ANSWER:  # not served yet: its request (or the inflater) is awaited
                    ok = quiet >= GRACE_MS or (other and n > mine)
                else:  # served, but its address holds more than its share
                    ok = other and n > PER_ADDR and n > mine + 1
                if ok and (best is None or n > bn or (n == bn and quiet > bq)):
                    best, bn, bq = s, n, quiet
            if best is None:
                return None
            if best[2] == ANSWER and bq >= STALL_MS:
                self.dropped_slow += 1
            self.rejected += 1
            self.evicted += 1
            self._drop(best)
            free = best
        free[0] = task
        free[1] = key
        free[2] = HEAD
        free[3] = now
        free[4] = False  # no answer begun
        return free

    def _state(self, state):
        """This connection's place is now in `state` (and has just moved)."""
        t = asyncio.current_task()
        for s in self._slots:
            if s[0] is t:
                s[2] = state
                s[3] = time.ticks_ms()

    def _moved(self):
        """This connection's place marked as moving (not stalled: see _watch and _place)."""
        t = asyncio.current_task()
        for s in self._slots:
            if s[0] is t:
                s[3] = time.ticks_ms()

    def _drain(self, writer):
        """writer.drain(), its place marked as moving: the previous write has gone out."""
        self._moved()
        return writer.drain()

    async def _read_head(self, reader):
        """The head's lines (bytes, without their CRLF), and the start of a body read with
        it. Kept line by line, never whole: a phone's head is 550-750 B, more than the largest
        free block a fragmented heap may have (measured: make memcheck's browser load with
        Chrome's request heads cut an answer or two in 20 s when the head was one string)."""
        lines = []
        part = b""  # the line not ended yet
        size = 0
        while True:
            chunk = await reader.read(128)
            if not chunk:
                raise HTTPError(400, "connection closed mid-request")
            size += len(chunk)
            buf = part + chunk if part else chunk
            start = 0
            while True:
                end = buf.find(b"\r\n", start)
                if end < 0:
                    break
                if end == start and (lines or start):  # the blank line
                    return lines, buf[end + 2:]  # and the start of a body read with the head
                lines.append(buf[start:end])
                start = end + 2
            part = buf[start:]
            if size > self.max_head:
                raise HTTPError(414 if not lines or len(lines[0]) > self.max_target + 16 else 431)

    async def serve(self, reader, writer):
        """One connection, its streams `reader` and `writer` (asyncio's, or any with their
        read, write, drain, close, wait_closed and get_extra_info): a request read, answered,
        the connection closed."""
        self.clients += 1
        task = asyncio.current_task()
        me = None
        try:
            if self.tune is not None:
                self.tune(writer)
            key = _key(writer)
            me = self._place(task, key)
            head = None
            if me is None:
                # every place is held: a request that comes whole at once (a slowloris never
                # sends one) may still have the place of a connection not being served, even
                # one from its own address
                try:
                    head, early = await asyncio.wait_for(self._read_head(reader), GRACE_MS / 1000)
                    t0 = time.ticks_ms()
                    while True:  # (and for GRACE_MS more, a place freed or grown quiet that long)
                        me = self._place(task, key, True)
                        if me is not None or time.ticks_diff(time.ticks_ms(), t0) >= GRACE_MS:
                            break
                        await asyncio.sleep(0.05)
                except (asyncio.TimeoutError, HTTPError):
                    pass
                if me is None:
                    self.rejected += 1
                    if self._held(key) >= PER_ADDR:
                        self.refused_addr += 1
                    await self._simple(writer, 503, "busy")
                    await self._discard(reader)  # (an unread request would reset the answer)
                    return
            try:
                if head is None:
                    head, early = await asyncio.wait_for(self._read_head(reader), self.timeout_s)
                method, path, query, headers = parse_lines(head, self.max_target, USED)
                if path[:6] == "/form/":  # (a form's site is checked: its Origin and Host kept too)
                    headers = parse_lines(head, self.max_target, USED + ("host", "origin"))[3]
                head = None  # (its lines: not held while the answer streams)
            except asyncio.TimeoutError:
                await self._refuse(writer, 408, "request head not received in time")
                return
            except HTTPError as e:
                await self._refuse(writer, e.status, e.why, reader)
                return
            self.requests += 1
            if method == "POST" and self.posts.get(path, 0) is None:  # an upload (POSTS: None)
                self._state(ANSWER)
                up = None
                try:  # the password before the body: nothing of it is taken without
                    self._authorise(headers, _peer(writer))
                    up = Upload(self, reader, headers, early)
                    req = {"method": method, "path": path, "query": query, "headers": headers, "body": up}
                    answer = await self.routes[(method, path)](req, self.state, self.commands)
                    if up._buf is not None:
                        self._give_back(up._buf)
                        up._buf = None
                    await self._answer(writer, answer, True, headers)
                except HTTPError as e:  # (what the client still sends is not read: the connection closes)
                    await self._refuse(writer, e.status, e.why)
                finally:
                    if up is not None and up._buf is not None:
                        self._give_back(up._buf)
                return
            if method == "POST" and path in self.posts:
                form = path[:6] == "/form/"  # a page's form that works without JavaScript
                try:
                    body = await asyncio.wait_for(self._read_body(reader, headers, early, self.posts[path], form),
                                                  self.timeout_s)
                    self._state(ANSWER)
                    if form:
                        _same_site(headers)
                    self._authorise(headers, _peer(writer))
                    req = {"method": method, "path": path, "query": query, "headers": headers,
                           "body": _form(body) if form else _command(body)}
                    await self._answer(writer, self.routes[(method, path)](req, self.state, self.commands),
                                       True, headers)
                except asyncio.TimeoutError:
                    await self._refuse(writer, 408, "request body not received in time")
                except HTTPError as e:  # (a form's 401 asks the browser for the password: its own dialog)
                    await self._refuse(writer, e.status, e.why, reader, form and e.status == 401)
                return
            self._state(ANSWER)
            await self._route(writer, method, path, query, headers)
        except OSError:
            pass  # client went away
        except MemoryError:
            # no block left for this answer: before its head, the client is told to come
            # back (503, Retry-After: a constant, nothing to make); after, the answer is cut
            # (it tries again); metering and the other clients go on
            if me is not None and me[0] is task and not me[4]:
                self.mem_refused += 1
                self.rejected += 1
                try:
                    writer.write(BUSY)
                    await writer.drain()
                except (OSError, MemoryError):
                    pass
            else:
                self.mem_errors += 1
        except Exception as e:  # a bug met by one request: that client is closed, counted
            self.errors += 1
            self.last_error = "%s: %s" % (type(e).__name__, e)
        finally:
            if me is not None and me[0] is task:  # (taken back already if it was dropped)
                me[0] = None
                me[1] = None
            self.clients -= 1
            try:
                writer.close()
                await writer.wait_closed()
            except OSError:
                pass

    async def _discard(self, reader, limit=16384):
        # Read (a bounded amount of) what the client is still sending before closing:
        # closing with unread input makes the stack send a reset, and the client may
        # then never see our error response.
        t0 = time.ticks_ms()
        try:
            while limit > 0 and time.ticks_diff(time.ticks_ms(), t0) < 1000:  # (a trickle ends too)
                chunk = await asyncio.wait_for_ms(reader.read(512), 200)
                if not chunk:
                    break
                limit -= len(chunk)
        except (asyncio.TimeoutError, OSError):
            pass

    def _authorise(self, headers, who=None):
        """Changes need the password, sent as HTTP Basic (any user name): curl -u x:PASSWORD.
        Wrong ones are counted per client address `who` (auth.py)."""
        auth = self.commands.auth
        scheme, _, cred = headers.get("authorization", "").partition(" ")
        pw = None
        if scheme.lower() == "basic":
            try:
                pw = binascii.a2b_base64(cred.strip()).decode().partition(":")[2]
            except (ValueError, UnicodeError):
                pw = None
        ok = auth.check(pw, who) if pw is not None else False
        if ok is None:
            raise HTTPError(429, "too many wrong passwords: try again in %d s" % ((auth.wait_ms(who) + 999) // 1000))
        if not ok:
            raise HTTPError(401, "the password is needed (HTTP Basic); the first one is on the meter's screen")

    async def _read_body(self, reader, headers, body, limit, form=False):
        """The body of a command: JSON (which a page on another site cannot send without
        the browser asking first, and we never say yes), at most `limit` bytes; a form's
        (`form`: /form/...) urlencoded, its site checked (_same_site)."""
        if headers.get("content-type", "").split(";")[0].strip() != (
                "application/x-www-form-urlencoded" if form else "application/json"):
            raise HTTPError(415, "a form is sent urlencoded" if form else "commands are sent as application/json")
        if "transfer-encoding" in headers:
            raise HTTPError(411, "a Content-Length is needed")
        try:
            n = int(headers["content-length"])
        except (KeyError, ValueError):
            raise HTTPError(411, "a Content-Length is needed")
        if n < 0 or n > limit:
            raise HTTPError(413, "at most %d bytes" % limit)
        body = body[:n]
        while len(body) < n:
            chunk = await reader.read(n - len(body))
            if not chunk:
                raise HTTPError(400, "connection closed mid-body")
            body += chunk
        return body

    async def _route(self, writer, method, path, query, headers):
        if method not in ("GET", "HEAD"):
            await self._simple(writer, 405, "only GET, HEAD, and POST to " + ", ".join(self.posts))
            return
        body = method == "GET"
        handler = self.routes.get(("GET", path))
        try:
            if handler is None:
                raise HTTPError(404, "no such page")
            req = {"method": method, "path": path, "query": query, "headers": headers, "body": None}
            answer = handler(req, self.state, self.commands)
        except HTTPError as e:
            await self._simple(writer, e.status, e.why, body)
            return
        await self._answer(writer, answer, body, headers)

    async def _answer(self, writer, answer, body, headers):
        """What a handler returned, sent (api.py says what it may be); only the head if
        not `body` (HEAD)."""
        ctype, out = answer[0], answer[1]
        if out is None:
            await self._start(writer, 204, ctype, 0)
        elif isinstance(out, str):
            await self._static(writer, out, ctype, headers, body)
        elif isinstance(out, (bytes, bytearray)):
            await self._send(writer, ctype, out, body)
        else:
            await self._stream(writer, ctype, out, body, len(answer) < 3 or answer[2])

    async def _send(self, writer, ctype, data, body):
        """A 200 with `data` (bytes) as its body; only the head for HEAD."""
        await self._start(writer, 200, ctype, len(data))
        if body:
            writer.write(data)
            await self._drain(writer)

    async def _stream(self, writer, ctype, make, body, again=True):
        """A 200 whose body comes in chunks (never whole in RAM), ended by closing; small
        chunks are gathered into writes of up to STREAM_BUF bytes. `make()` gives the chunks;
        a chunk the heap has no room for is made again (see _next) rather than the answer
        cut; the first one is made before the head, so a full heap refuses the answer (503)
        instead of beginning it. `again`=False: chunks that could not be the same made
        again (the live screen: its rows would mix two frames) are not, once begun."""
        if not body:
            await self._start(writer, 200, ctype, None)
            return
        buf = self._buffer()  # before the head: no room, no answer begun
        try:
            st = [None, 0, make, again]  # the chunks, how many were taken, how to make them again
            tries = 0
            head = False
            size = len(buf)
            mv = memoryview(buf)  # written from in place: drained before it is filled again
            n = 0
            while True:
                chunk = self._next(st)
                if chunk is False:  # no room: after a collection and a pause, made again
                    tries += 1
                    if tries > MEM_TRIES:
                        raise MemoryError
                    gc.collect()
                    # the wait is the meter's, not the client's: the place is not stalled
                    # (gathered chunks each waiting went past WRITE_MS with no write, and the
                    # watch dropped the answer, or a browser's next request took its place)
                    self._moved()
                    await asyncio.sleep_ms(20 * min(tries, 10))
                    continue
                tries = 0
                if not head:
                    await self._start(writer, 200, ctype, None)
                    head = True
                if chunk is None:
                    break
                k = len(chunk)
                if n + k > size and n:
                    writer.write(mv[:n])
                    await self._drain(writer)
                    n = 0
                if k > size:
                    writer.write(chunk)
                    await self._drain(writer)
                else:
                    buf[n:n + k] = chunk
                    n += k
                chunk = None
            if n:
                writer.write(mv[:n])
                await self._drain(writer)
        finally:
            self._give_back(buf)

    async def _refuse(self, writer, status, why, reader=None, challenge=False):
        """A request refused (its head or body late, or bad: HTTPError), counted in
        `rejected`; with `reader`, what the client still sends is read and dropped;
        `challenge`: a 401 that asks a browser for the password (a form's, /form/)."""
        self._state(ANSWER)
        self.rejected += 1
        await self._simple(writer, status, why, True, _CHALLENGE if challenge else "")
        if reader is not None:
            await self._discard(reader)

    def _next(self, st):
        """The next chunk of an answer, None at its end, or False when the heap had no room
        for it. A MemoryError ends a generator: its chunks are then made again from `make`
        (the same snapshot, the same file), those already taken skipped."""
        try:
            if st[0] is None:
                it = st[2]()
                for _ in range(st[1]):
                    next(it)
                st[0] = it
            c = next(st[0])
            st[1] += 1
            return c
        except StopIteration:
            return None
        except MemoryError:
            if st[1] and not st[3]:
                raise
            st[0] = None
            self.mem_retries += 1
            return False

    async def _static(self, writer, name, ctype, headers, body):
        """A file kept gzipped on flash (firmware/static/NAME.gz), sent as it is to a client
        that takes gzip (every browser), unpacked on the fly for one that does not."""
        path = STATIC + name + ".gz"
        try:
            f = open(path, "rb")
        except OSError:
            await self._simple(writer, 404, "%s is not on the flash" % name, body)
            return
        try:
            gz = "gzip" in headers.get("accept-encoding", "")
            if gz:
                import os
                size = os.stat(path)[6]
                buf = self._buffer() if body else None  # before the head: no room, no answer begun
                try:
                    await self._start(writer, 200, ctype, size, "Content-Encoding: gzip\r\n", True)
                    if body:
                        mv = memoryview(buf)
                        while True:  # one buffer, refilled in place
                            n = f.readinto(buf)
                            if not n:
                                break
                            writer.write(mv[:n])
                            await self._drain(writer)
                finally:
                    if buf is not None:
                        self._give_back(buf)
                return
            else:
                self._state(WAIT)  # (no write timeout while another client holds the inflater)
                async with self._unpacking:  # one inflater at a time, in the room kept for it
                    self._state(ANSWER)
                    await self._unpacked(writer, f, ctype, body)
                return
        finally:
            f.close()

    async def _unpacked(self, writer, f, ctype, body):
        if not body:
            await self._start(writer, 200, ctype, None, "", True)
            return
        import deflate
        buf = bytearray(STREAM_BUF // 4)
        mv = memoryview(buf)
        src = None
        for _ in range(10):
            src = deflate.DeflateIO(f, deflate.GZIP, 9)  # tools/build/build_static.py's 512 B window
            self._room = None
            if self._spare is not None:  # its 512 B: the window's room (this answer takes 128 B)
                self._spare = None
            gc.collect()  # the room is free: the inflater's first read takes it
            try:
                n = src.readinto(buf)
                break
            except MemoryError:  # a half-made inflater is dropped; tried again after the next collections
                src = None
                f.seek(0)
                await asyncio.sleep_ms(100)
                self._state(ANSWER)
        if src is None:  # before a byte of the answer is sent: the client is told to come back
            self._rooms()
            self.rejected += 1
            await self._simple(writer, 503, "busy, try again")
            return
        try:
            await self._start(writer, 200, ctype, None, "", True)
            while n:
                writer.write(mv[:n])
                await self._drain(writer)
                n = src.readinto(buf)
        finally:
            src = None
            self._rooms()

    def _rooms(self):
        gc.collect()  # the inflater's blocks are free again: the rooms are set aside in them
        try:
            self._room = bytearray(INFLATE_ROOM)
            if self._spare is None:
                self._spare = bytearray(STREAM_BUF)
        except MemoryError:
            pass  # taken again by a later client's collection

    def _buffer(self):
        """A buffer for an answer's body (give it back with _give_back)."""
        buf = self._spare
        if buf is not None:
            self._spare = None
            return buf
        try:
            return bytearray(STREAM_BUF)
        except MemoryError:
            return bytearray(STREAM_BUF // 4)

    def _give_back(self, buf):
        if len(buf) == STREAM_BUF:
            self._spare = buf

    async def _start(self, writer, status, ctype, length, extra="", cache=False):
        head = "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nCache-Control: %s\r\nConnection: close\r\n%s" % (
            status, reason(status), ctype, "max-age=3600" if cache else "no-store", extra)
        if length is not None:
            head += "Content-Length: %d\r\n" % length
        head = (head + "\r\n").encode()
        t = asyncio.current_task()
        for s in self._slots:
            if s[0] is t:
                s[4] = True  # an answer begun: a full heap now cuts it
        writer.write(head)
        await self._drain(writer)

    async def _simple(self, writer, status, why, body=True, extra=""):
        msg = ("%d %s: %s\n" % (status, reason(status), why)).encode()
        await self._start(writer, status, "text/plain; charset=utf-8", len(msg), extra)
        if body:
            writer.write(msg)
            await self._drain(writer)
