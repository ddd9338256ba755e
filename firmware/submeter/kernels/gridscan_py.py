# Pure-Python twin of gridscan_viper.py: same arguments, same results.


def same(buf, s, e, ref, n):
    if e - s != n:
        return 0
    for i in range(n):
        if buf[s + i] != ref[i]:
            return 0
    return 1
