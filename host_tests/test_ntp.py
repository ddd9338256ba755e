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


def test_a_query_to_a_local_server():
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
    asked = []

    async def serve(replies):
        while replies:
            try:
                data, addr = srv.recvfrom(64)
            except OSError:
                await asyncio.sleep_ms(5)
                continue
            asked.append(data)
            for rep in replies.pop(0):
                srv.sendto(rep, addr)

    async def main():
        # first a useless answer then a good one; then silence: None, after the timeout
        task = asyncio.create_task(serve([[answer(0), answer(NOON + TO_1900)]]))
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
