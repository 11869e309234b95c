// diff-tables, diff-record and replicate-record run as a user runs them: the built binary,
// exit codes, stdout lines, stderr messages, --json.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <set>
#include <sstream>

#include "diff_fixture.h"
#include "support/process.h"

namespace dynarep::diff::testing {
namespace {

using dynarep::testing::run_dynarep;
using model::KeySchema;
using model::Type;
using model::Value;

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string l;
  while (std::getline(in, l)) out.push_back(l);
  return out;
}

Item simple(const std::string& id, const std::string& n) {
  return parse(R"({"id":{"S":")" + id + R"("},"n":{"N":")" + n + R"("},"tags":{"SS":["a","b"]}})");
}

class DiffCliTest : public DiffStackTest {
 protected:
  // p: a..j; r: a..j without c, with e changed, plus z.
  void plant() {
    p_ = create("cp", schema_);
    r_ = create("cr", schema_);
    for (char c = 'a'; c <= 'j'; ++c) {
      std::string id(1, c);
      put(p_, simple(id, "1.50"));
      if (c == 'c') continue;
      put(r_, c == 'e' ? simple(id, "2") : simple(id, "1.5"));
    }
    put(r_, simple("z", "1"));
  }
  std::vector<std::string> diff_args(std::vector<std::string> extra = {}) {
    std::vector<std::string> a{"diff-tables", "us-east-1/" + p_, "us-east-1/" + r_, "--settle", "0.2", "--quiet"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  KeySchema schema_{"id", Type::kS, "", Type::kS};
  std::string p_, r_;
};

const std::set<std::string> kPlantedLines = {R"(missing {"id":{"S":"c"}})", R"(different {"id":{"S":"e"}})",
                                              R"(extraneous {"id":{"S":"z"}})"};

TEST_F(DiffCliTest, ReportsEachDiscrepancyOnceAndExits1) {
  plant();
  auto res = run_dynarep(diff_args());
  EXPECT_EQ(res.exit_code, 1) << res.err;
  auto out = lines(res.out);
  EXPECT_EQ(out.size(), 3u) << res.out;
  EXPECT_EQ(std::set<std::string>(out.begin(), out.end()), kPlantedLines) << res.out;
  EXPECT_NE(res.err.find("missing 1, different 1, extraneous 1, repaired 0"), std::string::npos) << res.err;
  EXPECT_NE(res.err.find("read units"), std::string::npos) << res.err;
  EXPECT_NE(res.err.find("compared 11 keys"), std::string::npos) << res.err;
}

TEST_F(DiffCliTest, RepairExits0AndTheNextRunIsClean) {
  plant();
  auto res = run_dynarep(diff_args({"--repair"}));
  EXPECT_EQ(res.exit_code, 0) << res.err;
  std::set<std::string> expected;
  for (const auto& l : kPlantedLines) expected.insert(l + " repaired");
  auto out = lines(res.out);
  EXPECT_EQ(std::set<std::string>(out.begin(), out.end()), expected) << res.out;
  auto again = run_dynarep(diff_args());
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, "");
  EXPECT_NE(again.err.find("missing 0, different 0, extraneous 0"), std::string::npos) << again.err;
}

TEST_F(DiffCliTest, JsonOutputParses) {
  plant();
  auto res = run_dynarep(diff_args({"--json", "--segments", "3"}));
  EXPECT_EQ(res.exit_code, 1) << res.err;
  auto out = lines(res.out);
  ASSERT_EQ(out.size(), 4u) << res.out;
  simdjson::dom::parser parser;
  std::set<std::string> kinds;
  for (size_t i = 0; i + 1 < out.size(); ++i) {
    auto doc = parser.parse(out[i]);
    ASSERT_FALSE(doc.error()) << out[i];
    std::string_view kind;
    ASSERT_FALSE(doc.value()["kind"].get(kind));
    kinds.insert(std::string(kind));
    bool repaired = true;
    ASSERT_FALSE(doc.value()["repaired"].get(repaired));
    EXPECT_FALSE(repaired);
    EXPECT_FALSE(doc.value()["key"]["id"]["S"].error()) << out[i];
  }
  EXPECT_EQ(kinds, (std::set<std::string>{"missing", "different", "extraneous"}));
  auto doc = parser.parse(out.back());
  ASSERT_FALSE(doc.error()) << out.back();
  auto s = doc.value();
  std::string_view kind;
  ASSERT_FALSE(s["kind"].get(kind));
  EXPECT_EQ(kind, "summary");
  int64_t v = -1;
  EXPECT_FALSE(s["missing"].get(v));
  EXPECT_EQ(v, 1);
  EXPECT_FALSE(s["discrepancies"].get(v));
  EXPECT_EQ(v, 3);
  EXPECT_FALSE(s["compared"].get(v));
  EXPECT_EQ(v, 11);
  EXPECT_FALSE(s["scanned_primary"].get(v));
  EXPECT_EQ(v, 10);
  EXPECT_FALSE(s["total_segments"].get(v));
  EXPECT_EQ(v, 3);
  EXPECT_FALSE(s["exit_code"].get(v));
  EXPECT_EQ(v, 1);
  double units = 0;
  EXPECT_FALSE(s["read_units"].get(units));
  EXPECT_GT(units, 0);
  // --json replaces the human summary on stderr.
  EXPECT_EQ(res.err.find("missing 1"), std::string::npos) << res.err;
}

TEST_F(DiffCliTest, SegmentFromTheEnvironment) {
  plant();
  auto segs_of = [&](const std::vector<std::string>& extra, const std::map<std::string, std::string>& env,
                     std::string* source, int64_t* compared) {
    auto res = run_dynarep(diff_args(extra), "", env);
    EXPECT_TRUE(res.exit_code == 0 || res.exit_code == 1) << res.err;
    auto out = lines(res.out);
    EXPECT_FALSE(out.empty());
    if (out.empty()) return std::vector<int64_t>{};
    simdjson::dom::parser parser;
    auto doc = parser.parse(out.back());
    EXPECT_FALSE(doc.error());
    std::vector<int64_t> segs;
    for (auto e : doc.value()["segments"].get_array()) segs.push_back(int64_t(e));
    std::string_view src;
    EXPECT_FALSE(doc.value()["segment_source"].get(src));
    *source = std::string(src);
    EXPECT_FALSE(doc.value()["compared"].get(*compared));
    return segs;
  };
  std::string src;
  int64_t c0 = 0, c1 = 0, c = 0;
  EXPECT_EQ(segs_of({"--json", "--segments", "2"}, {{"JOB_COMPLETION_INDEX", "0"}}, &src, &c0), std::vector<int64_t>{0});
  EXPECT_EQ(src, "JOB_COMPLETION_INDEX");
  EXPECT_EQ(segs_of({"--json", "--segments", "2"}, {{"AWS_BATCH_JOB_ARRAY_INDEX", "1"}}, &src, &c1),
            std::vector<int64_t>{1});
  EXPECT_EQ(src, "AWS_BATCH_JOB_ARRAY_INDEX");
  EXPECT_EQ(c0 + c1, 11);  // the two slices cover every key once
  EXPECT_EQ(segs_of({"--json", "--segments", "2"}, {{"JOB_COMPLETION_INDEX", "1"}, {"AWS_BATCH_JOB_ARRAY_INDEX", "0"}},
                    &src, &c),
            std::vector<int64_t>{1});
  EXPECT_EQ(src, "JOB_COMPLETION_INDEX");
  EXPECT_EQ(segs_of({"--json", "--segments", "2", "--segment", "0"}, {{"JOB_COMPLETION_INDEX", "1"}}, &src, &c),
            std::vector<int64_t>{0});
  EXPECT_EQ(src, "--segment");
  // Without --segments the index is ignored, with a note.
  auto res = run_dynarep(diff_args({"--json"}), "", {{"JOB_COMPLETION_INDEX", "1"}});
  EXPECT_EQ(res.exit_code, 1);
  EXPECT_NE(res.err.find("ignoring JOB_COMPLETION_INDEX=1"), std::string::npos) << res.err;
}

TEST_F(DiffCliTest, BackfillCopiesThePrimary) {
  p_ = create("cp", schema_);
  r_ = create("cr", schema_);
  for (int i = 0; i < 50; ++i) put(p_, simple(fmt::format("i{}", i), "3"));
  auto res = run_dynarep(diff_args({"--backfill"}));
  EXPECT_EQ(res.exit_code, 0) << res.err;
  EXPECT_EQ(res.out, "");
  EXPECT_NE(res.err.find("50 items copied"), std::string::npos) << res.err;
  auto check = run_dynarep(diff_args());
  EXPECT_EQ(check.exit_code, 0) << check.err;
  EXPECT_EQ(check.out, "");
}

TEST_F(DiffCliTest, MissingTableExits3WithOneLineNamingIt) {
  p_ = create("cp", schema_);
  r_ = dynarep::testing::unique_name("ghost");
  auto res = run_dynarep(diff_args());
  EXPECT_EQ(res.exit_code, 3);
  EXPECT_EQ(lines(res.err).size(), 1u) << res.err;
  EXPECT_NE(res.err.find("replica table us-east-1/" + r_ + " does not exist"), std::string::npos) << res.err;
  EXPECT_EQ(res.out, "");
}

TEST_F(DiffCliTest, DifferentKeySchemasExit3) {
  p_ = create("cp", schema_);
  r_ = create("cr", KeySchema{"other", Type::kS, "", Type::kS});
  auto res = run_dynarep(diff_args());
  EXPECT_EQ(res.exit_code, 3);
  EXPECT_NE(res.err.find("key schemas differ"), std::string::npos) << res.err;
  EXPECT_NE(res.err.find("other (S)"), std::string::npos) << res.err;
}

TEST_F(DiffCliTest, UsageErrorsExit2) {
  p_ = create("cp", schema_);
  r_ = create("cr", schema_);
  for (const auto& extra : std::vector<std::vector<std::string>>{
           {"--segment", "1"}, {"--segment", "4", "--segments", "4"}, {"--parallel", "0"}, {"--bogus"}}) {
    auto res = run_dynarep(diff_args(extra));
    EXPECT_EQ(res.exit_code, 2) << extra[0] << ": " << res.err;
    EXPECT_EQ(res.out, "");
  }
  auto env = run_dynarep(diff_args({"--segments", "2"}), "", {{"JOB_COMPLETION_INDEX", "7"}});
  EXPECT_EQ(env.exit_code, 2) << env.err;
  EXPECT_NE(env.err.find("JOB_COMPLETION_INDEX=7"), std::string::npos) << env.err;
  auto missing_arg = run_dynarep({"diff-tables", "us-east-1/" + p_});
  EXPECT_EQ(missing_arg.exit_code, 2);
  auto bad_location = run_dynarep({"diff-tables", "not a location", "us-east-1/" + r_});
  EXPECT_EQ(bad_location.exit_code, 2) << bad_location.err;
}

TEST_F(DiffCliTest, DiffRecordAndReplicateRecord) {
  plant();
  const std::string P = "us-east-1/" + p_, R = "us-east-1/" + r_;
  // Equal (numbers by value: "1.50" == "1.5"); plain JSON key.
  auto eq = run_dynarep({"diff-record", P, R, R"({"id":"a"})"});
  EXPECT_EQ(eq.exit_code, 0) << eq.err;
  EXPECT_NE(eq.out.find("✔ equal"), std::string::npos) << eq.out;
  // Different: both versions and the attribute that differs.
  auto ne = run_dynarep({"diff-record", P, R, R"({"id":{"S":"e"}})"});
  EXPECT_EQ(ne.exit_code, 1) << ne.err;
  EXPECT_NE(ne.out.find("primary " + P + ": {"), std::string::npos) << ne.out;
  EXPECT_NE(ne.out.find("replica " + R + ": {"), std::string::npos) << ne.out;
  EXPECT_NE(ne.out.find(R"(~ n: primary {"N":"1.5"}, replica {"N":"2"})"), std::string::npos) << ne.out;
  auto miss = run_dynarep({"diff-record", P, R, R"({"id":"c"})"});
  EXPECT_EQ(miss.exit_code, 1);
  EXPECT_NE(miss.out.find("✘ missing"), std::string::npos) << miss.out;
  EXPECT_NE(miss.out.find("replica " + R + ": (no item)"), std::string::npos) << miss.out;

  auto put_e = run_dynarep({"replicate-record", P, R, R"({"id":"e"})"});
  EXPECT_EQ(put_e.exit_code, 0) << put_e.err;
  EXPECT_NE(put_e.out.find(R"(put {"id":{"S":"e"}})"), std::string::npos) << put_e.out;
  EXPECT_NE(put_e.out.find("(it was different)"), std::string::npos) << put_e.out;
  auto put_c = run_dynarep({"replicate-record", P, R, R"({"id":"c"})"});
  EXPECT_NE(put_c.out.find("(it was missing)"), std::string::npos) << put_c.out;
  auto del_z = run_dynarep({"replicate-record", P, R, R"({"id":{"S":"z"}})"});
  EXPECT_EQ(del_z.exit_code, 0) << del_z.err;
  EXPECT_NE(del_z.out.find(R"(deleted {"id":{"S":"z"}})"), std::string::npos) << del_z.out;
  auto same = run_dynarep({"replicate-record", P, R, R"({"id":"e"})"});
  EXPECT_NE(same.out.find("unchanged"), std::string::npos) << same.out;
  for (const char* k : {"c", "e", "z"}) {
    auto after = run_dynarep({"diff-record", P, R, fmt::format(R"({{"id":"{}"}})", k)});
    EXPECT_EQ(after.exit_code, 0) << k << after.out;
  }
  auto whole = run_dynarep(diff_args());
  EXPECT_EQ(whole.exit_code, 0) << whole.out;

  // A key that does not fit the tables: a usage error.
  auto bad = run_dynarep({"diff-record", P, R, R"({"nope":"x"})"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_NE(bad.err.find("id (S)"), std::string::npos) << bad.err;
  auto junk = run_dynarep({"diff-record", P, R, "{not json"});
  EXPECT_EQ(junk.exit_code, 2) << junk.err;
  auto ghost = run_dynarep({"diff-record", P, "us-east-1/" + dynarep::testing::unique_name("ghost"), R"({"id":"a"})"});
  EXPECT_EQ(ghost.exit_code, 3) << ghost.err;
  EXPECT_NE(ghost.err.find("does not exist"), std::string::npos) << ghost.err;
}

}  // namespace
}  // namespace dynarep::diff::testing
