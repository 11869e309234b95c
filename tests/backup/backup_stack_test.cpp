// backup-table, restore from every format, incremental backups and point-in-time restore as a
// library, against dynalite, kinesalite and s3rver.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "backup/backup_table.h"
#include "backup/history.h"
#include "backup/incremental.h"
#include "backup/reader.h"
#include "backup/restore.h"
#include "backup_fixture.h"
#include "compress/gzip.h"
#include "crypto/random.h"
#include "lease/worker.h"
#include "stream/record.h"

namespace dynarep::backup::testing {
namespace {

using std::chrono::system_clock;
using model::KeySchema;
using model::Type;

const KeySchema kIdKey{"id", Type::kS, "", Type::kS};


// An incremental backup of `table` (key kIdKey) on `db` into `dest`.
IncrementalOptions incremental_options(dynamodb::Client* db, Storage* storage, const std::string& table,
                                       const Location& dest) {
  IncrementalOptions opt;
  opt.primary = db;
  opt.table = table;
  opt.key_schema = kIdKey;
  opt.storage = storage;
  opt.table_dir = incremental_table_dir(dest, table);
  return opt;
}

Status run_restore(Storage& storage, const Location& src, RestoreOptions opt, RestoreProgress* out = nullptr) {
  RestoreProgress p;
  Status st = restore(storage, src, opt, p);
  if (out != nullptr) *out = p;
  return st;
}

class BackupTest : public BackupStackTest {
 protected:
  RestoreOptions restore_opts(const std::string& table) {
    RestoreOptions o;
    o.client = db_.get();
    o.table = table;
    o.display = "us-east-1/" + table;
    o.parallel = 4;
    return o;
  }
  Result<BackupResult> backup(const std::string& table, const std::string& prefix, int parallel = 4,
                              std::optional<int> segment = std::nullopt, int segments = 1, std::string jobid = "") {
    BackupOptions o;
    o.table = table;
    o.source_display = "us-east-1/" + table;
    o.dest = s3loc(prefix);
    o.parallel = parallel;
    o.segment = segment;
    o.segments = segments;
    o.jobid = std::move(jobid);
    return backup_table(*db_, *storage_, o);
  }
};

TEST_F(BackupTest, RoundTripsEveryTypeAndNear400KbItems) {
  std::string src = create_table("bk-src", kIdKey);
  std::vector<Item> items;
  for (int i = 0; i < 150; ++i) items.push_back(rich_item(fmt::format("k{:04}", i), i));
  items.push_back(big_item("big-s", false));
  items.push_back(big_item("big-b", true));
  put_all(src, items);

  auto r = backup(src, "backups");
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->manifest.items, 152);
  EXPECT_EQ(r->manifest.scan_total_segments, 4);
  EXPECT_EQ(r->data.key, "backups/" + r->manifest.jobid + "/0");
  // The manifest is there and says what the object is.
  auto listed = storage_->list(s3loc("backups/" + r->manifest.jobid), false);
  ASSERT_TRUE(listed.ok());
  std::set<std::string> names;
  for (const auto& e : *listed) names.insert(e.name);
  EXPECT_EQ(names, (std::set<std::string>{"0", "manifest.json"}));

  std::string dst = new_table_name("bk-dst");
  RestoreProgress p;
  DR_ASSERT_OK(run_restore(*storage_, s3loc("backups/" + r->manifest.jobid), restore_opts(dst), &p));
  EXPECT_TRUE(p.table_created);
  EXPECT_EQ(p.items_written, 152);
  EXPECT_NE(p.detected.find("backup-job"), std::string::npos) << p.detected;
  expect_same(scan_all(src), scan_all(dst));
}

TEST_F(BackupTest, CompositeKeyTableRoundTripsIntoAnExistingTable) {
  KeySchema key{"user", Type::kS, "ts", Type::kN};
  std::string src = create_table("bk-csrc", key);
  std::vector<Item> items;
  for (int i = 0; i < 60; ++i) {
    items.push_back(parse(fmt::format(R"({{"user":{{"S":"u{}"}},"ts":{{"N":"{}.25"}},"v":{{"NS":["1","{}"]}}}})", i % 7, i, i + 2)));
  }
  put_all(src, items);
  auto r = backup(src, "c", 2);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  std::string dst = create_table("bk-cdst", key);
  DR_ASSERT_OK(run_restore(*storage_, s3loc("c/" + r->manifest.jobid + "/"), restore_opts(dst)));
  expect_same(scan_all(src), scan_all(dst));
  // --create-table on an existing table is an error, and writes nothing.
  auto opt = restore_opts(dst);
  opt.create_table = true;
  RestoreProgress p;
  Status st = run_restore(*storage_, s3loc("c/" + r->manifest.jobid), opt, &p);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().describe().find("already exists"), std::string::npos) << st.error().describe();
  EXPECT_EQ(p.items_written, 0);
}

