// diff without a server: fingerprints follow docs/formats.md §1 equality, spill files round-trip
// and clean up, slices are chosen by the documented precedence, record differences read well.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <random>
#include <set>

#include "diff/detail/fingerprint.h"
#include "diff/detail/spill.h"
#include "diff/record_diff.h"
#include "diff/segments.h"
#include "model/codec.h"
#include "model/item.h"

namespace dynarep::diff {
namespace {

using detail::Hash128;
using model::Item;

Item parse(std::string_view json) {
  auto r = model::parse_item(json);
  EXPECT_TRUE(r.ok()) << json << ": " << (r.ok() ? "" : r.error().describe());
  return r.ok() ? std::move(r).value() : Item{};
}

TEST(Fingerprint, EqualItemsByContractHashEqual) {
  // Numbers by value, sets unordered, map attribute order free.
  const Item a = parse(R"({"id":{"S":"a"},"n":{"N":"1.50"},"ns":{"NS":["1","2.0","3"]},"ss":{"SS":["x","y"]},)"
                       R"("bs":{"BS":["AQ==","Ag=="]},"m":{"M":{"p":{"N":"10"},"q":{"S":"z"}}}})");
  const Item b = parse(R"({"m":{"M":{"q":{"S":"z"},"p":{"N":"1E1"}}},"bs":{"BS":["Ag==","AQ=="]},"ss":{"SS":["y","x"]},)"
                       R"("ns":{"NS":["3","2","1.0"]},"n":{"N":"15E-1"},"id":{"S":"a"}})");
  ASSERT_TRUE(a == b);
  EXPECT_EQ(detail::item_fingerprint(a), detail::item_fingerprint(b));
}

TEST(Fingerprint, DifferentItemsHashDifferent) {
  const Item base = parse(R"({"id":{"S":"a"},"n":{"N":"1.5"},"l":{"L":[{"S":"x"},{"S":"y"}]}})");
  const std::vector<std::string> others = {
      R"({"id":{"S":"a"},"n":{"N":"1.51"},"l":{"L":[{"S":"x"},{"S":"y"}]}})",
      R"({"id":{"S":"a"},"n":{"S":"1.5"},"l":{"L":[{"S":"x"},{"S":"y"}]}})",
      R"({"id":{"S":"a"},"n":{"N":"1.5"},"l":{"L":[{"S":"y"},{"S":"x"}]}})",  // lists are ordered
      R"({"id":{"S":"a"},"n":{"N":"1.5"},"l":{"L":[{"S":"x"},{"S":"y"}]},"z":{"NULL":true}})",
      R"({"id":{"S":"b"},"n":{"N":"1.5"},"l":{"L":[{"S":"x"},{"S":"y"}]}})",
  };
  std::set<std::string> seen{detail::to_hex(detail::item_fingerprint(base))};
  for (const auto& o : others) {
    EXPECT_TRUE(seen.insert(detail::to_hex(detail::item_fingerprint(parse(o)))).second) << o;
  }
}

TEST(Fingerprint, KeyIdsNormalizeNumbersAndDifferFromItemFingerprints) {
  const Item k1 = parse(R"({"h":{"S":"a"},"r":{"N":"1.50"}})");
  const Item k2 = parse(R"({"r":{"N":"1.5"},"h":{"S":"a"}})");
  EXPECT_EQ(detail::key_id(k1), detail::key_id(k2));
  EXPECT_NE(detail::key_id(k1), detail::item_fingerprint(k1));  // different seeds
}

TEST(Fingerprint, TheTwoHalvesAreDifferentFunctions) {
  // Over many short inputs the halves never agree and neither half collides.
  std::set<uint64_t> hi, lo;
  for (int i = 0; i < 20000; ++i) {
    std::string s = "k" + std::to_string(i);
    Hash128 h = detail::hash128(s, 42);
    EXPECT_NE(h.hi, h.lo);
    hi.insert(h.hi);
    lo.insert(h.lo);
  }
  EXPECT_EQ(hi.size(), 20000u);
  EXPECT_EQ(lo.size(), 20000u);
  // Every byte position matters, for every length (the word, 4-byte and byte tails).
  for (size_t len = 1; len < 40; ++len) {
    std::string a(len, 'a');
    for (size_t pos = 0; pos < len; ++pos) {
      std::string b = a;
      b[pos] = 'b';
      EXPECT_NE(detail::word_hash(a, 7), detail::word_hash(b, 7)) << len << " " << pos;
    }
  }
}

TEST(Spill, TempDirIsPrivateAndRemoved) {
  std::string path;
  {
    auto dir = detail::TempDir::create("");
    ASSERT_TRUE(dir.ok()) << dir.error().describe();
    path = (*dir)->path();
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    auto f = (*dir)->new_file("x", 16);
    ASSERT_TRUE(f.ok());
    // Files are unlinked at once: the directory holds nothing, even while in use.
    EXPECT_TRUE(std::filesystem::is_empty(path));
    ASSERT_TRUE((*f)->append("hello world, more than sixteen bytes").ok());
    ASSERT_TRUE((*f)->finish().ok());
    auto all = (*f)->read_all();
    ASSERT_TRUE(all.ok());
    EXPECT_EQ(*all, "hello world, more than sixteen bytes");
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(Spill, TempDirInAMissingParentFailsClearly) {
  auto dir = detail::TempDir::create("/nonexistent/dynarep-parent");
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(dir.error().message.find("/nonexistent/dynarep-parent"), std::string::npos) << dir.error().message;
}

TEST(Spill, RecordsStreamThroughSmallChunks) {
  auto dir = detail::TempDir::create("");
  ASSERT_TRUE(dir.ok());
  auto f = (*dir)->new_file("records", 100);
  ASSERT_TRUE(f.ok());
  std::mt19937 rng(7);
  std::vector<std::string> jsons;
  std::string buf;
  for (int i = 0; i < 500; ++i) {
    // Key JSON from empty to larger than the reader's chunk.
    std::string json(static_cast<size_t>(rng() % (i == 250 ? 5000 : 90)), static_cast<char>('a' + i % 26));
    jsons.push_back(json);
    buf.clear();
    detail::append_scan_record(buf, Hash128{uint64_t(i), uint64_t(i) * 3}, Hash128{uint64_t(i) + 1, 9},
                               static_cast<uint32_t>(i * 10), json);
    ASSERT_TRUE((*f)->append(buf).ok());
  }
  ASSERT_TRUE((*f)->finish().ok());
  detail::RecordReader<detail::ScanRecord> reader(**f, 64);
  detail::ScanRecord r;
  for (int i = 0; i < 500; ++i) {
    auto more = reader.next(&r);
    ASSERT_TRUE(more.ok()) << more.error().describe();
    ASSERT_TRUE(*more) << i;
    EXPECT_EQ(r.key, (Hash128{uint64_t(i), uint64_t(i) * 3}));
    EXPECT_EQ(r.fp, (Hash128{uint64_t(i) + 1, 9}));
    EXPECT_EQ(r.size, static_cast<uint32_t>(i * 10));
    EXPECT_EQ(r.key_json, jsons[static_cast<size_t>(i)]);
  }
  auto end = reader.next(&r);
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(*end);
}

TEST(Spill, RoundRecordsRoundTrip) {
  std::string buf;
  detail::RoundRecord in{Hash128{1, 2}, Hash128{3, 4}, Hash128{5, 6}, 77, R"({"id":{"S":"a"}})"};
  detail::append_round_record(buf, in);
  detail::RoundRecord out;
  EXPECT_EQ(detail::decode_round_record(buf, &out), buf.size());
  EXPECT_EQ(out.key, in.key);
  EXPECT_EQ(out.primary_fp, in.primary_fp);
  EXPECT_EQ(out.replica_fp, in.replica_fp);
  EXPECT_EQ(out.size, 77u);
  EXPECT_EQ(out.key_json, in.key_json);
  EXPECT_EQ(detail::decode_round_record(std::string_view(buf).substr(0, buf.size() - 1), &out), 0u);
}

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(Slice, PrecedenceFlagThenKubernetesThenAwsBatch) {
  auto both = env_of({{"JOB_COMPLETION_INDEX", "2"}, {"AWS_BATCH_JOB_ARRAY_INDEX", "3"}});
  auto s = choose_slice(1, 4, both);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->segments, std::vector<int>{1});
  EXPECT_EQ(s->origin, "--segment");

  s = choose_slice(std::nullopt, 4, both);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->segments, std::vector<int>{2});
  EXPECT_EQ(s->origin, "JOB_COMPLETION_INDEX");

  s = choose_slice(std::nullopt, 4, env_of({{"AWS_BATCH_JOB_ARRAY_INDEX", "3"}}));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->segments, std::vector<int>{3});
  EXPECT_EQ(s->origin, "AWS_BATCH_JOB_ARRAY_INDEX");
  EXPECT_EQ(s->total_segments, 4);

