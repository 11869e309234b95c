#include "stream/change_input.h"

namespace dynarep::stream {

std::optional<std::chrono::system_clock::time_point> ChangeInput::event_time() const {
  if (change.ok() && change->approximate_creation_time) return change->approximate_creation_time;
  return arrival;
}

std::vector<ChangeInput> inputs_from_kinesis(const kinesis::ShardId& shard,
                                            const std::vector<kinesis::Record>& records) {
  std::vector<ChangeInput> out;
  out.reserve(records.size());
  for (const auto& r : records) {
    out.push_back(ChangeInput{shard.str(), r.sequence_number.str(), r.partition_key, r.approximate_arrival, r.data,
                              parse_change_record(r.data)});
  }
  return out;
}

std::vector<ChangeInput> inputs_from_lambda(std::vector<LambdaRecord> records,
                                            const std::vector<std::string>& raw_records) {
  std::vector<ChangeInput> out;
  out.reserve(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    auto& r = records[i];
    std::string raw = i < raw_records.size() ? raw_records[i] : std::string();
    out.push_back(ChangeInput{r.shard_or_source, r.sequence_number, r.partition_key, r.approximate_arrival,
                              std::move(raw), std::move(r.record)});
  }
  return out;
}

}  // namespace dynarep::stream
