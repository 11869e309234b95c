#!/usr/bin/env python3
"""~200-byte items of the line format for the backup bench, one per line.

  gen.py N [START]     items START..START+N-1 to stdout
"""
import json
import sys


def item(i):
    return {
        "id": {"S": "k%09d" % i},
        "n": {"N": "%d.%02d" % (i * 7, i % 100)},
        "s": {"S": ("%08x" % (i * 2654435761 % 2**32)) * 12},
        "tags": {"SS": ["alpha", "beta", "t%d" % (i % 17)]},
        "m": {"M": {"count": {"N": str(i % 1000)}, "ok": {"BOOL": i % 2 == 0}}},
    }


def main():
    n = int(sys.argv[1])
    start = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    out = sys.stdout
    dumps = json.JSONEncoder(separators=(",", ":")).encode
    buf = []
    for i in range(start, start + n):
        buf.append(dumps(item(i)))
        if len(buf) >= 10000:
            out.write("\n".join(buf) + "\n")
            buf = []
    if buf:
        out.write("\n".join(buf) + "\n")


if __name__ == "__main__":
    main()
