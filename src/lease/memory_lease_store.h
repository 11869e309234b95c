// Leases in memory, for unit tests of the coordinator and of code built on the Worker. Thread-safe.
// Faults can be injected per operation: fail the next N calls with an error, or make the next N
// writes "ambiguous" (applied, but reported as failed, as when an answer is lost and the retry
// finds its condition false).
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "lease/lease_store.h"

namespace dynarep::lease {

class InMemoryLeaseStore final : public LeaseStore {
 public:
  enum class Op { kList, kGet, kCreate, kRenew, kTake, kEvict, kCheckpoint };

  Status ensure_table() override { return {}; }
  Result<std::vector<Lease>> list() override;
  Result<std::optional<Lease>> get(const std::string& key) override;
  Result<bool> create(const Lease& lease) override;
  Result<bool> renew(Lease& lease) override;
  Result<bool> take(Lease& lease, const std::string& new_owner, const std::string& new_token) override;
  Result<bool> evict(Lease& lease) override;
  Result<bool> checkpoint(Lease& lease, const std::string& value,
                          std::optional<int64_t> start_timestamp_ms = std::nullopt) override;

  // The next `n` calls of `op` fail with `error` (not applied).
  void fail_next(Op op, int n, Error error);
  // The next `n` writes of `op` are applied but answer "condition failed" (a lost answer whose
  // retry found the condition false).
  void ambiguous_next(Op op, int n);

  // Direct access for tests.
  std::optional<Lease> peek(const std::string& key) const;
  void put_raw(const Lease& lease);
  int calls(Op op) const;

 private:
  // Returns an error or "ambiguous" for an injected fault; nullopt to go on normally.
  std::optional<Error> injected_error(Op op);
  bool injected_ambiguous(Op op);
  Result<bool> write(Op op, Lease& lease, const std::function<bool(const Lease&)>& condition,
                     const std::function<void(Lease&)>& change);

  mutable std::mutex mu_;
  std::map<std::string, Lease> leases_;
  std::map<Op, std::pair<int, Error>> failures_;
  std::map<Op, int> ambiguous_;
  std::map<Op, int> calls_;
};

}  // namespace dynarep::lease
