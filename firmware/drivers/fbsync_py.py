# The pure-Python twin of fbsync_viper.sync_page (same test vectors).


def sync_page(buf, shown, start, n):
    changed = 0
    for i in range(start, start + n):
        if buf[i] != shown[i]:
            shown[i] = buf[i]
            changed = 1
    return changed
