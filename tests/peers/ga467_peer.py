#!/usr/bin/env python3
"""An independent GA 467 ID card reader on a pseudo-terminal.

Written from docs (devices.md section 1), not from the project's Rust
code, so that the driver is checked against a second reading of the
protocol. Standard library only (pty, os, termios, plus select/sys/time
for the loop).

Usage: python3 ga467_peer.py
  * prints the slave path (/dev/pts/N) as the first line on stdout;
  * answers SAM status, SAM id, find, select, read (30 01) and read with
    fingerprint (30 10) for one built-in card (陈静), which carries a
    512-byte fingerprint; after one read the card is "read" and find
    answers 0x80, as a real reader does until the card is lifted;
  * exits when stdin closes or after 60 seconds.
"""

import os
import pty
import select
import sys
import termios
import time

PREAMBLE = bytes([0xAA, 0xAA, 0xAA, 0x96, 0x69])

CARD = {
    "name": "陈静",
    "sex": "2",  # GB/T 2261.1: 1 male, 2 female
    "nation": "01",  # GB 3304: 01 汉
    "birth": "19900601",
    "address": "河南省平顶山市卫东区优越路1号",
    "id_number": "410403199006010022",
    "issuer": "平顶山市公安局卫东分局",
    "valid_from": "20150601",
    "valid_to": "20350601",
}

WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def check_char(first17):
    """GB 11643 / ISO 7064 MOD 11-2 check character."""
    s = sum(int(d) * w for d, w in zip(first17, WEIGHTS))
    return "10X98765432"[s % 11]


def xor(data):
    c = 0
    for b in data:
        c ^= b
    return c


def reply(sw3, data=b""):
    """Reply frame: preamble, LEN (BE) = SW1 SW2 SW3 DATA CHK, CHK."""
    body = bytes([0x00, 0x00, sw3]) + data
    length = (len(body) + 1).to_bytes(2, "big")
    return PREAMBLE + length + body + bytes([xor(length + body)])


def field(text, width):
    """UCS-2 little endian, padded with spaces to `width` characters."""
    if len(text) > width:
        raise ValueError("field too long")
    return text.ljust(width, " ").encode("utf-16-le")


def text_block():
    c = CARD
    block = (
        field(c["name"], 15)
        + field(c["sex"], 1)
        + field(c["nation"], 2)
        + field(c["birth"], 8)
        + field(c["address"], 35)
        + field(c["id_number"], 18)
        + field(c["issuer"], 15)
        + field(c["valid_from"], 8)
        + field(c["valid_to"], 8)
        + field("", 18)  # reserved; no type letter on a resident card
    )
    assert len(block) == 256
    return block


PHOTO = bytes((i * 7 + 3) & 0xFF for i in range(1024))
FINGERPRINT = bytes((i * 13 + 5) & 0xFF for i in range(512))


def read_reply(with_fingerprint):
    text = text_block()
    data = len(text).to_bytes(2, "big") + len(PHOTO).to_bytes(2, "big")
    if with_fingerprint:
        data += len(FINGERPRINT).to_bytes(2, "big")
    data += text + PHOTO
    if with_fingerprint:
        data += FINGERPRINT
    return reply(0x90, data)


def make_raw(fd):
    """The same as cfmakeraw(3)."""
    iflag, oflag, cflag, lflag, ispeed, ospeed, cc = termios.tcgetattr(fd)
    iflag &= ~(termios.IGNBRK | termios.BRKINT | termios.PARMRK | termios.ISTRIP
               | termios.INLCR | termios.IGNCR | termios.ICRNL | termios.IXON)
    oflag &= ~termios.OPOST
    lflag &= ~(termios.ECHO | termios.ECHONL | termios.ICANON | termios.ISIG | termios.IEXTEN)
    cflag &= ~(termios.CSIZE | termios.PARENB)
    cflag |= termios.CS8
    cc[termios.VMIN] = 1
    cc[termios.VTIME] = 0
    termios.tcsetattr(fd, termios.TCSANOW, [iflag, oflag, cflag, lflag, ispeed, ospeed, cc])


class Reader:
    def __init__(self):
        self.card_present = True
        self.card_read = False
        self.selected = False

    def answer(self, cmd, para):
        if (cmd, para) == (0x11, 0xFF):
            return reply(0x90)
        if (cmd, para) == (0x12, 0xFF):
            return reply(0x90, bytes([5, 0, 1, 0]) + bytes(range(1, 13)))
        if (cmd, para) == (0x20, 0x01):
            if self.card_present and not self.card_read:
                return reply(0x9F, bytes(4))
            return reply(0x80)
        if (cmd, para) == (0x20, 0x02):
            if self.card_present and not self.card_read:
                self.selected = True
                return reply(0x90, bytes(8))
            return reply(0x81)
        if cmd == 0x30 and para in (0x01, 0x10):
            if not self.selected:
                return reply(0x41)
            self.card_read = True
            return read_reply(para == 0x10)
        return reply(0x21)

    def feed(self, buf):
        """Answers every whole request in buf; returns (rest, replies)."""
        out = []
        while True:
            start = buf.find(PREAMBLE)
            if start < 0:
                return buf[-4:], out
            buf = buf[start:]
            if len(buf) < 7:
                return buf, out
            length = int.from_bytes(buf[5:7], "big")
            if length < 3 or length > 64:
                out.append(reply(0x11))
                buf = buf[5:]
                continue
            if len(buf) < 7 + length:
                return buf, out
            frame, buf = buf[: 7 + length], buf[7 + length:]
            if xor(frame[5:-1]) != frame[-1]:
                out.append(reply(0x10))
                continue
            out.append(self.answer(frame[7], frame[8]))


def write_all(fd, data):
    while data:
        n = os.write(fd, data)
        data = data[n:]


def main():
    first17, check = CARD["id_number"][:17], CARD["id_number"][17]
    assert check_char(first17) == check, "built-in ID number has a wrong check character"
    assert CARD["id_number"][6:14] == CARD["birth"]

    master, slave = pty.openpty()
    # Keep the slave open for our whole life (otherwise the master reads EIO
    # whenever the driver closes and reopens its side).
    make_raw(slave)
    print(os.ttyname(slave), flush=True)

    reader = Reader()
    buf = b""
    stdin = sys.stdin.fileno()
    end = time.monotonic() + 60
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select([master, stdin], [], [], min(left, 1.0))
        if stdin in ready:
            if not os.read(stdin, 1024):
                break
        if master in ready:
            try:
                data = os.read(master, 4096)
            except OSError:
                continue
            buf, replies = reader.feed(buf + data)
            for r in replies:
                write_all(master, r)
    os.close(master)
    os.close(slave)


if __name__ == "__main__":
    main()
