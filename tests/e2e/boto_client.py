#!/usr/bin/env python3
"""The independent client of the end-to-end suite: boto3 (the AWS SDK for Python), written by
other people than dynarep, writes the primary and reads every table and bucket back, so each
step of the story is checked by a reader that shares no code with dynarep.

    boto_client.py create-table TABLE
    boto_client.py write TABLE [--stream S] [--transactions] [--items N]
    boto_client.py compare TABLE_A TABLE_B
    boto_client.py damage TABLE
    boto_client.py enable-stream TABLE
    boto_client.py stream-event STREAM_ARN FILE
    boto_client.py create-bucket BUCKET
    boto_client.py list-objects BUCKET PREFIX

Endpoints come from AWS_ENDPOINT_URL_DYNAMODB / _DYNAMODB_STREAMS / _KINESIS / _S3 (passed explicitly, so this
works with any botocore), credentials and region from the environment. Output is one JSON
object on stdout; the exit code is 0, or 1 when `compare` finds a difference.

Tables have the key pk (S) + sk (N), so number keys (and their normalisation) are exercised.
"""
import base64
import json
import os
import secrets
import sys
import time
from decimal import Decimal

import boto3
from botocore.config import Config

CONFIG = Config(retries={"max_attempts": 10, "mode": "standard"}, s3={"addressing_style": "path"})


def client(service):
    name = {"dynamodbstreams": "DYNAMODB_STREAMS"}.get(service, service.upper())
    url = os.environ.get("AWS_ENDPOINT_URL_" + name) or os.environ.get("AWS_ENDPOINT_URL")
    return boto3.client(service, endpoint_url=url, config=CONFIG,
                        region_name=os.environ.get("AWS_REGION", "us-east-1"))


def create_table(name):
    ddb = client("dynamodb")
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "sk", "AttributeType": "N"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                {"AttributeName": "sk", "KeyType": "RANGE"}])
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 150})
    return {"table": name}


def key(i):
    return {"pk": {"S": "p%02d" % (i % 20)}, "sk": {"N": str(i)}}


def item(i):
    """Every DynamoDB type: a 38-digit number and one near the smallest magnitude, binary with a
    zero byte, the three sets, nested maps and lists, NULL, BOOL, non-ASCII text."""
    it = key(i)
    it.update({
        "big": {"N": "1234567890123456789012345678901234567%d" % (i % 10)},
        "tiny": {"N": "-1.234567890123456789012345678901234567E-120"},
        "price": {"N": "%d.50" % i},
        "bin": {"B": bytes([i % 256, 0, 255, 10])},
        "ss": {"SS": ["a", "s%d" % i]},
        "ns": {"NS": ["1.50", "99999999999999999999999999999999999999", str(i + 2)]},
        "bs": {"BS": [b"\x00\x01", bytes([1, i % 256])]},
        "m": {"M": {"nested": {"M": {"l": {"L": [{"N": "1"}, {"S": "x"}, {"NULL": True}, {"BOOL": True}]}}},
                    "text": {"S": "\u00fcn\u00efc\u00f8d\u00e9 \u2603\nline"}}},
        "flag": {"BOOL": i % 2 == 0},
        "nothing": {"NULL": True},
    })
    return it


def key_json(k):
    """docs/formats.md §1 key JSON: compact, names sorted, numbers as their text."""
    return json.dumps(k, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class Publisher:
    """A Python application publishing its own changes as dynarep's KEYS_ONLY change records
    (docs/formats.md §3), partition key = key JSON, so the replicator follows boto3's writes."""

    def __init__(self, stream):
        self.stream = stream
        self.kinesis = client("kinesis") if stream else None
        self.pending = []
        self.published = 0

    def change(self, k, event):
        if not self.stream:
            return
        kj = key_json(k)
        data = json.dumps({"awsRegion": "us-east-1",
                           "dynamodb": {"Keys": k, "SequenceNumber": "0", "SizeBytes": 0,
                                        "StreamViewType": "KEYS_ONLY"},
                           "eventID": secrets.token_hex(16), "eventName": event,
                           "eventSource": "aws:dynamodb", "eventVersion": "1.0"},
                          separators=(",", ":"), ensure_ascii=False)
        self.pending.append({"Data": data.encode(), "PartitionKey": kj})
        if len(self.pending) == 100:
            self.flush()

    def flush(self):
        # In order per key: a record is re-sent before any later one of the batch is sent again.
        while self.pending:
            out = self.kinesis.put_records(StreamName=self.stream, Records=self.pending)
            failed = [r for r, res in zip(self.pending, out["Records"]) if "ErrorCode" in res]
            self.published += len(self.pending) - len(failed)
            self.pending = failed
            if failed:
                time.sleep(0.05)


def write(table, stream, transactions, n):
    ddb = client("dynamodb")
    pub = Publisher(stream)
    counts = {"put": 0, "updated": 0, "deleted": 0, "transacted": 0}
    # Batch puts, unprocessed items re-sent.
    for start in range(0, n, 25):
        reqs = [{"PutRequest": {"Item": item(i)}} for i in range(start, min(n, start + 25))]
        todo = {table: reqs}
        while todo:
            todo = ddb.batch_write_item(RequestItems=todo).get("UnprocessedItems") or None
        for r in reqs:
            pub.change(key(int(r["PutRequest"]["Item"]["sk"]["N"])), "INSERT")
        counts["put"] += len(reqs)
    # Updates: SET with arithmetic, ADD to a number set, REMOVE an attribute.
    for i in range(0, n, 7):
        ddb.update_item(TableName=table, Key=key(i),
                        UpdateExpression="SET note = :s, cnt = if_not_exists(cnt, :z) + :one ADD ns :more REMOVE tiny",
                        ExpressionAttributeValues={":s": {"S": "updated %d" % i}, ":z": {"N": "0"},
                                                   ":one": {"N": "1"}, ":more": {"NS": ["-7"]}})
        pub.change(key(i), "MODIFY")
        counts["updated"] += 1
    for i in range(3, n, 11):
        ddb.delete_item(TableName=table, Key=key(i))
        pub.change(key(i), "REMOVE")
        counts["deleted"] += 1
    if transactions:
        # TransactWriteItems: moto has it, dynalite does not.
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": table, "Item": dict(item(n + 1), via={"S": "transaction"})}},
            {"Update": {"TableName": table, "Key": key(1), "UpdateExpression": "SET via = :t",
                        "ExpressionAttributeValues": {":t": {"S": "transaction"}}}},
            {"Delete": {"TableName": table, "Key": key(2)}},
            {"ConditionCheck": {"TableName": table, "Key": key(4), "ConditionExpression": "attribute_exists(pk)"}},
        ])
        pub.change(key(n + 1), "INSERT")
        pub.change(key(1), "MODIFY")
        pub.change(key(2), "REMOVE")
        counts["transacted"] = 3
    pub.flush()
    counts["published"] = pub.published
    return counts


