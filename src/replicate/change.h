// What the replicator consumes: stream::ChangeInput (stream/change_input.h), shared with the
// incremental backup so both read records the same way.
#pragma once

#include "stream/change_input.h"

namespace dynarep::replicate {

using stream::ChangeInput;
using stream::inputs_from_kinesis;
using stream::inputs_from_lambda;

}  // namespace dynarep::replicate
