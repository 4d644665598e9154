"""Evidence files made in code: small PNG pictures and one-page PDF documents.

Both are valid files of their type (the PNG a real zlib-compressed image with
CRCs, the PDF with a cross-reference table at the byte offsets it names), so
the console shows the images inline and a PDF viewer opens the documents.
Only the standard library is used: the files are drawn, not photographed.
"""

from __future__ import annotations

import random
import struct
import zlib

WIDTH, HEIGHT = 96, 72
Colour = tuple[int, int, int]


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(rows: list[bytearray]) -> bytes:
    """An 8-bit RGB PNG of `rows` (each WIDTH * 3 bytes)."""
    header = struct.pack(">IIBBBBB", len(rows[0]) // 3, len(rows), 8, 2, 0, 0, 0)
    raw = b"".join(b"\x00" + bytes(row) for row in rows)  # filter type 0 on every scanline
    chunks = _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 6)) + _chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


def _canvas(colour: Colour) -> list[bytearray]:
    return [bytearray(bytes(colour) * WIDTH) for _ in range(HEIGHT)]


def _fill(rows: list[bytearray], x0: int, y0: int, x1: int, y1: int, colour: Colour) -> None:
    x0, x1 = max(0, x0), min(WIDTH, x1)
    for y in range(max(0, y0), min(HEIGHT, y1)):
        rows[y][x0 * 3 : x1 * 3] = bytes(colour) * (x1 - x0)


def _shade(colour: Colour, by: int) -> Colour:
    r, g, b = (min(255, max(0, c + by)) for c in colour)
    return (r, g, b)


def photo(rng: random.Random, damaged: bool) -> bytes:
    """A parcel on a table: a box with tape, a crack across it when damaged."""
    table: Colour = (rng.randint(150, 210), rng.randint(120, 170), rng.randint(80, 120))
    rows = _canvas(table)
    for y in range(HEIGHT):  # light from the top
        _fill(rows, 0, y, WIDTH, y + 1, _shade(table, 40 - y))
    box: Colour = (rng.randint(170, 220), rng.randint(130, 170), rng.randint(70, 110))
    x0, y0 = rng.randint(10, 24), rng.randint(10, 20)
    x1, y1 = x0 + rng.randint(44, 60), y0 + rng.randint(30, 40)
    _fill(rows, x0 + 3, y0 + 3, x1 + 3, y1 + 3, _shade(table, -60))  # shadow
    _fill(rows, x0, y0, x1, y1, box)
    middle = (x0 + x1) // 2
    _fill(rows, middle - 3, y0, middle + 3, y1, (225, 205, 150))  # tape
    if damaged:
        y = y0 + 4
        for x in range(x0 + 2, x1 - 2):
            y = min(y1 - 2, max(y0 + 1, y + rng.choice((-1, 0, 1, 1))))
            _fill(rows, x, y, x + 1, y + 2, (60, 40, 30))
    return png(rows)


def screenshot(rng: random.Random) -> bytes:
    """A chat or tracking page: a title bar and lines of grey text."""
    rows = _canvas((248, 248, 250))
    accent: Colour = rng.choice(((36, 99, 235), (22, 163, 74), (219, 39, 119), (234, 88, 12)))
    _fill(rows, 0, 0, WIDTH, 10, accent)
    y = 16
    while y < HEIGHT - 6:
        indent = rng.choice((4, 4, 30))
        _fill(rows, indent, y, indent + rng.randint(20, WIDTH - indent - 6), y + 3, (150, 150, 160))
        y += rng.choice((6, 7, 10))
    return png(rows)


def _escape(text: str) -> str:
    printable = "".join(c if 32 <= ord(c) < 127 else "?" for c in text)
    return printable.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdf(title: str, lines: list[str]) -> bytes:
    """A one-page A5 PDF with a title and lines of text (Helvetica)."""
    text = ["BT", "/F1 14 Tf", "36 550 Td", f"({_escape(title)}) Tj", "/F1 10 Tf", "0 -24 Td"]
    for line in lines:
        text += [f"({_escape(line)}) Tj", "0 -14 Td"]
    stream = "\n".join([*text, "ET"]).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 420 595] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
