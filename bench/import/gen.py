#!/usr/bin/env python3
"""N items of about 200 bytes a line, after dyno export's description line (on-demand table,
key id:S): the input of bench/import/run.sh.  usage: gen.py N > items.txt"""
import sys

n = int(sys.argv[1])
out = sys.stdout
out.write('{"AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}],"TableName":"bench",'
          '"KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],'
          '"ProvisionedThroughput":{"ReadCapacityUnits":0,"WriteCapacityUnits":0},'
          '"BillingModeSummary":{"BillingMode":"PAY_PER_REQUEST"}}\n')
pad = "abcdefghijklmnopqrstuvwxyz0123456789" * 4
buf = []
for i in range(n):
    buf.append('{"id":{"S":"item-%09d"},"n":{"N":"%d.%02d"},"flag":{"BOOL":%s},"tags":{"SS":["a%d","b"]},'
               '"pad":{"S":"%s"}}\n' % (i, i * 7 % 100000, i % 100, "true" if i % 2 else "false", i % 10, pad[i % 36:i % 36 + 92]))
    if len(buf) == 10000:
        out.write("".join(buf))
        buf = []
out.write("".join(buf))
