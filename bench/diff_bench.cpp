// diff-tables' CPU per scanned item, without a server: what dynarep itself spends on an item
// between the Scan response and the spill file (bench/diff/run.sh measures the whole run).
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <simdjson.h>

#include <string>
#include <vector>

#include "diff/detail/fingerprint.h"
#include "diff/detail/spill.h"
#include "model/codec.h"
#include "model/item.h"

namespace {

using namespace dynarep;

// The bench/diff/gen.py item shape (~200 bytes as DynamoDB counts).
std::string item_line(int i) {
  std::string hex = fmt::format("{:08x}", static_cast<uint32_t>(i * 2654435761u));
  std::string s = "primary-";
  for (int k = 0; k < 18; ++k) s += hex;
  return fmt::format(
      R"({{"id":{{"S":"k{:09}"}},"n":{{"N":"{}.{:02}"}},"s":{{"S":"{}"}},"tags":{{"SS":["alpha","beta","t{}"]}},)"
      R"("m":{{"M":{{"count":{{"N":"{}"}},"ok":{{"BOOL":{}}}}}}}}})",
      i, i * 7, i % 100, s, i % 17, i % 1000, i % 2 == 0 ? "true" : "false");
}

// A Scan page's worth of items as one response body.
std::string page_json(int n) {
  std::string body = R"({"Items":[)";
  for (int i = 0; i < n; ++i) {
    if (i > 0) body += ',';
    body += item_line(i);
  }
  body += R"(],"Count":)" + std::to_string(n) + "}";
  return body;
}

// Parse (as Client::scan does) + key + key id + fingerprint + key JSON + spill record.
void BM_ScanItemToSpillRecord(benchmark::State& state) {
  const int n = 5000;
  const std::string body = page_json(n);
  const model::KeySchema schema{"id", model::Type::kS, "", model::Type::kS};
  simdjson::dom::parser parser;
  std::string out;
  for (auto _ : state) {
    out.clear();
    auto doc = parser.parse(body);
    for (auto e : doc["Items"].get_array()) {
      auto item = model::parse_item(e);
      auto key = model::extract_key(*item, schema);
      auto id = diff::detail::key_id(*key);
      auto fp = diff::detail::item_fingerprint(*item);
      diff::detail::append_scan_record(out, id, fp, static_cast<uint32_t>(model::item_size(*item)),
                                       model::canonical_key_json(*key));
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(body.size()));
}
BENCHMARK(BM_ScanItemToSpillRecord)->Unit(benchmark::kMillisecond);

// Only the parse, for comparison.
void BM_ScanPageParseOnly(benchmark::State& state) {
  const int n = 5000;
  const std::string body = page_json(n);
  simdjson::dom::parser parser;
  for (auto _ : state) {
    auto doc = parser.parse(body);
    std::vector<model::Item> items;
    items.reserve(n);
    for (auto e : doc["Items"].get_array()) items.push_back(*model::parse_item(e));
    benchmark::DoNotOptimize(items.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_ScanPageParseOnly)->Unit(benchmark::kMillisecond);

void BM_Hash128(benchmark::State& state) {
  std::string bytes(static_cast<size_t>(state.range(0)), 'x');
  for (auto _ : state) benchmark::DoNotOptimize(diff::detail::hash128(bytes, 1));
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Hash128)->Arg(200)->Arg(400 * 1024);

}  // namespace

BENCHMARK_MAIN();
