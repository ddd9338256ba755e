# MQTT over TLS against a real broker: Debian's mosquitto with a TLS listener only, its
# certificate signed by a CA this test makes (openssl). The device model (the firmware
# frozen in, a 112 KB heap, MicroPython's ssl module on mbedtls 3.6) with mqtt_tls on and
# the CA on its flash: Home Assistant's discovery configs and the state reach a TLS
# subscriber; a CA that did not sign the broker's certificate, a name the certificate does
# not carry or no CA at all: no connection, the status and the page say why in words, the
# meter goes on metering and tries again.
import json
import os
import pwd
import socket
import ssl
import subprocess
import time

import pytest

from fwrun import free_port, get, start, stop, kill, served, until
from mqttsub import Subscriber
from test_mqtt import check_config

NODE = "submeter-sim"
BASE = "submeter/" + NODE
OPENSSL = "/usr/bin/openssl"


def openssl(*args):
    subprocess.run([OPENSSL, *args], check=True, capture_output=True)


def make_ca(d, name):
    """A self-signed CA (P-256): (its certificate's path, its key's)."""
    crt, key = str(d / (name + ".pem")), str(d / (name + ".key"))
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", key, "-out", crt, "-days", "2", "-subj", "/CN=%s" % name)
    return crt, key


def make_server(d, ca):
    """The broker's certificate, signed by `ca`, for localhost and 127.0.0.1: (cert, key)."""
    crt, key, csr, ext = (str(d / n) for n in ("broker.pem", "broker.key", "broker.csr", "broker.ext"))
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", key, "-out", csr, "-subj", "/CN=broker.test")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:broker.test,DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    openssl("x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1], "-CAcreateserial", "-out", crt,
            "-days", "2", "-extfile", ext)
    return crt, key


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    if not os.path.exists(OPENSSL):
        pytest.fail("no %s: the test makes its certificates with it" % OPENSSL)
    d = tmp_path_factory.mktemp("pki")
    ca = make_ca(d, "test-ca")
    other = make_ca(d, "other-ca")
    srv = make_server(d, ca)
    return {"ca": ca[0], "other": other[0], "cert": srv[0], "key": srv[1]}


