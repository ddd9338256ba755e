# The virtual device's `esp32` module (tools/device/virtdev --kind ours), on the unix port: the
# esp32.Partition calls an OTA upgrade uses, over files that stand for the flash partitions
# ota_0, ota_1 and otadata (in the device's parts folder, outside the filesystem the
# device sees). The states follow ESP-IDF's app rollback (CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE):
# set_boot() makes the slot "new"; the bootloader (tools/device/virtdev.py) boots a "new" slot as
# "pending_verify"; mark_app_valid_cancel_rollback() makes it "valid"; a slot still
# "pending_verify" at the next reset is "aborted" and the other slot boots. otadata here is
# JSON padded with 0xFF (blank = all 0xFF: the device as esptool flashed it, ota_0 boots),
# not ESP-IDF's binary entries; an image is checked by its ELF magic (ESP-IDF checks its own
# header and checksum). The same helpers are used by the bootloader on CPython.
import json

SLOTS = ("ota_0", "ota_1")
LABELS = ("otadata", "ota_0", "ota_1")
OTADATA_SIZE = 0x2000
RECORD = 512           # what is read and written of otadata: the JSON, padded
SLOT_SIZE = 0x1D0000   # our image's partition table (boards/SUBMETER/partitions.csv; tested)
ADDR = {"otadata": 0xD000, "ota_0": 0x10000, "ota_1": 0x10000 + SLOT_SIZE}
BLOCK = 4096
MAGIC = b"\x7fELF"     # the image is a unix-port executable
_FF = b"\xff" * 64     # erased flash, written 64 B at a time

_files = {}
_running = None


def load_otadata(raw):
    """{"boot": label or None, "state": {label: state}} from the otadata bytes."""
    text = bytes(raw).rstrip(b"\xff")
    if not text:
        return {"boot": None, "state": {}}
    return json.loads(text)


def dump_otadata(d):
    text = json.dumps(d).encode()
    return text + b"\xff" * (RECORD - len(text))


def other(label):
    return SLOTS[1 - SLOTS.index(label)]


def attach(folder, running):
    """Open the partition files (before the device's filesystem is mounted at /)."""
    global _running
    _running = running
    for label in LABELS:
        _files[label] = open(folder + "/" + label, "r+b")


def _otadata():
    f = _files["otadata"]
    f.seek(0)
    return load_otadata(f.read(RECORD))


def _save_otadata(d):
    f = _files["otadata"]
    f.seek(0)
    f.write(dump_otadata(d))
    f.flush()


class Partition:
    BOOT = 0
    RUNNING = 1
    TYPE_APP = 0
    TYPE_DATA = 1

    def __init__(self, id, block_size=BLOCK):
        if id == Partition.RUNNING:
            label = _running
        elif id == Partition.BOOT:
            label = _otadata()["boot"] or "ota_0"
        else:
            label = id
        if label not in _files:
            raise OSError(2)  # ENOENT, as the port says for a label it does not find
        self.label = label
        self.block_size = block_size

    @staticmethod
    def find(type=0, subtype=0xFF, label=None, block_size=BLOCK):
        return [Partition(x, block_size) for x in LABELS
                if (x in SLOTS) == (type == 0) and (label is None or label == x)]

    def _size(self):
        return OTADATA_SIZE if self.label == "otadata" else SLOT_SIZE

    def info(self):
        app = self.label in SLOTS
        return (0 if app else 1, 0x10 + SLOTS.index(self.label) if app else 0, ADDR[self.label], self._size(),
                self.label, False)

    def _at(self, block, offset, n):
        pos = block * self.block_size + offset
        if pos < 0 or pos + n > self._size():
            raise OSError(258)  # ESP_ERR_INVALID_ARG: outside the partition
        f = _files[self.label]
        f.seek(pos)
        return f

    def readblocks(self, block, buf, offset=0):
        f = self._at(block, offset, len(buf))
        got = f.readinto(buf)
        if got is not None and got < len(buf):  # past the file's end: erased flash
            for i in range(got, len(buf)):
                buf[i] = 0xFF

    def writeblocks(self, block, buf, offset=None):
        if offset is None and ((block * self.block_size) % BLOCK or len(buf) % BLOCK):
            raise OSError(260)  # ESP_ERR_INVALID_SIZE: the simple write erases whole 4 KB sectors
        f = self._at(block, offset or 0, len(buf))
        f.write(buf)
        f.flush()

    def ioctl(self, cmd, arg):
        if cmd in (1, 2, 3):  # init, deinit, sync
            return 0
        if cmd == 4:
            return self._size() // self.block_size
        if cmd == 5:
            return self.block_size
        if cmd == 6:  # erase a block (in 64 B writes: ESP-IDF's erase takes no heap, nor does this)
            f = self._at(arg, 0, BLOCK)
            for _ in range(BLOCK // len(_FF)):
                f.write(_FF)
            f.flush()
            return 0
        return None

    def set_boot(self):
        if self.label not in SLOTS:
            raise OSError(258)
        head = bytearray(4)
        self.readblocks(0, head)
        if bytes(head) != MAGIC:
            raise OSError(5379)  # ESP_ERR_OTA_VALIDATE_FAILED: not an app image
        d = _otadata()
        d["boot"] = self.label
        d["state"][self.label] = "new"
        _save_otadata(d)

    def get_next_update(self):
        return Partition(other(self.label) if self.label in SLOTS else "ota_0")

    @classmethod
    def mark_app_valid_cancel_rollback(cls):
        d = _otadata()
        if d["boot"] is None:  # blank otadata (flashed whole by esptool): ESP-IDF answers ESP_FAIL
            raise OSError(-1)
        d["state"][d["boot"]] = "valid"  # ESP-IDF marks the active otadata entry
        _save_otadata(d)
