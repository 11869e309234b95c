// The backup commands run as a user runs them: the built binary, exit codes, what stdout and
// stderr say, and the clear error for each kind of bad input.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "backup/incremental.h"
#include "backup/manifest.h"
#include "backup_fixture.h"
#include "compress/gzip.h"
#include "crypto/encoding.h"
#include "crypto/random.h"
#include "lease/lease_store.h"
#include "stream/record.h"
#include "support/process.h"

namespace dynarep::backup::testing {
namespace {

using dynarep::testing::run_dynarep;
using model::KeySchema;
using model::Type;

const KeySchema kIdKey{"id", Type::kS, "", Type::kS};

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

class BackupCliTest : public BackupStackTest {
 protected:
  // A table of `n` items with every type, backed up; returns the job id.
  std::string table_with_backup(int n, const std::string& prefix) {
    src_ = create_table("bkc-src", kIdKey);
    std::vector<Item> items;
    for (int i = 0; i < n; ++i) items.push_back(rich_item(fmt::format("c{:04}", i), i));
    put_all(src_, items);
    auto r = run_dynarep({"backup-table", "us-east-1/" + src_, s3url(prefix), "--quiet"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return trim(r.out);
  }
  std::string object(const std::string& key) {
    auto r = s3_->get_object(bucket_, key);
    EXPECT_TRUE(r.ok()) << r.error().describe();
    return r.ok() ? r->body : std::string();
  }
  void put(const std::string& key, std::string body) { ASSERT_TRUE(s3_->put_object(bucket_, key, std::move(body)).ok()); }
  std::string src_;
};

TEST_F(BackupCliTest, BackupThenRestoreThenDiffTablesIsClean) {
  std::string job = table_with_backup(120, "cli");
  ASSERT_EQ(job.size(), 16u) << job;  // the random job id, printed
  std::string dst = new_table_name("bkc-dst");
  auto r = run_dynarep({"restore", s3url("cli/" + job), "us-east-1/" + dst});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(has(r.err, "detected backup-job")) << r.err;
  EXPECT_TRUE(has(r.err, "creating table")) << r.err;
  EXPECT_TRUE(has(r.err, "120 items written")) << r.err;
  expect_same(scan_all(src_), scan_all(dst));
  auto diff = run_dynarep({"diff-tables", "us-east-1/" + src_, "us-east-1/" + dst, "--settle", "0", "--quiet"});
  EXPECT_EQ(diff.exit_code, 0) << diff.out << diff.err;
  EXPECT_EQ(diff.out, "");
}

TEST_F(BackupCliTest, JsonSummaryCarriesTheManifest) {
  src_ = create_table("bkc-json", kIdKey);
  put_all(src_, {rich_item("a", 1), rich_item("b", 2)});
  auto r = run_dynarep({"backup-table", "us-east-1/" + src_, s3url("j"), "--jobid", "nightly", "--json", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(has(r.out, R"("jobid":"nightly")")) << r.out;
  EXPECT_TRUE(has(r.out, R"("format":"dynarep-backup")")) << r.out;
  auto m = parse_manifest(object("j/nightly/manifest.json"), "m");
  ASSERT_TRUE(m.ok()) << m.error().describe();
  EXPECT_EQ(m->items, 2);
  EXPECT_EQ(m->objects.at(0).gzip_bytes, object("j/nightly/0").size());
}

TEST_F(BackupCliTest, LocalDirectoryAndStdoutBackupsRestore) {
  src_ = create_table("bkc-local", kIdKey);
  std::vector<Item> items;
  for (int i = 0; i < 30; ++i) items.push_back(rich_item(fmt::format("l{:02}", i), i));
  put_all(src_, items);
  auto dir = std::filesystem::temp_directory_path() / ("dynarep-bk-" + crypto::random_hex(4));
  auto b = run_dynarep({"backup-table", "us-east-1/" + src_, dir.string(), "--jobid", "j1", "--quiet"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_TRUE(std::filesystem::exists(dir / "j1" / "0"));
  EXPECT_TRUE(std::filesystem::exists(dir / "j1" / "manifest.json"));
  std::string dst = new_table_name("bkc-ldst");
  auto r = run_dynarep({"restore", (dir / "j1").string(), "us-east-1/" + dst, "--quiet"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  expect_same(scan_all(src_), scan_all(dst));
  std::filesystem::remove_all(dir);
  // "-": gzip on stdout, restored from stdin (the seed's `s3print | dyno put`).
  auto out = run_dynarep({"backup-table", "us-east-1/" + src_, "-", "--quiet"});
  ASSERT_EQ(out.exit_code, 0) << out.err;
  auto plain = compress::gunzip(out.out);
  ASSERT_TRUE(plain.ok()) << plain.error().describe();
  std::string dst2 = new_table_name("bkc-ldst2");
  auto in = run_dynarep({"restore", "-", "us-east-1/" + dst2, "--key", "id:S"}, out.out);
  EXPECT_EQ(in.exit_code, 0) << in.err;
  EXPECT_TRUE(has(in.err, "gzip")) << in.err;
  expect_same(scan_all(src_), scan_all(dst2));
}

TEST_F(BackupCliTest, DynoExportOutputRestoresAndCreatesTheTable) {
  src_ = create_table("bkc-dyno", kIdKey);
  std::vector<Item> items;
  for (int i = 0; i < 25; ++i) items.push_back(rich_item(fmt::format("x{:02}", i), i));
  put_all(src_, items);
  auto exp = run_dynarep({"export", "us-east-1/" + src_, "--quiet"});
  ASSERT_EQ(exp.exit_code, 0) << exp.err;
  std::string dst = new_table_name("bkc-dynodst");
  auto r = run_dynarep({"restore", "-", "us-east-1/" + dst}, exp.out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(has(r.err, "dyno export")) << r.err;
  EXPECT_TRUE(has(r.err, "creating table")) << r.err;
  expect_same(scan_all(src_), scan_all(dst));
}

// --- bad input: each gives an error naming the object (and line), and says what was written.

TEST_F(BackupCliTest, CorruptGzipNamesTheObject) {
  table_with_backup(150, "bad");
  put("bad/single.gz", [&] {
    std::string text;
    for (int i = 0; i < 3000; ++i) text += model::to_json(rich_item(fmt::format("g{:04}", i), i)) + "\n";
    std::string gz = *compress::gzip(text);
    for (size_t i = gz.size() / 3; i < gz.size() / 3 + 8; ++i) gz[i] = static_cast<char>(gz[i] ^ 0x55);
    return gz;
  }());
  auto r = run_dynarep({"restore", s3url("bad/single.gz"), "us-east-1/" + src_, "--quiet"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_TRUE(has(r.err, s3url("bad/single.gz"))) << r.err;
  EXPECT_TRUE(has(r.err, "corrupt gzip") || has(r.err, "CRC mismatch")) << r.err;
}

TEST_F(BackupCliTest, CorruptObjectInAJobIsCaught) {
  std::string job = table_with_backup(150, "cj");
  std::string key = "cj/" + job + "/0";
  std::string gz = object(key);
  for (size_t i = gz.size() / 2; i < gz.size() / 2 + 8; ++i) gz[i] = static_cast<char>(gz[i] ^ 0x55);  // same size
  put(key, gz);
  std::string dst = new_table_name("bkc-cjdst");
  auto r = run_dynarep({"restore", s3url("cj/" + job), "us-east-1/" + dst, "--quiet"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_TRUE(has(r.err, s3url(key))) << r.err;
  EXPECT_TRUE(has(r.err, "corrupt gzip") || has(r.err, "CRC mismatch") || has(r.err, "does not match the manifest"))
      << r.err;
  // --verify-first finds it before writing anything.
  std::string dst2 = new_table_name("bkc-cjdst2");
  auto v = run_dynarep({"restore", s3url("cj/" + job), "us-east-1/" + dst2, "--verify-first", "--quiet"});
  EXPECT_EQ(v.exit_code, 3) << v.err;
  EXPECT_TRUE(has(v.err, "nothing was written")) << v.err;
}

TEST_F(BackupCliTest, TruncatedObjectIsCaughtBeforeWriting) {
  std::string job = table_with_backup(150, "tr");
  std::string key = "tr/" + job + "/0";
  std::string gz = object(key);
  put(key, gz.substr(0, gz.size() - 40));
  std::string dst = new_table_name("bkc-trdst");
  auto r = run_dynarep({"restore", s3url("tr/" + job), "us-east-1/" + dst, "--quiet"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_TRUE(has(r.err, s3url(key))) << r.err;
  EXPECT_TRUE(has(r.err, "truncated")) << r.err;
  EXPECT_TRUE(has(r.err, "nothing was written")) << r.err;
  // Without a manifest (a single file) the gzip stream itself says so.
  put("tr/single.gz", gz.substr(0, gz.size() - 40));
  auto s = run_dynarep({"restore", s3url("tr/single.gz"), "us-east-1/" + src_, "--quiet"});
  EXPECT_EQ(s.exit_code, 3) << s.err;
  EXPECT_TRUE(has(s.err, "truncated gzip stream")) << s.err;
  EXPECT_TRUE(has(s.err, s3url("tr/single.gz"))) << s.err;
}

TEST_F(BackupCliTest, BadLineNamesObjectAndLineAndWhatWasWritten) {
  src_ = create_table("bkc-line", kIdKey);
  std::string text = model::to_json(rich_item("a", 1)) + "\n" + model::to_json(rich_item("b", 2)) + "\n" +
                     R"({"id":{"S":"c"},"n":{"N":"12x"}})" + "\n" + model::to_json(rich_item("d", 4)) + "\n";
  put("lines/bad.json", text);
  auto r = run_dynarep({"restore", s3url("lines/bad.json"), "us-east-1/" + src_, "--quiet"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_TRUE(has(r.err, s3url("lines/bad.json") + " line 3")) << r.err;
  EXPECT_TRUE(has(r.err, "12x")) << r.err;
  EXPECT_TRUE(has(r.err, "INCOMPLETE: 2 items were written")) << r.err;
  EXPECT_TRUE(has(r.err, "run the same command again")) << r.err;
}

TEST_F(BackupCliTest, MissingSegmentIsAnError) {
  src_ = create_table("bkc-miss", kIdKey);
  std::vector<Item> items;
  for (int i = 0; i < 40; ++i) items.push_back(rich_item(fmt::format("m{:02}", i), i));
  put_all(src_, items);
  for (int seg : {0, 2}) {
    auto b = run_dynarep({"backup-table", "us-east-1/" + src_, s3url("ms"), "--jobid", "J", "--segment",
                          std::to_string(seg), "--segments", "3", "--quiet"});
    ASSERT_EQ(b.exit_code, 0) << b.err;
  }
  std::string dst = new_table_name("bkc-msdst");
  auto r = run_dynarep({"restore", s3url("ms/J"), "us-east-1/" + dst, "--quiet"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_TRUE(has(r.err, "segment 1 of 3 is missing")) << r.err;
  EXPECT_TRUE(has(r.err, s3url("ms/J/1"))) << r.err;
  EXPECT_TRUE(has(r.err, "nothing was written")) << r.err;
  // With the third machine's part, it restores.
  auto b = run_dynarep({"backup-table", "us-east-1/" + src_, s3url("ms"), "--jobid", "J", "--segment", "1",
                        "--segments", "3", "--quiet"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  auto ok = run_dynarep({"restore", s3url("ms/J"), "us-east-1/" + dst, "--quiet"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  expect_same(scan_all(src_), scan_all(dst));
}

TEST_F(BackupCliTest, ManifestThatDisagreesIsAnError) {
  std::string job = table_with_backup(30, "mm");
  std::string mkey = "mm/" + job + "/manifest.json";
  auto m = parse_manifest(object(mkey), "m");
  ASSERT_TRUE(m.ok());
  m->objects[0].items += 1;
  m->items += 1;
  put(mkey, to_json(*m));
  std::string dst = new_table_name("bkc-mmdst");
  auto r = run_dynarep({"restore", s3url("mm/" + job), "us-east-1/" + dst, "--quiet"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_TRUE(has(r.err, s3url("mm/" + job + "/0"))) << r.err;
  EXPECT_TRUE(has(r.err, "holds 30 items but the manifest says 31")) << r.err;
  EXPECT_TRUE(has(r.err, "INCOMPLETE")) << r.err;
}

// --- incremental

std::string lambda_kinesis_event(const std::vector<std::string>& datas) {
  std::string recs;
  int seq = 1;
  for (const auto& d : datas) {
    if (!recs.empty()) recs += ",";
    recs += fmt::format(
        R"({{"kinesis":{{"kinesisSchemaVersion":"1.0","partitionKey":"pk","sequenceNumber":"{}","data":"{}","approximateArrivalTimestamp":1714564800.5}},"eventSource":"aws:kinesis","eventVersion":"1.0","eventID":"shardId-000000000000:{}","eventName":"aws:kinesis:record","awsRegion":"us-east-1","eventSourceARN":"arn:aws:kinesis:us-east-1:1:stream/s"}})",
        seq, crypto::base64_encode(d), seq);
    ++seq;
  }
  return R"({"Records":[)" + recs + "]}";
}

TEST_F(BackupCliTest, LambdaEventIncrementalBackupSnapshotAndRecordCommands) {
  src_ = create_table("bkc-inc", kIdKey);
  std::vector<std::string> datas;
  for (int i = 0; i < 12; ++i) {
    Item it = rich_item(fmt::format("e{:02}", i), i);
    ASSERT_TRUE(db_->put_item(src_, it).ok());
    datas.push_back(stream::make_keys_only_record(*model::extract_key(it, kIdKey), stream::ChangeRecord::Event::kInsert, "us-east-1"));
  }
  Item gone = parse(R"({"id":{"S":"e03"}})");
  ASSERT_TRUE(db_->delete_item(src_, gone).ok());
  datas.push_back(stream::make_keys_only_record(gone, stream::ChangeRecord::Event::kRemove, "us-east-1"));
  datas.push_back("not json");  // skipped with a warning, never fails the batch
  auto ev = run_dynarep({"incremental-backup", "--primary", "us-east-1/" + src_, s3url("ib"), "--event", "-", "--history"},
                        lambda_kinesis_event(datas));
  ASSERT_EQ(ev.exit_code, 0) << ev.err;
  EXPECT_TRUE(has(ev.err, "14 records")) << ev.err;
  EXPECT_TRUE(has(ev.err, "1 skipped")) << ev.err;
  EXPECT_TRUE(has(ev.err, "shardId-000000000000 sequence 14")) << ev.err;
  auto listed = storage_->list(s3loc("ib/" + src_), false);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 11u);
  auto hist = storage_->list(s3loc("ib/" + src_ + "/history"), true);
  ASSERT_TRUE(hist.ok());
  ASSERT_EQ(hist->size(), 1u);
  EXPECT_EQ(hist->at(0).name, "2024/05/01/12/shardId-000000000000-1.jsonl.gz");

  auto snap = run_dynarep({"incremental-snapshot", s3url("ib/" + src_), s3url("snap/t.gz"), "--quiet"});
  ASSERT_EQ(snap.exit_code, 0) << snap.err;
  std::string dst = new_table_name("bkc-incdst");
  auto r = run_dynarep({"restore", s3url("snap/t.gz"), "us-east-1/" + dst, "--key", "id:S", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_same(scan_all(src_), scan_all(dst));

  // diff-record: in sync; then the table changes: different (exit 1); backup-record fixes it.
  auto d = run_dynarep({"incremental-diff-record", "us-east-1/" + src_, s3url("ib"), R"({"id":"e01"})"});
  EXPECT_EQ(d.exit_code, 0) << d.err;
  EXPECT_TRUE(has(d.out, R"(in sync {"id":{"S":"e01"}})")) << d.out;
  ASSERT_TRUE(db_->put_item(src_, rich_item("e01", 99)).ok());
  d = run_dynarep({"incremental-diff-record", "us-east-1/" + src_, s3url("ib"), R"({"id":"e01"})"});
  EXPECT_EQ(d.exit_code, 1) << d.err;
  EXPECT_TRUE(has(d.out, "different")) << d.out;
  auto br = run_dynarep({"incremental-backup-record", "us-east-1/" + src_, s3url("ib"), R"({"id":"e01"})"});
  EXPECT_EQ(br.exit_code, 0) << br.err;
  d = run_dynarep({"incremental-diff-record", "us-east-1/" + src_, s3url("ib"), R"({"id":"e01"})"});
  EXPECT_EQ(d.exit_code, 0) << d.out;
  d = run_dynarep({"incremental-diff-record", "us-east-1/" + src_, s3url("ib"), R"({"id":"e03"})"});
  EXPECT_EQ(d.exit_code, 0) << d.out;
  EXPECT_TRUE(has(d.out, "absent")) << d.out;

  // s3rver keeps no versions: a clear message.
  auto h = run_dynarep({"incremental-record-history", s3url("ib/" + src_), R"({"id":"e01"})"});
  EXPECT_EQ(h.exit_code, 3) << h.err;
  EXPECT_TRUE(has(h.err, "keeps no object versions")) << h.err;
}

TEST_F(BackupCliTest, BackfillThenStreamConsumerUntilIdle) {
  src_ = create_table("bkc-str", kIdKey);
  std::vector<Item> items;
  for (int i = 0; i < 20; ++i) items.push_back(rich_item(fmt::format("f{:02}", i), i));
  put_all(src_, items);
  auto bf = run_dynarep({"incremental-backfill", "us-east-1/" + src_, s3url("sb"), "--quiet"});
  ASSERT_EQ(bf.exit_code, 0) << bf.err;
  std::string stream = create_stream("bkc-str", 1);
  for (int i = 20; i < 30; ++i) {
    Item it = rich_item(fmt::format("f{:02}", i), i);
    ASSERT_TRUE(db_->put_item(src_, it).ok());
    Item key = *model::extract_key(it, kIdKey);
    ASSERT_TRUE(kinesis().put_record(stream, stream::make_keys_only_record(key, stream::ChangeRecord::Event::kInsert, "us-east-1"),
                                     stream::partition_key(key)).ok());
  }
  std::string leases = dynarep::testing::unique_name("bkc-leases");
  tables_.push_back(leases);
  auto r = run_dynarep({"incremental-backup", "--primary", "us-east-1/" + src_, "--stream", stream, s3url("sb"),
                        "--lease-table", leases, "--until-idle", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(has(r.err, "10 records")) << r.err;
  auto listed = storage_->list(s3loc("sb/" + src_), false);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 30u);
}

// incremental-backup spells its start position as replicate does.
TEST_F(BackupCliTest, IncrementalBackupStartAtIsSpelledAsReplicates) {
  auto r = run_dynarep({"incremental-backup", "--primary", "us-east-1/whatever-table", "--stream", "s", s3url("x"),
                        "--start-at", "yesterday"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(has(r.err, "--start-at \"yesterday\": expected TRIM_HORIZON, LATEST or a time")) << r.err;
}

// A drain (`--until-idle`) after the workers were stopped: one shard's lease is still held by a
// worker that died without releasing it. The drain used to see the shard it held caught up and
// stop, leaving the other shard's changes out of the backup; it now waits for the lease to
// expire, takes it, and reads that shard too.
TEST_F(BackupCliTest, UntilIdleWaitsForALeaseADeadWorkerStillHolds) {
  src_ = create_table("bkc-drain", kIdKey);
  std::string stream = create_stream("bkc-drain", 2);
  for (int i = 0; i < 40; ++i) {
    Item it = rich_item(fmt::format("d{:02}", i), i);
    ASSERT_TRUE(db_->put_item(src_, it).ok());
    Item key = *model::extract_key(it, kIdKey);
    ASSERT_TRUE(kinesis().put_record(stream, stream::make_keys_only_record(key, stream::ChangeRecord::Event::kInsert, "us-east-1"),
                                     stream::partition_key(key)).ok());
  }
  std::string leases = dynarep::testing::unique_name("bkc-drain-leases");
  tables_.push_back(leases);
  lease::DynamoLeaseStore store(*db_, leases);
  ASSERT_TRUE(store.ensure_table().ok());
  auto shards = kinesis().list_shards(stream);
  ASSERT_TRUE(shards.ok());
  ASSERT_EQ(shards->size(), 2u);
  for (const auto& sh : *shards) {
    lease::Lease l;
    l.key = sh.id.str();
    ASSERT_TRUE(*store.create(l));
  }
  auto ghost = store.get((*shards)[0].id.str());
  ASSERT_TRUE(ghost.ok() && ghost->has_value());
  lease::Lease g = **ghost;
  ASSERT_TRUE(*store.take(g, "dead-worker", "token-dead"));  // never renewed again
  auto r = run_dynarep({"incremental-backup", "--primary", "us-east-1/" + src_, "--stream", stream, s3url("drain"),
                        "--lease-table", leases, "--until-idle", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto listed = storage_->list(s3loc("drain/" + src_), false);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 40u) << "the drain stopped before reading the dead worker's shard\n" << r.err;
}

// Point-in-time restore through the CLI: backup-table, a Lambda event of image records with
// chosen creation times into the history, restore --as-of between them.
TEST_F(BackupCliTest, AsOfRestoresTheStateAtTheChosenTime) {
  src_ = create_table("bkc-pitr", kIdKey);
  put_all(src_, {parse(R"({"id":{"S":"a"},"v":{"N":"0"}})"), parse(R"({"id":{"S":"b"},"v":{"N":"0"}})")});
  auto b = run_dynarep({"backup-table", "us-east-1/" + src_, s3url("pj"), "--jobid", "full1", "--quiet"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  auto m = parse_manifest(object("pj/full1/manifest.json"), "m");
  ASSERT_TRUE(m.ok());
  auto us = [](std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  };
  auto rec = [&](const char* ev, const std::string& id, const std::string& image, std::chrono::system_clock::time_point t) {
    return fmt::format(
        R"({{"awsRegion":"us-east-1","eventID":"e","eventName":"{}","recordFormat":"application/json","tableName":"{}","dynamodb":{{"ApproximateCreationDateTime":{},"Keys":{{"id":{{"S":"{}"}}}},{}"SizeBytes":1}},"eventSource":"aws:dynamodb"}})",
        ev, src_, us(t), id, image.empty() ? "" : "\"NewImage\":" + image + ",");
  };
  auto t1 = m->end_time + std::chrono::minutes(1), t2 = m->end_time + std::chrono::minutes(3);
  std::string event = lambda_kinesis_event({
      rec("MODIFY", "a", R"({"id":{"S":"a"},"v":{"N":"1"}})", t1),
      rec("REMOVE", "b", "", t1 + std::chrono::milliseconds(1)),
      rec("INSERT", "c", R"({"id":{"S":"c"},"v":{"N":"1"}})", t1 + std::chrono::milliseconds(2)),
      rec("MODIFY", "a", R"({"id":{"S":"a"},"v":{"N":"2"}})", t2),
  });
  auto ev = run_dynarep({"incremental-backup", "--primary", "us-east-1/" + src_, s3url("pinc"), "--event", "-",
                         "--history", "--quiet"},
                        event);
  ASSERT_EQ(ev.exit_code, 0) << ev.err;
  std::string dst = new_table_name("bkc-pitrdst");
  auto r = run_dynarep({"restore", s3url("pj"), "us-east-1/" + dst, "--as-of",
                        format_time(m->end_time + std::chrono::minutes(2)), "--history", s3url("pinc/" + src_)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(has(r.err, "history: 3 changes, 2 puts, 1 deletes")) << r.err;
  std::map<std::string, Item> want{{R"({"id":{"S":"a"}})", parse(R"({"id":{"S":"a"},"v":{"N":"1"}})")},
                                   {R"({"id":{"S":"c"}})", parse(R"({"id":{"S":"c"},"v":{"N":"1"}})")}};
  expect_same(want, scan_all(dst));
}

// Issue 10: a restore --as-of past what the incremental history holds (the incremental backup
// lags) would silently restore an older state. It is refused, naming how far the history
// reaches, unless --allow-incomplete-history; a time the history reaches restores as before.
TEST_F(BackupCliTest, AsOfPastTheHistoryIsRefusedUnlessAllowed) {
  src_ = create_table("bkc-lag", kIdKey);
  put_all(src_, {parse(R"({"id":{"S":"a"},"v":{"N":"0"}})")});
  auto b = run_dynarep({"backup-table", "us-east-1/" + src_, s3url("lj"), "--jobid", "full1", "--quiet"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  auto m = parse_manifest(object("lj/full1/manifest.json"), "m");
  ASSERT_TRUE(m.ok());
  const auto t1 = std::chrono::time_point_cast<std::chrono::seconds>(m->end_time) + std::chrono::minutes(1);
  const int64_t t1_us = std::chrono::duration_cast<std::chrono::microseconds>(t1.time_since_epoch()).count();
  std::string event = lambda_kinesis_event({fmt::format(
      R"({{"awsRegion":"us-east-1","eventID":"e","eventName":"MODIFY","recordFormat":"application/json","tableName":"{}","dynamodb":{{"ApproximateCreationDateTime":{},"Keys":{{"id":{{"S":"a"}}}},"NewImage":{{"id":{{"S":"a"}},"v":{{"N":"1"}}}},"SizeBytes":1}},"eventSource":"aws:dynamodb"}})",
      src_, t1_us)});
  auto ev = run_dynarep({"incremental-backup", "--primary", "us-east-1/" + src_, s3url("linc"), "--event", "-",
                         "--history", "--quiet"},
                        event);
  ASSERT_EQ(ev.exit_code, 0) << ev.err;
  const std::string history = s3url("linc/" + src_);
  const std::string t2 = format_time(t1 + std::chrono::minutes(5));

  // Past the history: refused, one line, nothing written.
  std::string dst = new_table_name("bkc-lagdst");
  auto refused = run_dynarep({"restore", s3url("lj"), "us-east-1/" + dst, "--as-of", t2, "--history", history, "--quiet"});
  EXPECT_NE(refused.exit_code, 0) << refused.err;
  EXPECT_EQ(refused.err, "dynarep restore: history at " + history + " reaches only " + format_time(t1) +
                             ", before --as-of " + t2 +
                             "; run incremental-backup until it catches up or pass --allow-incomplete-history\n");
  auto described = db_->describe_table(dst);
  EXPECT_TRUE(!described.ok() && described.error().kind == ErrorKind::kNotFound) << "a refused restore created the table";

  // The user accepts the gap.
  auto allowed = run_dynarep({"restore", s3url("lj"), "us-east-1/" + dst, "--as-of", t2, "--history", history,
                              "--allow-incomplete-history"});
  ASSERT_EQ(allowed.exit_code, 0) << allowed.err;
  expect_same({{R"({"id":{"S":"a"}})", parse(R"({"id":{"S":"a"},"v":{"N":"1"}})")}}, scan_all(dst));

  // A time the history reaches: restores as before, no flag needed.
  std::string dst2 = new_table_name("bkc-lagdst2");
  auto reached = run_dynarep({"restore", s3url("lj"), "us-east-1/" + dst2, "--as-of", format_time(t1), "--history", history});
  ASSERT_EQ(reached.exit_code, 0) << reached.err;
  expect_same({{R"({"id":{"S":"a"}})", parse(R"({"id":{"S":"a"},"v":{"N":"1"}})")}}, scan_all(dst2));
}

}  // namespace
}  // namespace dynarep::backup::testing
