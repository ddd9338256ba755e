# The display drivers, each against a model of its controller's RAM fed by a fake bus:
# a pixel drawn in the frame buffer lands on the panel where the controller shows it;
# contrast and sleep send their commands. (MicroPython: the drivers are framebufs.)
from compat import IS_MP, skip


def need_framebuf():
    try:
        import framebuf  # noqa: F401
    except ImportError:
        skip("framebuf is MicroPython's")


class PageRAM:
    """A page-addressed controller (SH1106, ST7567, SSD1306 in page mode): 8 pages of
    `cols` columns; commands B0|page, 0x0L/0x1H column; data written at the cursor."""

    def __init__(self, cols):
        self.ram = [bytearray(cols) for _ in range(8)]
        self.page = self.col = 0
        self.cmds = []
        self.two = None  # a command whose second byte comes next

    def command(self, c):
        self.cmds.append(c)
        if self.two is not None:
            self.two = None
            return
        if c in (0x81, 0xD5, 0xA8, 0xD3, 0xAD, 0xDA, 0xD9, 0xDB, 0x8D, 0x20):
            self.two = c
        elif 0xB0 <= c <= 0xB7:
            self.page = c & 7
        elif c <= 0x0F:
            self.col = (self.col & 0xF0) | c
        elif 0x10 <= c <= 0x1F:
            self.col = (self.col & 0x0F) | ((c & 0x0F) << 4)

    def data(self, b):
        for x in b:
            self.ram[self.page][self.col] = x
            self.col += 1

    def lit(self, x, y):
        return (self.ram[y >> 3][x] >> (y & 7)) & 1


class HorizontalRAM(PageRAM):
    """SSD1306 in horizontal addressing: 0x21 columns, 0x22 pages, then a stream."""

    def __init__(self):
        super().__init__(128)
        self.arg = []

    def command(self, c):
        if self.arg:
            self.arg.append(c)
            if len(self.arg) == 3:
                if self.arg[0] == 0x21:
                    self.col = self.arg[1]
                else:
                    self.page = self.arg[1]
                self.arg = []
            return
        if c in (0x21, 0x22) and self.two is None:
            self.arg = [c]
            self.cmds.append(c)
            return
        super().command(c)

    def data(self, b):
        for x in b:
            self.ram[self.page][self.col] = x
            self.col += 1
            if self.col == 128:
                self.col = 0
                self.page = (self.page + 1) & 7


class I2C:
    def __init__(self, ram):
        self.ram = ram

    def writeto(self, addr, buf):
        self.writevto(addr, [buf])

    def writevto(self, addr, bufs):
        b = b"".join(bytes(x) for x in bufs)
        assert addr == 0x3C
        if b[0] == 0x00:
            for c in b[1:]:
                self.ram.command(c)
        else:
            assert b[0] == 0x40
            self.ram.data(b[1:])


def pattern(d):
    d.fill(0)
    d.pixel(0, 0, 1)
    d.pixel(127, 63, 1)
    d.text("ok", 60, 28, 1)


def same(d, ram, offset=0):
    return all(ram.lit(x + offset, y) == d.pixel(x, y) for y in range(64) for x in range(128))


def test_ssd1306():
    need_framebuf()
    from drivers.ssd1306 import SSD1306_I2C
    ram = HorizontalRAM()
    d = SSD1306_I2C(I2C(ram))
    pattern(d)
    d.show()
    assert same(d, ram) and ram.lit(0, 0) and ram.lit(127, 63)
    d.contrast(40)
    d.power(False)
    assert ram.cmds[-3:] == [0x81, 40, 0xAE]


def test_sh1106_writes_each_page_two_columns_in():
    need_framebuf()
    from drivers.sh1106 import SH1106_I2C
    ram = PageRAM(132)
    d = SH1106_I2C(I2C(ram))
    assert 0xAD in ram.cmds and ram.cmds[-1] == 0xAF   # DC-DC on, display on
    pattern(d)
    d.show()
    assert same(d, ram, 2) and ram.lit(2, 0) and ram.lit(129, 63)
    assert not any(ram.ram[p][c] for p in range(8) for c in (0, 1, 130, 131))


