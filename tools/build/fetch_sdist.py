"""Download one sdist from the package index pip is configured with, checking its sha256.

pip itself refuses sdists with neither setup.py nor pyproject.toml (umqtt.simple 1.3.4
on PyPI is one), so this reads the index's PEP 503 simple page the same way pip does.
Usage: python fetch_sdist.py PROJECT VERSION DESTDIR  -> prints the downloaded path
"""
import hashlib
import os
import re
import subprocess
import sys
import urllib.parse
import urllib.request


PYPI = "https://pypi.org/simple"  # (pip's default index, PEP 503)


def index_url():
    url = os.environ.get("PIP_INDEX_URL")
    if not url:
        out = subprocess.run([sys.executable, "-m", "pip", "config", "get", "global.index-url"],
                             capture_output=True, text=True)
        url = out.stdout.strip() if out.returncode == 0 else ""
    if not url:
        url = PYPI  # pip's own default when nothing is configured
    return url.rstrip("/") + "/"


def main(project, version, dest):
    norm = re.sub(r"[-_.]+", "-", project).lower()
    page_url = urllib.parse.urljoin(index_url(), norm + "/")
    with urllib.request.urlopen(page_url, timeout=60) as r:
        page = r.read().decode()
    want = re.compile(r"%s-%s\.tar\.gz$" % (re.escape(project).replace(r"\.", r"[._-]"), re.escape(version)), re.I)
    for href in re.findall(r'href="([^"]+)"', page):
        url, _, frag = href.partition("#")
        name = urllib.parse.unquote(url.rsplit("/", 1)[-1])
        if want.search(name):
            break
    else:
        raise SystemExit("no sdist %s %s on %s" % (project, version, page_url))
    url = urllib.parse.urljoin(page_url, url)
    with urllib.request.urlopen(url, timeout=60) as r:
        data = r.read()
    if frag.startswith("sha256="):
        got = hashlib.sha256(data).hexdigest()
        if got != frag[7:]:
            raise SystemExit("sha256 mismatch for %s: %s" % (name, got))
    path = os.path.join(dest, name)
    with open(path, "wb") as f:
        f.write(data)
    print(path)


if __name__ == "__main__":
    main(*sys.argv[1:4])
