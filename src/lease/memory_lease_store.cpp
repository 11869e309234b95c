#include "lease/memory_lease_store.h"

#include <algorithm>
#include <chrono>

namespace dynarep::lease {

std::optional<Error> InMemoryLeaseStore::injected_error(Op op) {
  ++calls_[op];
  auto it = failures_.find(op);
  if (it == failures_.end() || it->second.first <= 0) return std::nullopt;
  --it->second.first;
  return it->second.second;
}

bool InMemoryLeaseStore::injected_ambiguous(Op op) {
  auto it = ambiguous_.find(op);
  if (it == ambiguous_.end() || it->second <= 0) return false;
  --it->second;
  return true;
}

void InMemoryLeaseStore::fail_next(Op op, int n, Error error) {
  std::lock_guard lock(mu_);
  failures_[op] = {n, std::move(error)};
}

void InMemoryLeaseStore::ambiguous_next(Op op, int n) {
  std::lock_guard lock(mu_);
  ambiguous_[op] = n;
}

int InMemoryLeaseStore::calls(Op op) const {
  std::lock_guard lock(mu_);
  auto it = calls_.find(op);
  return it == calls_.end() ? 0 : it->second;
}

std::optional<Lease> InMemoryLeaseStore::peek(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = leases_.find(key);
  if (it == leases_.end()) return std::nullopt;
  return it->second;
}

void InMemoryLeaseStore::put_raw(const Lease& lease) {
  std::lock_guard lock(mu_);
  leases_[lease.key] = lease;
}

Result<std::vector<Lease>> InMemoryLeaseStore::list() {
  std::lock_guard lock(mu_);
  if (auto e = injected_error(Op::kList)) return *e;
  std::vector<Lease> out;
  for (const auto& [k, l] : leases_) out.push_back(l);
  return out;
}

Result<std::optional<Lease>> InMemoryLeaseStore::get(const std::string& key) {
  std::lock_guard lock(mu_);
  if (auto e = injected_error(Op::kGet)) return *e;
  auto it = leases_.find(key);
  if (it == leases_.end()) return std::optional<Lease>();
  return std::optional<Lease>(it->second);
}

Result<bool> InMemoryLeaseStore::create(const Lease& lease) {
  std::lock_guard lock(mu_);
  if (auto e = injected_error(Op::kCreate)) return *e;
  if (leases_.count(lease.key) != 0) return false;
  Lease l = lease;
  l.owner.clear();
  l.owner_token.clear();
  l.counter = 0;
  l.owner_switches_since_checkpoint = 0;
  std::sort(l.parent_shard_ids.begin(), l.parent_shard_ids.end());
  leases_[l.key] = l;
  return true;
}

Result<bool> InMemoryLeaseStore::write(Op op, Lease& lease, const std::function<bool(const Lease&)>& condition,
                                       const std::function<void(Lease&)>& change) {
  std::lock_guard lock(mu_);
  if (auto e = injected_error(op)) return *e;
  auto it = leases_.find(lease.key);
  if (it == leases_.end() || !condition(it->second)) return false;
  change(it->second);
  if (injected_ambiguous(op)) return false;
  lease = it->second;
  return true;
}

namespace {
int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
bool same_owner(const Lease& cur, const Lease& expected) {
  return cur.counter == expected.counter && cur.owner == expected.owner && cur.owner_token == expected.owner_token;
}
}  // namespace

Result<bool> InMemoryLeaseStore::renew(Lease& lease) {
  const Lease expected = lease;
  return write(
      Op::kRenew, lease, [&](const Lease& cur) { return same_owner(cur, expected); },
      [](Lease& cur) {
        ++cur.counter;
        cur.last_renewed_ms = now_ms();
      });
}

Result<bool> InMemoryLeaseStore::take(Lease& lease, const std::string& new_owner, const std::string& new_token) {
  const Lease expected = lease;
  return write(
      Op::kTake, lease, [&](const Lease& cur) { return cur.counter == expected.counter; },
      [&](Lease& cur) {
        if (cur.owner != new_owner) ++cur.owner_switches_since_checkpoint;
        cur.owner = new_owner;
        cur.owner_token = new_token;
        cur.last_renewed_ms = now_ms();
        ++cur.counter;
      });
}

Result<bool> InMemoryLeaseStore::evict(Lease& lease) {
  const Lease expected = lease;
  return write(
      Op::kEvict, lease, [&](const Lease& cur) { return same_owner(cur, expected); },
      [](Lease& cur) {
        cur.owner.clear();
        cur.owner_token.clear();
        ++cur.counter;
      });
}

Result<bool> InMemoryLeaseStore::checkpoint(Lease& lease, const std::string& value,
                                            std::optional<int64_t> start_timestamp_ms) {
  const Lease expected = lease;
  return write(
      Op::kCheckpoint, lease, [&](const Lease& cur) { return same_owner(cur, expected); },
      [&](Lease& cur) {
        cur.checkpoint = value;
        cur.start_timestamp_ms = start_timestamp_ms;
        cur.last_renewed_ms = now_ms();
        cur.owner_switches_since_checkpoint = 0;
        ++cur.counter;
      });
}

}  // namespace dynarep::lease