class SPI:
    def __init__(self, ram, dc, cs):
        self.ram, self.dc, self.cs = ram, dc, cs

    def write(self, b):
        assert self.cs.v == 0, "chip select must be low"
        if self.dc.v:
            self.ram.data(bytes(b))
        else:
            for c in bytes(b):
                self.ram.command(c)


class Pin:
    def __init__(self):
        self.v = 1
        self.history = []

    def value(self, v=None):
        if v is None:
            return self.v
        self.v = v
        self.history.append(v)


def test_st7567_over_spi():
    need_framebuf()
    from drivers.st7567 import ST7567_SPI
    ram = PageRAM(132)
    cs, dc, rst = Pin(), Pin(), Pin()
    d = ST7567_SPI(SPI(ram, dc, cs), cs, dc, rst)
    assert rst.history == [0, 1] and ram.cmds[0] == 0xE2 and ram.cmds[-1] == 0xAF
    pattern(d)
    d.show()
    assert same(d, ram) and cs.v == 1
    d.contrast(255)
    d.power(False)
    assert ram.cmds[-3:] == [0x81, 63, 0xAE]   # 64 volume steps


def test_only_the_pages_that_changed_are_sent():
    need_framebuf()
    from drivers.ssd1306 import SSD1306_I2C
    from drivers.sh1106 import SH1106_I2C
    for make, ram, off in ((SSD1306_I2C, HorizontalRAM(), 0), (SH1106_I2C, PageRAM(132), 2)):
        d = make(I2C(ram))
        pattern(d)
        d.show()
        assert d.pages_sent == 8                 # the first push: all (the panel's RAM is random)
        d.show()
        assert d.pages_sent == 8                 # nothing changed: nothing sent
        d.pixel(5, 30, 1)                        # one pixel, in page 3
        d.show()
        assert d.pages_sent == 9 and same(d, ram, off)


def test_the_page_sync_kernel_and_its_twin_agree():
    from compat import rng
    from drivers import fbsync_py
    from drivers import fbsync
    kernels = [fbsync_py.sync_page]
    if IS_MP:  # CPython: the twin alone
        from drivers import fbsync_viper
        kernels.append(fbsync_viper.sync_page)
    assert fbsync.KERNEL == ("viper" if IS_MP else "python")
    r = rng(3)
    for k in kernels:
        for start, n, flips in ((0, 128, 0), (128, 128, 1), (896, 128, 5), (0, 1024, 40)):
            buf = bytearray(r.getrandbits(8) for _ in range(1024))
            shown = bytearray(buf)
            for _ in range(flips):
                buf[start + r.randint(0, n - 1)] ^= 0x10
            before = bytearray(shown)
            assert k(buf, shown, start, n) == (1 if flips else 0)
            assert shown[start:start + n] == buf[start:start + n]          # brought up to date
            assert shown[:start] == before[:start] and shown[start + n:] == before[start + n:]


def test_the_panel_sends_a_page_per_poll():
    need_framebuf()
    from submeter import config
    from drivers.ssd1306 import SSD1306_I2C
    from submeter.panel.screens import Screens
    ram = HorizontalRAM()
    d = SSD1306_I2C(I2C(ram))
    sc = Screens(d, config.validate({}))
    import test_ui
    sc.draw(test_ui.snap())
    assert d.pages_sent == 0                  # drawn in RAM; the bus waits for the polls
    sent = []
    while sc.pushing is not None:
        before = d.pages_sent
        sc.push_step()
        sent.append(d.pages_sent - before)
    assert max(sent) == 1 and sum(sent) == 8 and same(d, ram)   # one page a poll, all there


def test_a_page_goes_out_without_making_garbage():
    # a page a poll, every 20 ms while the panel changes: its commands are made in place
    if not IS_MP:
        skip("heap_lock is MicroPython's")
    import micropython
    from drivers.sh1106 import SH1106_I2C
    from drivers.ssd1306 import SSD1306_I2C

    class Bus:
        def writeto(self, addr, buf):
            pass

        def writevto(self, addr, bufs):
            pass

    for cls in (SSD1306_I2C, SH1106_I2C):
        d = cls(Bus())
        page = memoryview(d.buf)[128:256]
        micropython.heap_lock()
        try:
            d.write_page(1, page)
        finally:
            micropython.heap_unlock()
