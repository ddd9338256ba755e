# SSD1306 128x64 OLED over I2C, as a framebuf.FrameBuffer (MONO_VLSB: the controller's
# own page layout, so show() sends the buffer as it is). Takes an initialised I2C bus.
import framebuf
from micropython import const

from .fbsync import push_pages

_ADDR = const(0x3C)

# Power-up sequence (SSD1306 datasheet, section 8 and the application note's flow):
# display off; horizontal addressing; start line 0; column 127 -> SEG0 and COM scan
# reversed (the panel's usual mounting); 64 rows; offset 0; alternative COM pins;
# oscillator default; pre-charge for the internal charge pump; VCOMH; contrast;
# follow RAM; not inverted; charge pump on; display on.
_INIT = (
    b"\xae", b"\x20\x00", b"\x40", b"\xa1", b"\xa8\x3f", b"\xc8", b"\xd3\x00", b"\xda\x12",
    b"\xd5\x80", b"\xd9\xf1", b"\xdb\x30", b"\x81\xcf", b"\xa4", b"\xa6", b"\x8d\x14", b"\xaf",
)


class SSD1306_I2C(framebuf.FrameBuffer):
    width = 128
    height = 64
    INIT = _INIT

    def __init__(self, i2c, addr=_ADDR):
        self.i2c = i2c
        self.addr = addr
        self.buf = bytearray(self.width * self.height // 8)
        super().__init__(self.buf, self.width, self.height, framebuf.MONO_VLSB)
        self._cmd = [b"\x00", None]  # a command's transfer: control byte 0x00, then the command
        self._pagecmd = bytearray(3)  # a page's address command, made in place at each push
        self.shown = bytearray(len(self.buf))  # what the panel has: only changed pages are sent
        self.send_all = True                   # (its RAM is random at power-up)
        self.pages_sent = 0
        self._data = [b"\x40", None]
        for c in self.INIT:
            self.cmd(c)
        self.on = True

    def cmd(self, c):
        # control byte 0x00: the rest of this transfer is commands (no buffer made to join them)
        self._cmd[1] = c
        self.i2c.writevto(self.addr, self._cmd)

    def contrast(self, level):
        self.cmd(bytes((0x81, level & 0xFF)))

    def power(self, on):
        self.cmd(b"\xaf" if on else b"\xae")
        self.on = on

    def show(self):
        for _ in push_pages(self):
            pass

    def show_pages(self):
        """show(), a page at a time: the panel task sends one page (~3 ms of 400 kHz I2C)
        per 20 ms poll, so the loop is never held for a whole frame (23 ms)."""
        return push_pages(self)

    def write_page(self, page, data):
        self.cmd(b"\x21\x00\x7f")                 # columns 0..127
        p = self._pagecmd
        p[0] = 0x22                               # this page only
        p[1] = p[2] = page
        self.cmd(p)
        self._data[1] = data
        self.i2c.writevto(self.addr, self._data)  # control byte 0x40: display data