TEST_F(BackupTest, SegmentsFromSeveralMachinesRestoreTogether) {
  std::string src = create_table("bk-seg", kIdKey);
  std::vector<Item> items;
  for (int i = 0; i < 120; ++i) items.push_back(rich_item(fmt::format("s{:03}", i), i));
  put_all(src, items);
  std::string jobid = "job-" + crypto::random_hex(4);
  for (int seg : {0, 1, 2}) {
    auto r = backup(src, "multi", 2, seg, 3, jobid);
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(r->manifest.scan_total_segments, 6);
    ASSERT_TRUE(r->manifest_location.has_value());
    EXPECT_EQ(r->manifest_location->key, fmt::format("multi/{}/manifest-{}.json", jobid, seg));
  }
  std::string dst = new_table_name("bk-segdst");
  RestoreProgress p;
  DR_ASSERT_OK(run_restore(*storage_, s3loc("multi/" + jobid), restore_opts(dst), &p));
  EXPECT_EQ(p.objects_done.size(), 3u);
  expect_same(scan_all(src), scan_all(dst));
}

TEST_F(BackupTest, EveryItemPresentBeforeTheBackupStartedIsInIt) {
  std::string src = create_table("bk-conc", kIdKey);
  std::vector<Item> items;
  for (int i = 0; i < 400; ++i) items.push_back(parse(fmt::format(R"({{"id":{{"S":"old{:04}"}},"v":{{"N":"0"}}}})", i)));
  put_all(src, items);
  std::atomic<bool> stop{false};
  std::atomic<int> writes{0};
  std::thread writer([&] {
    for (int round = 0; !stop.load(); ++round) {
      std::vector<dynamodb::WriteRequest> w;
      for (int j = 0; j < 25; ++j) {
        int i = (round * 25 + j) % 400;
        // Updates of old items and new items, concurrently with the scan.
        w.push_back({dynamodb::WriteRequest::Kind::kPut,
                     parse(fmt::format(R"({{"id":{{"S":"old{:04}"}},"v":{{"N":"{}"}}}})", i, round + 1))});
        w.push_back({dynamodb::WriteRequest::Kind::kPut,
                     parse(fmt::format(R"({{"id":{{"S":"new{:05}-{}"}},"v":{{"N":"1"}}}})", round, j))});
      }
      for (size_t k = 0; k < w.size(); k += 25) {
        std::vector<dynamodb::WriteRequest> part(w.begin() + static_cast<long>(k),
                                                 w.begin() + static_cast<long>(std::min(w.size(), k + 25)));
        if (db_->batch_write_all(src, part).ok()) writes += static_cast<int>(part.size());
      }
    }
  });
  while (writes.load() < 100) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto r = backup(src, "conc", 4);
  stop.store(true);
  writer.join();
  ASSERT_TRUE(r.ok()) << r.error().describe();
  std::set<std::string> ids;
  auto read = read_lines(*storage_, r->data, [&](std::string_view line, uint64_t) -> Status {
    auto it = model::parse_item(line);
    if (!it.ok()) return it.error();
    ids.insert(it->find("id")->as_s());
    return {};
  });
  ASSERT_TRUE(read.ok()) << read.error().describe();
  for (int i = 0; i < 400; ++i) EXPECT_TRUE(ids.count(fmt::format("old{:04}", i))) << i;
  EXPECT_EQ(static_cast<int64_t>(ids.size()), r->manifest.items);  // no item twice
  EXPECT_GT(writes.load(), 0);
}

