// diff_tables, compare_record and replicate_record against dynalite, called as a library.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <random>
#include <thread>

#include "diff/record_diff.h"
#include "diff/table_diff.h"
#include "diff_fixture.h"

namespace dynarep::diff::testing {
namespace {

using namespace std::chrono_literals;
using model::KeySchema;
using model::Type;
using model::Value;
using Found = std::multiset<std::pair<std::string, std::string>>;

// Items with every attribute type, keyed by `schema`; the replica form is equal but spelled
// differently (set order, map order).
Item make_item(const KeySchema& schema, int i, bool replica_form, const std::string& extra = "") {
  Item key;
  key.set(schema.hash_name, key_value(schema.hash_type, i));
  if (schema.has_range()) key.set(schema.range_name, key_value(schema.range_type, i * 7 + 1));
  std::string json = model::to_json(key);
  json.pop_back();
  json += "," + rich_attributes(i, replica_form) + extra + "}";
  return parse(json);
}

struct Planted {
  std::vector<Item> primary;
  std::vector<Item> replica;
  Found expected;
  size_t union_size = 0;
};

// n items; every 13th (from 3) missing on the replica, every 13th (from 7) different, and
// `extraneous` replica-only items. Differences vary: a number, an extra attribute, a set
// member, a nested map member, a list element, a type.
Planted plant(const KeySchema& schema, int n, int extraneous) {
  Planted p;
  for (int i = 0; i < n; ++i) {
    Item it = make_item(schema, i, false);
    p.primary.push_back(it);
    if (i % 13 == 3) {
      p.expected.emplace("missing", key_json(it, schema));
      continue;
    }
    if (i % 13 == 7) {
      Item changed = make_item(schema, i, true);
      switch ((i / 13) % 6) {
        case 0: changed.set("n", Value::N(model::Number::from_string("99.5"))); break;
        case 1: changed.set("extra", Value::S("only here")); break;
        case 2: changed.set("ss", Value::SS({"a", "b", "zz"})); break;
        case 3: changed.find("m")->as_m().set("x", Value::N(model::Number::from_int(11))); break;
        case 4: changed.find("l")->as_l()[1] = Value::N(model::Number::from_int(8)); break;
        default: changed.set("t", Value::S("false")); break;
      }
      p.replica.push_back(changed);
      p.expected.emplace("different", key_json(it, schema));
      continue;
    }
    p.replica.push_back(make_item(schema, i, true));
  }
  for (int j = 0; j < extraneous; ++j) {
    Item it = make_item(schema, 100000 + j, true);
    p.replica.push_back(it);
    p.expected.emplace("extraneous", key_json(it, schema));
  }
  p.union_size = static_cast<size_t>(n + extraneous);
  return p;
}

DiffOptions fast() {
  DiffOptions o;
  o.settle = 200ms;
  o.total_segments = 4;
  o.parallel = 2;
  return o;
}

TEST_F(DiffStackTest, EqualTablesWithEveryTypeAndDifferentSpellingHaveNoDiscrepancies) {
  KeySchema schema{"id", Type::kS, "", Type::kS};
  std::string p = create("dp", schema), r = create("dr", schema);
  std::vector<Item> pi, ri;
  for (int i = 0; i < 300; ++i) {
    pi.push_back(make_item(schema, i, false));
    ri.push_back(make_item(schema, i, true));
  }
  put_all(p, pi);
  put_all(r, ri);
  auto run = diff(p, r, fast());
  ASSERT_TRUE(run.summary.ok());
  EXPECT_TRUE(run.found.empty());
  EXPECT_EQ(run.summary->compared, 300);
  EXPECT_EQ(run.summary->scanned_primary, 300);
  EXPECT_EQ(run.summary->scanned_replica, 300);
  // Fingerprints matched: nothing was re-read item by item.
  EXPECT_EQ(run.summary->suspects, 0);
  EXPECT_GT(run.summary->read_units, 0);
  EXPECT_EQ(run.summary->write_units, 0);
}

struct SchemaCase {
  const char* name;
  KeySchema schema;
};
void PrintTo(const SchemaCase& c, std::ostream* os) { *os << c.name; }

class DiffSchemaTest : public DiffStackTest, public ::testing::WithParamInterface<SchemaCase> {};

TEST_P(DiffSchemaTest, PlantedDiscrepanciesAreEachReportedExactlyOnce) {
  const KeySchema schema = GetParam().schema;
  std::string p = create("dp", schema), r = create("dr", schema);
  Planted planted = plant(schema, 200, 6);
  put_all(p, planted.primary);
  put_all(r, planted.replica);
  auto run = diff(p, r, fast());
  ASSERT_TRUE(run.summary.ok());
  EXPECT_EQ(run.found, planted.expected);
  EXPECT_EQ(run.summary->missing, 16);
  EXPECT_EQ(run.summary->different, 15);
  EXPECT_EQ(run.summary->extraneous, 6);
  EXPECT_EQ(run.summary->compared, static_cast<int64_t>(planted.union_size));
  EXPECT_EQ(run.summary->repaired, 0);
  for (const auto& d : run.list) EXPECT_FALSE(d.repaired);
}

INSTANTIATE_TEST_SUITE_P(
    KeyTypes, DiffSchemaTest,
    ::testing::Values(SchemaCase{"S", {"id", Type::kS, "", Type::kS}}, SchemaCase{"N", {"id", Type::kN, "", Type::kS}},
                      SchemaCase{"B", {"id", Type::kB, "", Type::kS}},
                      SchemaCase{"S_N", {"pk", Type::kS, "sk", Type::kN}},
                      SchemaCase{"N_B", {"pk", Type::kN, "sk", Type::kB}},
                      SchemaCase{"B_S", {"pk", Type::kB, "sk", Type::kS}}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST_F(DiffStackTest, RepairConvergesAndASecondRunFindsNothing) {
  KeySchema schema{"pk", Type::kS, "sk", Type::kN};
  std::string p = create("dp", schema), r = create("dr", schema);
  Planted planted = plant(schema, 150, 5);
  put_all(p, planted.primary);
  put_all(r, planted.replica);
  DiffOptions opt = fast();
  opt.repair = true;
  auto first = diff(p, r, opt);
  ASSERT_TRUE(first.summary.ok());
  EXPECT_EQ(first.found, planted.expected);
  EXPECT_EQ(first.summary->repaired, static_cast<int64_t>(planted.expected.size()));
  for (const auto& d : first.list) EXPECT_TRUE(d.repaired);
  EXPECT_GT(first.summary->write_units, 0);

  auto second = diff(p, r, fast());
  ASSERT_TRUE(second.summary.ok());
  EXPECT_TRUE(second.found.empty());
  EXPECT_EQ(second.summary->suspects, 0);

  auto pa = scan_all(p, schema), ra = scan_all(r, schema);
  ASSERT_EQ(pa.size(), ra.size());
  for (const auto& [k, item] : pa) {
    auto it = ra.find(k);
    ASSERT_NE(it, ra.end()) << k;
    EXPECT_TRUE(item == it->second) << k;
  }
}

TEST_F(DiffStackTest, SegmentRunsCoverEveryKeyExactlyOnce) {
  KeySchema schema{"id", Type::kS, "", Type::kS};
  std::string p = create("dp", schema), r = create("dr", schema);
  Planted planted = plant(schema, 400, 9);
  put_all(p, planted.primary);
  put_all(r, planted.replica);
  Found all;
  int64_t compared = 0, scanned = 0;
  int segments_with_findings = 0;
  for (int s = 0; s < 4; ++s) {
    DiffOptions opt = fast();
    opt.total_segments = 4;
    opt.segments = {s};
    auto run = diff(p, r, opt);
    ASSERT_TRUE(run.summary.ok());
    compared += run.summary->compared;
    scanned += run.summary->scanned_primary;
    if (!run.found.empty()) ++segments_with_findings;
    all.insert(run.found.begin(), run.found.end());
  }
  EXPECT_EQ(compared, static_cast<int64_t>(planted.union_size));
  EXPECT_EQ(scanned, 400);
  EXPECT_EQ(all, planted.expected);  // a multiset: each exactly once over all runs
  EXPECT_GT(segments_with_findings, 1);  // the planted keys really were spread over segments
}

TEST_F(DiffStackTest, OversizedPartitionsAreSplitWithTheSameResult) {
  KeySchema schema{"pk", Type::kN, "sk", Type::kS};
  std::string p = create("dp", schema), r = create("dr", schema);
  Planted planted = plant(schema, 300, 4);
  put_all(p, planted.primary);
  put_all(r, planted.replica);
  DiffOptions opt = fast();
  opt.partition_bits = 0;        // one partition, as if the item count said "empty"
  opt.partition_bytes = 1024;    // ... and far over the limit: split, and split again
  auto run = diff(p, r, opt);
  ASSERT_TRUE(run.summary.ok());
  EXPECT_EQ(run.found, planted.expected);
  EXPECT_EQ(run.summary->compared, static_cast<int64_t>(planted.union_size));
  EXPECT_EQ(run.summary->partitions, 1);
}

TEST_F(DiffStackTest, ItemsNear400KB) {
  KeySchema schema{"id", Type::kS, "", Type::kS};
  std::string p = create("dp", schema), r = create("dr", schema);
  const std::string big(399 * 1024, 'x');
  auto big_item = [&](int i, char last) {
    Item it;
    it.set("id", Value::S(fmt::format("big{}", i)));
    std::string s = big;
    s.back() = last;
    it.set("payload", Value::S(s));
    return it;
  };
  Found expected;
  for (int i = 0; i < 8; ++i) {
    Item it = big_item(i, 'x');
    ASSERT_LE(model::item_size(it), model::kMaxItemSize);
    put(p, it);
    if (i == 2) {
      expected.emplace("missing", key_json(it, schema));
    } else if (i == 5) {
      put(r, big_item(i, 'y'));  // differs in its very last byte
      expected.emplace("different", key_json(it, schema));
    } else {
      put(r, it);
    }
  }
  Item extra = big_item(99, 'z');
  put(r, extra);
  expected.emplace("extraneous", key_json(extra, schema));
  DiffOptions opt = fast();
  opt.repair = true;
  auto run = diff(p, r, opt);
  ASSERT_TRUE(run.summary.ok());
  EXPECT_EQ(run.found, expected);
  EXPECT_EQ(run.summary->repaired, 3);
  auto again = diff(p, r, fast());
  ASSERT_TRUE(again.summary.ok());
  EXPECT_TRUE(again.found.empty());
}

TEST_F(DiffStackTest, ManySuspectsAreReReadInBatchesAndRepaired) {
  // An empty replica without --backfill: every key is a suspect (more than BatchGetItem's 100).
  KeySchema schema{"id", Type::kN, "", Type::kS};
  std::string p = create("dp", schema), r = create("dr", schema);
  std::vector<Item> items;
  Found expected;
  for (int i = 0; i < 250; ++i) {
    items.push_back(make_item(schema, i, false));
    expected.emplace("missing", key_json(items.back(), schema));
  }
  put_all(p, items);
  DiffOptions opt = fast();
  opt.repair = true;
  opt.settle = 0ms;  // report on the first re-read
  auto run = diff(p, r, opt);
  ASSERT_TRUE(run.summary.ok());
  EXPECT_EQ(run.found, expected);
  EXPECT_EQ(run.summary->suspects, 250);
  EXPECT_EQ(run.summary->rounds, 1);
  EXPECT_EQ(run.summary->repaired, 250);
  auto again = diff(p, r, fast());
  ASSERT_TRUE(again.summary.ok());
  EXPECT_TRUE(again.found.empty());
}

TEST_F(DiffStackTest, WritesInFlightGiveNoFalseReports) {
  KeySchema schema{"id", Type::kS, "", Type::kS};
  std::string p = create("dp", schema), r = create("dr", schema);
  Planted planted = plant(schema, 1500, 3);
  put_all(p, planted.primary);
  put_all(r, planted.replica);
  // Keys the writers may touch: never the planted ones.
  std::vector<Item> touchable;
  for (int i = 0; i < 1500; ++i) {
    if (i % 13 != 3 && i % 13 != 7) touchable.push_back(make_item(schema, i, false));
  }
  std::atomic<bool> done{false};
  std::atomic<int> writes{0};
  // Writer 1 writes both tables back to back: updates, inserts and deletes, each key once.
  std::thread both([&] {
    for (size_t n = 0; !done.load() && n < touchable.size() / 2; ++n) {
      const Item& base = touchable[n];
      if (n % 3 == 2) {
        Item key = *model::extract_key(base, schema);
        del(p, key);
        del(r, key);
      } else {
        Item it = n % 3 == 0 ? base : make_item(schema, 200000 + static_cast<int>(n), false);
        it.set("v", Value::S(fmt::format("both {}", n)));
        put(p, it);
        put(r, it);
      }
      ++writes;
      std::this_thread::sleep_for(5ms);
    }
  });
  // Writer 2 replicates with a lag of 1 s, as a stream-fed replicator would: every 50 ms it
  // writes one key to the primary and, 1 s after, the same to the replica; about 20 keys are in
  // flight at any time, including when the scans end and the re-reads begin.
  std::thread lagging([&] {
    std::deque<std::pair<std::chrono::steady_clock::time_point, std::function<void()>>> pending;
    size_t n = touchable.size() / 2;
    while (true) {
      auto now = std::chrono::steady_clock::now();
      while (!pending.empty() && pending.front().first <= now) {
        pending.front().second();
        pending.pop_front();
      }
      if (done.load() && pending.empty()) break;
      if (!done.load() && n < touchable.size()) {
        const Item& base = touchable[n];
        if (n % 4 == 1) {
          Item key = *model::extract_key(base, schema);
          del(p, key);
          pending.emplace_back(now + 1s, [&, key] { del(r, key); });
        } else {
          Item it = base;
          it.set("v", Value::S(fmt::format("lagging {}", n)));
          put(p, it);
          pending.emplace_back(now + 1s, [&, it] { put(r, it); });
        }
        ++n;
        ++writes;
      }
      std::this_thread::sleep_for(50ms);
    }
  });
  std::this_thread::sleep_for(300ms);
  DiffOptions opt = fast();
  opt.rate_limit = 1500;  // a scan of ~3 s, so the writes land during it
  opt.settle = 2500ms;    // well above the 1 s lag
  auto run = diff(p, r, opt);
  done.store(true);
  both.join();
  lagging.join();
  ASSERT_TRUE(run.summary.ok());
  EXPECT_EQ(run.found, planted.expected);
  EXPECT_GT(writes.load(), 20);
  // The writes did make suspects, which the consistent re-reads settled.
  EXPECT_GT(run.summary->settled, 0);
}

TEST_F(DiffStackTest, BackfillFillsAnEmptyReplica) {
  KeySchema schema{"pk", Type::kS, "sk", Type::kN};
  std::string p = create("dp", schema), r = create("dr", schema);
  std::vector<Item> items;
  for (int i = 0; i < 400; ++i) items.push_back(make_item(schema, i, false));
  put_all(p, items);
  DiffOptions opt = fast();
  opt.backfill = true;
  auto run = diff(p, r, opt);
  ASSERT_TRUE(run.summary.ok());
  EXPECT_EQ(run.summary->backfilled, 400);
  EXPECT_EQ(run.summary->scanned_primary, 400);
  EXPECT_GT(run.summary->write_units, 0);
  EXPECT_TRUE(run.found.empty());
  auto check = diff(p, r, fast());
  ASSERT_TRUE(check.summary.ok());
  EXPECT_TRUE(check.found.empty());
  EXPECT_EQ(check.summary->compared, 400);
  EXPECT_EQ(check.summary->suspects, 0);
}

TEST_F(DiffStackTest, MissingTableIsAClearError) {
  KeySchema schema{"id", Type::kS, "", Type::kS};
  std::string p = create("dp", schema);
  std::string ghost = dynarep::testing::unique_name("ghost");
  auto s = diff_tables(ref(p), ref(ghost), fast());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::kNotFound);
  EXPECT_NE(s.error().describe().find("replica table us-east-1/" + ghost + " does not exist"), std::string::npos)
      << s.error().describe();
  s = diff_tables(ref(ghost), ref(p), fast());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().describe().find("primary table us-east-1/" + ghost), std::string::npos) << s.error().describe();
}

TEST_F(DiffStackTest, DifferentKeySchemasAreAnError) {
  std::string p = create("dp", KeySchema{"id", Type::kS, "", Type::kS});
  std::string r = create("dr", KeySchema{"id", Type::kS, "sk", Type::kN});
  auto s = diff_tables(ref(p), ref(r), fast());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "KeySchemaMismatch");
  EXPECT_NE(s.error().message.find("id (S), sk (N)"), std::string::npos) << s.error().message;
  std::string r2 = create("dr", KeySchema{"id", Type::kN, "", Type::kS});
  s = diff_tables(ref(p), ref(r2), fast());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "KeySchemaMismatch");
}

