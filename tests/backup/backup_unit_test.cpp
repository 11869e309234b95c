// Manifests, key specs, times, history lines, local-directory storage, the line reader's
// errors and source detection on local directories: no AWS stack needed.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "backup/history.h"
#include "backup/incremental.h"
#include "backup/manifest.h"
#include "backup/reader.h"
#include "backup/restore.h"
#include "backup/storage.h"
#include "compress/gzip.h"
#include "crypto/random.h"
#include "model/codec.h"

namespace dynarep::backup {
namespace {

namespace fs = std::filesystem;
using std::chrono::system_clock;

model::Item parse(std::string_view json) {
  auto r = model::parse_item(json);
  EXPECT_TRUE(r.ok()) << json;
  return r.ok() ? std::move(r).value() : model::Item{};
}

Manifest sample_manifest() {
  Manifest m;
  m.table = "orders";
  m.source = "us-east-1/orders";
  m.jobid = "abc";
  m.segments = 1;
  m.scan_total_segments = 4;
  m.scan_segments = {0, 1, 2, 3};
  m.start_time = system_clock::time_point(std::chrono::milliseconds(1714564800123));
  m.end_time = m.start_time + std::chrono::seconds(5);
  m.key_schema = model::KeySchema{"id", model::Type::kS, "ts", model::Type::kN};
  m.description = R"({"TableName":"orders","KeySchema":[{"AttributeName":"id","KeyType":"HASH"}]})";
  m.table_item_count = 10;
  m.objects.push_back(ObjectEntry{0, "0", 10, 2000, 300, std::string(64, 'a')});
  m.items = 10;
  m.bytes = 2000;
  m.gzip_bytes = 300;
  return m;
}

// Users' incremental-backup objects are named by this: the sha256 of the key's JSON, names
// sorted, the number as written, strings escaped as JSON.stringify does (docs/formats.md §4.2).
// The hash is pinned (computed outside dynarep), so a drift in the escaping or the key JSON,
// which would orphan every stored object, fails here.
TEST(IncrementalObjectName, IsPinnedForATrickyKey) {
  const model::Item key = parse(R"({"n":{"N":"1.50"},"id":{"S":"a\"\u0001\u2028\ud83d\ude00"}})");
  EXPECT_EQ(model::canonical_key_json(key),
            "{\"id\":{\"S\":\"a\\\"\\u0001\xe2\x80\xa8\xf0\x9f\x98\x80\"},\"n\":{\"N\":\"1.50\"}}");
  EXPECT_EQ(incremental_object_name(key), "ba8370fd8ef8394e3476ecb99ceeb7bf305387880ec7321f91fc035ca33fa2a7");
}

TEST(BackupManifest, RoundTrips) {
  Manifest m = sample_manifest();
  std::string json = to_json(m);
  auto back = parse_manifest(json, "test");
  ASSERT_TRUE(back.ok()) << back.error().describe();
  EXPECT_EQ(to_json(*back), json);
  EXPECT_EQ(back->key_schema.range_name, "ts");
  EXPECT_EQ(back->key_schema.range_type, model::Type::kN);
  EXPECT_EQ(back->description, m.description);
  EXPECT_EQ(back->start_time, m.start_time);
  EXPECT_NE(json.find(R"("start_time":"2024-05-01T12:00:00.123Z")"), std::string::npos) << json;
}

TEST(BackupManifest, SegmentManifestRoundTrips) {
  Manifest m = sample_manifest();
  m.segments = 3;
  m.segment = 2;
  auto back = parse_manifest(to_json(m), "test");
  ASSERT_TRUE(back.ok()) << back.error().describe();
  ASSERT_TRUE(back->segment.has_value());
  EXPECT_EQ(*back->segment, 2);
}

