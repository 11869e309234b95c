#include "replicate/redrive.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <thread>

#include "s3/client.h"
#include "replicate/change.h"
#include "stream/lambda_event.h"
#include "stream/record.h"

namespace dynarep::replicate {
namespace {

void split_lines(std::string_view text, const std::string& where, std::vector<DeadLetterLine>& out) {
  size_t number = 0;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    out.push_back({fmt::format("{} line {}", where, number), std::string(line)});
  }
}

// A line that is not a dead letter still goes to the still-failing file, whole, so that
// nothing given to redrive is lost.
DeadLetter unreadable(const DeadLetterLine& line, const Error& why) {
  DeadLetter d;
  d.time = std::chrono::system_clock::now();
  d.shard = "unreadable";
  d.reason = fmt::format("{}: not a dead letter: {}", line.where, why.describe());
  d.data = line.text;
  return d;
}

// The change a letter holds. A letter of the Lambda modes holds the event's record as given
// (for Kinesis, {"kinesis":{"data":<base64>...}}), so it is read as a one-record event; the
// raw bytes stay the letter's own, so a letter that fails again is written back unchanged.
ChangeInput input_of(DeadLetter letter) {
  auto change = stream::parse_change_record(letter.data);
  if (!change.ok()) {
    auto event = stream::parse_lambda_event("{\"Records\":[" + letter.data + "]}");
    if (event.ok() && event->size() == 1) {
      auto inputs = inputs_from_lambda(std::move(event).value(), {letter.data});
      return std::move(inputs.front());
    }
  }
  // The arrival time is not in a dead letter (its time is when it was parked): turnover sees
  // the record's own creation time, or applies it with a warning, as for any record without.
  return ChangeInput{std::move(letter.shard), std::move(letter.sequence_number), std::move(letter.partition_key),
                     std::nullopt, letter.data, std::move(change)};
}

}  // namespace

Result<std::vector<DeadLetterLine>> read_dead_letter_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return not_found(fmt::format("dead letter file {}: {}", path, std::strerror(errno)));
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) return fatal(fmt::format("dead letter file {}: read error", path));
  std::vector<DeadLetterLine> out;
  split_lines(text, path, out);
  return out;
}

Result<std::vector<DeadLetterLine>> read_dead_letter_objects(s3::Client& client, const std::string& bucket,
                                                             const std::string& prefix) {
  std::vector<DeadLetterLine> out;
  s3::ListObjectsRequest req;
  req.prefix = prefix.empty() || prefix.back() == '/' ? prefix : prefix + "/";
  while (true) {
    auto page = client.list_objects(bucket, req);
    if (!page.ok()) return std::move(page).error().with_context(fmt::format("listing s3://{}/{}", bucket, req.prefix));
    for (const auto& o : page->objects) {
      auto body = client.get_object(bucket, o.key);
      if (!body.ok()) return std::move(body).error().with_context(fmt::format("reading s3://{}/{}", bucket, o.key));
      split_lines(body->body, fmt::format("s3://{}/{}", bucket, o.key), out);
    }
    if (!page->is_truncated || page->next_continuation_token.empty()) break;
    req.continuation_token = page->next_continuation_token;
  }
  return out;
}

Result<RedriveResult> redrive(const std::vector<DeadLetterLine>& lines, const RedriveOptions& options) {
  if (!options.still_failing) return invalid_input("redrive: no sink for the letters that still fail");
  ReplicatorOptions ro = options.replicator;
  // The replicator's own dead letters (records it still cannot apply) are this run's
  // still-failing letters.
  ro.dead_letters = options.still_failing;
  Replicator replicator(std::move(ro));
  auto sleep = options.sleep ? options.sleep : [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };

  RedriveResult result;
  result.letters = static_cast<int64_t>(lines.size());
  std::vector<DeadLetter> bad_lines;
  std::vector<ChangeInput> batch;
  auto flush = [&]() -> Status {
    if (batch.empty()) return {};
    Result<ApplyResult> applied = invalid_input("not applied");
    auto delay = options.backoff;
    for (int attempt = 1;; ++attempt) {
      applied = replicator.apply(batch);
      if (applied.ok() || !applied.error().retryable() || attempt >= std::max(options.attempts, 1)) break;
      spdlog::warn("redrive: {} letters not applied ({}); retrying in {} ms", batch.size(), applied.error().describe(),
                   delay.count());
      sleep(delay);
      delay *= 2;
    }
    if (applied.ok()) {
      result.applied += applied->applied;
      result.skipped += applied->skipped;
      result.still_failing += applied->dead_lettered;
    } else {
      // The whole batch failed (the replica or primary unreachable, refusing, ...): every
      // letter of it is kept, with this run's reason.
      const auto now = std::chrono::system_clock::now();
      std::vector<DeadLetter> kept;
      kept.reserve(batch.size());
      for (const auto& in : batch) {
        kept.push_back(DeadLetter{now, in.shard, in.sequence_number, in.partition_key,
                                  "redrive: " + applied.error().describe(), in.raw});
      }
      DR_TRY(options.still_failing->write(kept));
      result.still_failing += static_cast<int64_t>(kept.size());
    }
    batch.clear();
    return {};
  };

  for (const auto& line : lines) {
    auto letter = parse_dead_letter(line.text);
    if (!letter.ok()) {
      bad_lines.push_back(unreadable(line, letter.error()));
      continue;
    }
    batch.push_back(input_of(std::move(letter).value()));
    if (batch.size() >= std::max<size_t>(options.batch, 1)) DR_TRY(flush());
  }
  DR_TRY(flush());
  if (!bad_lines.empty()) {
    DR_TRY(options.still_failing->write(bad_lines));
    result.still_failing += static_cast<int64_t>(bad_lines.size());
  }
  return result;
}

}  // namespace dynarep::replicate
