# The grid meter: TIC (France) and, later, P1 (Belgium, the Netherlands) decoders, both
# filling one GridReading (reading.py), so the ledger, the screens, the page and MQTT
# never know which meter is connected.