TEST(BackupManifest, RejectsWhatIsWrongAndNamesIt) {
  auto e = parse_manifest("{", "s3://b/j/manifest.json");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().describe().find("s3://b/j/manifest.json"), std::string::npos) << e.error().describe();
  Manifest m = sample_manifest();
  m.items = 11;  // disagrees with its objects
  auto bad = parse_manifest(to_json(m), "x");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("\"items\" is 11 but its objects hold 10"), std::string::npos)
      << bad.error().describe();
  std::string json = to_json(sample_manifest());
  json.replace(json.find("\"version\":1"), 11, "\"version\":9");
  auto future = parse_manifest(json, "x");
  ASSERT_FALSE(future.ok());
  EXPECT_NE(future.error().message.find("version 9 is not supported"), std::string::npos);
}

// bytes and gzip_bytes are optional totals: absent, they are 0, not a value read earlier
// (parse_manifest reused one variable, so they came back as scan.total_segments).
TEST(BackupManifest, AbsentOptionalTotalsAreZero) {
  std::string json = to_json(sample_manifest());
  for (const std::string field : {R"(,"bytes":2000)", R"(,"gzip_bytes":300)"}) {
    auto at = json.rfind(field);  // the manifest's own, after its objects' entries
    ASSERT_NE(at, std::string::npos) << json;
    json.erase(at, field.size());
  }
  auto back = parse_manifest(json, "test");
  ASSERT_TRUE(back.ok()) << back.error().describe();
  EXPECT_EQ(back->bytes, 0u) << json;
  EXPECT_EQ(back->gzip_bytes, 0u) << json;
  EXPECT_EQ(back->objects.at(0).bytes, 2000u);
}

TEST(BackupManifest, Names) {
  EXPECT_EQ(segment_manifest_name(3), "manifest-3.json");
  EXPECT_EQ(parse_segment_manifest_name("manifest-12.json"), std::optional<int>(12));
  EXPECT_FALSE(parse_segment_manifest_name("manifest.json"));
  EXPECT_FALSE(parse_segment_manifest_name("manifest-01.json"));
  EXPECT_TRUE(is_segment_name("0"));
  EXPECT_TRUE(is_segment_name("15"));
  EXPECT_FALSE(is_segment_name("015"));
  EXPECT_FALSE(is_segment_name("manifest.json"));
  EXPECT_FALSE(is_segment_name(""));
}

TEST(BackupKeySpec, Parses) {
  auto k = parse_key_spec("user:S,ts:N");
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(model::describe_key_schema(*k), "user (S), ts (N)");
  EXPECT_EQ(model::describe_key_schema(*parse_key_spec("id:B")), "id (B)");
  EXPECT_FALSE(parse_key_spec("id").ok());
  EXPECT_FALSE(parse_key_spec("id:M").ok());
  EXPECT_FALSE(parse_key_spec("a:S,b:S,c:S").ok());
}

TEST(BackupTime, FormatsAndParses) {
  auto t = system_clock::time_point(std::chrono::milliseconds(1714564800123));
  EXPECT_EQ(format_time(t), "2024-05-01T12:00:00.123Z");
  EXPECT_EQ(*parse_time("2024-05-01T12:00:00.123Z"), t);
  EXPECT_EQ(*parse_time("1714564800.123"), t);
  EXPECT_EQ(*parse_time("2024-05-01"), system_clock::time_point(std::chrono::seconds(1714521600)));
  EXPECT_FALSE(parse_time("yesterday").ok());
}

