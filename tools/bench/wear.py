# wear: how the meter's writes wear the flash of its vfs partition, measured rather than
# assumed. On the device model's littlefs (the unix port's vfs.VfsLfs2: the same littlefs
# 2.8 and the same vfs_lfsx.c, hence block_cycles 100, as the ESP32 port) on a flash in
# RAM of BLOCKS 4 KB blocks that counts each block's erases, formatted and mounted as the
# ESP32 port does it (inisetup.py: VfsLfs2.mkfs(bdev) with the defaults: readsize,
# progsize and lookahead 32, mtime on; _boot.py mounts it alike). It lays down what the
# meter keeps there, then runs DAYS days of the meter's writes through the firmware's own
# code: Store.save every save_s (288 a day); History.tick at midnight (the day's record,
# the month's, the index), then the ledger saved; 4 tariff changes a day (a Tempo day: HP
# at 06:00 and 14:00, HC at 12:00 and 22:00, a new colour each day), each saved at once,
# as app.py does. What littlefs asks of a flash, not an ESP32's flash itself.
#   MICROPYPATH=firmware:boards:build/lib:.frozen build/bin/micropython tools/bench/wear.py \
#       [BLOCKS [DAYS]] [--old | --kept] [--rewrite]
# BLOCKS: 112 (0x70000) unless given; DAYS: 40. From a quarter of the run on, --old keeps
# history.bin.old (what a change of the history's layout leaves for good) and --kept that
# and the damaged copies of the ledger too (store.KEEP sets). --rewrite makes every save
# rewrite history.bin as well (what the budget must catch). The most-worn block is taken
# over the run's last half, once littlefs has gone round the partition many times.
# Prints the figures, then one JSON line (host_tests/test_host_image.py reads it).
import array
import json
import os
import sys
import vfs

BLOCK = 4096
CYCLES = 100000          # erase cycles a NOR flash block is specified for (data sheets' usual minimum)
MOUNT = "/wear"
_ERASED = b"\xff" * BLOCK


