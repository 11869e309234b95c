// The replicator's view of stream::plan_batch (stream/plan.h, shared with the incremental
// backup): the same plan, with turnover as the window.
#pragma once

#include <optional>

#include "replicate/change.h"
#include "replicate/turnover.h"
#include "stream/plan.h"

namespace dynarep::replicate::detail {

using stream::KeyAction;
using stream::Plan;
using stream::Rejected;

struct PlanOptions {
  bool reread = false;       // read every key from the primary, images or not
  bool have_primary = true;  // KEYS_ONLY records need one
  std::optional<Turnover> turnover{};
};

Plan plan_batch(const std::vector<ChangeInput>& inputs, const model::KeySchema& schema, const PlanOptions& options);

}  // namespace dynarep::replicate::detail
