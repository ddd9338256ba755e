# A stand-in for the ESP32's `network` module (LAN only). Only for board tests.
PHY_LAN8720 = 1
PHY_IP101 = 2
_hostname = ["espressif"]


def hostname(name=None):
    if name is None:
        return _hostname[0]
    if not name or len(name) > 32:
        raise ValueError("hostname")
    _hostname[0] = name


class LAN:
    def __init__(self, *, mdc, mdio, power=None, phy_type, phy_addr, ref_clk=None, ref_clk_mode=None):
        self.args = dict(mdc=mdc.id, mdio=mdio.id, power=power.id if power else None, phy_type=phy_type,
                         phy_addr=phy_addr, ref_clk=ref_clk.id if ref_clk else None, ref_clk_mode=ref_clk_mode)
        self._active = False

    def active(self, v=None):
        if v is None:
            return self._active
        self._active = v

    def isconnected(self):
        return self._active

    def ifconfig(self, conf=None):
        if conf is not None:
            if len(conf) != 4:
                raise ValueError("ifconfig takes 4 addresses")
            self.static = conf
            return None
        return getattr(self, "static", None) or ("192.168.1.50", "255.255.255.0", "192.168.1.1", "192.168.1.1")
