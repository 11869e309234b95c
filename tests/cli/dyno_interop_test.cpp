// Interoperability with the original: @mapbox/dyno 1.6.3 (node_modules) against the same
// dynalite. dyno's export/scan output imports/puts with dynarep; dynarep's export/scan lines
// parse with dyno's own deserializer (Dyno.deserialize, via tests/cli/dyno_interop.js) to the
// same items as dyno's own output and as the input: all ten types, binary with every byte
// value, nested maps and lists, empty strings and binary. dyno goes through JavaScript doubles
// and loses digits past ~17; dynarep never does. dyno's own put drops what dynarep writes.
#include <gtest/gtest.h>

#include <string>

#include "cli_env.h"
#include "crypto/encoding.h"

namespace dynarep::cli::testing {
namespace {

// Every attribute type, every byte value, nesting, empty values, a 23-digit number.
std::string fixture() {
  std::string all_bytes;
  for (int b = 0; b < 256; ++b) all_bytes.push_back(static_cast<char>(b));
  const std::string b64 = crypto::base64_encode(all_bytes);
  std::string out;
  out += R"({"id":{"S":"all"},"s":{"S":"text \u00fc \ud83d\ude00 \"q\" \\ / \n\t"},"empty":{"S":""},)"
         R"("n":{"N":"-12.5"},"b":{"B":")" + b64 + R"("},"eb":{"B":""},"ss":{"SS":["a","b"]},)"
         R"("ns":{"NS":["1","2.5","-3"]},"bs":{"BS":["AAE=","/w=="]},)"
         R"("m":{"M":{"k":{"S":""},"l":{"L":[{"N":"1"},{"M":{"deep":{"BOOL":true}}},{"NULL":true}]}}},)"
         R"("l":{"L":[{"S":""},{"B":"AA=="},{"SS":["x"]},{"L":[]},{"M":{}}]},"z":{"NULL":true},"t":{"BOOL":false},)"
         R"("big":{"N":"12345678901234567890123"}})"
         "\n";
  out += R"({"id":{"S":"zero"},"f":{"BOOL":false},"n":{"N":"0"},"e":{"S":""},"z":{"NULL":true}})" "\n";
  out += R"({"id":{"S":"small"},"tiny":{"N":"1E-130"},"neg":{"N":"-0.000001"},"huge":{"N":"9.99E+125"}})" "\n";
  for (int i = 0; i < 30; ++i) {
    out += R"({"id":{"S":"plain)" + std::to_string(i) + R"("},"v":{"N":")" + std::to_string(i * 7) + "\"}}\n";
  }
  return out;
}

class DynoInterop : public CliStack {
 protected:
  // A table holding fixture(), written by dynarep.
  std::string loaded() {
    std::string t = table();
    auto r = run_dynarep({"put", "us-east-1/" + t, "--quiet"}, fixture());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return t;
  }
  static std::string line_of(const std::string& text, const std::string& id) {
    for (const auto& l : lines(text)) {
      if (contains(l, R"({"id":{"S":")" + id + "\"}")) return l;
    }
    return "";
  }
};

TEST_F(DynoInterop, DynarepScanAndExportLinesDeserializeWithDynoToTheSameItems) {
  std::string t = loaded();
  auto ours = run_dynarep({"scan", "us-east-1/" + t, "--quiet"});
  ASSERT_EQ(ours.exit_code, 0) << ours.err;
  auto theirs = run_dyno({"scan", "us-east-1/" + t});
  ASSERT_EQ(theirs.exit_code, 0) << theirs.err;
  auto exported = run_dynarep({"export", "us-east-1/" + t, "--quiet"});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  std::string body = exported.out.substr(exported.out.find('\n') + 1);  // without the description
  auto r = run_interop({"same-items", file("input.txt", fixture()), file("dynarep-scan.txt", ours.out),
                        file("dyno-scan.txt", theirs.out), file("dynarep-export.txt", body)});
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_TRUE(contains(r.out, "ok 33 items")) << r.out;

  // The comparison can fail: one changed byte in a binary value is caught.
  std::string changed = ours.out;
  changed.replace(changed.find("AAECAwQF"), 8, "AAECAwQG");
  auto bad = run_interop({"same-items", file("changed.txt", changed), file("dyno-scan2.txt", theirs.out)});
  EXPECT_EQ(bad.exit_code, 1) << bad.out;
  EXPECT_TRUE(contains(bad.err, "item \"all\" differs")) << bad.err;
}