TEST_F(BackupTest, DynoExportFileCreatesTheTable) {
  std::string src = create_table("bk-dyno", kIdKey);
  std::vector<Item> items;
  for (int i = 0; i < 40; ++i) items.push_back(rich_item(fmt::format("d{:02}", i), i));
  put_all(src, items);
  auto desc = db_->describe_table(src);
  ASSERT_TRUE(desc.ok());
  auto line = dynamodb::export_description(*desc);
  ASSERT_TRUE(line.ok());
  std::string text = *line + "\n";
  for (const auto& it : items) text += model::to_json(it) + "\n";
  auto path = std::filesystem::temp_directory_path() / ("dynarep-dyno-" + crypto::random_hex(4) + ".json");
  {
    std::ofstream f(path, std::ios::binary);
    f << text;
  }
  std::string dst = new_table_name("bk-dynodst");
  RestoreProgress p;
  Status st = run_restore(*storage_, *aws::parse_object_location(path.string()), restore_opts(dst), &p);
  std::filesystem::remove(path);
  DR_ASSERT_OK(st);
  EXPECT_TRUE(p.table_created);
  expect_same(scan_all(src), scan_all(dst));
  // The same, gzipped, on S3.
  ASSERT_TRUE(s3_->put_object(bucket_, "dyno/export.gz", *compress::gzip(text)).ok());
  std::string dst2 = new_table_name("bk-dynodst2");
  DR_ASSERT_OK(run_restore(*storage_, s3loc("dyno/export.gz"), restore_opts(dst2)));
  expect_same(scan_all(src), scan_all(dst2));
}

// The layout of DynamoDB's export to S3 (developerguide/S3DataExport.Output.html):
// <prefix>/AWSDynamoDB/<ExportId>/manifest-summary.json, manifest-files.json (JSON lines with
// itemCount, md5Checksum, etag, dataFileS3Key), data/<name>.json.gz of {"Item":{...}} lines.
TEST_F(BackupTest, AwsExportFolderRestores) {
  std::vector<Item> items;
  for (int i = 0; i < 70; ++i) items.push_back(rich_item(fmt::format("a{:02}", i), i));
  const std::string dir = "exports/AWSDynamoDB/01700000000000-abcd1234/";
  std::string files;
  for (int f = 0; f < 3; ++f) {
    std::string body;
    int n = 0;
    for (size_t i = static_cast<size_t>(f); i < items.size(); i += 3, ++n) {
      body += R"({"Item":)" + model::to_json(items[i]) + "}\n";
    }
    std::string gz = *compress::gzip(body);
    Md5 md5;
    md5.update(gz);
    std::string key = dir + "data/file" + std::to_string(f) + ".json.gz";
    ASSERT_TRUE(s3_->put_object(bucket_, key, gz).ok());
    files += fmt::format(R"({{"itemCount":{},"md5Checksum":"{}","etag":"x","dataFileS3Key":"{}"}})", n,
                         md5.finish_base64(), key) + "\n";
  }
  ASSERT_TRUE(s3_->put_object(bucket_, dir + "manifest-files.json", files).ok());
  ASSERT_TRUE(s3_->put_object(bucket_, dir + "_started", "").ok());
  ASSERT_TRUE(s3_->put_object(bucket_, dir + "manifest-summary.json",
                              fmt::format(R"({{"version":"2020-06-30","exportArn":"arn:aws:dynamodb:us-east-1:1:table/T/export/01700000000000-abcd1234","startTime":"2024-05-01T12:00:00.000Z","endTime":"2024-05-01T12:05:00.000Z","tableArn":"arn:aws:dynamodb:us-east-1:1:table/T","exportTime":"2024-05-01T12:00:00.000Z","s3Bucket":"{}","s3Prefix":"exports","manifestFilesS3Key":"{}manifest-files.json","billedSizeBytes":0,"itemCount":70,"outputFormat":"DYNAMODB_JSON"}})",
                                          bucket_, dir))
                  .ok());
  std::string dst = new_table_name("bk-awsdst");
  auto opt = restore_opts(dst);
  opt.key = kIdKey;  // an AWS export carries no key schema
  RestoreProgress p;
  DR_ASSERT_OK(run_restore(*storage_, s3loc("exports"), opt, &p));
  EXPECT_NE(p.detected.find("aws-export"), std::string::npos) << p.detected;
  EXPECT_EQ(p.items_written, 70);
  std::map<std::string, Item> want;
  for (const auto& it : items) want.emplace(model::canonical_key_json(*model::extract_key(it, kIdKey)), it);
  expect_same(want, scan_all(dst));
}

