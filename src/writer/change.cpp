#include "writer/change.h"

#include <fmt/format.h>

#include "crypto/random.h"
#include "model/item.h"

namespace dynarep::writer {

namespace {

// Number key attributes in their normalized form ("1.50" -> "1.5"), as DynamoDB stores and
// returns them: so every write of one item gives the same partition key (same shard, kept in
// order) however the writer spelled the number.
model::Item normalized(model::Item key) {
  for (auto& [name, value] : key) {
    if (const model::Number* n = value.try_as_n(); n != nullptr) {
      auto canonical = model::Number::parse(n->canonical());
      if (canonical.ok()) value = model::Value::N(std::move(canonical).value());
    }
  }
  return key;
}

}  // namespace

Change make_change(model::Item key, Event event, std::string aws_region) {
  return Change{normalized(std::move(key)), event, crypto::random_hex(16), std::move(aws_region)};
}

std::string record_data(const Change& change) {
  return stream::make_keys_only_record(change.key, change.event, change.aws_region, change.event_id);
}

std::string record_partition_key(const Change& change) { return stream::partition_key(change.key); }

std::string describe(const Change& change) {
  return fmt::format("{} {}", stream::to_string(change.event), model::canonical_key_json(change.key));
}

std::string to_line(const Change& change) { return record_data(change); }

Result<Change> parse_change_line(std::string_view line) {
  auto record = stream::parse_change_record(line);
  if (!record.ok()) return std::move(record).error();
  Change c;
  c.key = std::move(record->keys);
  c.event = record->event;
  c.event_id = record->event_id;
  c.aws_region = record->aws_region;
  // A record without an event ID (hand-written) gets one, so it is still a valid record.
  if (c.event_id.empty()) c.event_id = crypto::random_hex(16);
  return c;
}

}  // namespace dynarep::writer
