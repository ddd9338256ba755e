# The displays send only the pages (8 rows) that changed: sync_page, viper where the port
# has a native emitter, else its pure-Python twin. A once-a-second refresh of a figure
# then costs a few pages of bus time, not the whole 1 KB (23 ms of 400 kHz I2C).
# The twin only where there is no viper (the errors submeter.kernels.pick falls back on,
# which this package does not import): no native emitter (SyntaxError), a .mpy for
# another architecture (ValueError), CPython (ImportError). KERNEL: which one runs.
try:
    from .fbsync_viper import sync_page
    KERNEL = "viper"
except (ImportError, SyntaxError, ValueError):
    from .fbsync_py import sync_page
    KERNEL = "python"


def push_pages(d):
    """A display driver's show_pages(): each page (8 rows of 128 columns) whose bytes
    changed since they were last sent (all of them the first time, the panel's RAM being
    random at power-up) goes out through d.write_page(page, data), one per step. The driver
    has buf, shown (a copy of what the panel holds), send_all and pages_sent."""
    mv = memoryview(d.buf)
    first = d.send_all
    d.send_all = False
    for page in range(8):
        if sync_page(d.buf, d.shown, page * 128, 128) or first:
            d.write_page(page, mv[page * 128:(page + 1) * 128])
            d.pages_sent += 1
            yield page
