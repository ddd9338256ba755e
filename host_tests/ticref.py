# An independent, plain reading of the TIC specs for the tests: split groups naively,
# check them with the checksum formula written out, and read the corpus README's
# "check result" column. Slow and simple on purpose.

import os

# the repository carries its copy of the corpus (host_tests/corpus/, sources in its README)
CORPUS = os.getenv("SUBMETER_CORPUS") or "host_tests/corpus/tic"


def group(label, value):
    """A historic group as a meter sends it: LF, label SP value SP checksum, CR."""
    body = label + b" " + value
    return b"\n" + body + b" " + bytes(((sum(body) & 0x3F) + 0x20,)) + b"\r"


def checksum_ok(group):
    """group: bytes between LF and CR."""
    if len(group) < 3 or group[-2] not in (9, 32):
        return False
    sep = group[-2]
    body = group[:-2]
    if any((c < 32 and c != 9) or c == 127 for c in body):  # control bytes, DEL
        return False
    if not body or body[0] == sep:
        return False
    s = sum(body)
    ck = group[-1]
    if sep == 9:
        return ((s + 9) & 0x3F) + 0x20 == ck
    return (s & 0x3F) + 0x20 == ck or ((s + 32) & 0x3F) + 0x20 == ck


def naive_groups(data):
    """Every LF..CR run in data, whatever the framing."""
    out = []
    i = 0
    while True:
        a = data.find(b"\n", i)
        if a < 0:
            return out
        b = data.find(b"\r", a + 1)
        if b < 0:
            return out
        nxt = data.find(b"\n", a + 1)
        if nxt < 0 or nxt > b:
            out.append(data[a + 1:b])
        i = a + 1


def expectations():
    """{file: {"good": n, "bad": n, "malformed": n, "eot": n, "pending": bool,
    "frames": n}} from the corpus README's table."""
    import os
    exp = {}
    with open(CORPUS + "/README.md") as f:
        for line in f:
            cells = [c.strip() for c in line.split("|")]
            if len(cells) < 7 or not cells[1].endswith(".tic"):
                continue
            name, exact, result = cells[1], cells[4], cells[5]
            e = {"good": 0, "bad": 0, "malformed": 0, "eot": 0, "pending": False}
            words = result.replace(",", " ").replace("+", " ").replace("(", " ").split()
            for k, w in enumerate(words):
                if "/" in w and words[k + 1:k + 2] == ["good"]:
                    e["good"] = int(w.split("/")[0])
                elif w.isdigit() and k + 1 < len(words):
                    nxt = words[k + 1]
                    if nxt in ("good", "bad", "malformed"):
                        e[nxt] = int(w)
                    elif nxt == "unterminated":
                        if "EOF" in result:
                            e["pending"] = True
                        else:
                            e["malformed"] += int(w)
                elif w.startswith("EOT="):
                    e["eot"] = int(w[4:])
            partial = "fragment" in exact or "partial" in result or "starts mid-frame" in cells[2]
            e["frames"] = 0 if partial else 1
            exp[name] = e
    return exp


def read(name):
    with open(CORPUS + "/" + name, "rb") as f:
        return f.read()
