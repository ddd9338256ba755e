# SNTP (RFC 4330) over UDP without holding up the loop: the request goes out, the answer
# is polled every 20 ms. Only the name lookup blocks (lwIP's DNS, a few ms on a LAN).
# keep_time is the task that sets the wall clock from the board's RTC and from NTP.
import asyncio
import socket
import struct

from micropython import const

_NTP_TO_2000 = const(3155673600)  # seconds from 1900-01-01 (NTP) to 2000-01-01


def parse(data):
    """UTC seconds since 2000 from a server's answer, or None when it is no usable time
    (too short, not a server's answer, a kiss-of-death, or an unsynchronised server)."""
    if len(data) < 48:
        return None
    mode = data[0] & 7
    leap = data[0] >> 6
    if mode != 4 or data[1] == 0 or leap == 3:
        return None
    secs, frac = struct.unpack("!II", data[40:48])
    if secs == 0:
        return None
    if secs < 0x80000000:
        secs += 0x100000000  # era 1: from February 2036 on
    return secs - _NTP_TO_2000 + (1 if frac >= 0x80000000 else 0)


async def query(host, port=123, timeout_ms=3000):
    """The time from an NTP server (UTC seconds since 2000), or None."""
    try:
        addr = socket.getaddrinfo(host, port, 0, socket.SOCK_DGRAM)[0][-1]
    except OSError:
        return None
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.setblocking(False)
        req = bytearray(48)
        req[0] = 0x23  # no leap warning, version 4, client
        s.sendto(req, addr)
        waited = 0
        while waited < timeout_ms:
            try:
                data = s.recv(64)
            except OSError:  # nothing yet
                await asyncio.sleep_ms(20)
                waited += 20
                continue
            t = parse(data)
            if t is not None:
                return t
        return None
    except OSError:
        return None
    finally:
        s.close()


async def keep_time(board, wall, host, online, counts, fault, port=123):
    """The wall clock (clock.WallClock) from the board's RTC and from NTP server `host`
    ("": none), when there is no better source (the grid meter's clock is taken from its
    frames): hourly once either knows the time; else again in 5 s while the network is not
    up (online() False), in 5 min when the server did not answer. An NTP time sets the
    board's RTC too. counts: {"ok": n, "failed": n}, counted here (/api/state "ntp");
    fault(e): an exception of the query (the task goes on)."""
    while True:
        ok = False
        t = board.utc_s()  # None: the board's RTC does not know the time (or it has none)
        if t:
            wall.set_utc(t, "rtc")
            ok = True
        if host and online():
            try:
                t = await query(host, port)
            except Exception as e:
                fault(e)
                t = None
            if t is None:
                counts["failed"] += 1
            else:
                counts["ok"] += 1
                wall.set_utc(t, "ntp")
                board.set_utc(t)  # the board's RTC then knows the time after a reset
                ok = True
        await asyncio.sleep(3600 if ok else (5 if not online() and host else 300))
