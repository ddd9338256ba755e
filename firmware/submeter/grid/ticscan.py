# The TIC kernels this port runs best: viper where there is a native emitter, else the
# pure-Python twins.
#
# frame_scan(src, i, n, fbuf, gidx, st) -> index after the last byte consumed
#   Copies the bytes of each group (between LF and CR, both excluded) from src[i:n]
#   into fbuf and records its (start, end) in gidx; stops after STX, ETX or EOT (st[8]
#   says which) or at n. st (array 'i'): 0 state (0 outside a frame, 1 between groups,
#   2 in a group), 1 bytes used in fbuf, 2 start of the group in progress, 3 groups
#   recorded, 4 fbuf size, 5 group capacity, 6 unused, 7 malformed (unterminated or
#   oversized) groups, 8 the event that stopped the scan (0 none, 2 STX, 3 ETX, 4 EOT).
# check_groups(fbuf, gidx, g0, g1, info, hashes) -> ok | malformed << 10 | ok_ht << 20
#   (ok_ht: good groups separated by HT, i.e. standard mode; counts stay under 1024)
#   Checks groups g0..g1-1; info (array 'H', 4 per group): label end, horodate end
#   (0: none), status (1 ok, 0 checksum error, 2 malformed: a control byte or DEL, which
#   is what a non-text byte becomes once 7-bit, or no label before the first separator),
#   separator (9 HT or 32 SP);
#   hashes (array 'i'): label_hash() of each group's label, so the decoder finds the
#   labels it wants without making a bytes object per group.
# parse_uint(buf, s, e) -> int: decimal digits buf[s:e] (at most 9), or -1
# same(buf, s, e, ref, n) -> 1 if buf[s:e] == ref[:n]
# extract(fbuf, gidx, info, hashes, ng, keys, nkeys, slots, nums, nnum, spans, nslot)
#   -> groups matched: the values of the labels in keys (sorted hashes, slot of each in
#   slots), numbers parsed into nums[slot] (-2 absent, -1 not digits), text as
#   (start, end) in spans[2 slot]; the last slot is DATE's horodate.
try:
    from .ticscan_viper import frame_scan, check_groups, parse_uint, same, extract
    KERNEL = "viper"
except Exception:  # no native emitter, or CPython
    from .ticscan_py import frame_scan, check_groups, parse_uint, same, extract
    KERNEL = "python"


def label_hash(label):
    """The hash check_groups stores for a label (bytes)."""
    h = 5381
    for c in label:
        h = ((h * 33) ^ c) & 0x3FFFFFFF
    return h
