#!/usr/bin/env python3
"""Item lines for the diff-tables bench: `dyno export` format (a description line, then one
~200-byte item per line) for the primary or the replica, with planted discrepancies.

  gen.py N primary|replica TABLE     items to stdout
  gen.py N expected                  the planted discrepancies, "kind key-json" a line

Planted, by item number i (0 <= i < N), in 1000s:
  i % 1000 in 0..3  different (the replica's `n` and `s` differ)   0.4%
  i % 1000 in 4..6  missing   (not in the replica)                  0.3%
  plus N * 3 / 1000 extraneous items, only in the replica           0.3%
"""
import json
import sys


def key(i):
    return {"id": {"S": "k%09d" % i}}


def item(i, replica_changed=False):
    it = key(i)
    n = i * 7 + (1 if replica_changed else 0)
    it["n"] = {"N": "%d.%02d" % (n, i % 100)}
    it["s"] = {"S": ("replica-" if replica_changed else "primary-") + ("%08x" % (i * 2654435761 % 2**32)) * 18}
    it["tags"] = {"SS": ["alpha", "beta", "t%d" % (i % 17)]}
    it["m"] = {"M": {"count": {"N": str(i % 1000)}, "ok": {"BOOL": i % 2 == 0}}}
    return it


def kind(i):
    r = i % 1000
    if r < 4:
        return "different"
    if r < 7:
        return "missing"
    return None


def main():
    n = int(sys.argv[1])
    side = sys.argv[2]
    out = sys.stdout
    w = out.write
    dumps = json.JSONEncoder(separators=(",", ":")).encode
    extraneous = n * 3 // 1000
    if side == "expected":
        for i in range(n):
            k = kind(i)
            if k:
                w("%s %s\n" % (k, dumps(key(i))))
        for j in range(extraneous):
            w("extraneous %s\n" % dumps(key(n + j)))
        return
    table = sys.argv[3]
    w(dumps({
        "TableName": table,
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
    }) + "\n")
    for i in range(n):
        k = kind(i)
        if side == "primary":
            w(dumps(item(i)) + "\n")
        elif k == "missing":
            continue
        else:
            w(dumps(item(i, replica_changed=(k == "different"))) + "\n")
    if side == "replica":
        for j in range(extraneous):
            w(dumps(item(n + j)) + "\n")


if __name__ == "__main__":
    main()
