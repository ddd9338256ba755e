# ST7567 128x64 monochrome LCD over SPI (the JLX12864-type panels), as a
# framebuf.FrameBuffer (MONO_VLSB: the controller's pages). Takes an initialised SPI bus
# and the chip-select, data/command (A0) and reset pins.
import time

import framebuf
from micropython import const

from .fbsync import push_pages

# Power-up (ST7567 datasheet, "initialisation"): soft reset; LCD bias 1/9; SEG normal;
# COM scan reversed (usual mounting); regulation ratio 5.0; electronic volume; booster,
# regulator and follower on; start line 0; display on.
_INIT = (0xE2, 0xA2, 0xA0, 0xC8, 0x25, 0x81, 0x20, 0x2F, 0x40, 0xAF)
_EV_MAX = const(63)


class ST7567_SPI(framebuf.FrameBuffer):
    width = 128
    height = 64

    def __init__(self, spi, cs, dc, rst=None):
        self.spi = spi
        self.cs = cs
        self.dc = dc
        self.buf = bytearray(self.width * self.height // 8)
        super().__init__(self.buf, self.width, self.height, framebuf.MONO_VLSB)
        self._cmd = bytearray(1)
        self.shown = bytearray(len(self.buf))  # what the panel has: only changed pages are sent
        self.send_all = True
        self.pages_sent = 0
        cs.value(1)
        if rst is not None:
            rst.value(0)
            time.sleep_ms(1)
            rst.value(1)
            time.sleep_ms(5)
        for c in _INIT:
            self.cmd(c)
        self.on = True

    def cmd(self, c):
        self._cmd[0] = c
        self.dc.value(0)
        self.cs.value(0)
        self.spi.write(self._cmd)
        self.cs.value(1)

    def contrast(self, level):
        # the electronic volume has 64 steps; the config's contrast is 0-255
        self.cmd(0x81)
        self.cmd((level & 0xFF) * _EV_MAX // 255)

    def power(self, on):
        self.cmd(0xAF if on else 0xAE)
        self.on = on

    def show(self):
        for _ in push_pages(self):
            pass

    def show_pages(self):
        """show(), a page at a time (see SSD1306_I2C.show_pages)."""
        return push_pages(self)

    def write_page(self, page, data):
        self.cmd(0xB0 | page)
        self.cmd(0x10)  # column 0
        self.cmd(0x00)
        self.dc.value(1)
        self.cs.value(0)
        self.spi.write(data)
        self.cs.value(1)
