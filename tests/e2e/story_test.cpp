// The end-to-end story through the dynarep binary, run against two independent implementations
// of the AWS APIs: the npm stack (dynalite, kinesalite, s3rver) and moto (moto_server, Python).
// The same test body runs on both (a value-parameterized fixture), so every protocol path meets
// two servers written by different people.
//
// Writes come from boto3 and the aws CLI as well as from dynarep, and every step is checked by
// reading the tables and the bucket back with boto3 or the aws CLI (tests/e2e/boto_client.py):
// a reader that shares no code with dynarep.
//
// Where moto differs (docs/testing.md "Where moto differs"): every response says
// `Connection: close` (no keep-alive: dynarep reconnects for every request); its
// TransactWriteItems deep-copies the table per item (so no lease fence for bulk replication
// here); its optional SigV4 check (INITIAL_NO_AUTH_ACTION_COUNT) rejects some valid S3 list
// requests, so it is left off; Kinesis split/merge misroute later writes, so streams here are
// never resharded; and it is slow (2-5k items/s), hence a few hundred items.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "replicate/test_harness.h"
#include "support/moto.h"
#include "support/process.h"
#include "support/stack.h"

namespace dynarep {
namespace {

using namespace std::chrono_literals;
using testing::ProcessResult;

constexpr int kBotoItems = 300;    // boto3's batch puts (then updates and deletes)
constexpr int kDynarepItems = 100;  // dynarep put's own items

// What a failed step shows: the command's exit code and its output.
std::string shown(const ProcessResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

// The items dynarep put writes: new keys w000..w099 and overwrites of a few of boto3's keys.
std::string dynarep_items() {
  std::ostringstream s;
  for (int i = 0; i < kDynarepItems; ++i) {
    s << R"({"pk":{"S":"w)" << (i < 10 ? "00" : "0") << i << R"("},"sk":{"N":")" << i
      << R"("},"n":{"N":"-98765432109876543210987654321098765432E-20"},"b":{"B":"AAEC/w=="},)"
      << R"("ns":{"NS":["1","2.5"]},"m":{"M":{"via":{"S":"dynarep put"}}}})" << "\n";
  }
  for (int i : {0, 13, 28}) {  // boto3's p00/0, p13/13, p08/28, changed by another writer
    s << R"({"pk":{"S":"p)" << (i % 20 < 10 ? "0" : "") << i % 20 << R"("},"sk":{"N":")" << i
      << R"("},"via":{"S":"dynarep put overwrote boto3"}})" << "\n";
  }
  return s.str();
}