def normal(v):
    """A value in a form Python compares as DynamoDB does (docs/formats.md §1): numbers by
    value, sets unordered, maps by name."""
    (t, x), = v.items()
    if t == "N":
        return ("N", Decimal(x))
    if t in ("SS", "BS"):
        return (t, frozenset(x))
    if t == "NS":
        return (t, frozenset(Decimal(e) for e in x))
    if t == "M":
        return ("M", {k: normal(e) for k, e in x.items()})
    if t == "L":
        return ("L", [normal(e) for e in x])
    return (t, x)


def scan(table):
    ddb = client("dynamodb")
    items, args = {}, {"TableName": table, "ConsistentRead": True}
    while True:
        page = ddb.scan(**args)
        for it in page["Items"]:
            items["%s/%s" % (it["pk"]["S"], Decimal(it["sk"]["N"]))] = {k: normal(v) for k, v in it.items()}
        if "LastEvaluatedKey" not in page:
            return items
        args["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def compare(a, b):
    x, y = scan(a), scan(b)
    return {"count_a": len(x), "count_b": len(y),
            "missing": sorted(k for k in x if k not in y),
            "extra": sorted(k for k in y if k not in x),
            "different": sorted(k for k in x if k in y and x[k] != y[k])}


def damage(table):
    """What diff-tables must find: one item changed, one gone, one that should not be there."""
    ddb = client("dynamodb")
    ddb.update_item(TableName=table, Key=key(1), UpdateExpression="SET note = :s",
                    ExpressionAttributeValues={":s": {"S": "tampered"}})
    ddb.delete_item(TableName=table, Key=key(5))
    ddb.put_item(TableName=table, Item={"pk": {"S": "extraneous"}, "sk": {"N": "0"}})
    return {"different": "p01/1", "missing": "p05/5", "extra": "extraneous/0"}


def enable_stream(table):
    ddb = client("dynamodb")
    out = ddb.update_table(TableName=table, StreamSpecification={"StreamEnabled": True,
                                                                  "StreamViewType": "NEW_AND_OLD_IMAGES"})
    return {"arn": out["TableDescription"]["LatestStreamArn"]}


def stream_event(arn, path):
    """Every record of the table's DynamoDB stream, as the Lambda event AWS would deliver
    ({"Records": [...]}: binary in base64, ApproximateCreationDateTime in epoch seconds)."""
    streams = client("dynamodbstreams")
    records = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while it:
            page = streams.get_records(ShardIterator=it, Limit=1000)
            records += page["Records"]
            it = page.get("NextShardIterator") if page["Records"] else None

    def lambda_json(o):
        if isinstance(o, bytes):
            return base64.b64encode(o).decode()
        if hasattr(o, "timestamp"):
            return o.timestamp()
        raise TypeError(type(o))
    with open(path, "w") as f:
        json.dump({"Records": records}, f, default=lambda_json)
    return {"records": len(records)}


def list_objects(bucket, prefix):
    s3 = client("s3")
    keys, args = [], {"Bucket": bucket, "Prefix": prefix}
    while True:
        page = s3.list_objects_v2(**args)
        keys += [o["Key"] for o in page.get("Contents", [])]
        if not page.get("IsTruncated"):
            return {"keys": keys}
        args["ContinuationToken"] = page["NextContinuationToken"]


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "create-table":
        out = create_table(args[0])
    elif cmd == "write":
        stream = args[args.index("--stream") + 1] if "--stream" in args else None
        n = int(args[args.index("--items") + 1]) if "--items" in args else 300
        out = write(args[0], stream, "--transactions" in args, n)
    elif cmd == "compare":
        out = compare(args[0], args[1])
    elif cmd == "damage":
        out = damage(args[0])
    elif cmd == "enable-stream":
        out = enable_stream(args[0])
    elif cmd == "stream-event":
        out = stream_event(args[0], args[1])
    elif cmd == "create-bucket":
        client("s3").create_bucket(Bucket=args[0])
        out = {"bucket": args[0]}
    elif cmd == "list-objects":
        out = list_objects(args[0], args[1])
    else:
        print("unknown command " + cmd, file=sys.stderr)
        return 2
    print(json.dumps(out, sort_keys=True, default=lambda b: base64.b64encode(b).decode()))
    if cmd == "compare" and (out["missing"] or out["extra"] or out["different"]):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
