# Prices and costs, in integers, computed here and nowhere else. Every cost the meter shows
# is one integer in thousandths of the currency ("milli"), rounded once, half up: each
# input's, each usage's and the total in the snapshot, gas and water, and the history's
# day and month records (hence today and this month on the page and the panel, the CSV).
#
# Why integers: the ESP32's floats have a 24-bit mantissa. A lifetime total of 10 MWh at
# 0.2516 a kWh is 2 516 000 thousandths, where a float steps by a quarter: a float cost is
# off there before it is rounded. A price from the config is taken as millionths of the
# currency per kWh (or per m3): 0.2516 -> 251600, exact for a price given with up to six
# decimals; a cost is then Wh x millionths / 1 000 000 (litres x per-m3 millionths alike),
# exact in MicroPython's unbounded integers, the same on the device and on the host.
#
# Energy is priced by whole Wh, the Wh the page shows (the ledger's sub-Wh remainder in
# mJ is not: less than a thousandth of the currency at any price up to 1 a kWh).
from micropython import const

_M = const(1000000)


def micro(x):
    """A price (or a factor) from the config, in millionths."""
    return int(x * _M + 0.5)


def energy_prices(cfg, n):
    """The price of a kWh in each of n tariff periods (the grid meter's index 1, 2...), in
    millionths of the currency: prices_kwh's where it has one, else price_kwh."""
    base = cfg["price_kwh"]
    per = cfg.get("prices_kwh") or []
    return [micro(per[k] if k < len(per) else base) for k in range(n)]


def milli(nano):
    """A sum of Wh x millionths per kWh (billionths of the currency) in thousandths,
    rounded half up."""
    return (nano + 500000) // _M


def share(cost, part, whole):
    """`part` of `whole` Wh of an energy that cost `cost` thousandths, rounded half up (a
    partial counter priced at its input's average)."""
    return (2 * cost * part + whole) // (2 * whole)


def gas_cost(litres, cfg):
    """`litres` of gas in thousandths: a litre holds gas_kwh_per_m3 Wh, each priced at
    gas_price_kwh a kWh (both taken in millionths: the product is in 1e-15 of the currency)."""
    return (litres * micro(cfg["gas_kwh_per_m3"]) * micro(cfg["gas_price_kwh"]) + 500000000000) // 1000000000000


def water_cost(litres, cfg):
    """`litres` of water in thousandths, at water_price_m3."""
    return milli(litres * micro(cfg["water_price_m3"]))


def money(m):
    """A cost in thousandths as the currency to the cent (the number /api/state has always
    given: 12.35), rounded half up."""
    return ((m + 5) // 10) / 100