// KEYS_ONLY change records on a Kinesis stream, consumed with leases by lease::Worker into the
// incremental backup; its snapshot restores the table's final state.
TEST_F(BackupTest, IncrementalBackupFromTheStreamThenSnapshotRestoresTheFinalState) {
  std::string table = create_table("bk-inc", kIdKey);
  std::string stream = create_stream("bk-inc", 2);
  auto& k = kinesis();
  int records = 0;
  auto change = [&](const Item& key, stream::ChangeRecord::Event ev) {
    auto r = k.put_record(stream, stream::make_keys_only_record(key, ev, "us-east-1"), stream::partition_key(key));
    ASSERT_TRUE(r.ok()) << r.error().describe();
    ++records;
  };
  for (int i = 0; i < 60; ++i) {
    Item it = rich_item(fmt::format("i{:02}", i), i);
    ASSERT_TRUE(db_->put_item(table, it).ok());
    change(*model::extract_key(it, kIdKey), stream::ChangeRecord::Event::kInsert);
  }
  for (int i = 0; i < 60; i += 3) {  // modify every third, delete every fifth
    Item it = rich_item(fmt::format("i{:02}", i), 1000 + i);
    ASSERT_TRUE(db_->put_item(table, it).ok());
    change(*model::extract_key(it, kIdKey), stream::ChangeRecord::Event::kModify);
  }
  for (int i = 0; i < 60; i += 5) {
    Item key = parse(fmt::format(R"({{"id":{{"S":"i{:02}"}}}})", i));
    ASSERT_TRUE(db_->delete_item(table, key).ok());
    change(key, stream::ChangeRecord::Event::kRemove);
  }
  Location dest = s3loc("inc");
  IncrementalOptions opt = incremental_options(db_.get(), storage_.get(), table, dest);
  opt.history = true;
  IncrementalBackup inc(opt);
  IncrementalProcessor processor(inc);
  lease::Config cfg;
  cfg.stream = stream;
  cfg.lease_table = dynarep::testing::unique_name("bk-leases");
  tables_.push_back(cfg.lease_table);
  cfg.lease_duration = std::chrono::milliseconds(3000);
  lease::Worker worker(cfg, k, *db_, processor, SystemClock::instance());
  std::atomic<bool> stop{false};
  std::thread watch([&] {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (inc.stats().records.load() < records && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    stop.store(true);
  });
  Status st = worker.run(stop);
  watch.join();
  DR_ASSERT_OK(st);
  ASSERT_EQ(inc.stats().records.load(), records);
  EXPECT_EQ(inc.stats().skipped.load(), 0);
  // One object per live item, named by the key's sha256.
  auto objects = storage_->list(opt.table_dir, false);
  ASSERT_TRUE(objects.ok());
  EXPECT_EQ(objects->size(), 48u);
  auto body = storage_->read_all(child(opt.table_dir, incremental_object_name(parse(R"({"id":{"S":"i01"}})"))));
  ASSERT_TRUE(body.ok()) << body.error().describe();
  EXPECT_EQ(parse(*body), rich_item("i01", 1));

  DR_ASSERT_OK(incremental_snapshot(*storage_, opt.table_dir, s3loc("snapshots/inc.gz"), 8, nullptr));
  std::string dst = new_table_name("bk-incdst");
  auto ro = restore_opts(dst);
  ro.key = kIdKey;
  RestoreProgress p;
  DR_ASSERT_OK(run_restore(*storage_, s3loc("snapshots/inc.gz"), ro, &p));
  expect_same(scan_all(table), scan_all(dst));
  // The incremental prefix itself restores too.
  std::string dst2 = new_table_name("bk-incdst2");
  auto ro2 = restore_opts(dst2);
  ro2.key = kIdKey;
  DR_ASSERT_OK(run_restore(*storage_, opt.table_dir, ro2, &p));
  EXPECT_NE(p.detected.find("incremental"), std::string::npos) << p.detected;
  expect_same(scan_all(table), scan_all(dst2));
}

// A full backup, then image records with chosen creation times: --as-of restores the state
// at a time between two groups of changes.
TEST_F(BackupTest, PointInTimeRestoreReplaysHistoryUpToTheChosenTime) {
  std::string table = create_table("bk-pitr", kIdKey);
  std::map<std::string, Item> state;
  auto key_of = [](const Item& it) { return model::canonical_key_json(*model::extract_key(it, kIdKey)); };
  std::vector<Item> items;
  for (int i = 0; i < 50; ++i) {
    items.push_back(parse(fmt::format(R"({{"id":{{"S":"p{:02}"}},"v":{{"N":"0"}}}})", i)));
    state[key_of(items.back())] = items.back();
  }
  put_all(table, items);
  auto full = backup(table, "pitr/full", 2);
  ASSERT_TRUE(full.ok()) << full.error().describe();
  const auto end = full->manifest.end_time;

  IncrementalOptions opt = incremental_options(db_.get(), storage_.get(), table, s3loc("pitr/inc"));
  opt.history = true;
  IncrementalBackup inc(opt);
  auto record = [&](const std::string& id, int v, bool remove, system_clock::time_point when) {
    int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(when.time_since_epoch()).count();
    std::string keys = fmt::format(R"({{"id":{{"S":"{}"}}}})", id);
    std::string image = fmt::format(R"({{"id":{{"S":"{}"}},"v":{{"N":"{}"}}}})", id, v);
    return fmt::format(
        R"({{"awsRegion":"us-east-1","eventID":"e","eventName":"{}","recordFormat":"application/json","tableName":"{}","dynamodb":{{"ApproximateCreationDateTime":{},"Keys":{},{}"SizeBytes":10}},"eventSource":"aws:dynamodb"}})",
        remove ? "REMOVE" : "MODIFY", table, us, keys, remove ? "" : "\"NewImage\":" + image + ",");
  };
  // Phase 1 (before T): modify p00..p09, delete p10..p14, insert n00..n04.
  // Phase 2 (after T): modify p00..p04 again, delete p20, insert n10.
  std::vector<ChangeInput> batch;
  int seq = 1;
  auto add = [&](const std::string& id, int v, bool remove, system_clock::time_point when, bool apply_to_state) {
    std::string data = record(id, v, remove, when);
    batch.push_back(
        ChangeInput{"shardId-000000000000", std::to_string(seq++), "", std::nullopt, data, stream::parse_change_record(data)});
    ASSERT_TRUE(batch.back().change.ok()) << batch.back().change.error().describe();
    std::string k = fmt::format(R"({{"id":{{"S":"{}"}}}})", id);
    if (!apply_to_state) return;
    if (remove) {
      state.erase(k);
    } else {
      state[k] = parse(fmt::format(R"({{"id":{{"S":"{}"}},"v":{{"N":"{}"}}}})", id, v));
    }
  };
  auto t1 = end + std::chrono::minutes(1), as_of = end + std::chrono::minutes(2), t2 = end + std::chrono::minutes(3);
  for (int i = 0; i < 10; ++i) add(fmt::format("p{:02}", i), 1, false, t1 + std::chrono::milliseconds(i), true);
  for (int i = 10; i < 15; ++i) add(fmt::format("p{:02}", i), 0, true, t1 + std::chrono::milliseconds(i), true);
  for (int i = 0; i < 5; ++i) add(fmt::format("n{:02}", i), 1, false, t1 + std::chrono::milliseconds(20 + i), true);
  for (int i = 0; i < 5; ++i) add(fmt::format("p{:02}", i), 2, false, t2 + std::chrono::milliseconds(i), false);
  add("p20", 0, true, t2 + std::chrono::milliseconds(10), false);
  add("n10", 2, false, t2 + std::chrono::milliseconds(11), false);
  DR_ASSERT_OK(inc.apply(batch));
  EXPECT_EQ(inc.stats().history_entries.load(), static_cast<int64_t>(batch.size()));

  std::string dst = new_table_name("bk-pitrdst");
  auto ro = restore_opts(dst);
  ro.as_of = as_of;
  ro.history = opt.table_dir;
  RestoreProgress p;
  DR_ASSERT_OK(run_restore(*storage_, s3loc("pitr/full"), ro, &p));
  EXPECT_EQ(p.history_entries, 20);
  EXPECT_EQ(p.history_puts, 15);
  EXPECT_EQ(p.history_deletes, 5);
  expect_same(state, scan_all(dst));

  // A time before the backup ended has no backup to start from.
  auto early = restore_opts(new_table_name("bk-pitrearly"));
  early.as_of = full->manifest.start_time - std::chrono::hours(1);
  early.history = opt.table_dir;
  Status st = run_restore(*storage_, s3loc("pitr/full"), early);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().describe().find("no complete backup job that ended at or before"), std::string::npos)
      << st.error().describe();
}

