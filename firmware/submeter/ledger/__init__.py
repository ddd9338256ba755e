# The counters and what keeps them: the ledger (integer Wh + mJ per input, tariff period,
# partial; litres), the crash-safe store, the daily and monthly history, and the tariff
# (prices and costs, in integers). Below the view and the sinks; imports only clock and
# config from the package root.