@pytest.fixture
def tls_broker(pki, tmp_path_factory):
    """mosquitto with one listener, TLS only: (process, port). One per test: Debian 12's
    mosquitto 2.0.11, after a client's failed handshake, drops the next client's TLS
    session (seen here: "wrong version number" on the subscriber's CONNACK)."""
    d = tmp_path_factory.mktemp("mosquitto")
    port = free_port()
    conf = d / "mosquitto.conf"
    # (run as this test's user: mosquitto started as root drops to "mosquitto", which
    # cannot read the key in the test's private folder)
    conf.write_text("user %s\nlistener %d 127.0.0.1\ncertfile %s\nkeyfile %s\nallow_anonymous true\n"
                    "persistence false\n" % (pwd.getpwuid(os.getuid()).pw_name, port, pki["cert"], pki["key"]))

    def run():
        p = subprocess.Popen(["/usr/sbin/mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        t0 = time.monotonic()
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return p
            except OSError:
                if time.monotonic() - t0 > 10 or p.poll() is not None:
                    p.kill()
                    pytest.fail("mosquitto's TLS listener did not start")
                time.sleep(0.05)
    procs = [run()]

    def restart():  # the broker stopped and started again, on the same port
        procs[-1].kill()
        procs[-1].wait()
        procs.append(run())
    yield procs, port, restart
    procs[-1].kill()
    procs[-1].wait()


def client_tls(pki):
    """The subscriber's TLS: the test CA, TLS 1.2 as the meter speaks it (MicroPython's
    mbedtls configuration has no TLS 1.3)."""
    ctx = ssl.create_default_context(cafile=pki["ca"])
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def meter(d, port, ca=None, heap="4m", **cfg):
    """The device model with MQTT over TLS on, `ca` (a file's path) copied to its flash, in
    a PSRAM board's heap (a SPIRAM image's: 4 MB; TLS needs one: see the last test)."""
    d.mkdir(exist_ok=True)
    if ca:
        with open(ca, "rb") as f:
            (d / "mqtt_ca.pem").write_bytes(f.read())
    conf = {"mqtt_host": "127.0.0.1", "mqtt_port": port, "mqtt_interval_s": 1, "mqtt_tls": True}
    conf.update(cfg)
    (d / "config.json").write_text(json.dumps(conf))
    return start(d, model=True, heap=heap, SUBMETER_SPEED="50")


def mqtt_state(fw):
    return json.loads(get(fw.port, "/api/state")[2])["mqtt"]


def test_discovery_and_state_over_tls(pki, tls_broker, tmp_path):
    port = tls_broker[1]
    # the listener speaks TLS only: a plain MQTT client gets no CONNACK
    with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
        s.sendall(b"\x10\x10\x00\x04MQTT\x04\x02\x00\x3c\x00\x04test")
        try:
            assert s.recv(4)[:1] != b"\x20"
        except OSError:
            pass
    sub = Subscriber(port, tls=client_tls(pki))
    fw = meter(tmp_path / "good", port, pki["ca"])
    try:
        served(fw)
        raw = until(lambda: sub.last(BASE + "/state"), 30, "a state message over TLS")
        s = json.loads(raw)
        assert s["total_w"] > 0, s
        assert sub.last(BASE + "/availability") == b"online"
        disc = {t.split("/")[3]: json.loads(p) for t, p, _ in sub.messages
                if t.startswith("homeassistant/sensor/%s/" % NODE) and p}
        assert {"total_w", "total_kwh", "heating_w", "heating_kwh"} <= set(disc), sorted(disc)
        for d in disc.values():
            check_config(d, NODE)
        mq = mqtt_state(fw)
        assert mq["state"] == "connected" and mq["tls"] is True and mq["broker"] == "127.0.0.1:%d" % port, mq
        assert mq["failures"] == 0, mq
        # the broker restarted: the meter connects again (the TLS context it kept, a new
        # session) and the state flows again
        sub.close()
        tls_broker[2]()
        sub = Subscriber(port, BASE + "/state", tls=client_tls(pki))
        until(lambda: sub.last(BASE + "/state"), 30, "a state message over TLS after the broker's restart")
        mq = mqtt_state(fw)
        assert mq["state"] == "connected" and mq["connects"] == 2, mq
    finally:
        sub.close()
        stop(fw)


@pytest.mark.parametrize("case, why", [
    ("other_ca", "not correctly signed by the trusted CA"),
    ("wrong_name", "Common Name (CN) does not match"),
    ("no_ca", "no CA certificate on the meter (mqtt_ca.pem)"),
])
def test_a_broker_the_meter_cannot_trust_is_refused_in_words(pki, tls_broker, tmp_path, case, why):
    port = tls_broker[1]
    sub = Subscriber(port, tls=client_tls(pki))
    ca = {"other_ca": pki["other"], "wrong_name": pki["ca"], "no_ca": None}[case]
    fw = meter(tmp_path / case, port, ca, **({"mqtt_tls_name": "wrong.test"} if case == "wrong_name" else {}))
    try:
        first = served(fw)
        mq = until(lambda: (lambda m: m if m["failures"] >= 2 else None)(mqtt_state(fw)), 20, "two failures")
        assert mq["state"] != "connected" and mq["connects"] == 0, mq
        assert why in mq["last_error"], mq
        # metering goes on (the energy counts up), nothing reached the broker
        later = json.loads(get(fw.port, "/api/state")[2])
        assert later["total_wh"] > first["total_wh"] or later["uptime_s"] > first["uptime_s"], (first, later)
        assert later["sampling"]["rounds"] > first["sampling"]["rounds"]
        assert not [t for t, _, r in sub.messages if not r], sub.messages[:3]
        # the page says it in words
        page = get(fw.port, "/")[2].decode()
        assert "MQTT" in page and why in page, page[-3000:]
        assert fw.poll() is None
    finally:
        sub.close()
        stop(fw)
        kill(fw)


def test_a_board_without_the_heap_for_tls_says_so_and_meters_on(pki, tls_broker, tmp_path):
    # our image's 112 KB heap cannot hold MQTT over TLS beside the firmware (measured: no
    # 512 B block for the session's messages nor the snapshots): the meter says why, does
    # not try, and its metering and page go on untouched
    fw = meter(tmp_path / "small", tls_broker[1], pki["ca"], heap="112k")
    try:
        served(fw)
        time.sleep(3)
        st = json.loads(get(fw.port, "/api/state")[2])
        mq = st["mqtt"]
        assert mq["connects"] == 0 and "needs a board with PSRAM" in mq["last_error"] and "109 KB" in mq["last_error"], mq
        assert st["mem"]["errors"] == 0 and st["total_w"] > 0, st["mem"]
        assert b"needs a board with PSRAM" in get(fw.port, "/")[2]
    finally:
        stop(fw)
