# The terminal as the simulated board's panel: its display drawn in it (braille, or half
# blocks), the LEDs and the last log lines on the lines below, the keyboard as its buttons.
# Imported only when the board draws in a terminal (the tests and the soak do not).
import sys


class Terminal:
    """Raw-ish keyboard and in-place drawing, when stdin/stdout are a terminal."""

    ICANON = 0o2
    ECHO = 0o10

    def __init__(self):
        self.saved = None
        self.logs = []
        try:
            import termios
            self.termios = termios
            self.saved = termios.tcgetattr(0)
            termios.tcgetattr(1)
        except Exception:
            self.saved = None

    @property
    def active(self):
        return self.saved is not None

    def start(self):
        t = self.termios
        a = list(self.saved)
        a[3] &= ~(self.ICANON | self.ECHO)  # keys one at a time, no echo; Ctrl-C still works
        t.tcsetattr(0, t.TCSANOW, a)
        sys.stdout.write("\x1b[2J\x1b[?25l")

    def restore(self):
        if self.saved is not None:
            self.termios.tcsetattr(0, self.termios.TCSANOW, self.saved)
            sys.stdout.write("\x1b[?25h\n")

    @staticmethod
    def screen(disp, big=False):
        """A display's screen as text: 16 lines of 64 braille characters (2x4 pixels each,
        fits an 80x24 terminal), or with big=True 32 lines of 128 half-block characters."""
        buf = disp.buf
        w = disp.width
        rows = []
        if not disp.on:  # asleep: a dark panel
            return [" " * (w if big else w // 2)] * (disp.height // (2 if big else 4))
        if big:
            for y in range(0, disp.height, 2):
                page = (y >> 3) * w
                bit = y & 7
                rows.append("".join(" \u2580\u2584\u2588"[((buf[page + x] >> bit) & 3)] for x in range(w)))
            return rows
        for y in range(0, disp.height, 4):
            page = (y >> 3) * w
            bit = y & 7
            row = []
            for x in range(0, w, 2):
                a = (buf[page + x] >> bit) & 15       # left column, 4 pixels
                b = (buf[page + x + 1] >> bit) & 15   # right column
                # braille dots: left 1,2,3,7 -> bits 0,1,2,6; right 4,5,6,8 -> bits 3,4,5,7
                code = (a & 7) | ((a & 8) << 3) | ((b & 7) << 3) | ((b & 8) << 4)
                row.append(chr(0x2800 + code))
            rows.append("".join(row))
        return rows

    def draw(self, lines, status):
        out = ["\x1b[H"]
        edge = "+" + "-" * len(lines[0]) + "+\x1b[K\n"
        out.append(edge)
        for line in lines:
            out.append("|" + line + "|\x1b[K\n")
        out.append(edge)
        out.append(status + "\x1b[K\n")
        for line in self.logs[-4:]:
            out.append(line + "\x1b[K\n")
        out.append("\x1b[J")
        sys.stdout.write("".join(out))

    async def keyboard(self, press, stop):
        """The keys as the buttons: `press(name, ms)` holds one down (r: back for 2 s, a
        long press); q sets the Event `stop`."""
        import asyncio
        import select
        p = select.poll()
        p.register(sys.stdin, select.POLLIN)
        keys = {"w": "up", "s": "down", "\n": "ok", "\r": "ok", "b": "back", "\x7f": "back",
                "\x08": "back", "r": "back"}
        esc = ""
        while True:
            while p.poll(0):
                ch = sys.stdin.read(1)
                if esc or ch == "\x1b":
                    esc += ch
                    if len(esc) == 3:
                        name = {"A": "up", "B": "down"}.get(esc[2])
                        esc = ""
                        if name:
                            await press(name, 80)
                    continue
                if ch == "q":
                    stop.set()
                    return
                name = keys.get(ch)
                if name:
                    await press(name, 2000 if ch == "r" else 80)
            await asyncio.sleep_ms(30)