TEST_F(DiffStackTest, CompareAndReplicateOneRecord) {
  KeySchema schema{"id", Type::kS, "", Type::kS};
  std::string p = create("dp", schema), r = create("dr", schema);
  Item a = make_item(schema, 1, false);
  Item a_changed = make_item(schema, 1, true, R"(,"extra":{"S":"x"})");
  Item b = make_item(schema, 2, false);
  Item c = make_item(schema, 3, false);
  put(p, a);
  put(r, a_changed);
  put(p, b);
  put(r, c);
  Item ka = *model::extract_key(a, schema), kb = *model::extract_key(b, schema), kc = *model::extract_key(c, schema);

  auto ca = compare_record(ref(p), ref(r), ka);
  ASSERT_TRUE(ca.ok()) << ca.error().describe();
  EXPECT_EQ(ca->kind(), Kind::kDifferent);
  ASSERT_EQ(ca->differences.size(), 1u);
  EXPECT_EQ(ca->differences[0].path, "extra");
  EXPECT_EQ(compare_record(ref(p), ref(r), kb)->kind(), Kind::kMissing);
  EXPECT_EQ(compare_record(ref(p), ref(r), kc)->kind(), Kind::kExtraneous);

  auto oa = replicate_record(ref(p), ref(r), ka);
  ASSERT_TRUE(oa.ok());
  EXPECT_EQ(oa->action, ReplicateOutcome::Action::kPut);
  auto ob = replicate_record(ref(p), ref(r), kb);
  EXPECT_EQ(ob->action, ReplicateOutcome::Action::kPut);
  auto oc = replicate_record(ref(p), ref(r), kc);
  EXPECT_EQ(oc->action, ReplicateOutcome::Action::kDelete);
  for (const Item* k : {&ka, &kb, &kc}) {
    auto after = compare_record(ref(p), ref(r), *k);
    ASSERT_TRUE(after.ok());
    EXPECT_TRUE(after->equal());
    EXPECT_EQ(replicate_record(ref(p), ref(r), *k)->action, ReplicateOutcome::Action::kNone);
  }
}

}  // namespace
}  // namespace dynarep::diff::testing
