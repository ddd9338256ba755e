# Figures as the panel, the page and the script show them (one rule for all three):
# energy in kWh with 3 decimals below 100 kWh, 1 below 10,000 kWh, none above (cut, not
# rounded, as the ledger's own figures: a counter never shows energy it has not counted);
# an uptime in words ("3 d 4 h", "4 h 12 min", "12 min", "35 s"; French "3 j 4 h").


def kwh(wh):
    """Wh (an int, or a float) as kWh text without the unit: "23.456", "1234.5", "35802"."""
    wh = int(wh)
    if wh < 100000:
        return "%d.%03d" % divmod(wh, 1000)
    if wh < 10000000:
        return "%d.%d" % divmod(wh // 100, 10)
    return "%d" % (wh // 1000)


def duration(s, lang="en"):
    """Seconds in words: the two largest units that matter."""
    s = int(s)
    d, h, m = s // 86400, s // 3600 % 24, s // 60 % 60
    if d:
        return "%d %s %d h" % (d, "j" if lang == "fr" else "d", h)
    if h:
        return "%d h %d min" % (h, m)
    if m:
        return "%d min" % m
    return "%d s" % s
