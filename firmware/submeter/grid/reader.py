# The grid-meter input as an asyncio task: reads the UART the board opened, feeds the
# decoder for that setting (TIC or P1, through the decoder protocol of grid/__init__.py),
# keeps one GridReading, and finds the meter by itself.
#
# Detection: each candidate setting is tried in turn (TIC standard 9600 Bd, TIC historic
# 1200 Bd, P1 115200 Bd 8N1 inverted, P1 DSMR 2.2/3 9600 Bd 7E1, as the config allows);
# a setting holds as soon as good data comes, and is given up when the line has been
# silent or has carried nothing good for `listen_ms`: then detection starts again. So
# when Enedis switches a Linky from historic to standard remotely, or the meter is
# replaced, it is found again in seconds.
import asyncio
import sys

from micropython import const

from ..clock import ticks_diff
from .reading import GridReading

POLL_MS = const(40)      # 115200 Bd fills 40 ms with ~460 bytes: within any UART rxbuf here
LISTEN_MS = const(6000)  # TIC frames every 1-2 s, P1 telegrams every 1 s (DSMR 4: 10 s)

CANDIDATES = {
    "auto": ("tic_standard", "tic_historic", "p1", "p1_legacy"),
    "tic": ("tic_standard", "tic_historic"),
    "tic_standard": ("tic_standard",),
    "tic_historic": ("tic_historic",),
    "p1": ("p1", "p1_legacy"),
}


def decoder_for(kind, bufs=None):
    """The decoder of port setting `kind` (a TIC or P1 one; reading in `bufs`, two frame
    buffers another decoder made, if given), set for it: the grid package's decoder
    protocol (grid/__init__.py)."""
    if kind.startswith("tic"):
        from .tic import TicDecoder
        return TicDecoder(bufs=bufs)
    from .p1 import P1Decoder
    return P1Decoder(crc_required=kind == "p1", bufs=bufs)


def _family(kind):
    # both TIC settings share one decoder (it tells the modes apart by their separator),
    # both P1 settings another: at most two, made once (a TIC decoder is ~9 KB)
    return kind[:3] if kind[:3] == "tic" else "p1"


# the modules each protocol's decoder imports (its kernel's, viper or its twin): let go
# with the decoder once the other protocol reads good data
_MODULES = {"tic": ("grid.tic", "kernels.ticscan_viper", "kernels.ticscan_py"),
            "p1": ("grid.p1", "kernels.p1scan_viper", "kernels.p1scan_py")}


def _forget(fam):
    # a module dropped from sys.modules and from its package is freed once nothing holds
    # it (imported again, from flash, if the protocol is tried again)
    root = __name__.rpartition(".")[0].rpartition(".")[0]  # "submeter"
    for name in _MODULES[fam]:
        pkg, _, leaf = name.rpartition(".")
        sys.modules.pop("%s.%s" % (root, name), None)
        parent = sys.modules.get("%s.%s" % (root, pkg))
        if parent is not None and hasattr(parent, leaf):
            delattr(parent, leaf)


def _shapes(dec):
    # what a TIC decoder has seen of frames and groups, good or bad: unchanged while the
    # line carries no LF nor STX
    return dec.groups_ok + dec.groups_bad + dec.malformed + dec.noise_frames + dec.eot


