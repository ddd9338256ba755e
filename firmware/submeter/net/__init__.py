# What the meter tells the network and takes from it: the HTTP server (server.py), the
# page (page.py), the screen as a PNG (png.py), the password (auth.py), the strict JSON
# check of commands (jsonck.py), MQTT (mqtt.py) and NTP (ntp.py).
