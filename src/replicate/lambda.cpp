#include "replicate/lambda.h"

#include <fmt/format.h>
#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <random>

#include "core/json_writer.h"
#include "http/client.h"
#include "stream/lambda_event.h"

namespace dynarep::replicate {
namespace {

// Each record of the event as compact JSON, for dead letters; empty when the event does not parse
// (parse_lambda_event then reports why).
std::vector<std::string> raw_records(std::string_view json) {
  std::vector<std::string> out;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json.data(), json.size()).get(doc)) return out;
  simdjson::dom::array records;
  if (doc["Records"].get(records)) return out;
  for (auto r : records) out.push_back(simdjson::minify(r));
  return out;
}

}  // namespace

std::string apply_result_json(const ApplyResult& r) {
  std::string out;
  JsonWriter w(out);
  w.begin_object()
      .field("received", r.received)
      .field("applied", r.applied)
      .field("superseded", r.superseded)
      .field("skipped", r.skipped)
      .field("deadLettered", r.dead_lettered)
      .field("puts", r.puts)
      .field("deletes", r.deletes)
      .end_object();
  return out;
}

namespace {

// Replicator::apply, again with backoff while it fails retryably, until `deadline` (default: 5
// attempts).
Result<ApplyResult> apply_with_retries(Replicator& replicator, const std::vector<ChangeInput>& inputs, Clock& clock,
                                       std::optional<std::chrono::steady_clock::time_point> deadline) {
  std::mt19937_64 rng{std::random_device{}()};
  std::chrono::milliseconds cap{100};
  for (int attempt = 1;; ++attempt) {
    auto r = replicator.apply(inputs);
    if (r.ok() || !r.error().retryable()) return r;
    std::uniform_int_distribution<int64_t> d(cap.count() / 2, cap.count());
    auto wait = std::chrono::milliseconds(d(rng));
    bool out_of_time = deadline ? clock.steady_now() + wait >= *deadline : attempt >= 5;
    if (out_of_time) return r;
    spdlog::warn("event: attempt {} failed (retry in {} ms): {}", attempt, wait.count(), r.error().describe());
    clock.sleep_for(wait);
    cap = std::min<std::chrono::milliseconds>(cap * 2, std::chrono::milliseconds(5000));
  }
}

void add(ApplyResult& into, const ApplyResult& r) {
  into.received += r.received;
  into.applied += r.applied;
  into.superseded += r.superseded;
  into.skipped += r.skipped;
  into.dead_lettered += r.dead_lettered;
  into.puts += r.puts;
  into.deletes += r.deletes;
}

Result<std::vector<ChangeInput>> event_inputs(std::string_view event_json) {
  DR_ASSIGN(std::vector<stream::LambdaRecord> records, stream::parse_lambda_event(event_json));
  return inputs_from_lambda(std::move(records), raw_records(event_json));
}

}  // namespace

Result<ApplyResult> apply_lambda_event(Replicator& replicator, std::string_view event_json, Clock& clock,
                                       std::optional<std::chrono::steady_clock::time_point> deadline) {
  DR_ASSIGN(std::vector<ChangeInput> inputs, event_inputs(event_json));
  return apply_with_retries(replicator, inputs, clock, deadline);
}

