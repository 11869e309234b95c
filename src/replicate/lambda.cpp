#include "replicate/lambda.h"

#include <fmt/format.h>
#include <simdjson.h>
#include <spdlog/spdlog.h>

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

Result<ApplyResult> apply_lambda_event(Replicator& replicator, std::string_view event_json, Clock& clock,
                                       std::optional<std::chrono::steady_clock::time_point> deadline) {
  DR_ASSIGN(std::vector<stream::LambdaRecord> records, stream::parse_lambda_event(event_json));
  auto raws = raw_records(event_json);
  auto inputs = inputs_from_lambda(std::move(records), raws);
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
    auto result = apply_lambda_event(*replicator, r->body, clock, deadline);
    const std::string url = base + "/invocation/" + id;
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
