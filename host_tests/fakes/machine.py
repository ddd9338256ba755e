# A stand-in for the ESP32's `machine` module, with the signatures the MicroPython ESP32
# port documents, recording what a board module does with it. Only for board tests.
calls = []


class Pin:
    IN = 1
    OUT = 3
    PULL_UP = 2
    PULL_DOWN = 1
    IRQ_FALLING = 2
    IRQ_RISING = 1

    def __init__(self, id, mode=-1, pull=-1, *, value=None):
        if not isinstance(id, int) or not 0 <= id <= 39:
            raise ValueError("invalid pin")
        if mode == Pin.OUT and id >= 34:
            raise ValueError("pin can only be input")  # GPIO34-39 are input only
        self.id = id
        self.mode = mode
        self.v = value if value is not None else 1
        calls.append(("Pin", id, mode, pull, value))

    def value(self, v=None):
        if v is None:
            return self.v
        self.v = v

    def irq(self, handler=None, trigger=IRQ_FALLING | IRQ_RISING):  # the ESP32's default: both edges
        self.handler = handler
        self.trigger = trigger
        calls.append(("irq", self.id, trigger))


ADC1 = (32, 33, 34, 35, 36, 37, 38, 39)
ADC2 = (0, 2, 4, 12, 13, 14, 15, 25, 26, 27)  # read only while Wi-Fi is off


class ADC:
    ATTN_0DB = 0
    ATTN_11DB = 3
    reading = 2048 << 4

    def __init__(self, pin, *, atten=ATTN_0DB):
        if pin.id not in ADC1 + ADC2:
            raise ValueError("invalid Pin for ADC")
        self.pin = pin
        calls.append(("ADC", pin.id, atten))

    def read_u16(self):
        return ADC.reading

    def read_uv(self):
        return (ADC.reading >> 4) * 805


class I2C:
    def __init__(self, id, *, scl, sda, freq=400000):
        self.writes = []
        calls.append(("I2C", id, scl.id, sda.id))
        self.scl, self.sda = scl.id, sda.id

    def writeto(self, addr, buf):
        self.writes.append((addr, bytes(buf)))
        return len(buf)

    def writevto(self, addr, bufs):
        self.writes.append((addr, b"".join(bytes(b) for b in bufs)))


class UART:
    INV_TX = 1 << 0
    INV_RX = 1 << 2  # UART_SIGNAL_RXD_INV... the values need only differ

    def __init__(self, id, baudrate=115200, bits=8, parity=None, stop=1, *, tx=None, rx=None, invert=0,
                 rxbuf=256, txbuf=256):
        if bits not in (5, 6, 7, 8) or parity not in (None, 0, 1):
            raise ValueError("invalid format")
        if txbuf and txbuf <= 128:
            raise ValueError("txbuf must be over the 128-byte FIFO")
        if tx is None:  # MicroPython's ESP32 defaults: the UART takes these pins all the same
            tx = {1: 10, 2: 17}[id]
        if rx is None:
            rx = {1: 9, 2: 16}[id]
        self.args = (id, baudrate, bits, parity, stop, rx, invert, rxbuf)
        self.tx = tx
        self.txbuf = txbuf
        self.written = []
        calls.append(("UART",) + self.args + (tx,))

    def write(self, buf):
        if len(buf) > self.txbuf:
            raise AssertionError("a write longer than the TX buffer waits for the line")
        self.written.append(bytes(buf))
        return len(buf)


class RTC:
    """The ESP32's RTC: (year, month, day, weekday, hours, minutes, seconds, subseconds);
    2000-01-01 after a power cut."""
    now = (2000, 1, 1, 5, 0, 0, 0, 0)

    def datetime(self, t=None):
        if t is None:
            return RTC.now
        if len(t) != 8 or not 1 <= t[1] <= 12 or not 0 <= t[3] <= 6:
            raise ValueError("bad datetime")
        RTC.now = tuple(t)


def unique_id():
    return b"\x24\x0a\xc4\x12\x34\x56"  # an ESP32's MAC


PWRON_RESET, HARD_RESET, WDT_RESET, DEEPSLEEP_RESET, SOFT_RESET = 1, 2, 3, 4, 5  # the ESP32 port's
cause = PWRON_RESET


def reset_cause():
    return cause


class WDT:
    """The ESP32 port's: one task watchdog; WDT() again changes its timeout
    (esp_task_wdt_reconfigure), it cannot be stopped."""
    timeout = None
    feeds = 0

    def __init__(self, *, id=0, timeout=5000):
        if id != 0 or timeout <= 0:
            raise ValueError("WDT timeout too short")
        WDT.timeout = timeout
        calls.append(("WDT", timeout))

    def feed(self):
        WDT.feeds += 1