class E2eStory : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const testing::StackEndpoints& npm = testing::local_stack();  // also exports credentials
    python_ = testing::find_program("python3");
    aws_ = testing::find_program("aws");
    if (python_.empty() || testing::run_process({python_, "-c", "import boto3"}).exit_code != 0) {
      GTEST_SKIP() << "python3 with boto3 is not installed (pip install boto3, or scripts/setup.sh with moto)";
    }
    if (aws_.empty()) GTEST_SKIP() << "the aws CLI is not installed (pip install awscli)";
    if (GetParam() == "moto") {
      const std::string& url = testing::moto_endpoint();
      if (url.empty()) GTEST_SKIP() << "moto_server is not installed (scripts/setup.sh installs it with pip)";
      env_ = {{"AWS_ENDPOINT_URL_DYNAMODB", url}, {"AWS_ENDPOINT_URL_DYNAMODB_STREAMS", url},
              {"AWS_ENDPOINT_URL_KINESIS", url}, {"AWS_ENDPOINT_URL_S3", url}};
    } else {
      env_ = {{"AWS_ENDPOINT_URL_DYNAMODB", npm.dynamodb}, {"AWS_ENDPOINT_URL_KINESIS", npm.kinesis},
              {"AWS_ENDPOINT_URL_S3", npm.s3}};
    }
    // The aws CLI v1 reads its region from AWS_DEFAULT_REGION only.
    env_["AWS_REGION"] = env_["AWS_DEFAULT_REGION"] = "us-east-1";
  }

  bool moto() const { return GetParam() == "moto"; }
  // Logs how long the step before took (the suite's figures: moto is slow, see the docs).
  void step(const std::string& next) {
    auto now = std::chrono::steady_clock::now();
    if (!step_name_.empty()) {
      std::fprintf(stderr, "[%s] %s: %.1f s\n", GetParam().c_str(), step_name_.c_str(),
                   std::chrono::duration<double>(now - step_start_).count());
    }
    step_name_ = next;
    step_start_ = now;
  }
  void TearDown() override { step(""); }
  static std::string loc(const std::string& table) { return "us-east-1/" + table; }

  ProcessResult dynarep(const std::vector<std::string>& args, const std::string& in = "") {
    return testing::run_dynarep(args, in, env_);
  }
  ProcessResult boto(const std::vector<std::string>& args) {
    std::vector<std::string> argv{python_, testing::source_dir() + "/tests/e2e/boto_client.py"};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::run_process(argv, "", env_);
  }
  ProcessResult aws(const std::vector<std::string>& args) {
    std::vector<std::string> argv{aws_, "--output", "json"};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::run_process(argv, "", env_);
  }
  std::string table() {
    std::string t = testing::unique_name("e2e");
    auto r = boto({"create-table", t});
    EXPECT_EQ(r.exit_code, 0) << shown(r);
    return t;
  }
  // boto3's workload on `t`: batch puts, updates, deletes (and on moto a transaction),
  // publishing each change on `stream` when given.
  // Returns boto_client.py's counts (puts, updates, deletes, records published).
  std::string boto_writes(const std::string& t, const std::string& stream = "") {
    std::vector<std::string> args{"write", t, "--items", std::to_string(kBotoItems)};
    if (!stream.empty()) args.insert(args.end(), {"--stream", stream});
    // dynalite has no TransactWriteItems; moto has.
    if (moto()) args.push_back("--transactions");
    auto r = boto(args);
    EXPECT_EQ(r.exit_code, 0) << shown(r);
    return r.out;
  }
  // The independent check: boto3 scans both tables; equal, and `a` holds `count` items.
  // Returns boto3's answer ({"count_a": ..., "missing": [...], ...}) when they are not.
  std::optional<std::string> expect_equal(const std::string& a, const std::string& b, int count) {
    auto r = boto({"compare", a, b});
    EXPECT_EQ(r.exit_code, 0) << a << " and " << b << " differ: " << r.out << r.err;
    const bool counted = r.out.find("\"count_a\": " + std::to_string(count) + ",") != std::string::npos;
    EXPECT_TRUE(counted) << "expected " << count << " items: " << r.out;
    if (r.exit_code == 0 && counted) return std::nullopt;
    return r.out;
  }
  // Items on the primary after boto_writes: its puts less its deletes (sk 3, 14, 25, ...; on
  // moto the transaction puts one new item and deletes one).
  static int boto_items() { return kBotoItems - (kBotoItems - 3 + 10) / 11; }
  // ... and after dynarep put of dynarep_items() too.
  static int expected_items() { return boto_items() + kDynarepItems; }

  std::string python_, aws_;
  std::string step_name_;
  std::chrono::steady_clock::time_point step_start_;
  std::map<std::string, std::string> env_;
};

