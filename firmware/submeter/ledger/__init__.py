# The counters and what keeps them: the ledger (integer Wh + mJ per input, tariff period,
# partial; litres), the crash-safe store, the daily and monthly history, and the tariff
# (prices and costs, in integers); store.py also keeps the saves coming (Store.keep, the
# save task, and Store.due) and counts the watchdog resets (resets.json). Below the view
# and the sinks; imports only clock, config and the log from the package root.
