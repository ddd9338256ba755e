# Viper kernel: has a page of the frame buffer changed since it was last sent? Compares
# buf[start:start+n] with the copy of what the panel shows, and brings the copy up to date.
# In its own module, as a port without a native emitter rejects the whole module at
# compile time; fbsync.py then falls back to the twin (fbsync_py.py).
import micropython


@micropython.viper
def sync_page(buf: ptr8, shown: ptr8, start: int, n: int) -> int:
    changed = 0
    i = start
    end = start + n
    while i < end:
        if buf[i] != shown[i]:
            shown[i] = buf[i]
            changed = 1
        i += 1
    return changed
