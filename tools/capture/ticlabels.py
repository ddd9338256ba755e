# TIC labels: unit and type of each (Enedis-NOI-CPT_02E historic, -54E standard).
# Types: s text, i integer, x hexadecimal, d horodate then integer, D horodate then
# text (the value may be empty), n a number with leading zeros kept as text (ids).
# One string, split once on first use: small in flash, nothing on the heap until needed.

_HIST = """ADCO - n|OPTARIF - s|ISOUSC A i|BASE Wh i|HCHC Wh i|HCHP Wh i|EJPHN Wh i|EJPHPM Wh i|
BBRHCJB Wh i|BBRHPJB Wh i|BBRHCJW Wh i|BBRHPJW Wh i|BBRHCJR Wh i|BBRHPJR Wh i|PEJP min i|PTEC - s|
DEMAIN - s|IINST A i|IINST1 A i|IINST2 A i|IINST3 A i|ADPS A i|ADIR1 A i|ADIR2 A i|ADIR3 A i|
IMAX A i|IMAX1 A i|IMAX2 A i|IMAX3 A i|PMAX W i|PAPP VA i|HHPHC - s|MOTDETAT - s|PPOT - s"""

_STD = """ADSC - n|VTIC - s|DATE - D|NGTF - s|LTARF - s|EAST Wh i|EASF01 Wh i|EASF02 Wh i|
EASF03 Wh i|EASF04 Wh i|EASF05 Wh i|EASF06 Wh i|EASF07 Wh i|EASF08 Wh i|EASF09 Wh i|EASF10 Wh i|
EASD01 Wh i|EASD02 Wh i|EASD03 Wh i|EASD04 Wh i|EAIT Wh i|ERQ1 VArh i|ERQ2 VArh i|ERQ3 VArh i|
ERQ4 VArh i|IRMS1 A i|IRMS2 A i|IRMS3 A i|URMS1 V i|URMS2 V i|URMS3 V i|PREF kVA i|PCOUP kVA i|
SINSTS VA i|SINSTS1 VA i|SINSTS2 VA i|SINSTS3 VA i|SMAXSN VA d|SMAXSN1 VA d|SMAXSN2 VA d|
SMAXSN3 VA d|SMAXSN-1 VA d|SMAXSN1-1 VA d|SMAXSN2-1 VA d|SMAXSN3-1 VA d|SINSTI VA i|
SMAXIN VA d|SMAXIN-1 VA d|CCASN W d|CCASN-1 W d|CCAIN W d|CCAIN-1 W d|UMOY1 V d|UMOY2 V d|
UMOY3 V d|STGE - x|DPM1 - D|FPM1 - D|DPM2 - D|FPM2 - D|DPM3 - D|FPM3 - D|MSG1 - s|MSG2 - s|
PRM - n|RELAIS - i|NTARF - i|NJOURF - i|NJOURF+1 - i|PJOURF+1 - s|PPOINTE - s"""

_table = None


def labels():
    """{label (bytes): (unit, type)} for every label of both modes."""
    global _table
    if _table is None:
        t = {}
        for block in (_HIST, _STD):
            for item in block.replace("\n", "").split("|"):
                name, unit, kind = item.split(" ")
                t[name.encode()] = (unit, kind)
        _table = t
    return _table


def unit(label):
    e = labels().get(label)
    return e[0] if e else None


def has_horodate(label):
    e = labels().get(label)
    return e is not None and e[1] in "dD"