Result<PartialBatchOutcome> apply_lambda_event_partial(Replicator& replicator, std::string_view event_json,
                                                       Clock& clock,
                                                       std::optional<std::chrono::steady_clock::time_point> deadline) {
  DR_ASSIGN(std::vector<ChangeInput> inputs, event_inputs(event_json));
  PartialBatchOutcome out;
  // Retrying the whole batch may take half the time left; the other half is for finding the
  // records that fail (without a deadline: 5 attempts, then as long as the halving takes).
  std::optional<std::chrono::steady_clock::time_point> whole_deadline;
  if (deadline) whole_deadline = clock.steady_now() + (*deadline - clock.steady_now()) / 2;
  auto whole = apply_with_retries(replicator, inputs, clock, whole_deadline);
  if (whole.ok()) {
    out.applied = *whole;
    return out;
  }
  spdlog::warn("event: {} records not applied as a batch ({}); finding the records that fail, shard by shard",
               inputs.size(), whole.error().describe());

  // The records of each shard, in event order (Lambda hands one shard per batch; an event
  // assembled by hand may hold several).
  std::vector<std::string> shards;
  std::vector<std::vector<size_t>> of_shard;
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto it = std::find(shards.begin(), shards.end(), inputs[i].shard);
    if (it == shards.end()) {
      shards.push_back(inputs[i].shard);
      of_shard.emplace_back();
      it = shards.end() - 1;
    }
    of_shard[static_cast<size_t>(it - shards.begin())].push_back(i);
  }
  auto slice = [&](const std::vector<size_t>& idx, size_t from, size_t to) {
    std::vector<ChangeInput> part;
    for (size_t k = from; k < to; ++k) part.push_back(inputs[idx[k]]);
    return part;
  };
  auto out_of_time = [&] { return deadline && clock.steady_now() >= *deadline; };

  std::vector<bool> failed(inputs.size(), false);
  for (size_t s = 0; s < shards.size(); ++s) {
    const auto& idx = of_shard[s];
    // Invariant: records [0, good) of the shard are applied; [good, bad) holds a record that
    // fails when applied after them. Halving [good, bad) finds the first failing record in
    // log2(n) single attempts; a failure met by chance only moves `bad` lower, so at worst more
    // records are reported than needed, never fewer.
    size_t good = 0, bad = idx.size();
    std::optional<Error> error = whole.error();
    // Applies records [good, to) after the applied prefix; true (and `good` moves) when it could.
    auto advance = [&](size_t to) {
      auto r = replicator.apply(slice(idx, good, to));
      if (!r.ok()) {
        error = r.error();
        return false;
      }
      add(out.applied, *r);
      good = to;
      return true;
    };
    while (bad - good > 1 && !out_of_time()) {
      size_t mid = good + (bad - good) / 2;
      if (!advance(mid)) bad = mid;
    }
    // One record is left. It is known to fail unless it is the shard's last, which was only
    // tried within the whole event (another shard's record may have failed that): try it alone.
    if (bad - good == 1 && bad == idx.size() && !out_of_time()) advance(bad);
    for (size_t k = good; k < idx.size(); ++k) failed[idx[k]] = true;
    if (good < idx.size()) {
      spdlog::error("event: shard {}: {} of {} records not applied, from sequence number {}: {}", shards[s],
                    idx.size() - good, idx.size(), inputs[idx[good]].sequence_number, error->describe());
      if (!out.first_error) out.first_error = error;
    }
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!failed[i]) continue;
    if (inputs[i].sequence_number.empty()) {
      return invalid_input(fmt::format("event record {} (shard {}) failed and has no sequence number to report", i,
                                       inputs[i].shard));
    }
    out.failed_sequence_numbers.push_back(inputs[i].sequence_number);
  }
  return out;
}

std::string batch_item_failures_json(const PartialBatchOutcome& outcome) {
  std::string out;
  JsonWriter w(out);
  w.begin_object().key("batchItemFailures").begin_array();
  for (const auto& seq : outcome.failed_sequence_numbers) {
    w.begin_object().field("itemIdentifier", seq).end_object();
  }
  w.end_array().end_object();
  return out;
}

