#include "kinesis/types.h"

namespace dynarep::kinesis {
namespace {

std::string_view strip_leading_zeros(std::string_view digits) {
  std::size_t i = 0;
  while (i + 1 < digits.size() && digits[i] == '0') ++i;
  return digits.substr(i);
}

}  // namespace

std::optional<SequenceNumber> SequenceNumber::parse(std::string_view text) {
  if (text.empty() || text.size() > 128) return std::nullopt;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  return SequenceNumber(std::string(text));
}

std::strong_ordering operator<=>(const SequenceNumber& a, const SequenceNumber& b) {
  std::string_view x = strip_leading_zeros(a.digits_);
  std::string_view y = strip_leading_zeros(b.digits_);
  if (x.size() != y.size()) return x.size() <=> y.size();
  int c = x.compare(y);
  if (c < 0) return std::strong_ordering::less;
  if (c > 0) return std::strong_ordering::greater;
  return std::strong_ordering::equal;
}

std::string_view to_string(StreamStatus status) {
  switch (status) {
    case StreamStatus::kCreating: return "CREATING";
    case StreamStatus::kDeleting: return "DELETING";
    case StreamStatus::kActive: return "ACTIVE";
    case StreamStatus::kUpdating: return "UPDATING";
    case StreamStatus::kUnknown: return "UNKNOWN";
  }
  return "UNKNOWN";
}

StreamStatus parse_stream_status(std::string_view text) {
  if (text == "CREATING") return StreamStatus::kCreating;
  if (text == "DELETING") return StreamStatus::kDeleting;
  if (text == "ACTIVE") return StreamStatus::kActive;
  if (text == "UPDATING") return StreamStatus::kUpdating;
  return StreamStatus::kUnknown;
}

std::string_view to_string(IteratorType type) {
  switch (type) {
    case IteratorType::kTrimHorizon: return "TRIM_HORIZON";
    case IteratorType::kLatest: return "LATEST";
    case IteratorType::kAtSequenceNumber: return "AT_SEQUENCE_NUMBER";
    case IteratorType::kAfterSequenceNumber: return "AFTER_SEQUENCE_NUMBER";
    case IteratorType::kAtTimestamp: return "AT_TIMESTAMP";
  }
  return "TRIM_HORIZON";
}

}  // namespace dynarep::kinesis
