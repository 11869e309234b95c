// The lease taker's decision, as a pure function so unit tests can pin it down: which leases a
// worker takes in one cycle, given every lease, which of them this worker judges expired, and
// which it holds. (The KCL's LeaseTaker.computeLeasesToTake, with our own stealing rule.)
#pragma once

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "lease/lease.h"

namespace dynarep::lease::detail {

// A lease is worth taking when its shard is not finished and every parent shard is: the parent's
// lease is at SHARD_END, or there is no lease for it (trimmed away, or never consumed).
bool eligible(const Lease& lease, const std::map<std::string, const Lease*>& by_key);

struct BalanceInput {
  std::string me;
  std::string my_token;               // this process's owner token (Lease::owner_token)
  std::vector<Lease> leases;          // every lease in the table
  std::set<std::string> expired;      // keys this observer judges expired (unowned ones included)
  std::set<std::string> held;         // keys this worker holds right now
  int max_leases = 0;                 // 0: no cap
};

struct BalancePlan {
  std::vector<std::string> take;   // expired or unowned leases (or ours from a previous run)
  std::vector<std::string> steal;  // at most one lease of the most loaded worker
  int eligible = 0;                // leases in play (not finished, parents finished)
  int workers = 0;                 // workers with an unexpired lease in play, this one included
  int target = 0;                  // leases per worker wanted
  int mine = 0;                    // eligible leases this worker holds
  std::map<std::string, int> counts;  // unexpired eligible leases per worker (this one: held)
};

// target = ceil(eligible / workers) (1 when there are fewer leases than workers), capped by
// max_leases. Takes up to (target - mine) of the available leases (ours from a previous run
// first, then the rest in random order); when none is available and the most loaded worker
// holds at least two more than this one, steals one of its leases. Moving one lease from a
// worker with n+2 or more to one with n strictly evens the load, so stealing never ping-pongs.
BalancePlan plan_take(const BalanceInput& input, std::mt19937_64& rng);

}  // namespace dynarep::lease::detail
