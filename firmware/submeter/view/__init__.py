# What the owner sees, built in one place: the snapshot of "now" (inputs, totals, grid,
# voltage, volumes, flows, notices), the phase balance, the labels in English and French.
# Reads the parts' state and the ledger; the panel, the page, the API and MQTT read it.
