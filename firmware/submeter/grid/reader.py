# The grid-meter input as an asyncio task: reads the UART the board opened, feeds the
# decoder, keeps a GridReading, and finds the meter's mode by itself.
#
# Mode detection: a TIC port is opened at 9600 Bd (Linky standard) and, when no good
# group arrives within `listen_ms`, at 1200 Bd (historic), and so on in turn. Once
# frames come, the mode holds until the line has been silent or has carried nothing
# but bad groups for `listen_ms`: then detection starts again. So when Enedis switches
# a Linky from historic to standard remotely, the meter is found again in seconds.
import asyncio

from micropython import const

from ..clock import ticks_diff
from .reading import GridReading
from .tic import TicDecoder

POLL_MS = const(40)      # 9600 Bd fills 40 ms with ~40 bytes: far below any UART rxbuf
LISTEN_MS = const(6000)  # a frame every 1-2 s: 6 s without one means the wrong mode


class TicReader:
    KINDS = ("tic_standard", "tic_historic")

    def __init__(self, board, clock, mode="auto", listen_ms=LISTEN_MS):
        self.board = board
        self.clock = clock
        self.kinds = self.KINDS if mode == "auto" else (mode,)
        self.listen_ms = listen_ms
        self.decoder = TicDecoder()
        self.reading = GridReading()
        self.kind = None            # the port setting in use
        self.locked = False         # frames are coming in that setting
        self.switches = 0           # port settings tried after the first
        self.last_frame_ms = None   # clock time of the last complete frame
        self.on_frame = None        # callable() after each frame (LED, snapshot)
        self._buf = bytearray(256)

    def state(self):
        d = self.decoder
        return {
            "port": self.kind, "locked": self.locked, "mode": d.mode, "frames": d.frames,
            "groups_ok": d.groups_ok, "checksum_errors": d.groups_bad, "malformed": d.malformed,
            "eot": d.eot, "mode_switches": self.switches,
            "last_frame_age_s": (ticks_diff(self.clock.ticks_ms(), self.last_frame_ms) // 1000
                                 if self.last_frame_ms is not None else None),
        }

    def poll(self, port, now):
        """Read what the port has, decode it; returns frames completed."""
        n = port.any()
        frames = 0
        while n > 0:
            k = port.readinto(self._buf, min(n, len(self._buf)))
            if not k:
                break
            frames += self.decoder.feed(self._buf, k)
            n -= k
        if frames:
            self.decoder.update(self.reading)
            self.last_frame_ms = now
            self.locked = True
            if self.on_frame:
                self.on_frame()
        return frames

    async def run(self):
        k = 0
        while True:
            kind = self.kinds[k % len(self.kinds)]
            if self.kind is not None and kind != self.kind:
                self.switches += 1
            self.kind = kind
            port = self.board.grid_port(kind)
            if port is None:
                return  # this board has no grid-meter input
            self.locked = False
            since = self.clock.ticks_ms()   # last sign of life in this setting
            ok0 = self.decoder.groups_ok
            while True:
                await asyncio.sleep_ms(self.clock.real_ms(POLL_MS) or 1)
                now = self.clock.ticks_ms()
                self.poll(port, now)
                if self.decoder.groups_ok - ok0 >= 3:  # not one lucky group out of noise
                    ok0 = self.decoder.groups_ok
                    since = now
                elif ticks_diff(now, since) > self.listen_ms:
                    break  # silence or only bad groups: try the next setting
            if hasattr(port, "deinit"):
                port.deinit()
            k += 1
