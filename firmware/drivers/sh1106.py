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

    def write_page(self, page, data):
        p = self._pagecmd
        p[0] = 0xB0 | page                        # the page, its first column
        p[1] = _COL & 0x0F
        p[2] = 0x10 | (_COL >> 4)
        self.cmd(p)
        self._data[1] = data
        self.i2c.writevto(self.addr, self._data)
