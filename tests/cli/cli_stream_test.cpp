// The stream side of the CLI: create-stream, delete-stream, --stream on put/import/delete
// (one KEYS_ONLY record per written item), and the gap: a stream that refuses records gives
// exit 3 with one `unpublished` line per change, the --unpublished-file, and `dynarep
// republish` putting those records on the stream once it answers again.
#include <gtest/gtest.h>

#include <set>

#include "cli_env.h"
#include "support/fault_proxy.h"
#include "writer/change.h"

namespace dynarep::cli::testing {
namespace {

TEST_F(CliStack, CreateStreamAndDeleteStream) {
  std::string s = stream(1, false);
  auto c = run_dynarep({"create-stream", s, "--shards", "3"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_TRUE(contains(c.err, "is ACTIVE with 3 shards")) << c.err;
  auto shards = kin_->list_shards(s);
  ASSERT_TRUE(shards.ok());
  EXPECT_EQ(shards->size(), 3u);

  auto again = run_dynarep({"create-stream", s});
  EXPECT_EQ(again.exit_code, 3);
  EXPECT_EQ(lines(again.err).size(), 1u) << again.err;
  EXPECT_TRUE(contains(again.err, "stream " + s + " (us-east-1, ")) << again.err;
  EXPECT_TRUE(contains(again.err, "already exists")) << again.err;

  auto d = run_dynarep({"delete-stream", s});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  auto gone = run_dynarep({"delete-stream", s});
  EXPECT_EQ(gone.exit_code, 3);
  EXPECT_EQ(lines(gone.err).size(), 1u) << gone.err;
  EXPECT_TRUE(contains(gone.err, "does not exist")) << gone.err;

  auto bad = run_dynarep({"create-stream", "no/slashes"});
  EXPECT_EQ(bad.exit_code, 2);
  auto zero = run_dynarep({"create-stream", s, "--shards", "0"});
  EXPECT_EQ(zero.exit_code, 2);
}

TEST_F(CliStack, PutImportAndDeleteWithStreamPublishOneRecordPerWrite) {
  std::string t = table();
  std::string s = stream(2);
  // A key written twice keeps both records, in input order.
  std::string in = numbered_lines(60) + R"({"id":{"S":"k3"},"n":{"N":"99"}})" + "\n";
  auto r = run_dynarep({"put", "us-east-1/" + t, "--stream", s}, in);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "61 items written")) << r.err;
  EXPECT_TRUE(contains(r.err, "61 change records published to stream " + s)) << r.err;
  auto d = run_dynarep({"delete", "us-east-1/" + t, R"({"id":"k5"})", "--stream", s});
  ASSERT_EQ(d.exit_code, 0) << d.err;

  auto recs = records(s);
  EXPECT_EQ(recs.size(), 62u);
  std::multiset<std::string> got(recs.begin(), recs.end());
  for (int i = 0; i < 60; ++i) {
    EXPECT_EQ(got.count(R"(INSERT {"id":{"S":"k)" + std::to_string(i) + "\"}}"), i == 3 ? 2u : 1u) << i;
  }
  EXPECT_EQ(got.count(R"(REMOVE {"id":{"S":"k5"}})"), 1u);
  // k5's REMOVE comes after its INSERT (same shard, in order).
  auto ins = std::find(recs.begin(), recs.end(), R"(INSERT {"id":{"S":"k5"}})");
  auto rem = std::find(recs.begin(), recs.end(), R"(REMOVE {"id":{"S":"k5"}})");
  EXPECT_LT(ins, rem);

