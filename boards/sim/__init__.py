# The simulated board: the same surface as a real board (boards/README.md), with
# simulated hardware, so `make run` and the tests run the unchanged firmware on the host.
# `import sim`; sim.Board is the board (main.py takes it when there is no board.py).
#
#   board.py     the board itself: pins, LEDs, display, pulse meters, watchdog, network, RTC
#   scenario.py  load scenarios with known truth (House, Steady) and the calendar (SimTime)
#   adc.py       the mains (its voltage with harmonics, drifting slowly in amplitude and
#                frequency) and the ADC's clock; CT inputs: each load's current wave
#                (power factor, harmonics, sign) on a DC bias, each CT's phase lead; the
#                voltage reference (an AC-AC adapter's); all through an ESP32 ADC's faults
#                (SimChip: gain and offset errors, bends near the rails, 4-8 counts of
#                noise, 12 bits, clipping, read_uv through an eFuse-like calibration line)
#   meter.py     the grid meter: a Linky (TIC) or a Fluvius (P1) agreeing with the loads,
#                byte by byte at line rate
#   replay.py    a capture file played into the grid port instead (SUBMETER_REPLAY)
#   terminal.py  the display drawn in the terminal (braille, or half blocks), the
#                keyboard as the buttons (w/s or arrows = up/down, Enter = ok,
#                b/Backspace = back, r = hold back: a long press, q = quit), the LEDs on
#                its status line (imported only when there is a terminal to draw in)
# Pulses: gas (10 L/pulse) and water (1 L/pulse) meters following the scenario's flows.
# Network: host sockets; binds 127.0.0.1:8080 unless told otherwise.
#
# Environment: SUBMETER_SCENARIO (house | steady), SUBMETER_SPEED (clock speed factor),
# SUBMETER_START (HH:MM, or YYYY-MM-DD HH:MM: the simulated time at boot; default now),
# SUBMETER_HTTP_PORT,
# SUBMETER_METER (standard | historic | p1 | c2000 | t211 | p1_closed | c2000_veille |
# c2000_metrol | none: a Linky's TIC, a Fluvius S211 on P1, a three-phase SAGEM C2000-4 or
# Sagemcom T211, a P1 port not opened, a C2000 whose customer output was left in VEILLE
# (frames of its serial number alone) or METROL (a pulse per Wh, no frame)),
# SUBMETER_REPLAY (a capture file played into the grid port instead of the simulated
# meter: replay.py), SUBMETER_DATA (data directory), SUBMETER_CHIP (the seed of the
# simulated ESP32's ADC faults: gain, offset, noise, calibration line; see SimChip),
# SUBMETER_TERM (0 = never draw the screen, big = draw it with half blocks in a 130-column
# terminal instead of braille in 80 columns), SUBMETER_SNDBUF (bytes: the send buffer of
# each HTTP connection, to model the ESP32's small lwIP buffers; Linux doubles it, 4096
# lets ~5.6 KB wait unread, as TCP_SND_BUF 5744), SUBMETER_UID (the board's id, "sim"
# unless set: a meter of a fleet names itself submeter-<uid> on MQTT), SUBMETER_LOAD (a
# factor on every load of the scenario: each meter of a fleet its own figures), SUBMETER_VREF
# (0: no voltage reference fitted; the firmware reckons V x A x pf as without one).
#
# What the tests and tools use, by its short name (sim.Steady, sim.SimChip, ...):
from .adc import NOISE_ASSUMED, SAMPLE_US, SimChip, SimCT, SimMains, SimVRef
from .board import Board, SimDisplay, env
from .scenario import SCENARIOS, House, Steady, SimTime, parse_start