// A KEYS_ONLY record as our writer (or dyno) puts it on the stream.
ChangeInput keys_only_input(const std::string& key_json, stream::ChangeRecord::Event ev, int seq) {
  std::string data = stream::make_keys_only_record(parse(key_json), ev, "us-east-1");
  return ChangeInput{"shardId-000000000000", std::to_string(seq), "", std::nullopt, data,
                     stream::parse_change_record(data)};
}

// The incremental backup is as careful as the replicator:
//  - a record whose key does not fit the table (wrong type, extra attribute, another table's
//    key on a shared stream) once failed the whole BatchGetItem, and the shard retried forever;
//    now it is dead-lettered and the rest applied;
//  - a KEYS_ONLY REMOVE (a republished old one) was applied as a delete without a read, deleting
//    a live item's object and recording it deleted in the history;
//  - a record key "1.50" never matched the item read back as "1.5", so the object was written
//    under a name no snapshot or restore of the table's objects agrees with.
TEST_F(BackupTest, IncrementalBackupRejectsMisfitKeysRereadsKeysOnlyRemovesAndNamesObjectsByTheTablesKey) {
  std::string table = create_table("bk-care", kIdKey);
  ASSERT_TRUE(db_->put_item(table, rich_item("live", 1)).ok());
  ASSERT_TRUE(db_->put_item(table, rich_item("ok", 2)).ok());
  IncrementalOptions opt = incremental_options(db_.get(), storage_.get(), table, s3loc("care"));
  opt.history = true;
  std::vector<std::string> lettered;
  opt.dead_letter = [&](const std::vector<RejectedRecord>& rs) -> Status {
    for (const auto& r : rs) lettered.push_back(r.input->sequence_number + ": " + r.reason);
    return {};
  };
  IncrementalBackup inc(opt);
  std::vector<ChangeInput> batch{keys_only_input(R"({"id":{"N":"7"}})", stream::ChangeRecord::Event::kInsert, 1),
                                 keys_only_input(R"({"id":{"S":"ok"},"sk":{"S":"x"}})", stream::ChangeRecord::Event::kInsert, 2),
                                 keys_only_input(R"({"id":{"S":"ok"}})", stream::ChangeRecord::Event::kInsert, 3),
                                 keys_only_input(R"({"id":{"S":"live"}})", stream::ChangeRecord::Event::kRemove, 4)};
  DR_ASSERT_OK(inc.apply(batch));
  ASSERT_EQ(lettered.size(), 2u);
  EXPECT_EQ(lettered[0].rfind("1: key schema mismatch", 0), 0u) << lettered[0];
  EXPECT_EQ(lettered[1].rfind("2: key schema mismatch", 0), 0u) << lettered[1];
  auto ok = storage_->read_all(child(opt.table_dir, incremental_object_name(parse(R"({"id":{"S":"ok"}})"))));
  ASSERT_TRUE(ok.ok()) << ok.error().describe();
  EXPECT_EQ(parse(*ok), rich_item("ok", 2));
  auto live = storage_->read_all(child(opt.table_dir, incremental_object_name(parse(R"({"id":{"S":"live"}})"))));
  ASSERT_TRUE(live.ok()) << "a KEYS_ONLY REMOVE of a live item deleted its object: " << live.error().describe();
  EXPECT_EQ(parse(*live), rich_item("live", 1));
  int live_entries = 0;
  DR_ASSERT_OK(read_history(*storage_, opt.table_dir, system_clock::time_point{}, system_clock::now() + std::chrono::hours(1), 2,
                            [&](HistoryEntry&& e) -> Status {
                              if (e.key == parse(R"({"id":{"S":"live"}})")) {
                                ++live_entries;
                                EXPECT_TRUE(e.image.has_value()) << "the history records the live item as deleted";
                              }
                              return {};
                            }));
  EXPECT_EQ(live_entries, 1);

  // A numeric key: the record says "1.50" and "1e+21", DynamoDB says "1.5" and "1000000000000000000000".
  const KeySchema num_key{"n", Type::kN, "", Type::kS};
  std::string nt = create_table("bk-num", num_key);
  ASSERT_TRUE(db_->put_item(nt, parse(R"({"n":{"N":"1.50"},"v":{"S":"a"}})")).ok());
  ASSERT_TRUE(db_->put_item(nt, parse(R"({"n":{"N":"1e+21"},"v":{"S":"b"}})")).ok());
  IncrementalOptions nopt = opt;
  nopt.table = nt;
  nopt.key_schema = num_key;
  nopt.history = false;
  nopt.table_dir = incremental_table_dir(s3loc("care"), nt);
  IncrementalBackup ninc(nopt);
  DR_ASSERT_OK(ninc.apply({keys_only_input(R"({"n":{"N":"1.50"}})", stream::ChangeRecord::Event::kInsert, 1),
                           keys_only_input(R"({"n":{"N":"1e+21"}})", stream::ChangeRecord::Event::kInsert, 2)}));
  for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>{{R"({"n":{"N":"1.50"}})", "a"},
                                                                            {R"({"n":{"N":"1e+21"}})", "b"}}) {
    auto got = db_->get_item(nt, parse(k), true);
    ASSERT_TRUE(got.ok() && got->has_value());
    auto name = incremental_object_name(*model::extract_key(**got, num_key));  // the table's own spelling
    auto body = storage_->read_all(child(nopt.table_dir, name));
    ASSERT_TRUE(body.ok()) << "no object under the table's key " << model::canonical_key_json(**got) << ": "
                           << body.error().describe();
    EXPECT_EQ(parse(*body).find("v")->as_s(), v);
  }
  auto before = storage_->list(nopt.table_dir, false);
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->size(), 2u) << "one object per item, under the table's spelling of its key";
  // Deleted on the primary; REMOVE records with the records' spellings delete the table's objects.
  ASSERT_TRUE(db_->delete_item(nt, parse(R"({"n":{"N":"1.5"}})")).ok());
  ASSERT_TRUE(db_->delete_item(nt, parse(R"({"n":{"N":"1000000000000000000000"}})")).ok());
  DR_ASSERT_OK(ninc.apply({keys_only_input(R"({"n":{"N":"1.50"}})", stream::ChangeRecord::Event::kRemove, 3),
                           keys_only_input(R"({"n":{"N":"1e+21"}})", stream::ChangeRecord::Event::kRemove, 4)}));
  auto after = storage_->list(nopt.table_dir, false);
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->empty());
}