class GridReader:
    def __init__(self, board, clock, mode="auto", listen_ms=LISTEN_MS):
        self.board = board
        self.clock = clock
        self.kinds = CANDIDATES[mode]
        self.listen_ms = listen_ms
        self.decoders = {}          # one per protocol ("tic", "p1"): both at boot with grid: auto,
                                    # the other let go once one reads good data (_settle)
        self.decoder = None         # the decoder of the setting in use
        self.reading = GridReading()
        self.kind = None            # the port setting in use
        self.locked = False         # good data is coming in that setting
        self.switches = 0           # settings tried after the first
        self.last_frame_ms = None   # clock time of the last complete frame / telegram
        self.on_frame = None        # callable() after each frame (LED, snapshot)
        self.started_ms = None      # clock time run() began
        self.rx_ms = None           # clock time bytes last came in, good or not
        self.pulses = False         # the last 1200 Bd TIC window read bytes, never a group nor
                                    # a frame: pulses (a SAGEM C2000 in METROL mode), not frames
        self._buf = bytearray(512)
        self.mem_errors = 0         # polls cut short by a full heap (counted; the task goes on)
        self.port_errors = 0        # port settings that could not be set up (tried again)
        self.errors = 0             # polls that raised anything but MemoryError (counted; goes on)
        self.last_error = None      # the last one, in words
        for kind in self.kinds:     # made now, at boot: hours later a fragmented heap may
            fam = _family(kind)     # have no 2 KB block left for a decoder's buffers
            if fam not in self.decoders:
                tic = self.decoders.get("tic")  # (auto: P1 borrows the TIC decoder's 4 KB of
                self.decoders[fam] = decoder_for(kind, tic.buffers() if tic else None)  # buffers)
        # the frame buffers, kept for life: a decoder made again later (detection back to
        # a protocol let go) reads in them, needing no 2 KB block then
        self._bufs = next(iter(self.decoders.values())).buffers() if len(self.decoders) > 1 else None

    def use(self, kind):
        """Decode in port setting `kind` from now on (the port is set to it): its family's
        decoder, told the setting, its frame under way forgotten if the other family has
        written in the buffers since."""
        fam = _family(kind)
        dec = self.decoders.get(fam)
        if dec is None:  # let go (_settle), or a family the config does not try (a tool's or a
            dec = self.decoders[fam] = decoder_for(kind, self._bufs)  # test's choice)
        if self.decoder is not None and self.decoder is not dec:
            dec.restart()
        self.decoder = dec
        self.kind = kind
        dec.set_port(kind)

    def _settle(self):
        """Good data in the setting in use: the other protocol's decoder and its modules
        let go (with a TIC meter, P1's 3.9 KB; with a P1 one, TIC's ~7 KB, the frame
        buffers kept). Made again when detection comes back to that protocol (the meter
        silent for `listen_ms`, or replaced)."""
        fam = _family(self.kind)
        for other in [f for f in self.decoders if f != fam]:
            del self.decoders[other]
            _forget(other)

    def state(self):
        d = self.decoder.state() if self.decoder else {}
        d["port"] = self.kind
        d["locked"] = self.locked
        d["mode_switches"] = self.switches
        d["mem_errors"] = self.mem_errors
        d["port_errors"] = self.port_errors
        d["errors"] = self.errors
        d["last_error"] = self.last_error
        now = self.clock.ticks_ms()
        d["last_frame_age_s"] = (ticks_diff(now, self.last_frame_ms) // 1000
                                 if self.last_frame_ms is not None else None)
        d["hint"] = self.hint(now)
        return d

    def hint(self, now):
        """What to check first when nothing valid has come for a whole round of the
        settings (so not while detection is still trying them): 'garbled' when bytes
        arrive (noise, a bad cable, the wrong demodulator), 'tic_pulses' when at 1200 Bd
        they never made a group nor a frame (no LF, no STX: the metrological pulses of a
        SAGEM C2000 whose output is METROL, or interference), else 'p1_silent',
        'tic_silent' or 'silent' (auto) by what the config expects. A P1 port the grid
        operator has not opened (Fluvius: closed by default) is silent, as is an unplugged
        cable. Frames that carry the serial number alone, 'tic_veille': a C2000 whose
        output is VEILLE (its guide, 8.2), even though they are good frames."""
        if self.started_ms is None:
            return None
        if self.locked:  # frames of the serial number alone: a C2000 whose output is VEILLE
            return "tic_veille" if getattr(self.decoder, "id_only", 0) >= 3 else None
        since = self.last_frame_ms if self.last_frame_ms is not None else self.started_ms
        if ticks_diff(now, since) <= self.listen_ms * len(self.kinds):
            return None
        if self.rx_ms is not None and ticks_diff(now, self.rx_ms) < self.listen_ms:
            return "tic_pulses" if self.pulses else "garbled"
        p1 = [k[:2] == "p1" for k in self.kinds]
        return "p1_silent" if all(p1) else "silent" if any(p1) else "tic_silent"

    def poll(self, port, now):
        """Read what the port has, decode it; returns frames completed. A port or a
        decoder that raises (anything but MemoryError, counted by run()) costs this poll's
        bytes and the frame under way, counted in `errors`; the next frame is read."""
        try:
            return self._poll(port, now)
        except MemoryError:
            raise
        except Exception as e:
            self.errors += 1
            self.last_error = "%s: %s" % (type(e).__name__, e)
            self.decoder.restart()
            return 0

    def _poll(self, port, now):
        n = port.any()
        frames = 0
        if n > 0:
            self.rx_ms = now
        while n > 0:
            k = port.readinto(self._buf, min(n, len(self._buf)))
            if not k:
                break
            frames += self.decoder.feed(self._buf, k)
            n -= k
        if frames:
            if self.reading.source is not None and not self.reading.source.startswith(self.kind[:3]):
                self.reading = GridReading()  # another kind of meter: start a fresh reading
            self.decoder.update(self.reading)
            self.last_frame_ms = now
            self.locked = True
            if len(self.decoders) > 1:
                self._settle()
            if self.on_frame:
                self.on_frame()
        return frames

    async def run(self):
        k = 0
        self.started_ms = self.clock.ticks_ms()
        while True:
            kind = self.kinds[k % len(self.kinds)]
            if self.kind is not None and kind != self.kind:
                self.switches += 1
            self.kind = kind
            try:
                port = self.board.grid_port(kind)
            except Exception:  # the UART could not be set up: try again soon
                self.port_errors += 1
                await asyncio.sleep_ms(self.clock.real_ms(POLL_MS) or 1)
                k += 1
                continue
            if port is None:
                if all(self.board.grid_port(x) is None for x in self.kinds):
                    return  # this board has no grid-meter input
                k += 1
                continue
            try:
                self.use(kind)
            except MemoryError:  # no room to make its decoder again: the next setting; this
                self.mem_errors += 1  # one in its turn
                if hasattr(port, "deinit"):
                    port.deinit()
                await asyncio.sleep_ms(self.clock.real_ms(POLL_MS) or 1)
                k += 1
                continue
            self.locked = False
            since = self.clock.ticks_ms()   # last sign of life in this setting
            good = self.decoder.good()
            rx0, shape0 = self.rx_ms, _shapes(self.decoder) if kind == "tic_historic" else 0
            while True:
                await asyncio.sleep_ms(self.clock.real_ms(POLL_MS) or 1)
                now = self.clock.ticks_ms()
                try:
                    self.poll(port, now)
                except MemoryError:
                    self.mem_errors += 1  # the bytes of this poll are lost; the next frame counts
                    since = now  # (a poll the heap cut short says nothing of the line: no
                    continue     # run of them may give up a setting that was working)
                if self.decoder.good() - good >= 3:  # not one lucky group out of noise
                    good = self.decoder.good()
                    since = now
                elif ticks_diff(now, since) > self.listen_ms:
                    break  # silence or nothing good: try the next setting
            if kind == "tic_historic":  # bytes but no group, no frame, not even a bad one
                self.pulses = self.rx_ms != rx0 and _shapes(self.decoder) == shape0
            if hasattr(port, "deinit"):
                port.deinit()
            k += 1
