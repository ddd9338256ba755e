# Display drivers for the 128x64 panels (SSD1306 and SH1106 over I2C, ST7567 over SPI),
# each a framebuf.FrameBuffer sending only the pages that changed (fbsync.py). They take
# initialised buses from the board module and import nothing from the application.
