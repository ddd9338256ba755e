# The wall clock from NTP when the grid meter gives no time (historic TIC): a real UDP
# exchange with a local server, and every kind of useless answer turned away.
import asyncio
import socket
import struct

from compat import rng
from submeter.net import ntp
from submeter.clock import day_number

NOON = day_number(2026, 11, 23) * 86400 + 12 * 3600  # UTC seconds since 2000
TO_1900 = 3155673600


def answer(secs, mode=4, stratum=2, leap=0, frac=0):
    b = bytearray(48)
    b[0] = (leap << 6) | (4 << 3) | mode
    b[1] = stratum
    b[40:48] = struct.pack("!II", secs & 0xFFFFFFFF, frac)
    return bytes(b)


def test_answers_are_read_or_refused():
    assert ntp.parse(answer(NOON + TO_1900)) == NOON
    assert ntp.parse(answer(NOON + TO_1900, frac=0xC0000000)) == NOON + 1    # rounded
    assert ntp.parse(answer(NOON + TO_1900, stratum=0)) is None             # kiss-of-death
    assert ntp.parse(answer(NOON + TO_1900, leap=3)) is None                # server not synchronised
    assert ntp.parse(answer(NOON + TO_1900, mode=3)) is None                # a client's packet, echoed
    assert ntp.parse(answer(0)) is None
    assert ntp.parse(b"\x24" * 20) is None                                  # truncated
    t2040 = day_number(2040, 1, 1) * 86400
    assert ntp.parse(answer(t2040 + TO_1900)) == t2040                      # past the 2036 roll-over


def local_server():
    """A UDP socket on a free port of 127.0.0.1: (socket, port)."""
    r = rng(5)
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for _ in range(20):
        port = 20000 + r.randint(0, 20000)
        try:
            srv.bind(socket.getaddrinfo("127.0.0.1", port)[0][-1])
            break
        except OSError:
            continue
    srv.setblocking(False)
    return srv, port


async def serve(srv, replies, asked):
    """Answers each request with the next of `replies` (a list of answers each)."""
    while replies:
        try:
            data, addr = srv.recvfrom(64)
        except OSError:
            await asyncio.sleep_ms(5)
            continue
        asked.append(data)
        for rep in replies.pop(0):
            srv.sendto(rep, addr)


def test_a_query_to_a_local_server():
    srv, port = local_server()
    asked = []

    async def main():
        # first a useless answer then a good one; then silence: None, after the timeout
        task = asyncio.create_task(serve(srv, [[answer(0), answer(NOON + TO_1900)]], asked))
        got = await ntp.query("127.0.0.1", port, timeout_ms=2000)
        none = await ntp.query("127.0.0.1", port, timeout_ms=200)
        task.cancel()
        return got, none

    try:
        got, none = asyncio.run(main())
    finally:
        srv.close()
    assert got == NOON and none is None
    assert len(asked[0]) == 48 and asked[0][0] & 7 == 3  # a version 4 client request


class Board:
    """A board's RTC: `rtc` (UTC seconds since 2000, None: it does not know), and what was set."""

    def __init__(self, rtc):
        self.rtc = rtc
        self.set = []

    def utc_s(self):
        return self.rtc

    def set_utc(self, t):
        self.set.append(t)


class Wall:
    def __init__(self):
        self.set = []

    def set_utc(self, t, source):
        self.set.append((t, source))


def test_the_wall_clock_comes_from_the_rtc_and_from_ntp_which_sets_the_rtc():
    srv, port = local_server()
    counts, faults = {"ok": 0, "failed": 0}, []
    lost, known, offline = (Board(None), Wall()), (Board(NOON - 60), Wall()), (Board(None), Wall())

    async def main():
        task = asyncio.create_task(serve(srv, [[answer(NOON + TO_1900)]], []))
        # an RTC that does not know the time: NTP's, and the RTC set with it
        keep = [asyncio.create_task(ntp.keep_time(lost[0], lost[1], "127.0.0.1", lambda: True, counts,
                                                  faults.append, port)),
                # an RTC that knows it, no server: the RTC's
                asyncio.create_task(ntp.keep_time(known[0], known[1], "", lambda: True, counts, faults.append)),
                # the network not up yet: the server not asked
                asyncio.create_task(ntp.keep_time(offline[0], offline[1], "127.0.0.1", lambda: False, counts,
                                                  faults.append, port))]
        for _ in range(100):
            await asyncio.sleep_ms(20)
            if counts["ok"]:
                break
        for t in keep + [task]:
            t.cancel()

    try:
        asyncio.run(main())
    finally:
        srv.close()
    assert lost[1].set == [(NOON, "ntp")] and lost[0].set == [NOON]
    assert known[1].set == [(NOON - 60, "rtc")] and known[0].set == []
    assert offline[1].set == [] and offline[0].set == []
    assert counts == {"ok": 1, "failed": 0} and faults == []
