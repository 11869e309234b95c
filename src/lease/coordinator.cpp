#include "lease/coordinator.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <functional>
#include <random>
#include <set>
#include <stdexcept>

#include "lease/detail/balance.h"
#include "lease/sync_point.h"

namespace dynarep::lease {

LeaseCoordinator::LeaseCoordinator(LeaseStore& store, Clock& clock, CoordinatorOptions options)
    : store_(store), clock_(clock), opt_(std::move(options)) {
  if (opt_.worker_id.empty()) throw std::invalid_argument("LeaseCoordinator: empty worker id");
  if (opt_.lease_duration <= std::chrono::milliseconds(0)) {
    throw std::invalid_argument("LeaseCoordinator: lease_duration must be positive");
  }
  uint64_t seed = opt_.seed != 0 ? opt_.seed : std::hash<std::string>{}(opt_.worker_id);
  rng_.seed(seed);
  if (opt_.owner_token.empty()) {
    std::random_device rd;
    opt_.owner_token = fmt::format("{:08x}{:08x}", rd(), rd());
  }
}

void LeaseCoordinator::note_id_conflict(const Lease& current) {
  if (current.owner != opt_.worker_id || current.owner_token == opt_.owner_token || current.owner_token.empty()) {
    return;
  }
  std::lock_guard lock(mu_);
  if (id_conflict_) return;
  id_conflict_ = fmt::format(
      "another live process uses worker id {}: it took lease {} (its token {}, ours {}); this process stands "
      "down. Give each process its own --worker-id",
      opt_.worker_id, current.key, current.owner_token, opt_.owner_token);
  spdlog::error("{}", *id_conflict_);
}

std::optional<std::string> LeaseCoordinator::id_conflict() const {
  std::lock_guard lock(mu_);
  return id_conflict_;
}

std::optional<std::chrono::steady_clock::time_point> LeaseCoordinator::write_deadline(const kinesis::ShardId& shard) const {
  auto h = find(shard);
  if (!h || h->lost->load()) return std::nullopt;
  std::lock_guard wl(h->write_mu);
  // A tenth of the duration is kept back for the two steady clocks' rates and the time between
  // the check and the request leaving this process.
  return h->last_renewed + opt_.lease_duration - opt_.lease_duration / 10;
}

std::shared_ptr<LeaseCoordinator::Held> LeaseCoordinator::find(const kinesis::ShardId& shard) const {
  std::lock_guard lock(mu_);
  auto it = held_.find(shard);
  return it == held_.end() ? nullptr : it->second;
}

void LeaseCoordinator::mark_lost(const kinesis::ShardId& shard, const std::shared_ptr<Held>& h, std::string_view why) {
  h->lost->store(true);
  {
    std::lock_guard lock(mu_);
    auto it = held_.find(shard);
    if (it != held_.end() && it->second == h) held_.erase(it);
  }
  spdlog::warn("lease {} lost by {}: {}", shard.str(), opt_.worker_id, why);
}

Result<bool> LeaseCoordinator::resolve_conflict(Lease& lease, const Lease& before, Op op,
                                                const std::string& checkpoint_value) {
  DR_ASSIGN(std::optional<Lease> cur, store_.get(before.key));
  if (!cur) return false;
  // The owner token, not only the worker id: a second process started with our worker id
  // writes the same owner, and its write must not pass for our own.
  const bool mine = cur->owner == opt_.worker_id && cur->owner_token == opt_.owner_token;
  if (op != Op::kTake) note_id_conflict(*cur);
  if (cur->counter != before.counter + 1) return false;
  bool ours = false;
  switch (op) {
    case Op::kRenew:
    case Op::kTake:
      ours = mine;
      break;
    case Op::kCheckpoint:
      ours = mine && cur->checkpoint == checkpoint_value;
      break;
    case Op::kEvict:
      ours = !cur->owned();
      break;
  }
  if (!ours) return false;
  spdlog::debug("lease {}: a retried write found its own earlier attempt applied", before.key);
  lease = *cur;
  return true;
}

Result<std::vector<TakenLease>> LeaseCoordinator::take_leases() {
  const auto now = clock_.steady_now();
  DR_ASSIGN(std::vector<Lease> all, store_.list());

  detail::BalanceInput in;
  in.me = opt_.worker_id;
  in.my_token = opt_.owner_token;
  in.max_leases = opt_.max_leases;
  detail::BalancePlan plan;
  {
    std::lock_guard lock(mu_);
    std::set<std::string> present;
    for (const auto& l : all) {
      present.insert(l.key);
      auto it = seen_.find(l.key);
      if (it == seen_.end()) {
        seen_[l.key] = Seen{l.counter, l.owner, now};
      } else if (it->second.counter != l.counter) {
        it->second = Seen{l.counter, l.owner, now};
        // Renewed under our worker id by a process that is not this one, and not a lease we
        // hold: another live process has our id. The newcomer (this one: it holds none of
        // those leases) stands down rather than fight over them.
        if (l.owner == opt_.worker_id && !l.owner_token.empty() && l.owner_token != opt_.owner_token &&
            held_.count(kinesis::ShardId(l.key)) == 0 && !id_conflict_) {
          id_conflict_ = fmt::format(
              "another live process uses worker id {}: it keeps renewing lease {} (its token {}, ours {}); "
              "this process stands down. Give each process its own --worker-id",
              opt_.worker_id, l.key, l.owner_token, opt_.owner_token);
          spdlog::error("{}", *id_conflict_);
        }
      }
      const Seen& s = seen_[l.key];
      // Unowned: free at once. Owned: expired once its counter stood still for a lease duration here.
      bool expired = !l.owned() || now - s.since >= opt_.lease_duration;
      if (expired) in.expired.insert(l.key);
    }
    for (auto it = seen_.begin(); it != seen_.end();) {
      it = present.count(it->first) == 0 ? seen_.erase(it) : std::next(it);
    }
    for (const auto& [k, h] : held_) in.held.insert(k.str());
    in.leases = all;
    plan = detail::plan_take(in, rng_);
    if (id_conflict_) plan.take.clear(), plan.steal.clear();  // standing down: take nothing more
    view_ = LeaseView{static_cast<int>(all.size()), plan.eligible, plan.workers, plan.target, plan.mine};
  }

  std::map<std::string, const Lease*> by_key;
  for (const auto& l : all) by_key[l.key] = &l;
  std::vector<TakenLease> taken;
  auto try_take = [&](const std::string& key, bool steal) {
    Lease lease = *by_key.at(key);
    const Lease before = lease;
    sync::hit(sync::kBeforeTake, key);
    const auto started = clock_.steady_now();
    auto r = store_.take(lease, opt_.worker_id, opt_.owner_token);
    if (r.ok() && !*r) r = resolve_conflict(lease, before, Op::kTake, "");
    if (!r.ok()) {
      spdlog::warn("lease {}: taking failed: {}", key, r.error().describe());
      return;
    }
    if (!*r) {
      spdlog::debug("lease {}: another worker took it first", key);
      return;
    }
    sync::hit(sync::kAfterTake, key);
    auto h = std::make_shared<Held>();
    h->lease = lease;
    h->last_renewed = started;
    {
      std::lock_guard lock(mu_);
      held_[kinesis::ShardId(key)] = h;
      seen_[key] = Seen{lease.counter, lease.owner, started};
    }
    spdlog::info("lease {} taken by {}{} (checkpoint {}, was {})", key, opt_.worker_id, steal ? " (stolen)" : "",
                 lease.checkpoint, before.owned() ? before.owner : "unowned");
    taken.push_back(TakenLease{lease, steal});
  };
  for (const auto& k : plan.take) try_take(k, false);
  for (const auto& k : plan.steal) try_take(k, true);
  return taken;
}

std::vector<kinesis::ShardId> LeaseCoordinator::renew_leases() {
  std::vector<std::pair<kinesis::ShardId, std::shared_ptr<Held>>> snapshot;
  {
    std::lock_guard lock(mu_);
    snapshot.assign(held_.begin(), held_.end());
  }
  std::vector<kinesis::ShardId> lost;
  for (auto& [shard, h] : snapshot) {
    std::unique_lock wl(h->write_mu);
    if (h->lost->load()) continue;
    sync::hit(sync::kBeforeRenew, shard.str());
    const auto started = clock_.steady_now();
    Lease lease = h->lease;
    const Lease before = lease;
    auto r = store_.renew(lease);
    if (r.ok() && !*r) r = resolve_conflict(lease, before, Op::kRenew, "");
    if (r.ok() && *r) {
      h->lease = lease;
      h->last_renewed = started;
      sync::hit(sync::kAfterRenew, shard.str());
      continue;
    }
    if (r.ok()) {
      mark_lost(shard, h, "renewal found the lease changed (taken by another worker)");
      lost.push_back(shard);
      continue;
    }
    if (clock_.steady_now() - h->last_renewed >= opt_.lease_duration) {
      mark_lost(shard, h,
                fmt::format("not renewed for the lease duration ({} ms); last error: {}",
                            opt_.lease_duration.count(), r.error().describe()));
      lost.push_back(shard);
    } else {
      spdlog::warn("lease {}: renewal failed (will retry): {}", shard.str(), r.error().describe());
    }
  }
  return lost;
}

Result<bool> LeaseCoordinator::checkpoint(const kinesis::ShardId& shard, const std::string& value,
                                          std::optional<int64_t> start_timestamp_ms) {
  auto h = find(shard);
  if (!h) return false;
  std::unique_lock wl(h->write_mu);
  if (h->lost->load()) return false;
  sync::hit(sync::kBeforeCheckpoint, shard.str());
  const auto started = clock_.steady_now();
  Lease lease = h->lease;
  const Lease before = lease;
  auto r = store_.checkpoint(lease, value, start_timestamp_ms);
  if (r.ok() && !*r) r = resolve_conflict(lease, before, Op::kCheckpoint, value);
  if (!r.ok()) return std::move(r).error();
  if (!*r) {
    mark_lost(shard, h, fmt::format("checkpoint {} found the lease changed", value));
    return false;
  }
  h->lease = lease;
  h->last_renewed = started;  // the counter moved: as good as a renewal
  sync::hit(sync::kAfterCheckpoint, shard.str());
  return true;
}

Result<bool> LeaseCoordinator::release(const kinesis::ShardId& shard) {
  auto h = find(shard);
  if (!h) return false;
  std::unique_lock wl(h->write_mu);
  if (h->lost->load()) return false;
  sync::hit(sync::kBeforeRelease, shard.str());
  Lease lease = h->lease;
  const Lease before = lease;
  auto r = store_.evict(lease);
  if (r.ok() && !*r) r = resolve_conflict(lease, before, Op::kEvict, "");
  if (!r.ok()) return std::move(r).error();
  h->lost->store(true);  // no longer ours either way: its consumer must not write again
  {
    std::lock_guard lock(mu_);
    auto it = held_.find(shard);
    if (it != held_.end() && it->second == h) held_.erase(it);
  }
  if (*r) {
    sync::hit(sync::kAfterRelease, shard.str());
    spdlog::info("lease {} released by {}", shard.str(), opt_.worker_id);
  }
  return *r;
}

void LeaseCoordinator::drop(const kinesis::ShardId& shard) {
  std::lock_guard lock(mu_);
  auto it = held_.find(shard);
  if (it == held_.end()) return;
  it->second->lost->store(true);
  held_.erase(it);
}

bool LeaseCoordinator::holds(const kinesis::ShardId& shard) const { return find(shard) != nullptr; }

std::vector<kinesis::ShardId> LeaseCoordinator::held_shards() const {
  std::lock_guard lock(mu_);
  std::vector<kinesis::ShardId> out;
  for (const auto& [k, h] : held_) out.push_back(k);
  return out;
}

std::shared_ptr<const std::atomic<bool>> LeaseCoordinator::lost_flag(const kinesis::ShardId& shard) const {
  auto h = find(shard);
  if (!h) return nullptr;
  return h->lost;
}

LeaseView LeaseCoordinator::last_view() const {
  std::lock_guard lock(mu_);
  return view_;
}

}  // namespace dynarep::lease
