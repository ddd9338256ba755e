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
        from . import running_tree
        tree = running_tree()
        if tree is None:
            raise HTTPError(409, "this meter runs a firmware frozen into an image without a second OTA slot, "
                                 "or from source: upgrade it over USB (make deploy)")
        return await _files(req, app, tree, sha, version)
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


# -- a stock image: the firmware's .mpy files into the other folder ---------------------------
# The body is the files one after the other, each after a 128-byte head: its path (UTF-8,
# padded with spaces to 96 bytes) and its size (16 bytes, decimal, padded); the SHA-256
# sent covers the whole body. They are written into <target>.new (target: fw_a or fw_b,
# the folder not running), checked (the SHA-256 over what came, then over the files read
# back), then the folder renamed to <target> and fw.json made to name it, on trial
# (main.py: a folder not healthy by its second boot is left for the one before).
FILES_MAX = 1048576  # the most a files upload may hold (the firmware as .mpy is ~280 KB)
HEAD = 128


def _ok_path(p):
    if not p or p[0] == "/" or ".." in p or "//" in p or p.count("/") > 4 or p == "main.py" or p[:4] == "lib/":
        return False
    for c in p:
        if not ("a" <= c <= "z" or "A" <= c <= "Z" or "0" <= c <= "9" or c in "._-/"):
            return False
    return True


def _mkdirs(path):
    import os
    at = ""
    for part in path.split("/")[:-1]:
        at = at + "/" + part if at else part
        try:
            os.mkdir(at)
        except OSError:
            pass  # there already


def rmtree(path):
    """A folder and all it holds (gone already: nothing)."""
    import os
    try:
        names = [e[0] for e in os.ilistdir(path)]
    except OSError:
        return
    for n in names:
        p = path + "/" + n
        try:
            os.remove(p)
        except OSError:
            rmtree(p)
    try:
        os.rmdir(path)
    except OSError:
        pass


async def _read(body, mv, n):
    """Exactly n bytes of the upload into mv[:n]."""
    got = 0
    while got < n:
        got += await body.readinto(mv[got:n])


async def _files(req, app, tree, sha, version):
    import os
    body = req["body"]
    n = body.length
    if n > FILES_MAX:
        raise HTTPError(413, "the files are %d bytes; at most %d" % (n, FILES_MAX))
    try:
        st = os.statvfs("/")
        room = st[0] * st[3]
    except (OSError, AttributeError):
        room = None
    if room is not None and room < n + 65536:  # (and room for the counters' saves meanwhile)
        raise HTTPError(507, "the flash has %d bytes free; the files need %d and 64 KB to spare" % (room, n))
    if app.upgrading or app.restarting:
        raise HTTPError(409, "an upgrade or a restart is already under way")
    target = "fw_b" if tree == "fw_a" else "fw_a"
    stage = target + ".new"
    app.upgrading = "receiving %d bytes of files into %s" % (n, target)
    mv = memoryview(body.buffer())
    done = False
    try:
        rmtree(stage)
        os.mkdir(stage)
        h = hashlib.sha256()
        files = []
        pos = 0
        while pos < n:
            if n - pos < HEAD or len(mv) < HEAD:
                raise HTTPError(400, "not a files upload (a head cut short)")
            await _read(body, mv, HEAD)
            h.update(mv[:HEAD])
            pos += HEAD
            try:
                path = bytes(mv[:96]).decode().rstrip(" ")
                size = int(bytes(mv[96:112]).decode().strip())
            except (UnicodeError, ValueError):
                raise HTTPError(400, "not a files upload (a head that is not one)")
            if not _ok_path(path) or size < 0 or size > n - pos:
                raise HTTPError(400, "a file refused: %r (%d bytes)" % (path, size))
            files.append((path, size))
            _mkdirs(stage + "/" + path)
            with open(stage + "/" + path, "wb") as f:
                left = size
                while left:
                    k = await body.readinto(mv[:min(len(mv), left)])
                    f.write(mv[:k])
                    h.update(mv[:k])
                    left -= k
            pos += size
            await asyncio.sleep(0)
        if _hex(h.digest()) != sha:
            raise HTTPError(400, "the %d bytes received have another SHA-256 than the one sent: "
                                 "nothing switched, the running firmware stays" % n)
        h = hashlib.sha256()  # what the flash holds, read back (the heads made again)
        for path, size in files:
            h.update(("%-96s%-16d%16s" % (path, size, "")).encode())
            with open(stage + "/" + path, "rb") as f:
                while True:
                    k = f.readinto(mv)
                    if not k:
                        break
                    h.update(mv[:k])
            await asyncio.sleep(0)
        if _hex(h.digest()) != sha:
            raise HTTPError(500, "the flash does not hold what was received: nothing switched")
        rmtree(target)  # (an older upgrade's folder: not the one running)
        os.rename(stage, target)
        write_json("fw.json", {"run": target, "prev": tree, "state": "trial", "boots": 0})
        rec = {"kind": "files", "from": tree, "to": target, "version": version, "sha256": sha, "size": n,
               "result": "pending"}
        try:
            write_json(app.board.data_dir + RECORD, rec)
        except OSError:
            pass
        done = True
        app.restart()
        return {"written": n, "files": len(files), "folder": target, "sha256": sha, "restarting": True}
    except OSError as e:  # a full flash: the running firmware stays
        from ..config import describe
        raise HTTPError(507, "the files could not be written (%s): nothing switched" % describe(e))
    finally:
        if not done:
            rmtree(stage)
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
    if rec.get("kind") == "files":  # (a stock image: the folder main.py ran, not a slot)
        from . import running_tree
        running = running_tree()
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
    """The upgraded firmware reported healthy: its record says so (and its notice); on a
    stock image, fw.json too (main.py then never leaves this folder for the one before)."""
    rec["result"] = "kept"
    if rec.get("kind") == "files":
        import json
        try:
            with open("fw.json") as f:
                fw = json.load(f)
            if fw.get("run") == rec.get("to"):
                fw["state"] = "valid"
                write_json("fw.json", fw)
        except (OSError, ValueError):
            pass
    try:
        write_json(board.data_dir + RECORD, rec)
    except OSError:
        pass
    return ("upgraded", rec.get("version") or "?")
