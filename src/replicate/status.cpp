#include "replicate/status.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/json_writer.h"
#include "lease/lease_store.h"
#include "lease/shard_source.h"

namespace dynarep::replicate {
namespace {

using std::chrono::milliseconds;

std::string human(milliseconds d) {
  int64_t s = d.count() / 1000;
  if (s < 60) return fmt::format("{}.{}s", s, (d.count() % 1000) / 100);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
}

kinesis::StartingPosition position_of(const lease::Lease& l, const lease::ShardSource& source) {
  if (l.has_sequence_checkpoint()) {
    return kinesis::StartingPosition::after_sequence_number(kinesis::SequenceNumber(l.checkpoint));
  }
  // Without AT_TIMESTAMP (DynamoDB Streams) the oldest record stands in: the lag shown is then
  // an upper bound.
  if (l.checkpoint == lease::kAtTimestamp && l.start_timestamp_ms && source.at_timestamp()) {
    return kinesis::StartingPosition::at_timestamp(std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(milliseconds(*l.start_timestamp_ms))));
  }
  return kinesis::StartingPosition::trim_horizon();
}

Result<int64_t> count_dead_letters(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return int64_t{0};
  int64_t n = 0;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (!e.is_regular_file() || e.path().extension() != ".jsonl") continue;
    std::ifstream f(e.path());
    std::string line;
    while (std::getline(f, line)) {
      if (!line.empty()) ++n;
    }
  }
  if (ec) return invalid_input(fmt::format("dead-letter directory {}: {}", dir, ec.message()));
  return n;
}

}  // namespace

