# The sub-meter application package. Nothing here imports `machine` or `network`:
# the board module (boards/<name>.py) builds the hardware objects and passes them in.
VERSION = "0.1.0"
