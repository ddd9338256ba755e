# SH1106 128x64 OLED over I2C (the 1.3" modules), as a framebuf.FrameBuffer (MONO_VLSB).
# Its RAM is 132 columns wide, the panel shows columns 2..129, and it has no horizontal
# addressing mode: show() sends the buffer a page (8 rows) at a time.
from micropython import const

from .ssd1306 import SSD1306_I2C

_COL = const(2)  # the panel's first column in the controller's RAM

# Power-up (SH1106 datasheet): display off; clock; 64 rows; offset 0; start line 0; DC-DC
# on; column 131 -> SEG0 and COM scan reversed (usual mounting); alternative COM pins;
# contrast; pre-charge; VCOM deselect level; follow RAM; not inverted; display on.
_INIT = (
    b"\xae", b"\xd5\x80", b"\xa8\x3f", b"\xd3\x00", b"\x40", b"\xad\x8b", b"\xa1", b"\xc8",
    b"\xda\x12", b"\x81\xcf", b"\xd9\x22", b"\xdb\x35", b"\xa4", b"\xa6", b"\xaf",
)


class SH1106_I2C(SSD1306_I2C):
    INIT = _INIT

    def __init__(self, i2c, addr=0x3C):
        self._page = [b"\x40", None]
        super().__init__(i2c, addr)

    def show(self):
        mv = memoryview(self.buf)
        for page in range(8):
            self.cmd(bytes((0xB0 | page, _COL & 0x0F, 0x10 | (_COL >> 4))))
            self._page[1] = mv[page * 128:(page + 1) * 128]
            self.i2c.writevto(self.addr, self._page)
