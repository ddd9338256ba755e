# memmap: tools/bench/memcheck.py's collections with the heap's maps, for
# tools/bench/heapmap.py (memcheck.py SECONDS map). After boot, at a quiet round (the 60th
# collection) and at each new peak in use: "@map WHEN IN_USE WHAT" (WHAT: the answers and
# MQTT messages under way then, "-" for none), micropython.mem_info(1), "@end".
import gc

import micropython

BUSY = []  # the paths being answered and the MQTT messages being sent


def _tag():
    from submeter.net.server import Server
    route = Server._route

    async def _route(self, writer, method, path, query, headers):
        BUSY.append(path)
        try:
            return await route(self, writer, method, path, query, headers)
        finally:
            BUSY.remove(path)
    Server._route = _route
    from submeter.net import mqtt
    publish = mqtt.Publisher._publish

    async def _publish(self, writer, topic, msg, retain=False, tries=1):
        t = "mqtt:" + (topic.rpartition("/")[2] if topic else "config")
        BUSY.append(t)
        try:
            return await publish(self, writer, topic, msg, retain, tries)
        finally:
            BUSY.remove(t)
    mqtt.Publisher._publish = _publish


class Watch:
    """memcheck's Watch (`base`, its class), and the maps."""

    def __init__(self, base):
        self.base = base()
        self.cls = base
        _tag()

    def map(self, when, a=None):
        if a is None:
            gc.collect()
            a = gc.mem_alloc()
        print("@map", when, a, " ".join(BUSY) or "-")
        micropython.mem_info(1)
        print("@end")

    def collect(self):
        top = self.cls.top
        self.base.collect()
        n, a = self.cls.n, gc.mem_alloc()
        if n == 60:
            self.map("quiet", a)
        if a > top and n > 3:
            self.map("peak", a)

    def __getattr__(self, name):
        return getattr(gc, name)
