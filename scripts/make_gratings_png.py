#!/usr/bin/python3
"""Writes example_fit_image's "gratings" test image (256 x 256, grey: four quadrants of sinusoidal
gratings, 24 periods across, at 0, 22.5, 45 and 67.5 degrees) as an 8-bit PNG, so that tools that
read PNGs (rmhe_regression) can fit it. Usage: make_gratings_png.py OUT.png"""
import math
import os
import struct
import sys
import zlib


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    size = 256
    rows = bytearray()
    for y in range(size):
        rows.append(0)  # filter: none
        for x in range(size):
            u, v = (x + 0.5) / size, (y + 0.5) / size
            angle = math.radians((0.0 if u < 0.5 else 22.5) + (0.0 if v < 0.5 else 45.0))
            value = 0.5 + 0.5 * math.sin(2 * math.pi * 24 * (u * math.cos(angle) + v * math.sin(angle)))
            rows.append(round(255 * min(1.0, max(0.0, value))))
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(bytes(rows), 9)) + chunk(b"IEND", b"")
    temporary = sys.argv[1] + ".tmp" + str(os.getpid())
    with open(temporary, "wb") as f:
        f.write(png)
    os.replace(temporary, sys.argv[1])


if __name__ == "__main__":
    main()
