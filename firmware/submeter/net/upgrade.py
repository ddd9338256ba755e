# An upgrade over the network (POST /api/upgrade): a new app image received into the OTA
# slot that is not running, checked, and booted on probation. Imported for each upload and
# let go after it (api.py), so it holds no heap at boot nor between upgrades.
#
# The path: the image comes as the request's body (application/octet-stream, its
# Content-Length at most the slot's size), 512 B at a time into the server's buffer; each 4 KB
# sector is erased just before its first byte is written; the SHA-256 the client sent
# (?sha256=) must equal the received bytes' and then the flash's, read back; only then is
# the slot made the one to boot (ESP-IDF checks it is an app image), the record of the
# upgrade written (upgrade.json) and the meter restarted, its counters saved first. The
# bootloader boots the new image on probation: the firmware marks it valid once healthy
# (boards/base.py healthy); one that crashes or hangs before is rolled back at the next
# reset, and the old firmware finds the record and says so (record_at_boot).
# A refused or cut upload leaves the running image, and which slot boots, as they were.
import asyncio
import hashlib

from ..config import write_json
from .server import HTTPError

RECORD = "/upgrade.json"  # in the data folder; results: pending, trial, kept, rolled_back
SECTOR = 4096


def _query(query):
    """(sha256 digest bytes, version text) from ?sha256=HEX&version=V."""
    sha, version = None, ""
    for kv in query.split("&"):
        k, _, v = kv.partition("=")
        if k == "sha256":
            sha = v.lower()
        elif k == "version":
            version = v
    if sha is None or len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise HTTPError(400, "sha256: the image's SHA-256, 64 hexadecimal digits, is needed")
    if len(version) > 32:
        raise HTTPError(400, "version: at most 32 characters")
    return sha, version


def _hex(digest):
    return "".join("%02x" % b for b in digest)


async def receive(req, app):
    """The upload of `req` (its body a server.Upload) into the slot not running: returns
    the answer's dict; HTTPError when refused (nothing switched)."""
    sha, version = _query(req["query"])
    board = app.board
    slot = board.update_slot()
    if slot is None:
        raise HTTPError(409, "this meter's image has no second OTA slot: upgrade it over USB (make deploy)")
    body = req["body"]
    n = body.length
    if n > slot.size:
        raise HTTPError(413, "the image is %d bytes; the slot %s holds %d" % (n, slot.label, slot.size))
    if app.upgrading or app.restarting:  # one upload at a time
        raise HTTPError(409, "an upgrade or a restart is already under way")
    app.upgrading = "receiving %d bytes into %s" % (n, slot.label)
    try:
        mv = memoryview(body.buffer())  # (512 B, or 128 B where the heap had no such block)
        h = hashlib.sha256()
        pos = 0
        while pos < n:
            sector, off = pos // SECTOR, pos % SECTOR
            if not off:
                slot.erase(sector)
            got = await body.readinto(mv[:min(len(mv), SECTOR - off, n - pos)])
            slot.write(sector, mv[:got], off)
            h.update(mv[:got])
            pos += got
        if _hex(h.digest()) != sha:
            raise HTTPError(400, "the %d bytes received have another SHA-256 than the one sent: "
                                 "nothing switched, the running firmware stays" % n)
        h = hashlib.sha256()  # what the flash holds, read back
        pos = 0
        while pos < n:
            k = min(len(mv), SECTOR - pos % SECTOR, n - pos)
            if not pos % SECTOR:
                await asyncio.sleep(0)  # (the others run between sectors)
            slot.read(pos // SECTOR, mv[:k], pos % SECTOR)
            h.update(mv[:k])
            pos += k
        if _hex(h.digest()) != sha:
            raise HTTPError(500, "the flash of %s does not hold what was received: nothing switched" % slot.label)
        try:
            slot.boot()
        except OSError as e:
            raise HTTPError(400, "%s refused the image (not an app image for this chip?): %s; nothing switched"
                            % (slot.label, e))
        rec = {"from": board.running_slot(), "to": slot.label, "version": version, "sha256": sha, "size": n,
               "result": "pending"}
        try:
            write_json(board.data_dir + RECORD, rec)
        except OSError:
            pass  # the upgrade still happens; only its record (and a rollback's notice) is missing
        app.restart()
        return {"written": n, "slot": slot.label, "sha256": sha, "restarting": True}
    finally:
        app.upgrading = None


def record_at_boot(board, running):
    """The last upgrade's record, judged at boot against the slot that runs (`running`):
    a "pending" or "trial" one whose slot does not run was rolled back; one whose slot runs
    is on trial until healthy. Returns (record or None, the notice to give or None)."""
    import json
    path = board.data_dir + RECORD
    try:
        with open(path) as f:
            rec = json.load(f)
        state = rec["result"]
    except (OSError, ValueError, KeyError, TypeError):
        return None, None
    notice = None
    if state in ("pending", "trial"):
        if running != rec.get("to"):
            rec["result"] = "rolled_back"
            notice = ("rolled_back", rec.get("version") or "?")
        elif state == "pending":
            rec["result"] = "trial"
        try:
            write_json(path, rec)
        except OSError:
            pass
    return rec, notice


def kept(board, rec):
    """The upgraded firmware reported healthy: its record says so (and its notice)."""
    rec["result"] = "kept"
    try:
        write_json(board.data_dir + RECORD, rec)
    except OSError:
        pass
    return ("upgraded", rec.get("version") or "?")
