# The grid meter: TIC (France) and P1 (Belgium, the Netherlands) decoders, both filling
# one GridReading (reading.py), so the ledger, the screens, the page and MQTT never know
# which meter is connected; the reader (reader.py) finds the meter and feeds its decoder.
#
# The decoder protocol: what the reader asks of a decoder. TicDecoder (tic.py) and
# P1Decoder (p1.py) implement it themselves; the reader calls it with no adapter:
#   buffers()        its two frame buffers (the reader lends the TIC decoder's to the P1
#                    one: one of the two listens at a time)
#   set_port(kind)   the port is now in setting `kind` ("tic_standard", "tic_historic",
#                    "p1", "p1_legacy"): P1 requires a CRC on "p1" only (DSMR 2.2/3 lines
#                    send none); the TIC tells its modes apart by itself
#   restart()        forget the frame in progress (the other decoder wrote in the buffers)
#   feed(buf, n)     decode buf[:n]; returns the frames completed
#   good()           good data so far, a count that grows while the line carries it (TIC:
#                    groups with a right checksum; P1: three a telegram, as good a sign)
#   update(reading)  fill a GridReading from the last complete frame; returns it
#   state()          its counters, the protocol's part of /api/state's `grid` object
