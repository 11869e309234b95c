#include "replicate/replicator.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include "crypto/random.h"
#include "dynamodb/client.h"
#include "lease/lease.h"
#include "model/codec.h"
#include "replicate/detail/plan.h"

namespace dynarep::replicate {

struct WriteSlot {
  size_t action = 0;  // index into the plan's actions
  dynamodb::WriteRequest request;
};

namespace {

// Runs fn(0..n-1) on up to `parallel` threads (the calling thread included).
void run_parallel(size_t n, int parallel, const std::function<void(size_t)>& fn) {
  if (n == 0) return;
  size_t threads = std::min<size_t>(n, static_cast<size_t>(std::max(parallel, 1)));
  std::atomic<size_t> next{0};
  auto body = [&] {
    for (size_t i = next++; i < n; i = next++) fn(i);
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(body);
  body();
  for (auto& t : pool) t.join();
}

// Errors that a single record causes and that retrying cannot fix: only these park a record
// in the dead letters. DynamoDB's documented per-item errors (ValidationException: item too
// large, a key or index attribute of the wrong type, an empty key; ItemCollectionSizeLimit-
// ExceededException: the item's local-index collection is full), and our own checks of an
// item before anything was sent (invalid input with no HTTP answer). Any other 4xx (a proxy's
// 400/413/431 page, an unknown code) says nothing about the record: the batch fails and is
// retried, so a fault in between never dead-letters good records.
bool record_specific(const Error& e) {
  if (e.kind != ErrorKind::kInvalidInput) return false;
  if (e.http_status == 0) return true;
  return e.code == "ValidationException" || e.code == "ItemCollectionSizeLimitExceededException";
}

// Per-call options that stop a write from starting past the lease's write deadline. The
// deadline is asked afresh for every call: renewals move it forward.
aws::CallOptions fenced_options(const lease::ShardBatch* lease) {
  aws::CallOptions o;
  if (lease == nullptr) return o;
  o.cancel = lease->abandoned;
  if (lease->write_deadline) {
    // No deadline at all: the lease is gone. A deadline in the past makes the AWS layer refuse
    // the call before sending anything (kCancelled, "DeadlineExceeded").
    o.deadline = lease->write_deadline().value_or(std::chrono::steady_clock::time_point::min());
  }
  return o;
}

}  // namespace

Result<model::KeySchema> check_tables(dynamodb::Client* primary, const std::string& primary_table,
                                      dynamodb::Client& replica, const std::string& replica_table) {
  DR_ASSIGN(dynamodb::TableDescription r, replica.describe_table(replica_table));
  if (primary == nullptr) return r.key_schema;
  DR_ASSIGN(dynamodb::TableDescription p, primary->describe_table(primary_table));
  const auto& a = p.key_schema;
  const auto& b = r.key_schema;
  if (!model::same_key_schema(a, b)) {
    return invalid_input(fmt::format("tables {} and {} have different keys: {} vs {}", primary_table, replica_table,
                                     model::describe_key_schema(a), model::describe_key_schema(b)));
  }
  return p.key_schema;
}

Result<bool> transactions_supported(dynamodb::Client& client, const std::string& lease_table) {
  dynamodb::TransactItem probe;
  probe.kind = dynamodb::TransactItem::Kind::kConditionCheck;
  probe.table = lease_table;
  probe.item.set(std::string(lease::kAttrKey), model::Value::S("dynarep-transactions-probe"));
  probe.expression_attribute_names = {{"#k", std::string(lease::kAttrKey)}};
  probe.condition_expression = "attribute_not_exists(#k)";
  Status st = client.transact_write({probe}, crypto::random_hex(16));
  if (st.ok()) return true;
  if (st.error().code == "UnknownOperationException") return false;
  return st.error();
}

Replicator::Replicator(ReplicatorOptions options)
    : opt_(std::move(options)),
      metrics_(opt_.metrics ? opt_.metrics : std::make_shared<Metrics>()),
      sink_(opt_.dead_letters ? opt_.dead_letters : std::make_shared<LogDeadLetterSink>()),
      clock_(opt_.clock != nullptr ? *opt_.clock : SystemClock::instance()) {
  if (!opt_.replica) throw std::invalid_argument("Replicator: no replica client");
}

Status Replicator::read_primary(const std::vector<model::Item>& keys, std::vector<std::optional<model::Item>>& found,
                                std::vector<std::pair<size_t, std::string>>& bad) {
  // One segment's keys (apply() runs segments in parallel), read on the calling thread.
  found.assign(keys.size(), std::nullopt);
  auto r = opt_.primary->batch_get_all(opt_.primary_table, keys, true);
  if (r.ok()) {
    std::unordered_map<std::string, size_t> index;
    for (size_t i = 0; i < keys.size(); ++i) index.emplace(model::canonical_bytes(keys[i]), i);
    for (auto& item : r->items) {
      auto k = model::extract_key(item, opt_.key_schema);
      if (!k.ok()) continue;  // cannot happen for items of this table
      auto it = index.find(model::canonical_bytes(*k));
      if (it != index.end()) found[it->second] = std::move(item);
    }
  } else {
    if (!record_specific(r.error())) return std::move(r).error();
    // One key spoils the whole call: find it with single reads.
    spdlog::warn("table {}: BatchGetItem rejected ({}); reading {} keys one by one", opt_.primary_table,
                 r.error().describe(), keys.size());
    for (size_t i = 0; i < keys.size(); ++i) {
      auto g = opt_.primary->get_item(opt_.primary_table, keys[i], true);
      if (g.ok()) {
        found[i] = std::move(g).value();
      } else if (record_specific(g.error())) {
        bad.emplace_back(i, "the primary rejects the key: " + g.error().describe());
      } else {
        return std::move(g).error();
      }
    }
  }
  metrics_->keys_read += static_cast<int64_t>(keys.size());
  return {};
}

Status Replicator::write_fenced_group(const std::vector<WriteSlot>& writes, std::vector<size_t> idx,
                                      std::vector<std::pair<size_t, std::string>>& bad, const lease::ShardBatch& lease) {
  // The fence first: its cancellation reason is reasons[0].
  dynamodb::TransactItem fence;
  fence.kind = dynamodb::TransactItem::Kind::kConditionCheck;
  fence.table = opt_.fence_table;
  fence.item.set(std::string(lease::kAttrKey), model::Value::S(lease.shard_id.str()));
  fence.expression_attribute_names = {{"#o", std::string(lease::kAttrOwner)}, {"#t", std::string(lease::kAttrOwnerToken)}};
  fence.expression_attribute_values.set(":me", model::Value::S(lease.lease_owner));
  fence.expression_attribute_values.set(":tok", model::Value::S(lease.lease_owner_token));
  fence.condition_expression = "#o = :me AND #t = :tok";
  while (!idx.empty()) {
    std::vector<dynamodb::TransactItem> items{fence};
    for (size_t i : idx) {
      const auto& w = writes[i].request;
      dynamodb::TransactItem t;
      t.kind = w.kind == dynamodb::WriteRequest::Kind::kPut ? dynamodb::TransactItem::Kind::kPut
                                                            : dynamodb::TransactItem::Kind::kDelete;
      t.table = opt_.replica_table;
      t.item = w.item;
      items.push_back(std::move(t));
    }
    // A fresh token per call: the AWS layer's retries of this very call reuse it (applied at
    // most once); a retried batch, with a fresh read of the primary, is a new call.
    Status st = opt_.replica->transact_write(items, crypto::random_hex(16), fenced_options(&lease));
    if (st.ok()) return {};
    const Error& e = st.error();
    if (e.code == "TransactionCanceledException") {
      auto reasons = dynamodb::cancellation_reasons(e);
      if (!reasons.empty() && reasons[0] == "ConditionalCheckFailed") {
        metrics_->fenced_writes_refused++;
        return Error(ErrorKind::kCancelled, "LeaseLost",
                     fmt::format("shard {}: the lease in {} no longer names this worker ({}); its writes are refused "
                                 "and the batch is left to the shard's new owner",
                                 lease.shard_id.str(), opt_.fence_table, lease.lease_owner));
      }
      std::vector<size_t> keep;
      for (size_t n = 0; n < idx.size(); ++n) {
        const std::string& r = n + 1 < reasons.size() ? reasons[n + 1] : std::string();
        if (r == "ValidationError" || r == "ItemCollectionSizeLimitExceeded") {
          bad.emplace_back(writes[idx[n]].action, "the replica rejects the write: " + r);
        } else {
          keep.push_back(idx[n]);
        }
      }
      if (keep.size() == idx.size()) return st;  // a conflict or throttling: retry the batch
      idx = std::move(keep);
      continue;
    }
    if (!record_specific(e)) return st;
    if (idx.size() == 1) {
      bad.emplace_back(writes[idx[0]].action, "the replica rejects the write: " + e.describe());
      return {};
    }
    // The request as a whole was rejected without saying which write: one by one.
    for (size_t i : idx) DR_TRY(write_fenced_group(writes, {i}, bad, lease));
    return {};
  }
  return {};
}

Status Replicator::write_fenced(const std::vector<WriteSlot>& writes, std::vector<std::pair<size_t, std::string>>& bad,
                                const lease::ShardBatch& lease) {
  // Groups of at most 99 writes (the fence is the 100th action) and well under 4 MB.
  std::vector<std::vector<size_t>> groups;
  size_t bytes = 0;
  for (size_t i = 0; i < writes.size(); ++i) {
    const size_t size = model::item_size(writes[i].request.item) + 64;
    if (groups.empty() || groups.back().size() + 1 >= dynamodb::kMaxTransactItems ||
        bytes + size > dynamodb::kMaxTransactBytes - (size_t{256} << 10)) {
      groups.emplace_back();
      bytes = 0;
    }
    groups.back().push_back(i);
    bytes += size;
  }
  // On the calling thread: apply() runs segments in parallel, each one or two groups.
  for (auto& g : groups) DR_TRY(write_fenced_group(writes, std::move(g), bad, lease));
  return {};
}

Status Replicator::write_replica(const std::vector<WriteSlot>& writes, std::vector<std::pair<size_t, std::string>>& bad,
                                 const lease::ShardBatch* lease) {
  if (!opt_.fence_table.empty() && lease != nullptr && !lease->lease_owner.empty()) {
    return write_fenced(writes, bad, *lease);
  }
  // One segment's writes on the calling thread: batch_write_all sends them in calls of 25 and
  // resends what DynamoDB leaves unprocessed.
  std::vector<dynamodb::WriteRequest> reqs;
  reqs.reserve(writes.size());
  for (const auto& w : writes) reqs.push_back(w.request);
  auto r = opt_.replica->batch_write_all(opt_.replica_table, reqs, [lease] { return fenced_options(lease); });
  if (r.ok()) return {};
  if (!record_specific(r.error())) return std::move(r).error();
  spdlog::warn("table {}: BatchWriteItem rejected ({}); writing {} items one by one", opt_.replica_table,
               r.error().describe(), reqs.size());
  for (const auto& slot : writes) {
    const auto& w = slot.request;
    Status st = w.kind == dynamodb::WriteRequest::Kind::kPut
                    ? opt_.replica->put_item(opt_.replica_table, w.item, fenced_options(lease))
                    : opt_.replica->delete_item(opt_.replica_table, w.item, fenced_options(lease));
    if (st.ok()) continue;
    if (!record_specific(st.error())) return st;
    bad.emplace_back(slot.action, "the replica rejects the write: " + st.error().describe());
  }
  return {};
}

Result<ApplyResult> Replicator::apply(const std::vector<ChangeInput>& inputs, const lease::ShardBatch* lease) {
  ApplyResult out;
  out.received = static_cast<int64_t>(inputs.size());
  detail::PlanOptions po;
  po.reread = opt_.reread;
  po.have_primary = opt_.primary != nullptr;
  po.turnover = opt_.turnover;
  detail::Plan plan = detail::plan_batch(inputs, opt_.key_schema, po);

  std::vector<DeadLetter> letters;
  const auto now_wall = clock_.now();
  auto letter = [&](size_t input, const std::string& reason) {
    const ChangeInput& in = inputs[input];
    letters.push_back(DeadLetter{now_wall, in.shard, in.sequence_number, in.partition_key, reason, in.raw});
  };
  for (const auto& r : plan.rejected) letter(r.input, r.reason);

  // The batch goes out in segments: consecutive actions with at most one BatchGetItem of reads
  // (99 actions in all when fenced: one transaction with its ConditionCheck). Each segment is
  // read and then written on one thread, `parallel` segments at a time, with no barrier between
  // one segment's read and another's write: the servers see a steady flow of calls rather than
  // a burst of reads, a lull, and a burst of writes each ending with its slowest call. Keys are
  // distinct across the plan (one action per key), so segments never race on an item, and any
  // failed segment fails the batch, which is retried whole from a fresh read.
  const bool fenced = !opt_.fence_table.empty() && lease != nullptr && !lease->lease_owner.empty();
  const size_t per_segment = fenced ? dynamodb::kMaxTransactItems - 1 : dynamodb::kMaxBatchGet;
  std::vector<std::pair<size_t, size_t>> segments;  // [begin, end) of plan.actions
  for (size_t a = 0; a < plan.actions.size(); a += per_segment) {
    segments.emplace_back(a, std::min(plan.actions.size(), a + per_segment));
  }
  struct SegmentResult {
    Status status;
    std::vector<std::pair<size_t, std::string>> read_bad;   // (action, reason)
    std::vector<std::pair<size_t, std::string>> write_bad;  // (action, reason)
  };
  std::vector<SegmentResult> results(segments.size());
  std::vector<char> dropped(plan.actions.size(), 0);  // not vector<bool>: segments set it concurrently
  run_parallel(segments.size(), opt_.parallel, [&](size_t g) {
    const auto [begin, end] = segments[g];
    SegmentResult& res = results[g];
    std::vector<size_t> reads;
    for (size_t a = begin; a < end; ++a) {
      if (plan.actions[a].kind == detail::KeyAction::Kind::kRead) reads.push_back(a);
    }
    if (!reads.empty()) {
      std::vector<model::Item> keys;
      keys.reserve(reads.size());
      for (size_t a : reads) keys.push_back(plan.actions[a].key);
      std::vector<std::optional<model::Item>> found;
      std::vector<std::pair<size_t, std::string>> bad;
      auto st = read_primary(keys, found, bad);
      if (!st.ok()) {
        res.status = std::move(st).error().with_context("reading from primary table " + opt_.primary_table);
        return;
      }
      for (const auto& [i, reason] : bad) {
        dropped[reads[i]] = 1;
        res.read_bad.emplace_back(reads[i], reason);
      }
      for (size_t i = 0; i < reads.size(); ++i) {
        auto& act = plan.actions[reads[i]];
        if (dropped[reads[i]] != 0) continue;
        if (found[i]) {
          act.kind = detail::KeyAction::Kind::kPut;
          act.image = std::move(found[i]);
        } else {
          act.kind = detail::KeyAction::Kind::kDelete;
        }
      }
    }
    std::vector<WriteSlot> writes;
    for (size_t a = begin; a < end; ++a) {
      if (dropped[a] != 0) continue;
      const auto& act = plan.actions[a];
      WriteSlot w;
      w.action = a;
      if (act.kind == detail::KeyAction::Kind::kPut) {
        w.request.kind = dynamodb::WriteRequest::Kind::kPut;
        w.request.item = *act.image;
      } else {
        w.request.kind = dynamodb::WriteRequest::Kind::kDelete;
        w.request.item = act.key;
      }
      writes.push_back(std::move(w));
    }
    if (writes.empty()) return;
    auto st = write_replica(writes, res.write_bad, lease);
    if (!st.ok()) res.status = std::move(st).error().with_context("writing to replica table " + opt_.replica_table);
  });
  for (auto& res : results) {
    if (!res.status.ok()) {
      metrics_->batch_errors++;
      return std::move(res.status).error();
    }
  }
  // The same order as reading everything and then writing everything would give.
  for (const auto& res : results) {
    for (const auto& [a, reason] : res.read_bad) letter(plan.actions[a].input, reason);
  }
  for (const auto& res : results) {
    for (const auto& [a, reason] : res.write_bad) {
      dropped[a] = 1;
      letter(plan.actions[a].input, reason);
    }
  }

  // Dead letters last: a batch retried because of a write failure does not write them twice.
  if (!letters.empty()) {
    for (const auto& d : letters) {
      spdlog::error("dead letter: shard {} sequence number {}: {}", d.shard, d.sequence_number, d.reason);
    }
    auto st = sink_->write(letters);
    if (!st.ok()) {
      metrics_->batch_errors++;
      return std::move(st).error();
    }
  }

  // Counting.
  const auto now = clock_.now();
  for (size_t a = 0; a < plan.actions.size(); ++a) {
    if (dropped[a] != 0) continue;
    const auto& act = plan.actions[a];
    if (act.kind == detail::KeyAction::Kind::kPut) {
      ++out.puts;
    } else {
      ++out.deletes;
    }
    out.applied += static_cast<int64_t>(act.inputs.size());
    out.superseded += static_cast<int64_t>(act.inputs.size() - 1);
    for (size_t i : act.inputs) {
      if (auto t = inputs[i].arrival ? inputs[i].arrival : inputs[i].event_time()) {
        metrics_->lag.observe(std::chrono::duration<double>(now - *t).count());
      }
    }
  }
  out.skipped = static_cast<int64_t>(plan.skipped.size());
  out.dead_lettered = static_cast<int64_t>(letters.size());
  if (!plan.unknown_time.empty()) {
    spdlog::warn("turnover: {} records carry no creation or arrival time; applied them anyway",
                 plan.unknown_time.size());
  }
  metrics_->received += out.received;
  metrics_->applied += out.applied;
  metrics_->superseded += out.superseded;
  metrics_->skipped += out.skipped;
  metrics_->dead_lettered += out.dead_lettered;
  metrics_->puts += out.puts;
  metrics_->deletes += out.deletes;
  return out;
}

Status ReplicationProcessor::process(const lease::ShardBatch& batch) {
  auto inputs = inputs_from_kinesis(batch.shard_id, batch.records);
  auto r = replicator_.apply(inputs, &batch);
  if (!r.ok()) return std::move(r).error().with_context("shard " + batch.shard_id.str());
  return {};
}

}  // namespace dynarep::replicate