Result<StatusReport> lease_status(lease::LeaseStore& store, const StatusOptions& opt,
                                  std::chrono::system_clock::time_point now) {
  DR_ASSIGN(std::vector<lease::Lease> leases, store.list());
  std::sort(leases.begin(), leases.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
  std::map<std::string, const lease::Lease*> by_key;
  for (const auto& l : leases) by_key[l.key] = &l;
  StatusReport r;
  const int64_t now_ms = std::chrono::duration_cast<milliseconds>(now.time_since_epoch()).count();
  for (const auto& l : leases) {
    ShardReport s;
    s.shard = l.key;
    s.owner = l.owner;
    s.checkpoint = l.checkpoint;
    s.parents = l.parent_shard_ids;
    s.finished = l.finished();
    if (l.last_renewed_ms) s.lease_age = milliseconds(std::max<int64_t>(0, now_ms - *l.last_renewed_ms));
    s.live = l.owned() && s.lease_age && *s.lease_age < opt.lease_duration;
    for (const auto& p : l.parent_shard_ids) {
      auto it = by_key.find(p);
      if (it != by_key.end() && !it->second->finished()) s.waiting = true;
    }
    for (const auto& other : leases) {
      if (std::find(other.parent_shard_ids.begin(), other.parent_shard_ids.end(), l.key) != other.parent_shard_ids.end()) {
        s.children.push_back(other.key);
      }
    }
    if (s.live) r.workers[l.owner].push_back(l.key);
    if (opt.source != nullptr && !s.finished && !s.waiting) {
      auto it = opt.source->shard_iterator(l.shard(), position_of(l, *opt.source));
      if (it.ok()) {
        auto page = opt.source->get_records(*it, 1);
        if (page.ok()) {
          s.millis_behind = page->millis_behind_latest;
        } else {
          s.lag_error = page.error().describe();
        }
      } else {
        s.lag_error = it.error().describe();
      }
    }
    r.shards.push_back(std::move(s));
  }
  if (leases.empty()) r.problems.push_back("the lease table has no leases: no worker has started on this stream");
  for (const auto& s : r.shards) {
    if (s.finished || s.waiting) continue;
    if (!s.live) {
      if (s.owner.empty()) {
        r.problems.push_back(fmt::format("shard {} has no owner", s.shard));
      } else if (s.lease_age) {
        r.problems.push_back(fmt::format("shard {} has had no live owner for {} (last held by {})", s.shard,
                                         human(*s.lease_age), s.owner));
      } else {
        r.problems.push_back(fmt::format("shard {} is owned by {}, which has not renewed it since this status "
                                         "could tell (no lastRenewedMillis: an older dynarep?)",
                                         s.shard, s.owner));
      }
    }
    if (s.millis_behind && milliseconds(*s.millis_behind) > opt.max_lag) {
      r.problems.push_back(fmt::format("shard {} is {} behind the stream's tip (--max-lag {})", s.shard,
                                       human(milliseconds(*s.millis_behind)), human(opt.max_lag)));
    }
    if (!s.lag_error.empty()) r.problems.push_back(fmt::format("shard {}: lag unknown: {}", s.shard, s.lag_error));
  }
  if (!opt.dead_letter_dir.empty()) {
    DR_ASSIGN(int64_t n, count_dead_letters(opt.dead_letter_dir));
    r.dead_letters = n;
  }
  return r;
}

std::string render_status_text(const StatusReport& r) {
  std::string out = fmt::format("{:<24} {:<28} {:>10} {:<5} {:>10}  {}\n", "SHARD", "OWNER", "LEASE AGE", "LIVE",
                                "BEHIND", "CHECKPOINT");
  for (const auto& s : r.shards) {
    std::string state = s.finished ? "SHARD_END" : s.checkpoint;
    if (s.waiting) state += " (waiting for parents)";
    if (!s.parents.empty()) state += fmt::format(" parents {}", fmt::join(s.parents, ","));
    if (!s.children.empty()) state += fmt::format(" children {}", fmt::join(s.children, ","));
    out += fmt::format("{:<24} {:<28} {:>10} {:<5} {:>10}  {}\n", s.shard, s.owner.empty() ? "-" : s.owner,
                       s.lease_age ? human(*s.lease_age) : "-", s.finished ? "" : (s.live ? "yes" : "NO"),
                       s.millis_behind ? human(milliseconds(*s.millis_behind)) : "-", state);
  }
  out += "\nWORKERS\n";
  if (r.workers.empty()) out += "  (none live)\n";
  for (const auto& [w, shards] : r.workers) out += fmt::format("  {}: {}\n", w, fmt::join(shards, ", "));
  if (r.dead_letters) out += fmt::format("\ndead letters waiting: {}\n", *r.dead_letters);
  out += r.problems.empty() ? "\nhealthy\n" : "\nPROBLEMS\n";
  for (const auto& p : r.problems) out += "  " + p + "\n";
  return out;
}

std::string render_status_json(const StatusReport& r) {
  std::string out;
  JsonWriter w(out);
  w.begin_object().field("healthy", r.healthy()).key("shards").begin_array();
  for (const auto& s : r.shards) {
    w.begin_object().field("shard", s.shard).field("owner", s.owner).field("live", s.live);
    if (s.lease_age) w.field("lease_age_ms", static_cast<int64_t>(s.lease_age->count()));
    w.field("checkpoint", s.checkpoint).field("finished", s.finished).field("waiting_for_parents", s.waiting);
    w.key("parents").begin_array();
    for (const auto& p : s.parents) w.string(p);
    w.end_array().key("children").begin_array();
    for (const auto& c : s.children) w.string(c);
    w.end_array();
    if (s.millis_behind) w.field("millis_behind_latest", *s.millis_behind);
    if (!s.lag_error.empty()) w.field("lag_error", s.lag_error);
    w.end_object();
  }
  w.end_array().key("workers").begin_object();
  for (const auto& [name, shards] : r.workers) {
    w.key(name).begin_array();
    for (const auto& s : shards) w.string(s);
    w.end_array();
  }
  w.end_object();
  if (r.dead_letters) w.field("dead_letters", *r.dead_letters);
  w.key("problems").begin_array();
  for (const auto& p : r.problems) w.string(p);
  w.end_array().end_object();
  out += "\n";
  return out;
}

}  // namespace dynarep::replicate
