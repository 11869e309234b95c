// Lambda event batches (stream/lambda_event.h): {"Records":[...]} from Kinesis (base64 change
// records in kinesis.data) or DynamoDB Streams.
//
// Properties: the whole event fails only with a clean kInvalidInput error; each record is
// either a change with non-empty S/N/B keys or a clean kInvalidInput error that names the
// record ("record N ...").
#include "common/check.h"
#include "stream/lambda_event.h"
#include "targets/targets.h"

namespace dynarep::fuzz {

void lambda_event(std::string_view data) {
  auto r = stream::parse_lambda_event(data);
  if (!r.ok()) {
    FUZZ_CHECK(r.error().kind == ErrorKind::kInvalidInput, "error is not kInvalidInput: " + r.error().describe());
    FUZZ_CHECK(!r.error().message.empty(), "error without a message");
    return;
  }
  std::size_t index = 0;
  for (const auto& rec : *r) {
    if (rec.record.ok()) {
      FUZZ_CHECK(!rec.record->keys.empty(), "record " + std::to_string(index) + " has no keys");
      for (const auto& [name, v] : rec.record->keys) {
        FUZZ_CHECK(v.is(model::Type::kS) || v.is(model::Type::kN) || v.is(model::Type::kB),
                   "key attribute " + printable(name) + " is not S, N or B");
      }
    } else {
      const Error& e = rec.record.error();
      FUZZ_CHECK(e.kind == ErrorKind::kInvalidInput, "record error is not kInvalidInput: " + e.describe());
      FUZZ_CHECK(e.describe().find("record " + std::to_string(index)) != std::string::npos,
                 "record error does not name the record: " + e.describe());
    }
    ++index;
  }
}

}  // namespace dynarep::fuzz
