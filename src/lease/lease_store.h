// Where leases live. The coordinator only ever talks to a LeaseStore; DynamoLeaseStore keeps
// them in a DynamoDB table, InMemoryLeaseStore (memory_lease_store.h) in memory for unit tests.
//
// Conditional writes return Result<bool>: true when the write was made, false when its
// condition failed (someone else changed the lease: for the owner, the lease is lost), and an
// Error for everything else (throttling, network: the caller may retry). On success the lease
// passed in is updated to the state written.
//
// A write whose answer was lost may have been made even though the call failed, and the AWS
// layer's retry of it then fails its own condition. The coordinator resolves that case by
// reading the lease back (LeaseCoordinator::resolve_conflict); stores need not.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "lease/lease.h"

namespace dynarep::dynamodb {
class Client;
}

namespace dynarep::lease {

class LeaseStore {
 public:
  virtual ~LeaseStore() = default;

  // Creates the table if it does not exist (and waits until it is usable).
  virtual Status ensure_table() = 0;
  // Every lease (strongly consistent).
  virtual Result<std::vector<Lease>> list() = 0;
  virtual Result<std::optional<Lease>> get(const std::string& key) = 0;

  // Creates `lease` (counter 0, no owner) unless a lease with its key exists: false then.
  virtual Result<bool> create(const Lease& lease) = 0;
  // "Still `lease`'s owner" below means: the owner AND the owner token are `lease`'s.
  // counter+1, if counter and owner are still `lease`'s.
  virtual Result<bool> renew(Lease& lease) = 0;
  // owner := new_owner, token := new_token, counter+1, ownerSwitchesSinceCheckpoint+1 when the
  // owner changes; if the counter is still `lease`'s (whoever owns it: taking an expired lease,
  // or stealing).
  virtual Result<bool> take(Lease& lease, const std::string& new_owner, const std::string& new_token) = 0;
  // Removes the owner and token, counter+1, if counter and owner are still `lease`'s (a
  // graceful release).
  virtual Result<bool> evict(Lease& lease) = 0;
  // checkpoint := value, start timestamp := start_timestamp_ms (cleared when none),
  // ownerSwitchesSinceCheckpoint := 0, counter+1, if counter and owner are still `lease`'s.
  virtual Result<bool> checkpoint(Lease& lease, const std::string& value,
                                  std::optional<int64_t> start_timestamp_ms = std::nullopt) = 0;
};

// Leases in a DynamoDB table keyed by leaseKey (S), created on demand with on-demand billing.
class DynamoLeaseStore final : public LeaseStore {
 public:
  DynamoLeaseStore(dynamodb::Client& client, std::string table);

  Status ensure_table() override;
  Result<std::vector<Lease>> list() override;
  Result<std::optional<Lease>> get(const std::string& key) override;
  Result<bool> create(const Lease& lease) override;
  Result<bool> renew(Lease& lease) override;
  Result<bool> take(Lease& lease, const std::string& new_owner, const std::string& new_token) override;
  Result<bool> evict(Lease& lease) override;
  Result<bool> checkpoint(Lease& lease, const std::string& value,
                          std::optional<int64_t> start_timestamp_ms = std::nullopt) override;

  [[nodiscard]] const std::string& table() const { return table_; }

 private:
  dynamodb::Client& client_;
  std::string table_;
};

}  // namespace dynarep::lease
