# Strict JSON syntax (RFC 8259) for the bodies of commands, checked before json.loads.
#
# MicroPython's json.loads skips what it does not expect instead of refusing it:
# '{"a"}', '{"a":}' and '{,}' load as {}, '{"counter" 1}' as {"counter": 1}, '[1 2]' as
# [1, 2], a NUL after a key is passed over (measured on the 1.25 unix port). A mistyped
# command then acts as another one: '{"counter"}' posted to /api/reset resets every
# partial counter, as {} does. Found by the HTTP fuzz (host_tests/test_host_httpfuzz.py).
# No allocation but the UTF-8 check's string; nesting is bounded (commands nest 3 deep).

DEPTH = 8


def well_formed(b):
    """True if b (bytes) is one JSON value, in UTF-8, with only JSON whitespace around."""
    try:
        b.decode()
    except UnicodeError:
        return False
    n = len(b)
    i = _value(b, _ws(b, 0, n), n, 0)
    return i >= 0 and _ws(b, i, n) == n


def _ws(b, i, n):
    while i < n and b[i] in (32, 9, 10, 13):
        i += 1
    return i


def _value(b, i, n, depth):
    """The index after the value at b[i], or -1."""
    if i >= n:
        return -1
    c = b[i]
    if c == 123 or c == 91:  # { [
        if depth >= DEPTH:
            return -1
        close = 125 if c == 123 else 93
        i = _ws(b, i + 1, n)
        if i < n and b[i] == close:
            return i + 1
        while True:
            if close == 125:  # "key" :
                if i >= n or b[i] != 34:
                    return -1
                i = _ws(b, _string(b, i, n), n)
                if i < 0 or i >= n or b[i] != 58:
                    return -1
                i = _ws(b, i + 1, n)
            i = _value(b, i, n, depth + 1)
            if i < 0:
                return -1
            i = _ws(b, i, n)
            if i >= n:
                return -1
            if b[i] == close:
                return i + 1
            if b[i] != 44:  # ,
                return -1
            i = _ws(b, i + 1, n)
    if c == 34:
        return _string(b, i, n)
    if c == 45 or 48 <= c <= 57:
        return _number(b, i, n)
    for word in (b"true", b"false", b"null"):
        if b[i:i + len(word)] == word:
            return i + len(word)
    return -1


def _string(b, i, n):
    i += 1
    while i < n:
        c = b[i]
        if c == 34:
            return i + 1
        if c < 32:
            return -1
        if c == 92:  # backslash
            if i + 1 >= n:
                return -1
            e = b[i + 1]
            if e == 117:  # \uXXXX
                if i + 6 > n or not all(_hex(x) for x in b[i + 2:i + 6]):
                    return -1
                i += 6
                continue
            if e not in (34, 92, 47, 98, 102, 110, 114, 116):
                return -1
            i += 2
            continue
        i += 1
    return -1


def _hex(c):
    return 48 <= c <= 57 or 65 <= c <= 70 or 97 <= c <= 102


def _digits(b, i, n):
    j = i
    while j < n and 48 <= b[j] <= 57:
        j += 1
    return j


def _number(b, i, n):
    if b[i] == 45:
        i += 1
    if i >= n or not 48 <= b[i] <= 57:
        return -1
    i = i + 1 if b[i] == 48 else _digits(b, i, n)
    if i < n and b[i] == 46:  # .
        j = _digits(b, i + 1, n)
        if j == i + 1:
            return -1
        i = j
    if i < n and b[i] in (101, 69):  # e E
        i += 1
        if i < n and b[i] in (43, 45):
            i += 1
        j = _digits(b, i, n)
        if j == i:
            return -1
        i = j
    return i
