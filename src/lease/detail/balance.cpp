#include "lease/detail/balance.h"

#include <algorithm>

namespace dynarep::lease::detail {

bool eligible(const Lease& lease, const std::map<std::string, const Lease*>& by_key) {
  if (lease.finished()) return false;
  for (const auto& p : lease.parent_shard_ids) {
    auto it = by_key.find(p);
    if (it != by_key.end() && !it->second->finished()) return false;
  }
  return true;
}

BalancePlan plan_take(const BalanceInput& in, std::mt19937_64& rng) {
  BalancePlan plan;
  std::map<std::string, const Lease*> by_key;
  for (const auto& l : in.leases) by_key[l.key] = &l;

  std::vector<const Lease*> play;
  for (const auto& l : in.leases) {
    if (eligible(l, by_key)) play.push_back(&l);
  }
  plan.eligible = static_cast<int>(play.size());

  std::vector<const Lease*> ours_stale;   // owned by our id in the table, but not held: a previous run
  std::vector<const Lease*> available;    // expired or unowned
  std::map<std::string, std::vector<const Lease*>> by_owner;
  std::map<std::string, int> others_with_my_id;
  for (const Lease* l : play) {
    if (in.held.count(l->key) != 0) {
      ++plan.mine;
      continue;
    }
    if (l->owner == in.me && l->owner_token == in.my_token) {
      ours_stale.push_back(l);
    } else if (!l->owned() || in.expired.count(l->key) != 0) {
      available.push_back(l);
    } else if (l->owner == in.me) {
      // Our worker id under another process's token, and alive: a second process was given
      // our id (or a paused one of ours came back). Never stolen: one of the two must stand
      // down (LeaseCoordinator::id_conflict), not fight over leases. Counted as a worker.
      others_with_my_id[l->owner + "#" + l->owner_token] += 1;
    } else {
      by_owner[l->owner].push_back(l);
    }
  }
  plan.counts[in.me] = plan.mine;
  for (const auto& [owner, ls] : by_owner) plan.counts[owner] = static_cast<int>(ls.size());
  for (const auto& [owner, n] : others_with_my_id) plan.counts[owner] = n;
  plan.workers = static_cast<int>(plan.counts.size());
  if (plan.eligible == 0) return plan;
  plan.target = plan.eligible <= plan.workers ? 1 : (plan.eligible + plan.workers - 1) / plan.workers;
  if (in.max_leases > 0) plan.target = std::min(plan.target, in.max_leases);

  int need = plan.target - plan.mine;
  if (need <= 0) return plan;

  std::shuffle(available.begin(), available.end(), rng);
  std::vector<const Lease*> candidates = ours_stale;
  candidates.insert(candidates.end(), available.begin(), available.end());
  for (const Lease* l : candidates) {
    if (need == 0) break;
    plan.take.push_back(l->key);
    --need;
  }
  if (!plan.take.empty()) return plan;

  // Nothing free: steal one lease from the most loaded worker if that evens the load.
  const std::string* victim = nullptr;
  int most = -1;
  for (const auto& [owner, ls] : by_owner) {  // map order: ties go to the smallest id
    if (static_cast<int>(ls.size()) > most) {
      most = static_cast<int>(ls.size());
      victim = &owner;
    }
  }
  if (victim != nullptr && most - plan.mine >= 2) {
    auto ls = by_owner[*victim];
    std::uniform_int_distribution<size_t> pick(0, ls.size() - 1);
    plan.steal.push_back(ls[pick(rng)]->key);
  }
  return plan;
}

}  // namespace dynarep::lease::detail
