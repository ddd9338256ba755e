# Prices and costs, in integers, computed here and nowhere else. A cost is computed once,
# exact, as an integer in billionths of the currency ("nano"), then rounded once, half up,
# where it is kept or shown: to thousandths in the history's records (hence today, this
# month and the CSV), to the cent in the snapshot (each input's cost and partial cost,
# each usage's, the total, gas and water; the page, the panel, MQTT and /api/state).
#
# Why integers: the ESP32's floats have a 24-bit mantissa. A lifetime total of 10 MWh at
# 0.2516 a kWh is 2 516 000 thousandths, where a float steps by a quarter: a float cost is
# off there before it is rounded. A price from the config is taken as millionths of the
# currency per kWh (or per m3): 0.2516 -> 251600, exact for a price given with up to six
# decimals; Wh x millionths per kWh is then billionths of the currency, exact in
# MicroPython's unbounded integers, the same on the device and on the host.
#
# The snapshot prices all the energy counted, to the mWh (the ledger's sub-Wh remainder
# too, as the float costs did); a day's record prices the whole Wh it adds up.
from micropython import const

_M = const(1000000)


def micro(x):
    """A price (or a factor) from the config, in millionths."""
    return int(x * _M + 0.5)


def energy_prices(cfg, n):
    """The price of a kWh in each of n tariff periods (the grid meter's index 1, 2...), in
    millionths of the currency: prices_kwh's where it has one, else price_kwh. Wh times
    one of them is a cost in billionths."""
    base = cfg["price_kwh"]
    per = cfg.get("prices_kwh") or []
    return [micro(per[k] if k < len(per) else base) for k in range(n)]


def energy_cost(wh, mj, price):
    """`wh` Wh and `mj` mJ at `price` millionths a kWh, in billionths. The mJ are taken
    as whole mWh (under a millionth of the currency off at 1 a kWh): mWh x price stays a
    small integer, no big one made for it each round."""
    return wh * price + ((mj // 3600) * price + 500) // 1000


def gas_cost(litres, cfg):
    """`litres` of gas in billionths: a litre holds gas_kwh_per_m3 Wh, each priced at
    gas_price_kwh a kWh (both taken in millionths, rounded once to the billionth)."""
    return (litres * micro(cfg["gas_kwh_per_m3"]) * micro(cfg["gas_price_kwh"]) + 500000) // _M


def water_cost(litres, cfg):
    """`litres` of water in billionths, at water_price_m3."""
    return litres * micro(cfg["water_price_m3"])


def share(cost, part, whole):
    """`part` of `whole` (of an energy, in the same unit) that cost `cost`, rounded half up
    (a partial counter priced at its input's average)."""
    return (2 * cost * part + whole) // (2 * whole)


def milli(nano):
    """A cost in thousandths, as the history keeps it, rounded half up."""
    return (nano + 500000) // _M


def cents(nano):
    """A cost in cents, rounded half up, once, from the exact billionths."""
    return (nano + 5000000) // 10000000


def money(nano):
    """A cost as the currency to the cent (the number /api/state has always given: 12.35)."""
    return cents(nano) / 100
