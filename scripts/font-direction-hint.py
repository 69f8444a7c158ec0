#!/usr/bin/env python3
"""Set a TrueType font's deprecated `head.fontDirectionHint` to 2 and fix its checksums.

The OpenType spec says the field "should be set to 2"; WenQuanYi Micro Hei has 0, and the
subsetter that report.html and the SVG figures use (the `font-subset` crate) refuses a font
whose field is not 2. Nothing else reads the field, so only the header changes:

    python3 scripts/font-direction-hint.py IN.ttf OUT.ttf
"""
import struct
import sys


def checksum(data):
    data = bytes(data) + b"\0" * ((4 - len(data) % 4) % 4)
    return sum(struct.unpack(">%dI" % (len(data) // 4), data)) & 0xFFFFFFFF


def main(src, dst):
    b = bytearray(open(src, "rb").read())
    head = None
    for i in range(struct.unpack(">H", b[4:6])[0]):
        rec = 12 + 16 * i
        tag, _, off, length = struct.unpack(">4sIII", b[rec:rec + 16])
        if tag == b"head":
            head = (rec, off, length)
    if head is None:
        sys.exit("no head table")
    rec, off, length = head
    struct.pack_into(">h", b, off + 48, 2)
    # The head table's checksum and the whole-font sum are taken with the adjustment at 0.
    struct.pack_into(">I", b, off + 8, 0)
    struct.pack_into(">I", b, rec + 4, checksum(b[off:off + length]))
    struct.pack_into(">I", b, off + 8, (0xB1B0AFBA - checksum(b)) & 0xFFFFFFFF)
    open(dst, "wb").write(b)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