  s = choose_slice(std::nullopt, 4, env_of({}));
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->segments.empty());
  EXPECT_EQ(s->total_segments, 4);
}

TEST(Slice, EnvironmentIgnoredWithoutSegmentsWithANote) {
  auto s = choose_slice(std::nullopt, std::nullopt, env_of({{"JOB_COMPLETION_INDEX", "2"}}));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->total_segments, 0);
  EXPECT_TRUE(s->segments.empty());
  EXPECT_NE(s->note.find("JOB_COMPLETION_INDEX=2"), std::string::npos) << s->note;
}

TEST(Slice, UsageErrors) {
  for (auto [seg, segs, env, needle] :
       std::vector<std::tuple<std::optional<int>, std::optional<int>, std::map<std::string, std::string>, std::string>>{
           {1, std::nullopt, {}, "--segment needs --segments"},
           {4, 4, {}, "--segment 4 is outside 0..3"},
           {std::nullopt, 0, {}, "--segments 0"},
           {std::nullopt, 4, {{"JOB_COMPLETION_INDEX", "4"}}, "JOB_COMPLETION_INDEX=4 is outside 0..3"},
           {std::nullopt, 4, {{"AWS_BATCH_JOB_ARRAY_INDEX", "x1"}}, "AWS_BATCH_JOB_ARRAY_INDEX=x1 is not"},
       }) {
    auto s = choose_slice(seg, segs, env_of(env));
    ASSERT_FALSE(s.ok()) << needle;
    EXPECT_EQ(s.error().code, "Usage");
    EXPECT_NE(s.error().message.find(needle), std::string::npos) << s.error().message;
  }
}

