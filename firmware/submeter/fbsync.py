# The displays send only the pages (8 rows) that changed: sync_page, viper where the port
# has a native emitter, else its pure-Python twin. A once-a-second refresh of a figure
# then costs a few pages of bus time, not the whole 1 KB (23 ms of 400 kHz I2C).
try:
    from .fbsync_viper import sync_page
    KERNEL = "viper"
except Exception:
    from .fbsync_py import sync_page
    KERNEL = "python"


def push_pages(d):
    """A display driver's show_pages(): each page (8 rows of 128 columns) whose bytes
    changed since they were last sent (all of them the first time, the panel's RAM being
    random at power-up) goes out through d._page(page, data), one per step. The driver
    has buf, shown (a copy of what the panel holds), _all and pages_sent."""
    mv = memoryview(d.buf)
    first = d._all
    d._all = False
    for page in range(8):
        if sync_page(d.buf, d.shown, page * 128, 128) or first:
            d._page(page, mv[page * 128:(page + 1) * 128])
            d.pages_sent += 1
            yield page