// boto3 (publishing its changes as dynarep's KEYS_ONLY records, as a Python writer would),
// dynarep put --stream, dynarep delete --stream and the aws CLI write the primary while the
// replicator daemon runs; the replica converges; diff-tables finds an injected difference of
// each kind and repairs it.
TEST_P(E2eStory, WritersReplicateDiffAndRepair) {
  step("create tables and stream");
  const std::string primary = table(), replica = table();
  const std::string stream = testing::unique_name("e2e-s"), leases = testing::unique_name("e2e-l");
  auto r = dynarep({"create-stream", stream, "--shards", "2"});
  ASSERT_EQ(r.exit_code, 0) << shown(r);

  // On moto the replica writes are not fenced: its TransactWriteItems deep-copies the whole
  // table once per item of the transaction (measured: 99 puts into a 300-item table take 6-7 s,
  // past the write deadline of a 10 s lease, so every batch would time out and be retried
  // forever). The fence has its own moto test (tests/replicate/fence_moto_test.cpp) on small
  // tables; dynalite has no transactions, so there the fence is off anyway.
  repltest::Proc daemon({"replicate", "--primary", loc(primary), "--replica", loc(replica), "--stream", stream,
                         "--lease-table", leases, "--idle-poll", "50ms", "--log-interval", "1s", "--fence",
                         moto() ? "deadline" : "auto"},
                        env_);
  step("boto3 writes, publishing");
  boto_writes(primary, stream);
  step("dynarep put/delete --stream, aws CLI put-item, replicate-record");
  // moto numbers a shard's records without a lock (moto/kinesis/models.py Shard.put_record: "not
  // safe for concurrency"): two PutRecords racing on one shard get the same sequence number and
  // the second overwrites the first, though both were answered as written. Seen here: one of
  // dynarep put's records never reached the stream and the replica missed that item. So on moto
  // the writer sends one PutRecords at a time.
  std::vector<std::string> put_args{"put", loc(primary), "--stream", stream, "--quiet"};
  if (moto()) put_args.insert(put_args.end(), {"--stream-parallel", "1"});
  r = dynarep(put_args, dynarep_items());
  ASSERT_EQ(r.exit_code, 0) << shown(r);
  r = dynarep({"delete", loc(primary), R"({"pk":{"S":"w007"},"sk":{"N":"7"}})", "--stream", stream});
  ASSERT_EQ(r.exit_code, 0) << shown(r);
  // The aws CLI writes a 38-digit number key and value behind the stream's back;
  // replicate-record copies that one item.
  const std::string cli_key = R"({"pk":{"S":"cli"},"sk":{"N":"12345678901234567890123456789012345678"}})";
  r = aws({"dynamodb", "put-item", "--table-name", primary, "--item",
           R"({"pk":{"S":"cli"},"sk":{"N":"12345678901234567890123456789012345678"},)"
           R"("v":{"N":"0.00000000000000000000000000000000000001"}})"});
  ASSERT_EQ(r.exit_code, 0) << shown(r);
  r = dynarep({"replicate-record", loc(primary), loc(replica), cli_key});
  ASSERT_EQ(r.exit_code, 0) << shown(r);

  step("replicator converges (diff-tables every second)");
  const int items = expected_items();  // - w007 + the CLI's item
  // A few seconds on an idle machine; the bound is for a loaded one (at a load average of 19
  // on 2 cores a diff-tables on moto took 10+ s).
  // The last diff-tables answer is kept: when it never comes back 0, its exit code and output
  // (what differs, or the error, or a sanitizer's report) say why.
  ProcessResult last_diff;
  bool converged = repltest::eventually(
      [&] {
        last_diff = dynarep({"diff-tables", loc(primary), loc(replica), "--settle", "0"});
        return last_diff.exit_code == 0;
      },
      240s, 1s);
  step("replicator stops on SIGTERM");
  daemon.signal(SIGTERM);
  auto code = daemon.wait(40s);
  ASSERT_TRUE(converged) << "the replica did not converge; last diff-tables: " << shown(last_diff)
                         << "\nreplicator log:\n" << daemon.log();
  EXPECT_EQ(code, std::optional<int>(0)) << daemon.log();
  step("boto3 compares, aws CLI get-item");
  expect_equal(primary, replica, items);
  // The aws CLI reads the number back from the replica exactly as written.
  r = aws({"dynamodb", "get-item", "--table-name", replica, "--consistent-read", "--key", cli_key});
  ASSERT_EQ(r.exit_code, 0) << shown(r);
  EXPECT_NE(r.out.find("12345678901234567890123456789012345678"), std::string::npos) << r.out;
  // 1E-38 as the server keeps it: moto and dynalite keep the text as written.
  EXPECT_TRUE(r.out.find("1E-38") != std::string::npos ||
              r.out.find("0.00000000000000000000000000000000000001") != std::string::npos)
      << r.out;

  // Another client damages the replica: diff-tables names each difference, then repairs them.
  // (--settle 0: no writes are in flight now, nothing to wait out before confirming.)
  step("damage, diff-tables, --repair, diff-tables, compare");
  r = boto({"damage", replica});
  ASSERT_EQ(r.exit_code, 0) << shown(r);
  r = dynarep({"diff-tables", loc(primary), loc(replica), "--settle", "0", "--quiet"});
  EXPECT_EQ(r.exit_code, 1) << shown(r);
  EXPECT_NE(r.out.find("missing"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("different"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("extraneous"), std::string::npos) << r.out;
  r = dynarep({"diff-tables", loc(primary), loc(replica), "--settle", "0", "--repair", "--quiet"});
  EXPECT_EQ(r.exit_code, 0) << shown(r);
  r = dynarep({"diff-tables", loc(primary), loc(replica), "--settle", "0", "--quiet"});
  EXPECT_EQ(r.exit_code, 0) << shown(r);
  expect_equal(primary, replica, items);
}

// A table written by boto3 and dynarep is backed up to S3 and restored into a new table; an
// incremental backup is seeded by incremental-backfill, follows later changes from the stream,
// is folded by incremental-snapshot and restored: each restore equals the primary, read back
// by boto3.
TEST_P(E2eStory, BackupRestoreAndIncremental) {
  step("create table and bucket");
  const std::string primary = table();
  const std::string bucket = testing::unique_name("e2e-b");
  auto r = boto({"create-bucket", bucket});
  ASSERT_EQ(r.exit_code, 0) << shown(r);
  step("boto3 writes, dynarep put");
  boto_writes(primary);
  r = dynarep({"put", loc(primary), "--quiet"}, dynarep_items());
  ASSERT_EQ(r.exit_code, 0) << shown(r);
  const int items = expected_items();

  // Full backup: the data object and, last, its manifest, listed by boto3.
  step("backup-table, list");
  r = dynarep({"backup-table", loc(primary), "s3://" + bucket + "/full", "--jobid", "job1", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << shown(r);
  r = boto({"list-objects", bucket, "full/job1/"});
  ASSERT_EQ(r.exit_code, 0) << shown(r);
  EXPECT_NE(r.out.find("\"full/job1/0\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"full/job1/manifest.json\""), std::string::npos) << r.out;
  const std::string restored = testing::unique_name("e2e-r");
  step("restore, compare");
  r = dynarep({"restore", "s3://" + bucket + "/full/job1", loc(restored), "--create-table", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << shown(r);
  expect_equal(primary, restored, items);

  // Incremental: backfill the table as it is, then follow the stream while boto3 and dynarep
  // change it again (boto3's workload re-puts every item and repeats its updates and deletes).
  const std::string stream = testing::unique_name("e2e-s");
  r = dynarep({"create-stream", stream, "--shards", "2"});
  ASSERT_EQ(r.exit_code, 0) << shown(r);
  // Each step's own account (no --quiet) is kept to be shown if the snapshot comes out wrong.
  step("incremental-backfill");
  const ProcessResult backfill = dynarep({"incremental-backfill", loc(primary), "s3://" + bucket + "/inc"});
  ASSERT_EQ(backfill.exit_code, 0) << shown(backfill);
  step("boto3 writes, publishing; dynarep delete --stream");
  const std::string written = boto_writes(primary, stream);
  r = dynarep({"delete", loc(primary), R"({"pk":"w001","sk":1})", "--stream", stream});
  ASSERT_EQ(r.exit_code, 0) << shown(r);
  step("incremental-backup --until-idle 2");
  const ProcessResult backup = dynarep({"incremental-backup", "--primary", loc(primary), "--stream", stream,
                                        "s3://" + bucket + "/inc", "--lease-table", testing::unique_name("e2e-l"),
                                        "--until-idle", "2"});
  ASSERT_EQ(backup.exit_code, 0) << shown(backup);
  const ProcessResult listed = boto({"list-objects", bucket, "inc/" + primary + "/"});
  ASSERT_EQ(listed.exit_code, 0) << shown(listed);
  const std::string snapshot = "s3://" + bucket + "/snap/" + primary + ".gz";
  step("incremental-snapshot, restore, compare");
  const ProcessResult snap = dynarep({"incremental-snapshot", "s3://" + bucket + "/inc/" + primary, snapshot});
  ASSERT_EQ(snap.exit_code, 0) << shown(snap);
  const std::string from_snapshot = testing::unique_name("e2e-i");
  r = dynarep({"restore", snapshot, loc(from_snapshot), "--create-table", "--key", "pk:S,sk:N", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << shown(r);
  if (auto differs = expect_equal(primary, from_snapshot, items - 1)) {
    // Which step lost it: the backup objects as they are now, and each step's own account.
    std::string objects;
    static const std::regex missing_key(R"re("([a-z]\d+)/(\d+)")re");
    int shown_keys = 0;
    for (std::sregex_iterator m(differs->begin(), differs->end(), missing_key), end; m != end && shown_keys < 3;
         ++m, ++shown_keys) {
      const std::string key = R"({"pk":")" + (*m)[1].str() + R"(","sk":)" + (*m)[2].str() + "}";
      auto rec = dynarep({"incremental-diff-record", loc(primary), "s3://" + bucket + "/inc", key});
      objects += "incremental-diff-record " + key + ": " + shown(rec) + "\n";
    }
    ADD_FAILURE() << "the snapshot differs from the primary; what each step said:\n"
                  << "incremental-backfill: " << backfill.err << "boto3 writes: " << written
                  << "\nincremental-backup: " << backup.err << "objects under inc/" << primary << "/: "
                  << std::count(listed.out.begin(), listed.out.end(), ',') + 1 << "\n"
                  << "incremental-snapshot: " << snap.err << objects;
  }
}

// One batch, as Lambda delivers it: the table's own DynamoDB stream (NEW_AND_OLD_IMAGES, the
// records moto itself made from boto3's writes, transaction included) read with boto3 into a
// {"Records":[...]} event, applied by `replicate --event` and by `incremental-backup --event`.
// moto only: dynalite has no DynamoDB Streams API.
TEST_P(E2eStory, OneLambdaBatchFromTheTablesOwnStream) {
  if (!moto()) GTEST_SKIP() << "dynalite has no DynamoDB Streams API; this story runs on moto";
  step("create tables, enable the stream");
  const std::string primary = table(), replica = table();
  auto r = boto({"enable-stream", primary});
  ASSERT_EQ(r.exit_code, 0) << shown(r);
  const auto at = r.out.find("arn:aws:dynamodb:");
  ASSERT_NE(at, std::string::npos) << r.out;
  const std::string arn = r.out.substr(at, r.out.find('"', at) - at);
  step("boto3 writes");
  boto_writes(primary);
  step("read the stream into an event");
  const std::string event = ::testing::TempDir() + testing::unique_name("event") + ".json";
  r = boto({"stream-event", arn, event});
  ASSERT_EQ(r.exit_code, 0) << shown(r);
  step("replicate --event, compare");
  r = dynarep({"replicate", "--event", event, "--primary", loc(primary), "--replica", loc(replica)});
  ASSERT_EQ(r.exit_code, 0) << shown(r);
  EXPECT_NE(r.out.find("\"deadLettered\":0"), std::string::npos) << r.out;
  const int items = boto_items();
  expect_equal(primary, replica, items);
  step("incremental-backup --event, snapshot, restore, compare");
  const std::string bucket = testing::unique_name("e2e-b");
  r = boto({"create-bucket", bucket});
  ASSERT_EQ(r.exit_code, 0) << shown(r);
  r = dynarep({"incremental-backup", "--primary", loc(primary), "s3://" + bucket + "/inc", "--event", event,
               "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << shown(r);
  const std::string snapshot = "s3://" + bucket + "/snap.gz";
  r = dynarep({"incremental-snapshot", "s3://" + bucket + "/inc/" + primary, snapshot, "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << shown(r);
  const std::string restored = testing::unique_name("e2e-i");
  r = dynarep({"restore", snapshot, loc(restored), "--create-table", "--key", "pk:S,sk:N", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << shown(r);
  expect_equal(primary, restored, items);
}

INSTANTIATE_TEST_SUITE_P(Stacks, E2eStory, ::testing::Values("npm", "moto"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
}  // namespace dynarep