int run_lambda_runtime(const RuntimeOptions& opt, const std::atomic<bool>& stop, Clock& clock) {
  const std::string base = "http://" + opt.api + "/2018-06-01/runtime";
  http::Client http;
  auto post = [&](const std::string& url, const std::string& body, http::Headers extra = {}) {
    http::Request req;
    req.method = "POST";
    req.url = url;
    req.body = body;
    req.headers = std::move(extra);
    req.headers.emplace_back("Content-Type", "application/json");
    req.timeout = std::chrono::milliseconds(30000);
    auto r = http.send(req);
    if (!r.ok()) {
      spdlog::error("runtime API {}: {}", url, r.error().describe());
    } else if (r->status / 100 != 2) {
      spdlog::error("runtime API {}: HTTP {}: {}", url, r->status, r->body);
    }
  };
  auto error_body = [](std::string_view type, std::string_view message) {
    std::string b;
    JsonWriter(b).begin_object().field("errorMessage", message).field("errorType", type).end_object();
    return b;
  };

  auto made = opt.init();
  if (!made.ok()) {
    spdlog::error("lambda init failed: {}", made.error().describe());
    post(base + "/init/error", error_body("Runtime.InitError", made.error().describe()),
         {{"Lambda-Runtime-Function-Error-Type", "Runtime.InitError"}});
    return 1;
  }
  std::unique_ptr<Replicator> replicator = std::move(made).value();
  spdlog::info("lambda runtime ready (runtime API {})", opt.api);

  int invocations = 0;
  while (!stop.load()) {
    if (opt.max_invocations > 0 && invocations >= opt.max_invocations) break;
    http::Request next;
    next.url = base + "/invocation/next";
    // Lambda holds this request until an invocation arrives (the process is frozen meanwhile).
    next.timeout = std::chrono::hours(1);
    auto r = http.send(next);
    if (!r.ok() || r->status != 200) {
      if (r.ok()) {
        spdlog::warn("runtime API next: HTTP {}: {}", r->status, r->body);
      } else {
        spdlog::warn("runtime API next: {}", r.error().describe());
      }
      clock.sleep_for(opt.next_retry);
      continue;
    }
    ++invocations;
    std::string id(r->header("lambda-runtime-aws-request-id").value_or(""));
    if (auto trace = r->header("lambda-runtime-trace-id")) {
      ::setenv("_X_AMZN_TRACE_ID", std::string(*trace).c_str(), 1);
    }
    std::optional<std::chrono::steady_clock::time_point> deadline;
    if (auto d = r->header("lambda-runtime-deadline-ms")) {
      char* end = nullptr;
      std::string text(*d);
      long long ms = std::strtoll(text.c_str(), &end, 10);
      if (end != text.c_str()) {
        auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock.now().time_since_epoch()).count();
        // Leave a second to report the outcome.
        deadline = clock.steady_now() + std::chrono::milliseconds(ms - now_ms - 1000);
      }
    }
    if (id.empty()) {
      spdlog::error("runtime API next: no Lambda-Runtime-Aws-Request-Id header; skipping the invocation");
      continue;
    }
    const std::string url = base + "/invocation/" + id;
    if (opt.report_batch_item_failures) {
      auto partial = apply_lambda_event_partial(*replicator, r->body, clock, deadline);
      if (partial.ok()) {
        spdlog::info("invocation {}: {}, {} not applied", id, apply_result_json(partial->applied),
                     partial->failed_sequence_numbers.size());
        post(url + "/response", batch_item_failures_json(*partial));
        continue;
      }
      spdlog::error("invocation {} failed: {}", id, partial.error().describe());
      post(url + "/error", error_body("Replication.InvalidEvent", partial.error().describe()),
           {{"Lambda-Runtime-Function-Error-Type", "Replication.InvalidEvent"}});
      continue;
    }
    auto result = apply_lambda_event(*replicator, r->body, clock, deadline);
    if (result.ok()) {
      spdlog::info("invocation {}: {}", id, apply_result_json(*result));
      post(url + "/response", apply_result_json(*result));
    } else {
      std::string type = result.error().kind == ErrorKind::kInvalidInput ? "Replication.InvalidEvent"
                                                                         : "Replication.RetryableFailure";
      spdlog::error("invocation {} failed: {}", id, result.error().describe());
      post(url + "/error", error_body(type, result.error().describe()), {{"Lambda-Runtime-Function-Error-Type", type}});
    }
  }
  return 0;
}

}  // namespace dynarep::replicate