TEST(BackupHistory, LineRoundTripsAndNamesObjects) {
  HistoryEntry e;
  e.time = system_clock::time_point(std::chrono::microseconds(1714564800123456));
  e.time_source = "creation";
  e.event = stream::ChangeRecord::Event::kModify;
  e.key = parse(R"({"id":{"S":"a"}})");
  e.image = parse(R"({"id":{"S":"a"},"n":{"N":"1.50"},"b":{"B":"AAE="}})");
  e.image_source = "record";
  e.shard = "shardId-000000000001";
  e.seq = "49590338271490256608559692538361571095921575989136588818";
  e.recorded = e.time + std::chrono::seconds(1);
  auto back = parse_history_line(to_json_line(e));
  ASSERT_TRUE(back.ok()) << back.error().describe();
  EXPECT_EQ(back->time, e.time);
  EXPECT_EQ(back->key, e.key);
  ASSERT_TRUE(back->image.has_value());
  EXPECT_EQ(*back->image, *e.image);
  EXPECT_EQ(back->seq, e.seq);
  EXPECT_EQ(back->time_source, "creation");

  HistoryEntry removed = e;
  removed.event = stream::ChangeRecord::Event::kRemove;
  removed.image.reset();
  auto r = parse_history_line(to_json_line(removed));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->image.has_value());

  EXPECT_EQ(history_object_name(e.time, "arn:aws:dynamodb:us-east-1:1:table/t/stream/x", "12"),
            "history/2024/05/01/12/arn_aws_dynamodb_us-east-1_1_table_t_stream_x-12.jsonl.gz");
}

TEST(BackupHistory, OrdersByTimeThenSequenceAsANumber) {
  HistoryEntry a, b;
  a.time = b.time = system_clock::time_point(std::chrono::seconds(100));
  a.shard = b.shard = "s";
  a.seq = "9";
  b.seq = "10";
  EXPECT_TRUE(history_before(a, b));
  EXPECT_FALSE(history_before(b, a));
  b.time -= std::chrono::seconds(1);
  EXPECT_TRUE(history_before(b, a));
}

class BackupLocalDir : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("dynarep-backup-unit-" + crypto::random_hex(6));
    fs::create_directories(root_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  Location loc(const std::string& rel = "") {
    auto l = aws::parse_object_location(rel.empty() ? root_.string() : (root_ / rel).string());
    EXPECT_TRUE(l.ok());
    return *l;
  }
  void write(const std::string& rel, std::string_view body) {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream f(root_ / rel, std::ios::binary);
    f.write(body.data(), static_cast<std::streamsize>(body.size()));
  }
  static std::string lines(int n, int from = 0) {
    std::string s;
    for (int i = from; i < from + n; ++i) s += R"({"id":{"S":"k)" + std::to_string(i) + R"("},"v":{"N":")" + std::to_string(i) + "\"}}\n";
    return s;
  }
  fs::path root_;
  Storage storage_;
};

TEST_F(BackupLocalDir, SinkAppearsOnlyWhenFinished) {
  Location l = loc("job/0");
  {
    auto sink = storage_.open_sink(l);
    ASSERT_TRUE(sink.ok());
    ASSERT_TRUE((*sink)->write("abc").ok());
    EXPECT_FALSE(fs::exists(root_ / "job/0"));
  }  // destroyed unfinished
  EXPECT_FALSE(fs::exists(root_ / "job/0"));
  EXPECT_TRUE(fs::is_empty(root_ / "job"));
  auto sink = storage_.open_sink(l);
  ASSERT_TRUE((*sink)->write("abc").ok());
  auto done = (*sink)->finish();
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->size, 3u);
  EXPECT_EQ(done->sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  auto all = storage_.read_all(l);
  EXPECT_EQ(*all, "abc");
}

TEST_F(BackupLocalDir, ReadsGzipAndPlainLines) {
  write("plain", lines(3));
  write("gz", *compress::gzip(lines(3)));
  for (const char* name : {"plain", "gz"}) {
    std::vector<std::string> got;
    auto r = read_lines(storage_, loc(name), [&](std::string_view l, uint64_t) -> Status {
      got.emplace_back(l);
      return {};
    });
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(got.size(), 3u);
    EXPECT_EQ(r->lines, 3u);
    EXPECT_EQ(r->gzipped, std::string(name) == "gz");
  }
}