TEST_F(DynoInterop, ExportDescriptionLinesAgreeWithDynos) {
  std::string t = loaded();
  auto ours = run_dynarep({"export", "us-east-1/" + t, "--quiet"});
  auto theirs = run_dyno({"export", "us-east-1/" + t});
  ASSERT_EQ(ours.exit_code, 0) << ours.err;
  ASSERT_EQ(theirs.exit_code, 0) << theirs.err;
  auto r = run_interop({"same-description", file("ours.txt", ours.out), file("theirs.txt", theirs.out)});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

// dyno's numbers go through JavaScript doubles: 23 digits come back as 17. dynarep's scan,
// export and import keep every digit.
TEST_F(DynoInterop, DynoLosesDigitsPast17AndDynarepNeverDoes) {
  std::string t = loaded();
  auto theirs = run_dyno({"scan", "us-east-1/" + t});
  ASSERT_EQ(theirs.exit_code, 0) << theirs.err;
  EXPECT_TRUE(contains(line_of(theirs.out, "all"), R"("big":{"N":"1.2345678901234568e+22"})")) << theirs.out;
  EXPECT_TRUE(contains(line_of(theirs.out, "small"), R"("tiny":{"N":"1e-130"})")) << line_of(theirs.out, "small");

  auto ours = run_dynarep({"scan", "us-east-1/" + t, "--quiet"});
  EXPECT_TRUE(contains(line_of(ours.out, "all"), R"("big":{"N":"12345678901234567890123"})")) << ours.out;
  // Through export and import, twice: still every digit.
  std::string copy = table(false);
  auto e = run_dynarep({"export", "us-east-1/" + t, "--quiet"});
  ASSERT_EQ(run_dynarep({"import", "us-east-1/" + copy, "--quiet"}, e.out).exit_code, 0);
  auto back = run_dynarep({"get", "us-east-1/" + copy, R"({"id":"all"})"});
  EXPECT_TRUE(contains(back.out, R"("big":{"N":"12345678901234567890123"})")) << back.out;
  // dynalite stores numbers in its own normal form ("9.99E+125" comes back as 126 digits);
  // the values are unchanged.
  auto small = run_dynarep({"get", "us-east-1/" + copy, R"({"id":"small"})"});
  auto small_item = model::parse_item(small.out);
  ASSERT_TRUE(small_item.ok()) << small.out;
  EXPECT_TRUE(*small_item == writer::testing::item(lines(fixture())[2])) << small.out;
}

// dyno export -> dynarep import, dyno scan -> dynarep put: the items arrive as dyno printed
// them (the same as the originals, but for the number dyno rounded).
TEST_F(DynoInterop, DynoExportAndScanOutputLoadWithDynarep) {
  std::string t = loaded();
  auto exported = run_dyno({"export", "us-east-1/" + t});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  std::string imported = table(false);
  auto i = run_dynarep({"import", "us-east-1/" + imported, "--quiet"}, exported.out);
  ASSERT_EQ(i.exit_code, 0) << i.err;
  auto scanned = run_dyno({"scan", "us-east-1/" + t});
  ASSERT_EQ(scanned.exit_code, 0) << scanned.err;
  std::string put = table();
  auto p = run_dynarep({"put", "us-east-1/" + put, "--quiet"}, scanned.out);
  ASSERT_EQ(p.exit_code, 0) << p.err;

  auto original = items(t);
  for (const auto& target : {imported, put}) {
    auto got = items(target);
    ASSERT_EQ(got.size(), original.size()) << target;
    for (auto& [id, item] : original) {
      model::Item want = item;
      if (id == "all") want.set("big", model::Value::N(model::Number::from_string("1.2345678901234568e+22")));
      EXPECT_TRUE(got[id] == want) << id << "\n got  " << model::to_json(got[id]) << "\n want " << model::to_json(want);
    }
  }
  // And what dynarep wrote from dyno's lines reads back identically through dyno.
  auto again = run_dyno({"scan", "us-east-1/" + put});
  auto r = run_interop({"same-items", file("a.txt", scanned.out), file("b.txt", again.out)});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

// The inputs dyno's own put gets wrong (node_modules/@mapbox/dyno/bin/cli.js 1.6.3): a last
// partial batch (its parser never calls back on the final empty line, so the stream stalls)
// and a first line with false / 0 / "" / NULL (taken for a description line, and the stream
// stalls). dynarep writes every item of both.
TEST_F(DynoInterop, DynoPutDropsWhatDynarepWrites) {
  // From 1: a first line with "n":{"N":"0"} would hit the other bug.
  std::string partial = numbered_lines(26, "k", 1);
  std::string falsy = std::string(R"({"id":{"S":"first"},"f":{"BOOL":false}})") + "\n" + R"({"id":{"S":"second"}})" + "\n";

  std::string by_dyno = table();
  ASSERT_EQ(run_dyno({"put", "us-east-1/" + by_dyno}, partial).exit_code, 0);
  EXPECT_EQ(items(by_dyno).size(), 25u) << "dyno 1.6.3 dropped the last partial batch";
  std::string by_dyno2 = table();
  ASSERT_EQ(run_dyno({"put", "us-east-1/" + by_dyno2}, falsy).exit_code, 0);
  EXPECT_EQ(items(by_dyno2).size(), 0u) << "dyno 1.6.3 wrote nothing after a falsy first line";

  std::string ours = table();
  ASSERT_EQ(run_dynarep({"put", "us-east-1/" + ours, "--quiet"}, partial).exit_code, 0);
  EXPECT_EQ(items(ours).size(), 26u);
  std::string ours2 = table();
  ASSERT_EQ(run_dynarep({"put", "us-east-1/" + ours2, "--quiet"}, falsy).exit_code, 0);
  EXPECT_EQ(items(ours2).size(), 2u);
}

// dyno's location shapes: `local/TABLE` with -e, and -e for the endpoint.
TEST_F(DynoInterop, DynoLocationShapesWork) {
  std::string t = loaded();
  auto a = run_dynarep({"scan", "local/" + t, "-e", dynarep::testing::local_stack().dynamodb, "--quiet"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(lines(a.out).size(), 33u);
  auto b = run_dynarep({"table", "local/" + t, "-e", dynarep::testing::local_stack().dynamodb});
  EXPECT_EQ(b.exit_code, 0) << b.err;
  auto c = run_dynarep({"tables", "local", "-e", dynarep::testing::local_stack().dynamodb});
  EXPECT_EQ(c.exit_code, 0) << c.err;
  EXPECT_TRUE(contains(c.out, t + "\n")) << c.out;
}

}  // namespace
}  // namespace dynarep::cli::testing
