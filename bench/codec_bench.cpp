// DynamoDB JSON codec throughput: parse (line -> Item) and serialize (Item -> line) over a
// deterministic corpus of ~1 KB items mixing every attribute type, plus the canonical hash diff
// uses. Targets (Release, one core): parse >= 300 MB/s, serialize >= 400 MB/s.
//
//   codec_bench --benchmark_filter=Parse
#include <simdjson.h>

#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "model/codec.h"
#include "model/item.h"

namespace {

using dynarep::model::Item;
using dynarep::model::Map;
using dynarep::model::Number;
using dynarep::model::Value;

// xorshift64*: deterministic across runs and platforms.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed | 1) {}
  uint64_t next() {
    s_ ^= s_ >> 12;
    s_ ^= s_ << 25;
    s_ ^= s_ >> 27;
    return s_ * 0x2545F4914F6CDD1DULL;
  }
  size_t below(size_t n) { return static_cast<size_t>(next() % n); }
  std::string word(size_t len) {
    static constexpr char kLetters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_";
    std::string s(len, ' ');
    for (auto& c : s) c = kLetters[below(sizeof kLetters - 1)];
    return s;
  }
  std::string bytes(size_t len) {
    std::string s(len, '\0');
    for (auto& c : s) c = static_cast<char>(next() & 0xFF);
    return s;
  }
  std::string decimal() {
    std::string s;
    if (below(4) == 0) s += '-';
    s += std::to_string(below(1000000));
    if (below(2) == 0) {
      s += '.';
      s += std::to_string(below(100));
    }
    return s;
  }

 private:
  uint64_t s_;
};

Item make_item(Rng& rng, size_t i) {
  Item item;
  item.set("id", Value::S("user-" + std::to_string(i) + "-" + rng.word(12)));
  item.set("created", Value::N(Number::from_int(1700000000000 + static_cast<int64_t>(rng.below(1000000000)))));
  item.set("price", Value::N(Number::from_string(rng.decimal())));
  item.set("name", Value::S(rng.word(20 + rng.below(30))));
  std::string description = rng.word(150 + rng.below(100));
  if (rng.below(3) == 0) description += "\n\"quoted\" \\ tab\t and unicode caf\xc3\xa9";
  item.set("description", Value::S(std::move(description)));
  std::vector<std::string> tags;
  for (size_t k = 0, n = 2 + rng.below(4); k < n; ++k) tags.push_back("tag" + std::to_string(k) + rng.word(5));
  item.set("tags", Value::SS(std::move(tags)));
  std::vector<Number> scores;
  for (size_t k = 0, n = 2 + rng.below(4); k < n; ++k) scores.push_back(Number::from_string(std::to_string(k) + "." + std::to_string(rng.below(1000))));
  item.set("scores", Value::NS(std::move(scores)));
  item.set("blob", Value::B(rng.bytes(32 + rng.below(64))));
  item.set("active", Value::Bool(rng.below(2) == 0));
  item.set("deleted_at", Value::Null());
  Map attrs;
  for (size_t k = 0, n = 4 + rng.below(4); k < n; ++k) {
    const std::string name = "attr" + std::to_string(k);
    switch (rng.below(3)) {
      case 0: attrs.set(name, Value::S(rng.word(10 + rng.below(20)))); break;
      case 1: attrs.set(name, Value::N(Number::from_string(rng.decimal()))); break;
      default: attrs.set(name, Value::Bool(rng.below(2) == 0)); break;
    }
  }
  attrs.set("dims", Value::L({Value::N(Number::from_int(static_cast<int64_t>(rng.below(100)))),
                              Value::N(Number::from_int(static_cast<int64_t>(rng.below(100)))),
                              Value::S(rng.word(4))}));
  item.set("attrs", Value::M(std::move(attrs)));
  std::vector<Value> history;
  for (size_t k = 0, n = 2 + rng.below(3); k < n; ++k) {
    Map event;
    event.set("at", Value::N(Number::from_int(1600000000 + static_cast<int64_t>(rng.below(100000000)))));
    event.set("who", Value::S(rng.word(8)));
    event.set("what", Value::S(rng.word(16 + rng.below(16))));
    history.push_back(Value::M(std::move(event)));
  }
  item.set("history", Value::L(std::move(history)));
  return item;
}

struct Corpus {
  std::vector<Item> items;
  std::vector<std::string> lines;
  size_t bytes = 0;
};

const Corpus& corpus() {
  static const Corpus c = [] {
    Corpus out;
    Rng rng(0x5eed);
    for (size_t i = 0; i < 2000; ++i) {
      out.items.push_back(make_item(rng, i));
      out.lines.push_back(dynarep::model::to_json(out.items.back()));
      out.bytes += out.lines.back().size() + 1;  // + the newline of the line format
    }
    return out;
  }();
  return c;
}

void BM_ParseItem(benchmark::State& state) {
  const Corpus& c = corpus();
  dynarep::model::ItemParser parser;
  for (auto _ : state) {
    for (const auto& line : c.lines) {
      auto r = parser.parse(line);
      if (!r.ok()) state.SkipWithError(r.error().message.c_str());
      benchmark::DoNotOptimize(r);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * c.bytes));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * c.lines.size()));
  state.counters["avg_line_bytes"] = static_cast<double>(c.bytes) / static_cast<double>(c.lines.size());
}
BENCHMARK(BM_ParseItem)->Unit(benchmark::kMillisecond);

// The floor under BM_ParseItem: simdjson's DOM parse alone, no conversion to Items.
void BM_SimdjsonDomOnly(benchmark::State& state) {
  const Corpus& c = corpus();
  simdjson::dom::parser parser;
  for (auto _ : state) {
    for (const auto& line : c.lines) {
      simdjson::dom::element doc;
      if (parser.parse(line.data(), line.size()).get(doc) != simdjson::SUCCESS) state.SkipWithError("parse");
      benchmark::DoNotOptimize(doc);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * c.bytes));
}
BENCHMARK(BM_SimdjsonDomOnly)->Unit(benchmark::kMillisecond);

void BM_SerializeItem(benchmark::State& state) {
  const Corpus& c = corpus();
  std::string out;
  for (auto _ : state) {
    for (const auto& item : c.items) {
      out.clear();
      dynarep::model::append_item_json(out, item);
      out += '\n';
      benchmark::DoNotOptimize(out.data());
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * c.bytes));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * c.items.size()));
}
BENCHMARK(BM_SerializeItem)->Unit(benchmark::kMillisecond);

// to_json: a fresh string per item, as most callers use it.
void BM_ToJson(benchmark::State& state) {
  const Corpus& c = corpus();
  for (auto _ : state) {
    for (const auto& item : c.items) {
      std::string line = dynarep::model::to_json(item);
      benchmark::DoNotOptimize(line.data());
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * c.bytes));
}
BENCHMARK(BM_ToJson)->Unit(benchmark::kMillisecond);

// What diff-tables does per item after parsing.
void BM_ItemHash(benchmark::State& state) {
  const Corpus& c = corpus();
  for (auto _ : state) {
    for (const auto& item : c.items) benchmark::DoNotOptimize(dynarep::model::item_hash(item));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * c.bytes));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * c.items.size()));
}
BENCHMARK(BM_ItemHash)->Unit(benchmark::kMillisecond);

void BM_ItemEquality(benchmark::State& state) {
  const Corpus& c = corpus();
  std::vector<Item> copies = c.items;
  for (auto _ : state) {
    for (size_t i = 0; i < c.items.size(); ++i) benchmark::DoNotOptimize(c.items[i] == copies[i]);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * c.bytes));
}
BENCHMARK(BM_ItemEquality)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
