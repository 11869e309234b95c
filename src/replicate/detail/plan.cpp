#include "replicate/detail/plan.h"

namespace dynarep::replicate::detail {

Plan plan_batch(const std::vector<ChangeInput>& inputs, const model::KeySchema& schema, const PlanOptions& options) {
  stream::PlanOptions o;
  o.reread = options.reread;
  o.have_primary = options.have_primary;
  if (options.turnover) {
    o.in_window = [t = *options.turnover](std::chrono::system_clock::time_point at) { return t.applies(at); };
  }
  return stream::plan_batch(inputs, schema, o);
}

}  // namespace dynarep::replicate::detail
