// Which slice of the tables one diff-tables run covers, so many machines can split the work.
//
// Precedence, strongest first:
//   1. --segment i (needs --segments n)
//   2. JOB_COMPLETION_INDEX        (a Kubernetes Indexed Job: completions = n, one pod per index)
//   3. AWS_BATCH_JOB_ARRAY_INDEX   (an AWS Batch array job of size n)
//   4. none: every segment of --segments (or of the automatic count)
// The environment is read only when --segments is given: neither Kubernetes nor AWS Batch tells
// a job how many slices there are, and guessing would silently scan the wrong share. Without
// --segments, an index found in the environment is ignored, with a note saying so.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace dynarep::diff {

struct Slice {
  int total_segments = 0;     // 0: chosen from the table's size
  std::vector<int> segments;  // empty: all
  std::string origin;         // "--segment", "JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX", ""
  std::string note;           // a warning for stderr, or empty
};

inline constexpr std::string_view kKubernetesIndexVar = "JOB_COMPLETION_INDEX";
inline constexpr std::string_view kAwsBatchIndexVar = "AWS_BATCH_JOB_ARRAY_INDEX";

// Looks a variable up; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;
EnvLookup process_env();

// Errors are usage errors (ErrorKind::kInvalidInput, code "Usage") naming the flag or variable.
Result<Slice> choose_slice(std::optional<int> segment, std::optional<int> segments, const EnvLookup& env);

}  // namespace dynarep::diff
