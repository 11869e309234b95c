// DynamoDB Streams end to end on moto, the second local AWS implementation (moto's stream has
// one shard that never rolls over and iterators that never expire; the fake covers those):
// tables written by boto3 (batch puts, updates, deletes, transactions, 38-digit numbers,
// binary, sets, maps), `dynarep replicate --table-stream` SIGKILLed and restarted mid-stream,
// then diff-tables 0; and `incremental-backup --table-stream`, snapshot and restore reproduce
// the table.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>

#include "replicate/test_harness.h"
#include "support/moto.h"
#include "support/process.h"

namespace dynarep::repltest {
namespace {

using namespace std::chrono_literals;

// boto3's low-level client (DynamoDB JSON, so numbers stay exact text). argv: url table phase.
// Phase 1 and phase 2 write different things; together they touch every write API and type.
constexpr const char* kWriter = R"PY(
import sys, boto3
url, table, phase = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1",
                 aws_access_key_id="x", aws_secret_access_key="x")
def item(i, v):
    return {"id": {"S": "k%03d" % i}, "v": {"N": str(v)},
            "big": {"N": "1234567890123456789012345678901234567%d" % (i % 10)},
            "bin": {"B": bytes([i % 256, 0, 255, 10])},
            "ss": {"SS": ["a", "b%d" % i]}, "ns": {"NS": ["1.5", "12345678901234567890123456789012345678"]},
            "m": {"M": {"nested": {"L": [{"N": "-0.000000000000000000000000000000000001"}, {"BOOL": True}, {"NULL": True}]},
                        "s": {"S": "x" * (i % 7)}}}}
if phase == 1:
    for start in range(0, 60, 25):
        reqs = [{"PutRequest": {"Item": item(i, 1)}} for i in range(start, min(start + 25, 60))]
        left = {table: reqs}
        while left:
            left = c.batch_write_item(RequestItems=left).get("UnprocessedItems") or {}
    for i in range(0, 20, 2):
        c.update_item(TableName=table, Key={"id": {"S": "k%03d" % i}},
                      UpdateExpression="SET v = v + :one, m.s = :s ADD ss :t",
                      ExpressionAttributeValues={":one": {"N": "1"}, ":s": {"S": "upd"}, ":t": {"SS": ["t"]}})
    for i in range(50, 55):
        c.delete_item(TableName=table, Key={"id": {"S": "k%03d" % i}})
else:
    c.transact_write_items(TransactItems=[
        {"Put": {"TableName": table, "Item": item(100, 7)}},
        {"Put": {"TableName": table, "Item": item(101, 7)}},
        {"Update": {"TableName": table, "Key": {"id": {"S": "k001"}}, "UpdateExpression": "SET v = :v REMOVE bin",
                    "ExpressionAttributeValues": {":v": {"N": "99999999999999999999999999999999999999"}}}},
        {"Delete": {"TableName": table, "Key": {"id": {"S": "k003"}}}}])
    reqs = [{"DeleteRequest": {"Key": {"id": {"S": "k%03d" % i}}}} for i in range(30, 40)]
    reqs += [{"PutRequest": {"Item": item(i, 2)}} for i in range(40, 50)]
    c.batch_write_item(RequestItems={table: reqs})
    for i in range(50, 53):   # deleted in phase 1, back again
        c.put_item(TableName=table, Item=item(i, 3))
    c.update_item(TableName=table, Key={"id": {"S": "k100"}}, UpdateExpression="DELETE ss :a",
                  ExpressionAttributeValues={":a": {"SS": ["a"]}})
)PY";

class DdbStreamsMotoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::local_stack();  // credentials in the environment; moto takes any
    url_ = testing::moto_endpoint();
    if (url_.empty()) GTEST_SKIP() << "moto_server is not installed (scripts/setup.sh installs it with pip)";
    host_ = url_.substr(url_.find("//") + 2);
    aws_cli_ = testing::find_program("aws");
    python_ = testing::find_program("python3");
    if (aws_cli_.empty() || python_.empty()) GTEST_SKIP() << "the aws CLI and python3 (boto3) write these tables";
    db_ = ddb(url_);
  }
  // A table with a DynamoDB stream of `view`, made with the aws CLI as a user would.
  std::string stream_table(const std::string& view) {
    std::string t = testing::unique_name("src");
    auto r = testing::run_process({aws_cli_, "dynamodb", "create-table", "--endpoint-url", url_, "--region", "us-east-1",
                                   "--table-name", t, "--attribute-definitions", "AttributeName=id,AttributeType=S",
                                   "--key-schema", "AttributeName=id,KeyType=HASH", "--billing-mode", "PAY_PER_REQUEST",
                                   "--stream-specification", "StreamEnabled=true,StreamViewType=" + view});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return t;
  }
  std::string plain_table() {
    std::string t = testing::unique_name("dst");
    EXPECT_TRUE(db_->create_table(t, simple_schema()).ok());
    return t;
  }
  void write(const std::string& table, int phase) {
    auto r = testing::run_process({python_, "-c", kWriter, url_, table, std::to_string(phase)});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  std::string loc(const std::string& table) const { return host_ + "/" + table; }
  std::vector<std::string> replicate_args(const std::string& p, const std::string& r, const std::string& leases) {
    return {"replicate",        "--primary",     loc(p),   "--replica",   loc(r),        "--table-stream",
            "--lease-table",    leases,          "--lease-duration",      "2s",          "--idle-poll",
            "100ms",            "--metrics-port", "0",     "--worker-id", "w1"};
  }
  // Replicates `view`'s table through a SIGKILL and a restart; the replica must converge.
  void replicate_through_a_kill(const std::string& view) {
    const std::string primary = stream_table(view), replica = plain_table();
    const std::string leases = testing::unique_name("leases");
    write(primary, 1);
    {
      // Batches of 20; SIGKILL right after the second batch is applied, before its checkpoint:
      // the next owner applies it again (images of an exactly-once stream, or re-reads).
      auto args = replicate_args(primary, replica, leases);
      args.insert(args.end(), {"--max-records", "20"});
      Proc w(args, {{"DYNAREP_SYNC_POINTS", "worker.process.after=kill@2"}});
      EXPECT_EQ(w.wait(60s), 128 + SIGKILL) << w.log();
      EXPECT_NE(diff_tables(scan_all(*db_, primary), scan_all(*db_, replica)), "");  // part way
    }
    write(primary, 2);
    Proc w(replicate_args(primary, replica, leases));
    EXPECT_EQ(wait_equal(*db_, primary, replica, 60s), "") << w.log();
    auto d = testing::run_dynarep({"diff-tables", loc(primary), loc(replica)});
    EXPECT_EQ(d.exit_code, 0) << d.out << d.err;
    // status reads the same stream: the shard has a live owner and is caught up.
    auto st = testing::run_dynarep({"status", "--lease-table", loc(leases), "--primary", loc(primary), "--table-stream",
                                    "--lease-duration", "2s", "--json"});
    EXPECT_EQ(st.exit_code, 0) << st.out << st.err;
    EXPECT_NE(st.out.find("\"shardId-"), std::string::npos) << st.out;
    w.signal(SIGTERM);
    EXPECT_EQ(w.wait(30s), 0) << w.log();
    EXPECT_NE(w.log().find("DynamoDB stream arn:"), std::string::npos) << w.log();
  }

  std::string url_, host_, aws_cli_, python_;
  std::shared_ptr<dynamodb::Client> db_;
};

TEST_F(DdbStreamsMotoTest, NewAndOldImagesTableReplicatesThroughAKill) { replicate_through_a_kill("NEW_AND_OLD_IMAGES"); }

TEST_F(DdbStreamsMotoTest, KeysOnlyTableReplicatesThroughAKill) { replicate_through_a_kill("KEYS_ONLY"); }

TEST_F(DdbStreamsMotoTest, TableWithoutAStreamIsOneClearError) {
  const std::string primary = plain_table(), replica = plain_table();
  auto r = testing::run_dynarep({"replicate", "--primary", loc(primary), "--replica", loc(replica), "--table-stream"});
  EXPECT_EQ(r.exit_code, 3) << r.err;  // like a missing table: the service's state, not the command line
  EXPECT_NE(r.err.find("table " + primary + " has no DynamoDB stream enabled"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("aws dynamodb update-table --table-name " + primary +
                       " --stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST_F(DdbStreamsMotoTest, IncrementalBackupFromTheTableStreamRestoresTheTable) {
  const std::string primary = stream_table("NEW_AND_OLD_IMAGES");
  const std::string bucket = testing::unique_name("bk");
  auto mb = testing::run_process({aws_cli_, "s3", "mb", "s3://" + bucket, "--endpoint-url", url_, "--region", "us-east-1"});
  ASSERT_EQ(mb.exit_code, 0) << mb.err;
  write(primary, 1);
  write(primary, 2);
  const std::string dest = "s3://" + bucket + "/inc";
  auto b = testing::run_dynarep({"incremental-backup", "--primary", loc(primary), "--table-stream", dest,
                                 "--s3-endpoint", url_, "--until-idle", "2", "--history"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_NE(b.err.find("DynamoDB stream arn:"), std::string::npos) << b.err;
  const std::string snap = "s3://" + bucket + "/snap/" + primary + ".gz";
  auto s = testing::run_dynarep({"incremental-snapshot", dest + "/" + primary, snap, "--s3-endpoint", url_});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  const std::string restored = testing::unique_name("restored");
  auto r = testing::run_dynarep(
      {"restore", snap, loc(restored), "--create-table", "--key", "id:S", "--s3-endpoint", url_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(diff_tables(scan_all(*db_, primary), scan_all(*db_, restored)), "");
  auto d = testing::run_dynarep({"diff-tables", loc(primary), loc(restored)});
  EXPECT_EQ(d.exit_code, 0) << d.out << d.err;
}

}  // namespace
}  // namespace dynarep::repltest