TEST_F(BackupLocalDir, CorruptAndTruncatedGzipAreNamedErrors) {
  std::string gz = *compress::gzip(lines(2000), compress::GzipWriterOptions{.level = 6, .block_size = 4096});
  std::string corrupt = gz;
  for (size_t i = gz.size() / 2; i < gz.size() / 2 + 16; ++i) corrupt[i] = static_cast<char>(corrupt[i] ^ 0x5a);
  write("corrupt", corrupt);
  write("truncated", gz.substr(0, gz.size() - 100));
  auto noop = [](std::string_view, uint64_t) -> Status { return {}; };
  auto c = read_lines(storage_, loc("corrupt"), noop);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().describe().find(loc("corrupt").path), std::string::npos) << c.error().describe();
  EXPECT_TRUE(c.error().describe().find("corrupt gzip") != std::string::npos ||
              c.error().describe().find("CRC mismatch") != std::string::npos)
      << c.error().describe();
  auto t = read_lines(storage_, loc("truncated"), noop);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().describe().find("truncated gzip stream"), std::string::npos) << t.error().describe();
  EXPECT_NE(t.error().describe().find(loc("truncated").path), std::string::npos);
  EXPECT_NE(t.error().describe().find("after line"), std::string::npos);
}

TEST_F(BackupLocalDir, DetectsAJobAndChecksItsManifest) {
  std::string gz = *compress::gzip(lines(5));
  write("job/0", gz);
  Manifest m = sample_manifest();
  m.jobid = "job";
  m.key_schema = model::KeySchema{"id", model::Type::kS, "", model::Type::kS};
  m.scan_total_segments = 1;
  m.scan_segments = {0};
  m.objects = {ObjectEntry{0, "0", 5, lines(5).size(), gz.size(), std::string(64, 'b')}};
  m.items = 5;
  write("job/manifest.json", to_json(m));
  auto plan = detect_source(storage_, loc("job"));
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  EXPECT_EQ(plan->format, SourceFormat::kBackupJob);
  ASSERT_EQ(plan->objects.size(), 1u);
  EXPECT_EQ(*plan->objects[0].expected_items, 5);
  // Given the manifest itself: the same job.
  auto via_manifest = detect_source(storage_, loc("job/manifest.json"));
  ASSERT_TRUE(via_manifest.ok());
  EXPECT_EQ(via_manifest->format, SourceFormat::kBackupJob);
  // The verification catches the wrong checksum.
  auto v = verify_source(storage_, *plan, nullptr, 1);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().describe().find("does not match the manifest"), std::string::npos) << v.error().describe();
  // A truncated object is caught from its listed size, before reading.
  write("job/0", gz.substr(0, gz.size() - 3));
  auto t = detect_source(storage_, loc("job"));
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().describe().find("truncated or replaced"), std::string::npos) << t.error().describe();
}

TEST_F(BackupLocalDir, MissingSegmentsAreErrors) {
  Manifest m = sample_manifest();
  m.jobid = "j";
  m.segments = 2;
  m.scan_total_segments = 2;
  std::string gz = *compress::gzip(lines(1));
  for (int i : {0}) {
    m.segment = i;
    m.scan_segments = {i};
    m.objects = {ObjectEntry{i, std::to_string(i), 1, 10, gz.size(), std::string(64, 'c')}};
    m.items = 1;
    write("j/" + std::to_string(i), gz);
    write("j/" + segment_manifest_name(i), to_json(m));
  }
  auto plan = detect_source(storage_, loc("j"));
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.error().describe().find("segment 1 of 2 is missing"), std::string::npos) << plan.error().describe();
  // The object without its manifest: that segment's backup did not finish.
  write("j/1", gz);
  plan = detect_source(storage_, loc("j"));
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.error().describe().find("has no manifest-1.json"), std::string::npos) << plan.error().describe();
  // Without any manifest (the original tool's jobs), a gap is still an error.
  fs::remove(root_ / "j/manifest-0.json");
  fs::remove(root_ / "j/1");
  write("j/2", gz);
  plan = detect_source(storage_, loc("j"));
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.error().describe().find("segment 1 is missing"), std::string::npos) << plan.error().describe();
}