TEST(RecordDiff, NamesEachDifferingAttribute) {
  const Item p = parse(R"({"id":{"S":"a"},"n":{"N":"1"},"same":{"N":"2.0"},"gone":{"S":"x"},)"
                       R"("m":{"M":{"k":{"S":"v"},"k2":{"BOOL":true}}},"l":{"L":[{"N":"1"},{"N":"2"}]},)"
                       R"("ss":{"SS":["a","b"]}})");
  const Item r = parse(R"({"id":{"S":"a"},"n":{"N":"2"},"same":{"N":"2"},"new":{"NULL":true},)"
                       R"("m":{"M":{"k":{"S":"w"},"k2":{"BOOL":true}}},"l":{"L":[{"N":"1"},{"N":"3"}]},)"
                       R"("ss":{"SS":["b","c"]}})");
  auto d = diff_items(p, r);
  std::vector<std::string> paths;
  for (const auto& x : d) paths.push_back(x.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"gone", "l[1]", "m.k", "n", "new", "ss"}));
  EXPECT_EQ(d[0].kind, AttributeDifference::Kind::kOnlyInPrimary);
  EXPECT_EQ(d[4].kind, AttributeDifference::Kind::kOnlyInReplica);
  EXPECT_EQ(d[3].primary, R"({"N":"1"})");
  EXPECT_EQ(d[3].replica, R"({"N":"2"})");
  EXPECT_EQ(d[5].note, R"(only in primary: "a"; only in replica: "c")");
  EXPECT_TRUE(diff_items(p, p).empty());

  RecordComparison c{parse(R"({"id":{"S":"a"}})"), p, r, d};
  ASSERT_EQ(c.kind(), Kind::kDifferent);
  std::string text = format_comparison(c, "us-east-1/p", "us-east-1/r");
  EXPECT_NE(text.find("✘ different: 6 attributes differ"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(  ~ n: primary {"N":"1"}, replica {"N":"2"})"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(  - gone: only in primary: {"S":"x"})"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(  + new: only in replica: {"NULL":true})"), std::string::npos) << text;
}

TEST(RecordDiff, KeyMustMatchTheSchema) {
  model::KeySchema schema{"id", model::Type::kS, "n", model::Type::kN};
  EXPECT_TRUE(key_for_schema(parse(R"({"id":{"S":"a"},"n":{"N":"1"}})"), schema).ok());
  auto extra = key_for_schema(parse(R"({"id":{"S":"a"},"n":{"N":"1"},"x":{"S":"y"}})"), schema);
  ASSERT_FALSE(extra.ok());
  EXPECT_EQ(extra.error().code, "Usage");
  auto missing = key_for_schema(parse(R"({"id":{"S":"a"}})"), schema);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("id (S), n (N)"), std::string::npos) << missing.error().message;
}

}  // namespace
}  // namespace dynarep::diff