  std::string t2 = table(false);
  std::string s2 = stream(1);
  auto e = run_dynarep({"export", "us-east-1/" + t, "--quiet"});
  ASSERT_EQ(e.exit_code, 0);
  auto i = run_dynarep({"import", "us-east-1/" + t2, "--stream", s2, "--quiet"}, e.out);
  ASSERT_EQ(i.exit_code, 0) << i.err;
  EXPECT_EQ(records(s2).size(), 59u);
}

TEST_F(CliStack, AMissingStreamIsOneClearLineAndNothingIsWritten) {
  std::string t = table();
  std::string s = stream(1, false);
  auto r = run_dynarep({"put", "us-east-1/" + t, "--stream", s}, numbered_lines(5));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(lines(r.err).size(), 1u) << r.err;
  EXPECT_TRUE(contains(r.err, "dynarep put: ")) << r.err;
  EXPECT_TRUE(contains(r.err, "stream " + s + " (us-east-1, ")) << r.err;
  EXPECT_TRUE(contains(r.err, "does not exist")) << r.err;
  EXPECT_TRUE(items(t).empty());
  auto d = run_dynarep({"delete", "us-east-1/" + t, R"({"id":"a"})", "--stream", s});
  EXPECT_EQ(d.exit_code, 3);
  EXPECT_EQ(lines(d.err).size(), 1u) << d.err;
}

// PutRecords answering 500 for every attempt (fault proxy in front of kinesalite, reached with
// --stream-endpoint): the items are written, each change is listed on stderr, the file holds
// the records; republish sends exactly them once the stream answers.
TEST_F(CliStack, UnpublishedChangesAreListedAndRepublishHealsTheGap) {
  std::string t = table();
  std::string s = stream(2);
  dynarep::testing::FaultProxy proxy(dynarep::testing::local_stack().kinesis);
  proxy.set_rules(R"({"rules":[{"match":{"target":"Kinesis_20131202.PutRecords"},"fault":"status","status":500}]})");
  const std::string unpublished = path("unpublished.txt");
  auto r = run_dynarep({"put", "us-east-1/" + t, "--stream", s, "--stream-endpoint", proxy.url(), "--unpublished-file",
                        unpublished, "--quiet"},
                       numbered_lines(30));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_TRUE(r.out.empty());
  auto l = lines(r.err);
  std::set<std::string> listed;
  for (const auto& line : l) {
    if (line.starts_with("dynarep put: unpublished ")) listed.insert(line.substr(25));
  }
  EXPECT_EQ(listed.size(), 30u) << r.err;
  EXPECT_TRUE(listed.contains(R"(INSERT {"id":{"S":"k7"}})")) << r.err;
  EXPECT_TRUE(contains(l.front(), "30 change records of confirmed writes could not be published to stream " + s))
      << l.front();
  EXPECT_TRUE(contains(r.err, "dynarep republish --stream " + s + " " + unpublished)) << r.err;
  EXPECT_TRUE(contains(r.err, "diff-tables us-east-1/" + t)) << r.err;
  EXPECT_EQ(items(t).size(), 30u) << "the writes themselves happened";
  EXPECT_TRUE(records(s).empty());
  auto file_lines = lines(read(unpublished));
  ASSERT_EQ(file_lines.size(), 30u);
  std::set<std::string> event_ids;
  for (const auto& fl : file_lines) {
    auto c = writer::parse_change_line(fl);
    ASSERT_TRUE(c.ok()) << fl;
    EXPECT_TRUE(listed.contains(writer::describe(*c))) << fl;
    event_ids.insert(c->event_id);
  }

  // Still failing: republish lists them again, exit 3.
  auto still = run_dynarep({"republish", "--stream", s, "--stream-endpoint", proxy.url(), unpublished});
  EXPECT_EQ(still.exit_code, 3);
  EXPECT_TRUE(contains(still.err, "dynarep republish: unpublished INSERT")) << still.err;

  proxy.clear_rules();
  auto healed = run_dynarep({"republish", "--stream", s, "--stream-endpoint", proxy.url(), unpublished});
  ASSERT_EQ(healed.exit_code, 0) << healed.err;
  EXPECT_TRUE(contains(healed.err, "30 change records published")) << healed.err;
  auto recs = writer::testing::read_stream(*kin_, s);
  ASSERT_EQ(recs.size(), 30u);
  std::set<std::string> got_ids;
  for (const auto& rec : recs) got_ids.insert(rec.record.event_id);
  EXPECT_EQ(got_ids, event_ids) << "republish sends the same records";
}

// A stream that refuses at once (AccessDenied is not retried): the reading stops soon after,
// every line up to the stop is on the table (and listed as unpublished), none after it, and
// the message says where to resume.
TEST_F(CliStack, AStreamFailureStopsTheReadingAndSaysWhereToResume) {
  std::string t = table();
  std::string s = stream(1);
  dynarep::testing::FaultProxy proxy(dynarep::testing::local_stack().kinesis);
  proxy.set_rules(R"({"rules":[{"match":{"target":"Kinesis_20131202.PutRecords"},"fault":"error","status":400,)"
                  R"("code":"AccessDeniedException","message":"not allowed"}]})");
  const int kLines = 40000;
  auto r = run_dynarep({"put", "us-east-1/" + t, "--stream", s, "--stream-endpoint", proxy.url(), "--quiet"},
                       numbered_lines(kLines));
  EXPECT_EQ(r.exit_code, 3);
  size_t unpublished = 0;
  std::string stop_line;
  for (const auto& line : lines(r.err)) {
    if (line.starts_with("dynarep put: unpublished ")) ++unpublished;
    if (contains(line, "stopped after line ")) stop_line = line;
  }
  auto got = items(t);
  EXPECT_EQ(unpublished, got.size()) << "every written item is listed";
  ASSERT_FALSE(stop_line.empty()) << r.err.substr(0, 2000);
  auto at = stop_line.find("stopped after line ") + 19;
  const int last = std::stoi(stop_line.substr(at));
  EXPECT_LT(last, kLines);
  EXPECT_EQ(static_cast<int>(got.size()), last) << stop_line;  // lines 1..last, nothing after
  EXPECT_EQ(got.count("k" + std::to_string(last - 1)), 1u);
  EXPECT_EQ(got.count("k" + std::to_string(last)), 0u);
  EXPECT_TRUE(contains(stop_line, "tail -n +" + std::to_string(last + 1))) << stop_line;
  EXPECT_TRUE(contains(stop_line, "--stream " + s)) << stop_line;
}

TEST_F(CliStack, RepublishRejectsABadFileBeforeSendingAnything) {
  std::string s = stream(1);
  auto c = writer::make_change(writer::testing::item(R"({"id":{"S":"a"}})"), writer::Event::kInsert, "us-east-1");
  std::string f = file("bad.txt", writer::to_line(c) + "\nnot a record\n");
  auto r = run_dynarep({"republish", "--stream", s, f});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(lines(r.err).size(), 1u) << r.err;
  EXPECT_TRUE(contains(r.err, f + " line 2")) << r.err;
  EXPECT_TRUE(records(s).empty());
  auto missing = run_dynarep({"republish", "--stream", s, path("none.txt")});
  EXPECT_EQ(missing.exit_code, 2);
  auto no_stream = run_dynarep({"republish", f});
  EXPECT_EQ(no_stream.exit_code, 2);
}

}  // namespace
}  // namespace dynarep::cli::testing
