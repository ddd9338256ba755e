# What the meter tells the network and takes from it: the HTTP server (server.py), its
# route table and handlers (api.py), the page (page.py), the screen as a PNG (png.py), the
# password (auth.py), the strict JSON check of commands (jsonck.py), MQTT (mqtt.py) and NTP
# (ntp.py). Nothing here imports app.py: what the server and its handlers ask of the
# application is declared in commands.py, and the App offers it.
