// Leases as in the Kinesis Client Library: one item per shard in a lease table, owned by at most
// one worker at a time. Every write is conditional on the lease counter (and, for the owner's
// own writes, on the owner), so a worker that lost a lease finds out from a failed condition,
// never by overwriting someone else's state.
//
// Lease item (attribute names as the KCL's, so the table reads the same in the console):
//   leaseKey                      S   the shard id (hash key)
//   leaseOwner                    S   the worker id; absent when nobody owns the lease
//   leaseOwnerToken               S   random per owning process, set by every take: two live
//                                     processes given the same worker id are told apart by it
//   leaseCounter                  N   incremented by every write (renew, take, checkpoint, evict)
//   checkpoint                    S   a sequence number, or TRIM_HORIZON / LATEST / AT_TIMESTAMP
//                                     (nothing processed yet: where to start), or SHARD_END
//   parentShardIds                SS  the shard's parents (absent when none)
//   ownerSwitchesSinceCheckpoint  N   takes by a new owner since the last checkpoint
//   startTimestampMillis          N   for checkpoint AT_TIMESTAMP: where to start
//   lastRenewedMillis             N   the owner's wall clock at its last write (take, renewal,
//                                     checkpoint): for `dynarep status` only; expiry never reads
//                                     it (hosts' clocks disagree)
//   streamArn                     S   the DynamoDB stream the shard is of (absent for Kinesis
//                                     streams): a table's re-enabled stream has a new ARN, and
//                                     a worker refuses a lease table holding another stream's
//                                     leases rather than mix their shards
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kinesis/types.h"

namespace dynarep::lease {

// Checkpoint sentinels (the KCL's spellings).
inline constexpr std::string_view kTrimHorizon = "TRIM_HORIZON";
inline constexpr std::string_view kLatest = "LATEST";
inline constexpr std::string_view kAtTimestamp = "AT_TIMESTAMP";
inline constexpr std::string_view kShardEnd = "SHARD_END";

// Attribute names.
inline constexpr std::string_view kAttrKey = "leaseKey";
inline constexpr std::string_view kAttrOwner = "leaseOwner";
inline constexpr std::string_view kAttrOwnerToken = "leaseOwnerToken";
inline constexpr std::string_view kAttrCounter = "leaseCounter";
inline constexpr std::string_view kAttrCheckpoint = "checkpoint";
inline constexpr std::string_view kAttrParents = "parentShardIds";
inline constexpr std::string_view kAttrOwnerSwitches = "ownerSwitchesSinceCheckpoint";
inline constexpr std::string_view kAttrStartTimestamp = "startTimestampMillis";
inline constexpr std::string_view kAttrLastRenewed = "lastRenewedMillis";
inline constexpr std::string_view kAttrStream = "streamArn";

struct Lease {
  std::string key;    // shard id, as stored (leaseKey); typed by shard()
  std::string owner;  // empty: unowned
  // The owning process's token (empty when unowned, or owned by a version that wrote none).
  // The owner's own writes are conditional on it, so a write can only be the owner's own.
  std::string owner_token;
  int64_t counter = 0;
  std::string checkpoint{kTrimHorizon};
  std::optional<int64_t> start_timestamp_ms{};  // with checkpoint AT_TIMESTAMP
  std::vector<std::string> parent_shard_ids{};
  int64_t owner_switches_since_checkpoint = 0;
  std::optional<int64_t> last_renewed_ms{};  // lastRenewedMillis (display only)
  std::string stream{};  // streamArn: the DynamoDB stream's ARN; empty for Kinesis

  // The shard this lease is for. The coordinator and worker speak kinesis::ShardId; the item
  // keeps the text the table stores, so a lease reads and writes as the KCL's does.
  [[nodiscard]] kinesis::ShardId shard() const { return kinesis::ShardId(key); }
  [[nodiscard]] bool owned() const { return !owner.empty(); }
  // The shard was read to its end and everything in it is processed.
  [[nodiscard]] bool finished() const { return checkpoint == kShardEnd; }
  // The checkpoint is a sequence number (something was processed), not a sentinel.
  [[nodiscard]] bool has_sequence_checkpoint() const;
};

// "shardId-0001 owner=w1 counter=7 checkpoint=4960..." for logs.
std::string describe(const Lease& lease);

}  // namespace dynarep::lease