// Kinesis Data Streams for DynamoDB delivers late and twice: the objects follow the primary, the
// history keeps every record's own image at its own time.
TEST_F(BackupTest, IncrementalBackupOfLateAndDuplicatedKinesisForDynamoDbRecordsFollowsThePrimary) {
  std::string table = create_table("bk-kds", kIdKey);
  ASSERT_TRUE(db_->put_item(table, parse(R"({"id":{"S":"a"},"v":{"N":"2"}})")).ok());
  IncrementalOptions opt = incremental_options(db_.get(), storage_.get(), table, s3loc("kds"));
  IncrementalBackup inc(opt);
  auto rec = [&](const std::string& ev, const std::string& id, int v, int64_t us, int seq) {
    std::string data = fmt::format(
        R"({{"awsRegion":"us-east-1","eventID":"e","eventName":"{}","recordFormat":"application/json","tableName":"{}","dynamodb":{{"ApproximateCreationDateTime":{},"Keys":{{"id":{{"S":"{}"}}}},{}"SizeBytes":10}},"eventSource":"aws:dynamodb"}})",
        ev, table, us, id, ev == "REMOVE" ? "" : fmt::format(R"("NewImage":{{"id":{{"S":"{}"}},"v":{{"N":"{}"}}}},)", id, v));
    return ChangeInput{"shardId-000000000000", std::to_string(seq), "", std::nullopt, data, stream::parse_change_record(data)};
  };
  const int64_t t = 1'700'000'000'000'000;
  DR_ASSERT_OK(inc.apply({rec("MODIFY", "a", 2, t + 2, 1), rec("INSERT", "b", 1, t + 1, 2), rec("REMOVE", "b", 0, t + 3, 3)}));
  DR_ASSERT_OK(inc.apply({rec("MODIFY", "a", 1, t + 1, 4), rec("INSERT", "b", 1, t + 1, 5)}));  // late, duplicated
  auto a = storage_->read_all(child(opt.table_dir, incremental_object_name(parse(R"({"id":{"S":"a"}})"))));
  ASSERT_TRUE(a.ok()) << a.error().describe();
  EXPECT_EQ(parse(*a), parse(R"({"id":{"S":"a"},"v":{"N":"2"}})")) << "a late image overwrote a newer one";
  auto b = storage_->read_all(child(opt.table_dir, incremental_object_name(parse(R"({"id":{"S":"b"}})"))));
  EXPECT_FALSE(b.ok()) << "a duplicated INSERT resurrected a deleted item";
}

}  // namespace
}  // namespace dynarep::backup::testing
