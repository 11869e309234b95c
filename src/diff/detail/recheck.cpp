#include "diff/detail/recheck.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "diff/detail/repair.h"
#include "dynamodb/client.h"
#include "model/codec.h"

namespace dynarep::diff::detail {

namespace {

constexpr size_t kRecheckBatchKeys = dynamodb::kMaxBatchGet;  // BatchGetItem's limit
// Item bytes per re-check batch: a batch of 400 KB items holds a few keys, not 100, so a
// worker never holds more than a few MB of items.
constexpr size_t kRecheckBatchBytes = 2 << 20;

double since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

struct Suspect {
  RoundRecord rec;  // rec.key_json points into json
  std::string json;
};

class Rechecker {
 public:
  Rechecker(const TableRef& primary, const TableRef& replica, const model::KeySchema& schema,
            const RecheckOptions& opt, Reporter& reporter)
      : primary_(primary), replica_(replica), schema_(schema), opt_(opt), reporter_(reporter) {}

  // One round over `input`: what changed since the last observation is carried to `next`
  // (null in the final round, which reports whatever still differs).
  Status run_round(const SpillFile& input, SpillFile* next, bool final) {
    RecordReader<RoundRecord> reader(input);
    std::mutex in_mu, next_mu;
    std::atomic<bool> failed{false};
    std::optional<Error> first_error;
    std::mutex err_mu;

    auto work = [&] {
      while (!failed.load()) {
        std::vector<Suspect> batch;
        {
          std::lock_guard lock(in_mu);
          size_t bytes = 0;
          while (batch.size() < kRecheckBatchKeys && bytes < kRecheckBatchBytes) {
            RoundRecord r;
            auto more = reader.next(&r);
            if (!more.ok()) {
              std::lock_guard el(err_mu);
              if (!first_error) first_error = more.error();
              failed.store(true);
              return;
            }
            if (!*more) break;
            Suspect s{r, std::string(r.key_json)};
            s.rec.key_json = {};
            bytes += std::max<size_t>(r.size, 1);
            batch.push_back(std::move(s));
          }
        }
        if (batch.empty()) return;
        std::string carry;
        Status st = recheck(batch, final, carry);
        if (st.ok() && !carry.empty() && next != nullptr) {
          std::lock_guard lock(next_mu);
          st = next->append(carry);
        }
        if (!st.ok()) {
          std::lock_guard el(err_mu);
          if (!first_error) first_error = st.error();
          failed.store(true);
          return;
        }
      }
    };
    const int n = std::max(1, opt_.parallel);
    std::vector<std::thread> threads;
    for (int i = 1; i < n; ++i) threads.emplace_back(work);
    work();
    for (auto& t : threads) t.join();
    if (first_error) return *first_error;
    return {};
  }

