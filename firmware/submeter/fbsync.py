# The displays send only the pages (8 rows) that changed: sync_page, viper where the port
# has a native emitter, else its pure-Python twin. A once-a-second refresh of a figure
# then costs a few pages of bus time, not the whole 1 KB (23 ms of 400 kHz I2C).
try:
    from .fbsync_viper import sync_page
    KERNEL = "viper"
except Exception:
    from .fbsync_py import sync_page
    KERNEL = "python"
