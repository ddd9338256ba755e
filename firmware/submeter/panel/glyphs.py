# Text on the panel in French as well as English. framebuf's 8x8 font is ASCII only (a
# UTF-8 letter would come out as two unknown-character boxes), so each letter outside
# ASCII that the labels use is drawn here from its own 8x8 glyph: the font's base letter
# with the accent in the two free rows above it (lowercase), a compact capital (É È Ê À:
# the letter in rows 2-6, the accent above), the cedilla in the free row below; and ° ³ €
# · « » ’ … – —, ü, and the no-break spaces French typography puts before : ; ? !. The
# table is constants (a str and one bytes: in flash once frozen), the glyphs drawn with
# fill_rect, which every display has; ASCII runs go to the display's own text().
# A letter the table lacks is drawn as "?", one cell wide: what follows stays in place.
#
# The glyphs: one byte per column, bit y = row y from the top (MONO_VLSB, as framebuf's
# font); made from the font's own e a c o u i C and the accents, rows 0-1 above the
# lowercase body (rows 2-6), as small LCD fonts draw them.

_CHARS = ("\u00e9\u00e8\u00ea\u00eb\u00e0\u00e2\u00e7\u00f4\u00fb\u00f9\u00ee\u00ef\u0153\u00c9\u00c8\u00ca\u00c0\u00c7\u00b0\u00b3\u20ac\u00b7\u00ab\u00bb\u2019"
           "\u00fc\u00a0\u202f\u2026\u2013\u2014")
_GLYPHS = (
    b"\x00\x38\x7c\x56\x57\x5d\x58\x00"  # é
    b"\x00\x38\x7d\x57\x56\x5c\x58\x00"  # è
    b"\x00\x38\x7e\x55\x55\x5e\x58\x00"  # ê
    b"\x00\x39\x7d\x54\x54\x5d\x59\x00"  # ë
    b"\x00\x20\x75\x57\x56\x7c\x78\x00"  # à
    b"\x00\x20\x76\x55\x55\x7e\x78\x00"  # â
    b"\x00\x38\x7c\xc4\xc4\x6c\x28\x00"  # ç
    b"\x00\x38\x7e\x45\x45\x7e\x38\x00"  # ô
    b"\x00\x3c\x7e\x41\x41\x7e\x3c\x00"  # û
    b"\x00\x3c\x7d\x43\x42\x7c\x3c\x00"  # ù
    b"\x00\x00\x02\x7d\x7d\x02\x00\x00"  # î
    b"\x00\x01\x01\x7c\x7c\x01\x01\x00"  # ï
    b"\x38\x44\x44\x38\x54\x54\x58\x00"  # œ
    b"\x00\x7c\x7c\x56\x57\x55\x44\x00"  # É
    b"\x00\x7c\x7d\x57\x56\x54\x44\x00"  # È
    b"\x00\x7c\x7e\x55\x55\x56\x44\x00"  # Ê
    b"\x00\x78\x7d\x17\x16\x7c\x78\x00"  # À
    b"\x00\x3e\x7f\xc1\xc1\x63\x22\x00"  # Ç
    b"\x00\x02\x05\x05\x02\x00\x00\x00"  # °
    b"\x00\x11\x15\x1f\x00\x00\x00\x00"  # ³
    b"\x14\x1c\x3e\x77\x55\x55\x41\x00"  # €
    b"\x00\x00\x00\x18\x18\x00\x00\x00"  # ·
    b"\x00\x08\x14\x22\x08\x14\x22\x00"  # «
    b"\x00\x22\x14\x08\x22\x14\x08\x00"  # »
    b"\x00\x00\x00\x04\x07\x03\x00\x00"  # ’
    b"\x00\x3d\x7d\x40\x40\x7d\x3d\x00"  # ü
    b"\x00\x00\x00\x00\x00\x00\x00\x00"  # no-break space
    b"\x00\x00\x00\x00\x00\x00\x00\x00"  # narrow no-break space (French before : ; ? !)
    b"\x00\x40\x00\x00\x40\x00\x00\x40"  # …
    b"\x00\x08\x08\x08\x08\x08\x08\x00"  # –
    b"\x08\x08\x08\x08\x08\x08\x08\x08"  # —
)


def glyph(d, ch, x, y, c=1):
    """One character outside ASCII at (x, y), in colour c (lit pixels only, as text())."""
    k = _CHARS.find(ch) * 8
    if k < 0:
        d.text("?", x, y, c)
        return
    for col in range(8):
        bits = _GLYPHS[k + col]
        row = 0
        while bits:
            if bits & 1:
                n = 0
                while bits & 1:  # a run of lit pixels down this column: one rectangle
                    bits >>= 1
                    n += 1
                d.fill_rect(x + col, y + row, 1, n, c)
                row += n
            else:
                bits >>= 1
                row += 1


try:
    memoryview("")

    def _size(s):  # its UTF-8 bytes, counted without a copy (MicroPython: a str is a buffer)
        return len(memoryview(s))
except TypeError:  # CPython (the tests)
    def _size(s):
        return len(s.encode())


def text(d, s, x, y, c=1):
    """The string s at (x, y), 8 pixels a character, as framebuf's text() but with the
    accented letters: an ASCII string is one call to d.text(), told in C (as many bytes as
    characters); otherwise its ASCII runs and each other character's glyph."""
    if _size(s) == len(s):
        d.text(s, x, y, c)
        return
    start = k = 0
    for ch in s:
        if ord(ch) > 126:
            if k > start:
                d.text(s[start:k], x + 8 * start, y, c)
            glyph(d, ch, x + 8 * k, y, c)
            start = k + 1
        k += 1
    if start == 0:
        d.text(s, x, y, c)
    elif k > start:
        d.text(s[start:], x + 8 * start, y, c)


class Face:
    """A display whose text() draws the accented letters (text() above); every other
    method is the display's own: those the screens call at each drawing looked up once
    (nothing made per call), the rest through __getattr__; what the display lacks it lacks
    here too (hasattr tells, as on the display)."""

    def __init__(self, disp):
        self.disp = disp
        for name in ("fill", "fill_rect", "rect", "hline", "show", "show_pages", "power"):
            f = getattr(disp, name, None)
            if f is not None:
                setattr(self, name, f)

    def __getattr__(self, name):  # the display's state (on, buf, width...): read where it lives
        return getattr(self.disp, name)

    def text(self, s, x, y, c=1):
        text(self.disp, s, x, y, c)