 private:
  // Re-reads one batch of suspects with consistent reads on both tables. Equal: settled.
  // Different and unchanged since the last observation, or different in the final round:
  // reported (and repaired). Different and changed: carried to the next round (`carry`).
  Status recheck(std::vector<Suspect>& batch, bool final, std::string& carry) {
    std::vector<model::Item> keys;
    keys.reserve(batch.size());
    for (auto& s : batch) {
      auto k = model::parse_item(s.json);
      if (!k.ok()) return Error(k.error()).with_context("a spilled key " + s.json);
      keys.push_back(std::move(k).value());
    }
    auto pr = primary_.client->batch_get_all(primary_.table, keys, true);
    if (!pr.ok()) {
      return Error(pr.error()).with_context(
          fmt::format("re-reading {} keys from primary table {}", keys.size(), primary_.display));
    }
    auto rr = replica_.client->batch_get_all(replica_.table, keys, true);
    if (!rr.ok()) {
      return Error(rr.error()).with_context(
          fmt::format("re-reading {} keys from replica table {}", keys.size(), replica_.display));
    }
    reporter_.add_units(pr->consumed_read_units + rr->consumed_read_units, 0);
    using Index = std::unordered_map<Hash128, model::Item*, Hash128Hasher>;
    auto index = [&](std::vector<model::Item>& items) -> Result<Index> {
      Index m;
      for (auto& it : items) {
        DR_ASSIGN(model::Item k, model::extract_key(it, schema_));
        m.emplace(key_id(k), &it);
      }
      return m;
    };
    DR_ASSIGN(auto pm, index(pr->items));
    DR_ASSIGN(auto rm, index(rr->items));

    std::vector<Confirmed> found;
    int64_t settled = 0;
    for (size_t i = 0; i < batch.size(); ++i) {
      const Hash128& id = batch[i].rec.key;
      auto pi = pm.find(id);
      auto ri = rm.find(id);
      const model::Item* p = pi == pm.end() ? nullptr : pi->second;
      const model::Item* r = ri == rm.end() ? nullptr : ri->second;
      if ((p == nullptr && r == nullptr) || (p != nullptr && r != nullptr && *p == *r)) {
        ++settled;
        continue;
      }
      const Kind kind = r == nullptr ? Kind::kMissing : (p == nullptr ? Kind::kExtraneous : Kind::kDifferent);
      const Hash128 fp_p = p != nullptr ? item_fingerprint(*p) : Hash128{};
      const Hash128 fp_r = r != nullptr ? item_fingerprint(*r) : Hash128{};
      const bool stable = fp_p == batch[i].rec.primary_fp && fp_r == batch[i].rec.replica_fp;
      if (!final && !stable) {
        size_t size = std::max(p != nullptr ? model::item_size(*p) : 0, r != nullptr ? model::item_size(*r) : 0);
        append_round_record(carry, RoundRecord{id, fp_p, fp_r, static_cast<uint32_t>(std::max<size_t>(size, 1)),
                                               batch[i].json});
        continue;
      }
      found.push_back({kind, &keys[i], p});
    }

    Status repair_status;
    bool repaired = false;
    if (opt_.repair && !found.empty()) {
      auto units = repair(replica_, found);
      if (units.ok()) {
        reporter_.add_units(0, *units);
        repaired = true;
      } else {
        repair_status = units.error();
      }
    }
    std::vector<Discrepancy> discrepancies;
    discrepancies.reserve(found.size());
    for (const auto& f : found) discrepancies.push_back(Discrepancy{f.kind, *f.key, repaired});
    reporter_.report(settled, discrepancies);
    return repair_status;
  }

  const TableRef& primary_;
  const TableRef& replica_;
  const model::KeySchema& schema_;
  const RecheckOptions& opt_;
  Reporter& reporter_;
};

}  // namespace

Result<RoundStats> run_rounds(const TableRef& primary, const TableRef& replica, const model::KeySchema& schema,
                              const RecheckOptions& options, std::unique_ptr<SpillFile> input,
                              std::chrono::steady_clock::time_point scan_end, TempDir& tmp, Clock& clock,
                              Reporter& reporter) {
  Rechecker rechecker(primary, replica, schema, options, reporter);
  RoundStats stats;
  const bool confirm = options.settle.count() > 0;
  const int max_rounds = confirm ? std::max(1, options.max_rounds) : 1;
  auto last_observation = scan_end;
  for (int round = 1; input->size() > 0; ++round) {
    const bool final = round >= max_rounds;
    if (confirm) {
      // Every key of the last observation was read before it ended.
      auto due = last_observation + options.settle;
      auto now = clock.steady_now();
      if (due > now) {
        const auto wait_start = std::chrono::steady_clock::now();
        clock.sleep_for(due - now);
        stats.settle_seconds += since(wait_start);
      }
    }
    std::unique_ptr<SpillFile> next;
    if (!final) {
      DR_ASSIGN(next, tmp.new_file("round"));
    }
    stats.rounds = round;
    const auto round_start = std::chrono::steady_clock::now();
    const int64_t reported = reporter.confirmed();
    DR_TRY(rechecker.run_round(*input, next.get(), final));
    stats.reread_seconds += since(round_start);
    spdlog::debug("diff: round {}: re-read in {:.2f}s, {} confirmed", round, since(round_start),
                  reporter.confirmed() - reported);
    last_observation = clock.steady_now();
    if (!next) break;
    DR_TRY(next->finish());
    input = std::move(next);
  }
  return stats;
}

}  // namespace dynarep::diff::detail