TEST_F(BackupLocalDir, DetectsAnAwsExportFolder) {
  std::string data = *compress::gzip(R"({"Item":{"id":{"S":"a"}}})" "\n");
  write("exp/AWSDynamoDB/0123-abcd/data/f1.json.gz", data);
  write("exp/AWSDynamoDB/0123-abcd/manifest-summary.json",
        R"({"version":"2020-06-30","itemCount":1,"outputFormat":"DYNAMODB_JSON","manifestFilesS3Key":"exp/AWSDynamoDB/0123-abcd/manifest-files.json"})");
  write("exp/AWSDynamoDB/0123-abcd/manifest-files.json",
        R"({"itemCount":1,"md5Checksum":"x","etag":"y","dataFileS3Key":"exp/AWSDynamoDB/0123-abcd/data/f1.json.gz"})" "\n");
  for (const char* where : {"exp", "exp/AWSDynamoDB", "exp/AWSDynamoDB/0123-abcd"}) {
    auto plan = detect_source(storage_, loc(where));
    ASSERT_TRUE(plan.ok()) << where << ": " << plan.error().describe();
    EXPECT_EQ(plan->format, SourceFormat::kAwsExport) << where;
    ASSERT_EQ(plan->objects.size(), 1u);
    EXPECT_EQ(*plan->objects[0].expected_items, 1);
  }
  // itemCount that disagrees with the files manifest.
  write("exp/AWSDynamoDB/0123-abcd/manifest-summary.json", R"({"itemCount":2,"outputFormat":"DYNAMODB_JSON"})");
  auto bad = detect_source(storage_, loc("exp"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().describe().find("itemCount is 2"), std::string::npos) << bad.error().describe();
}

TEST_F(BackupLocalDir, NothingThereIsNotFound) {
  auto plan = detect_source(storage_, loc("nope"));
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.error().kind, ErrorKind::kNotFound);
}

TEST_F(BackupLocalDir, HistoryIsWrittenPerHourAndReadByRange) {
  Location table = loc("inc/orders");
  auto base = system_clock::time_point(std::chrono::seconds(1714564800));  // 12:00:00
  std::vector<HistoryEntry> batch;
  for (int i = 0; i < 6; ++i) {
    HistoryEntry e;
    e.time = base + std::chrono::minutes(30 * i);  // 12:00, 12:30, 13:00, ... 14:30
    e.key = parse(R"({"id":{"S":"k)" + std::to_string(i) + "\"}}");
    e.image = e.key;
    e.shard = "shard-1";
    e.seq = std::to_string(100 + i);
    batch.push_back(e);
  }
  ASSERT_TRUE(write_history(storage_, table, batch).ok());
  EXPECT_TRUE(fs::exists(root_ / "inc/orders/history/2024/05/01/12/shard-1-100.jsonl.gz"));
  EXPECT_TRUE(fs::exists(root_ / "inc/orders/history/2024/05/01/13/shard-1-102.jsonl.gz"));
  EXPECT_TRUE(fs::exists(root_ / "inc/orders/history/2024/05/01/14/shard-1-104.jsonl.gz"));
  std::vector<std::string> seqs;
  auto st = read_history(storage_, table, base + std::chrono::minutes(30), base + std::chrono::minutes(120), 2,
                         [&](HistoryEntry&& e) -> Status {
                           seqs.push_back(e.seq);
                           return {};
                         });
  ASSERT_TRUE(st.ok()) << st.error().describe();
  std::sort(seqs.begin(), seqs.end());
  EXPECT_EQ(seqs, (std::vector<std::string>{"102", "103", "104"}));  // (12:30, 14:00]
}

}  // namespace
}  // namespace dynarep::backup
