# What the meter tells the network and takes from it: the HTTP server (server.py), its
# route table and handlers (api.py), the page (page.py), the screen as a PNG (png.py), the
# password (auth.py), the strict JSON check of commands (jsonck.py), MQTT (mqtt.py) and NTP
# (ntp.py); and here the link: the network brought up, the server started, the Ethernet
# link watched (functions, not a class or a module of their own: each costs heap at boot).
# Nothing here imports app.py: what the server and its handlers ask of the application is
# declared in commands.py, and the App offers it.
import asyncio

from .. import VERSION, log
from ..kernels import taken as _kernels


async def serve(st, server, host, port, tasks):
    """The web task: bring the network up (st.board.net: connect(), isconnected(), ip())
    and serve; if the port cannot be had, say so and retry (metering goes on meanwhile).
    `st` holds what the others read: ip and net_events (the snapshot), net_up (MQTT and
    NTP begin once it is true) and serving (the App: healthy once it serves)."""
    net = st.board.net
    ip = await net.connect()
    st.ip = ip
    st.net_up = True

    async def watch():
        # the Ethernet link: a cable pulled and put back (or a switch restarted) is
        # noted, and the address DHCP gives again is taken; no reboot
        was = True
        while True:
            await asyncio.sleep_ms(st.clock.real_ms(2000) or 1)
            up = bool(net.isconnected())
            if up != was:
                st.net_events += 1
                log("Ethernet link", "up" if up else "down")
                was = up
            if up:
                ip = net.ip()
                if ip != st.ip:
                    if st.ip is not None:
                        log("address now", ip)
                    st.ip = ip
    asyncio.create_task(watch())
    warned = False
    while True:
        try:
            await server.start(host, port)
            st.serving = True
            break
        except Exception as e:  # (anything else is counted too)
            if not isinstance(e, OSError):
                tasks.fault("web", e)
            if not warned:
                log("cannot serve on %s:%d (%s), retrying every 10 s" % (host, port, e))
                warned = True
            await asyncio.sleep(10)
    log("version", VERSION, "kernel", _kernels["sums"],
        "serving http://%s:%d/" % (ip if host == "0.0.0.0" else host, port))


async def when_up(st, run):
    """run() once the network is up (st.net_up: MQTT)."""
    while not st.net_up:
        await asyncio.sleep_ms(100)
    await run()


def _drop(name):
    """Let this package's module `name` ("upgrade", "metrics") go once used."""
    import sys
    sys.modules.pop(__name__ + "." + name, None)
    mod = sys.modules.get(__name__)
    if mod is not None and hasattr(mod, name):
        delattr(mod, name)


TREES = ("fw_a", "fw_b")  # the firmware's folders on a stock image upgraded over the network (net/upgrade.py)


def running_tree():
    """Where the firmware's .mpy files are on a stock image: "fw_a" or "fw_b" (an upgrade
    over the network put them there; main.py runs the one fw.json names), or "" (the
    flash's root, as make deploy over USB puts them); None: frozen into the image, or run
    from source (the host): no files to upgrade."""
    import sys
    f = getattr(sys.modules[__name__.rpartition(".")[0]], "__file__", None) or ""
    if not f.endswith(".mpy"):
        return None
    parts = f.lstrip("/").split("/")
    return parts[0] if len(parts) > 2 and parts[0] in TREES else ""