class Flash:
    """A flash of `count` blocks in RAM, with the extended block protocol littlefs uses on
    the ESP32 (esp32.Partition): reads and programs at an offset within a block, erases by
    ioctl 6. Counts the erases of each block, and the programs onto bytes not erased (a NOR
    flash can only clear bits: there would be none)."""

    def __init__(self, count):
        self.count = count
        self.mem = bytearray(_ERASED * count)
        self.mv = memoryview(self.mem)
        self.erases = array.array("I", [0] * count)
        self.unerased = 0

    def readblocks(self, block, buf, off=0):
        a = block * BLOCK + off
        buf[:] = self.mv[a:a + len(buf)]

    def writeblocks(self, block, buf, off=None):
        if off is None:  # the simple protocol: whole blocks, erased first
            for k in range(len(buf) // BLOCK):
                self.ioctl(6, block + k)
            off = 0
        a = block * BLOCK + off
        n = len(buf)
        if bytes(self.mv[a:a + n]) != _ERASED[:n]:
            self.unerased += 1
        self.mv[a:a + n] = buf

    def ioctl(self, op, arg):
        if op == 4:  # block count
            return self.count
        if op == 5:  # block size
            return BLOCK
        if op == 6:  # erase a block
            self.erases[arg] += 1
            self.mv[arg * BLOCK:(arg + 1) * BLOCK] = _ERASED
        return 0     # init, deinit, sync


def root():
    here = __file__.replace("\\", "/")
    parts = here.split("/")[:-3]  # tools/bench/wear.py
    return "/".join(parts) if parts else "."


def write(path, data):
    with open(MOUNT + "/" + path, "wb") as f:
        f.write(data)


def lay_down(top):
    """What the meter keeps on its vfs: as test_the_vfs_partition_holds_what_the_meter_writes
    counts it. Returns the History and the Store, made by the firmware's own classes."""
    from submeter.config import write_json
    from submeter.ledger.history import History
    from submeter.ledger.store import Store
    from submeter.net.auth import Auth
    # inisetup.py writes boot.py at the first boot (its text: about 140 bytes)
    write("boot.py", b"# This file is executed on every boot (including wake-boot from deepsleep)\n"
          b"#import esp\n#esp.osdebug(None)\n#import webrepl\n#webrepl.start()\n")
    # make deploy: main.py, the one-line board.py, the pages' files, its manifest
    with open(top + "/firmware/main.py", "rb") as f:
        write("main.py", f.read())
    write("board.py", b"from olimex_esp32_poe import Board\n")
    os.mkdir(MOUNT + "/static")
    names = []
    for name in sorted(os.listdir(top + "/firmware/static")):
        if name.endswith(".gz"):
            with open(top + "/firmware/static/" + name, "rb") as f:
                write("static/" + name, f.read())
            names.append("static/" + name)
    write(".deploy.json", json.dumps({p: "0" * 64 for p in ["main.py", "board.py"] + names}).encode())
    # the firmware: the password record, the largest config.json the API takes (4 KB),
    # the history and the ledger
    Auth(MOUNT, lambda: 0)
    write_json(MOUNT + "/config.json", {"pad": "x" * (4096 - 12)})
    hist = History(MOUNT, 5)
    hist.prepare()
    return hist, Store(MOUNT, hist)


def keep_aside(hist, store, ledger, copies=True):
    """The files the firmware may leave on the partition for good, at their most:
    history.bin.old (kept aside after a change of its layout) and KEEP sets of damaged
    copies of the ledger (ledger.bin.bad1...). littlefs levels wear over the blocks it
    allocates, never moving a file that stays: each one takes blocks out of the rotation."""
    from submeter.ledger.store import KEEP, NAMES
    with open(hist.path, "rb") as f:
        data = f.read()
    with open(hist.path + ".old", "wb") as f:
        f.write(data)
    if not copies:
        return
    assert store.save(ledger)  # (a block each, whatever their size)
    with open(MOUNT + "/ledger.bin", "rb") as f:
        data = f.read()
    for k in range(1, KEEP + 1):
        for name in NAMES:
            write("%s.bad%d" % (name, k), data)


def kept_files():
    return len([n for n in os.listdir(MOUNT) if ".bad" in n])


def erased(dev):
    return sum(dev.erases)


def run(count, days, kept=False, rewrite=False):
    from submeter.clock import day_number
    from submeter.config import DEFAULTS
    from submeter.ledger.ledger import Ledger
    dev = Flash(count)
    vfs.VfsLfs2.mkfs(dev)  # as inisetup.py: the defaults
    vfs.mount(vfs.VfsLfs2(dev), MOUNT)
    try:
        hist, store = lay_down(root())
        ledger = Ledger(5)
        store.load(ledger)
        st = os.statvfs(MOUNT)
        used = st[2] - st[3]  # blocks littlefs holds once the files are there
        cfg = DEFAULTS
        per_day = 86400 // cfg["save_s"]
        tariff = {per_day * 6 // 24: 1, per_day * 12 // 24: 0, per_day * 14 // 24: 1, per_day * 22 // 24: 0}
        first = day_number(2026, 1, 1)
        saves = save_erases = closes = close_erases = 0
        held = used
        start = erased(dev)
        half = None
        for d in range(days):
            if kept and d == days // 4:  # all the firmware may leave there for good, one day
                keep_aside(hist, store, ledger, kept == "all")
                st = os.statvfs(MOUNT)
                held = st[2] - st[3]
            if d == days // 2:
                half = array.array("I", dev.erases)
            colour = 2 * (d % 3)  # Tempo: blue, white, red; HC then HP
            before = erased(dev)
            if hist.tick(ledger, first + d, cfg):  # midnight: the day closed, its base saved
                assert store.save(ledger), store.last_error
                closes += 1
            close_erases += erased(dev) - before
            for slot in range(per_day):
                for i in range(5):  # about 1 kW on each input over the slot
                    ledger._add(i, 1000 * cfg["save_s"] * 1000)
                ledger.add_volume("water", 3)
                before = erased(dev)
                hp = tariff.get(slot)
                if hp is not None and ledger.set_period(colour + hp, 0):
                    assert store.save(ledger), store.last_error  # a tariff change: saved at once
                    saves += 1
                assert store.save(ledger), store.last_error  # the scheduled save
                saves += 1
                if rewrite:
                    with open(hist.path, "rb") as f:
                        data = f.read()
                    with open(hist.path, "wb") as f:
                        f.write(data)
                save_erases += erased(dev) - before
        total = erased(dev) - start
        late = days - days // 2
        worst = max(range(count), key=lambda b: dev.erases[b] - half[b])
        worst_day = (dev.erases[worst] - half[worst]) / late
        # the budget test_host_image.py held before: two erases a save, levelled over the
        # blocks free once the files are there, less history.bin's twice (its rewrite, .old)
        hist_blocks = (os.stat(hist.path)[6] + BLOCK - 9) // (BLOCK - 8)
        model_day = 2 * (per_day + 2 + 4)
        model_years = CYCLES * (count - used - 2 * hist_blocks) / model_day / 365
        spread = [dev.erases[b] - half[b] for b in range(count)]
        rotating = len([e for e in spread if e])  # the blocks littlefs wrote in the last half
        out = {"blocks": count, "days": days, "used": used, "saves": saves, "closes": closes,
               "erases": total, "per_save": save_erases / saves, "per_close": close_erases / max(1, closes),
               "per_day": total / days, "worst_block": worst, "worst_per_day": worst_day,
               "worst_total": dev.erases[worst], "years": CYCLES / worst_day / 365 if worst_day else 1e9,
               "model_years": model_years, "unerased": dev.unerased,
               "history_errors": hist.errors, "store_errors": store.errors,
               "kept": kept_files(), "held": held, "rotating": rotating,
               "even_years": CYCLES * rotating * late / sum(spread) / 365, "late": spread}
    finally:
        vfs.umount(MOUNT)
    return out


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    count = int(args[0], 0) if args else 112
    days = int(args[1]) if len(args) > 1 else 40
    kept = "all" if "--kept" in sys.argv else "old" if "--old" in sys.argv else None
    rewrite = "--rewrite" in sys.argv
    r = run(count, days, kept, rewrite)
    late = days - days // 2
    print("vfs: %d blocks of 4 KB (0x%x), littlefs 2 as the ESP32 formats it; %d days" % (count, count * BLOCK, days))
    print("files laid down: %d blocks in use%s" % (r["used"], "; from day %d, %d with history.bin.old%s" % (
        days // 4, r["held"], " and %d damaged copies of the ledger" % r["kept"] if r["kept"] else "") if kept else ""))
    if rewrite:
        print("every save also rewrites history.bin")
    print("saves: %d (%.0f a day), %.2f erases each (mean); day closes: %d, %.1f erases each" % (
        r["saves"], r["saves"] / days, r["per_save"], r["closes"], r["per_close"]))
    print("erases: %.0f a day; over the last %d days %d blocks took them, %.1f a day each on average: "
          "%.0f years to %d cycles" % (r["per_day"], late, r["rotating"], sum(r["late"]) / late / r["rotating"],
                                       r["even_years"], CYCLES))
    print("most-worn block over the last %d days: block %d, %.1f erases a day: %.1f years to %d cycles" % (
        late, r["worst_block"], r["worst_per_day"], r["years"], CYCLES))
    print("the old budget (2 erases a save over the blocks left free): %.1f years" % r["model_years"])
    if r["unerased"] or r["store_errors"] or r["history_errors"]:
        print("programs onto flash not erased: %d; saves failed: %d; history records failed: %d" % (
            r["unerased"], r["store_errors"], r["history_errors"]))
    print(json.dumps(r))


main()
