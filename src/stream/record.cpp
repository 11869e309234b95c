#include "stream/record.h"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <cstdint>

#include "aws/dates.h"
#include "core/json_writer.h"
#include "crypto/random.h"
#include "crypto/sha256.h"
#include "model/codec.h"
#include "model/item.h"
#include "stream/detail/fields.h"

namespace dynarep::stream {
namespace {

namespace dom = simdjson::dom;
using detail::field;
using detail::field_either;

constexpr std::array<std::string_view, 4> kViewTypes = {"KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE",
                                                         "NEW_AND_OLD_IMAGES"};

bool known_view_type(std::string_view v) {
  for (auto t : kViewTypes) {
    if (t == v) return true;
  }
  return false;
}

// A string member, or an error when present with another JSON type; nullopt when absent/null.
Result<std::optional<std::string_view>> optional_string(std::optional<dom::element> e, std::string_view name) {
  if (!e) return std::optional<std::string_view>{};
  std::string_view s;
  if (e->get_string().get(s)) return invalid_input(fmt::format("{} is not a string", name));
  return std::optional<std::string_view>{s};
}

Result<model::Item> parse_image(dom::element e, std::string_view name) {
  if (!e.is_object()) return invalid_input(fmt::format("{} is not an object", name));
  auto item = model::parse_item(e);
  if (!item.ok()) return invalid_input(fmt::format("{}: {}", name, item.error().describe()));
  return std::move(item).value();
}

// "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2015-06-27T00:48:05.899" -> orders
std::string table_from_arn(std::string_view arn) {
  if (arn.rfind("arn:", 0) != 0 || arn.find(":dynamodb:") == std::string_view::npos) return {};
  auto pos = arn.find(":table/");
  if (pos == std::string_view::npos) return {};
  std::string_view rest = arn.substr(pos + 7);
  return std::string(rest.substr(0, rest.find('/')));
}

Result<std::chrono::system_clock::time_point> creation_time(dom::element e) {
  constexpr std::string_view kName = "dynamodb.ApproximateCreationDateTime";
  std::string_view text;
  if (!e.get_string().get(text)) {
    auto t = creation_time_from_iso8601(text);
    if (!t.ok()) return invalid_input(fmt::format("{}: {}", kName, t.error().message));
    return t;
  }
  double v = 0;
  if (e.get_double().get(v)) return invalid_input(fmt::format("{} is not a number", kName));
  auto t = creation_time_from_epoch(v);
  if (!t.ok()) return invalid_input(fmt::format("{}: {}", kName, t.error().message));
  return t;
}

std::size_t utf16_units(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if ((u & 0xC0u) == 0x80u) continue;  // continuation byte
    n += u >= 0xF0u ? 2 : 1;             // 4-byte sequences are surrogate pairs in UTF-16
  }
  return n;
}


}  // namespace

std::string_view to_string(ChangeRecord::Event event) {
  switch (event) {
    case ChangeRecord::Event::kInsert: return "INSERT";
    case ChangeRecord::Event::kModify: return "MODIFY";
    case ChangeRecord::Event::kRemove: return "REMOVE";
  }
  return "INSERT";
}

std::optional<ChangeRecord::Event> parse_event_name(std::string_view name) {
  if (name == "INSERT") return ChangeRecord::Event::kInsert;
  if (name == "MODIFY") return ChangeRecord::Event::kModify;
  if (name == "REMOVE") return ChangeRecord::Event::kRemove;
  return std::nullopt;
}

std::string make_keys_only_record(const model::Item& key, ChangeRecord::Event event, std::string_view region) {
  return make_keys_only_record(key, event, region, crypto::random_hex(16));
}

std::string make_keys_only_record(const model::Item& key, ChangeRecord::Event event, std::string_view region,
                                  std::string_view event_id) {
  std::string out;
  out.reserve(240);
  out += "{\"awsRegion\":";
  append_json_string(out, region);
  out += ",\"dynamodb\":{\"Keys\":";
  out += model::canonical_key_json(key);
  out += ",\"SequenceNumber\":\"0\",\"SizeBytes\":0,\"StreamViewType\":\"KEYS_ONLY\"},\"eventID\":";
  append_json_string(out, event_id);
  out += ",\"eventName\":\"";
  out += to_string(event);
  out += "\",\"eventSource\":\"aws:dynamodb\",\"eventVersion\":\"1.0\"}";
  return out;
}

std::string partition_key(const model::Item& key) {
  std::string json = model::canonical_key_json(key);
  if (utf16_units(json) <= kMaxPartitionKeyChars) return json;
  return crypto::sha256_hex(json);
}

Result<std::chrono::system_clock::time_point> creation_time_from_epoch(double value) {
  if (!std::isfinite(value) || value < 0) {
    return invalid_input(fmt::format("{} is not a time since the epoch", value));
  }
  if (value >= 1e17) {
    return invalid_input(fmt::format("{} is too large for seconds, milliseconds or microseconds since the epoch",
                                     value));
  }
  // Whole numbers are scaled in integers, so no digit is lost to double rounding.
  const std::int64_t scale = value < 1e11 ? 1000000 : value < 1e14 ? 1000 : 1;
  std::int64_t micros = 0;
  if (value == std::floor(value)) {
    micros = static_cast<std::int64_t>(value) * scale;
  } else {
    micros = static_cast<std::int64_t>(std::llround(value * static_cast<double>(scale)));
  }
  auto t = detail::system_time_from_micros(micros);
  if (!t) return invalid_input(fmt::format("{} is after the year 2262 in any unit", value));
  return *t;
}

Result<std::chrono::system_clock::time_point> creation_time_from_iso8601(std::string_view s) {
  // Streams documents and users' times may leave out the zone (UTC) or use a space.
  return aws::parse_iso8601(s, aws::Iso8601Syntax{.zone_optional = true, .any_separator = true});
}

Result<ChangeRecord> parse_change_record(std::string_view data) {
  thread_local dom::parser parser;
  dom::element doc;
  if (auto err = parser.parse(data.data(), data.size(), true).get(doc); err) {
    return invalid_input(fmt::format("data is not JSON: {}", simdjson::error_message(err)));
  }
  return parse_change_record(doc);
}

Result<ChangeRecord> parse_change_record(dom::element record) {
  dom::object root;
  if (record.get_object().get(root)) return invalid_input("record is not a JSON object");
  ChangeRecord out;

  // Top-level names: camelCase as DynamoDB Streams writes them, or the Preview's PascalCase.
  DR_ASSIGN(auto source, optional_string(field_either(root, "eventSource", "EventSource"), "eventSource"));
  if (source && *source != "aws:dynamodb") {
    if (*source == "aws:kinesis") {
      return invalid_input(
          "eventSource is aws:kinesis: this is a Lambda Kinesis event record, not a change record "
          "(its kinesis.data holds the change)");
    }
    return invalid_input(fmt::format("eventSource '{}' is not aws:dynamodb", *source));
  }

  auto name_field = field_either(root, "eventName", "EventName");
  if (!name_field) return invalid_input("eventName missing");
  DR_ASSIGN(auto name, optional_string(name_field, "eventName"));
  auto event = parse_event_name(*name);
  if (!event) return invalid_input(fmt::format("eventName '{}' is not INSERT, MODIFY or REMOVE", *name));
  out.event = *event;

  DR_ASSIGN(auto event_id, optional_string(field_either(root, "eventID", "EventID"), "eventID"));
  if (event_id) out.event_id = std::string(*event_id);
  DR_ASSIGN(auto region, optional_string(field_either(root, "awsRegion", "AwsRegion"), "awsRegion"));
  if (region) out.aws_region = std::string(*region);
  DR_ASSIGN(auto arn, optional_string(field_either(root, "eventSourceARN", "EventSourceARN"), "eventSourceARN"));
  DR_ASSIGN(auto table, optional_string(field(root, "tableName"), "tableName"));
  DR_ASSIGN(auto format, optional_string(field(root, "recordFormat"), "recordFormat"));
  if (format && *format != "application/json") {
    return invalid_input(fmt::format("recordFormat '{}' is not supported (only application/json)", *format));
  }
  if (table) {
    out.table_name = std::string(*table);
  } else if (arn) {
    out.table_name = table_from_arn(*arn);
  }

  auto dynamodb_field = field_either(root, "dynamodb", "Dynamodb");
  if (!dynamodb_field) return invalid_input("dynamodb missing");
  dom::object ddb;
  if (dynamodb_field->get_object().get(ddb)) return invalid_input("dynamodb is not an object");

  auto keys_field = field(ddb, "Keys");
  if (!keys_field) return invalid_input("dynamodb.Keys missing");
  DR_ASSIGN(out.keys, parse_image(*keys_field, "dynamodb.Keys"));
  if (out.keys.empty()) return invalid_input("dynamodb.Keys is empty");
  for (const auto& [attr, value] : out.keys) {
    if (!value.is(model::Type::kS) && !value.is(model::Type::kN) && !value.is(model::Type::kB)) {
      return invalid_input(fmt::format("dynamodb.Keys: attribute \"{}\" is of type {}; key attributes are S, N or B",
                                       attr, model::type_tag(value.type())));
    }
  }
  if (auto e = field(ddb, "NewImage")) {
    DR_ASSIGN(out.new_image, parse_image(*e, "dynamodb.NewImage"));
  }
  if (auto e = field(ddb, "OldImage")) {
    DR_ASSIGN(out.old_image, parse_image(*e, "dynamodb.OldImage"));
  }
  DR_ASSIGN(auto view, optional_string(field(ddb, "StreamViewType"), "dynamodb.StreamViewType"));
  if (view) {
    if (!known_view_type(*view)) {
      return invalid_input(fmt::format(
          "dynamodb.StreamViewType '{}' is not KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES", *view));
    }
    out.stream_view_type = std::string(*view);
  }
  DR_ASSIGN(auto seq, optional_string(field(ddb, "SequenceNumber"), "dynamodb.SequenceNumber"));
  if (seq) out.sequence_number = std::string(*seq);
  if (auto e = field(ddb, "ApproximateCreationDateTime")) {
    DR_ASSIGN(out.approximate_creation_time, creation_time(*e));
  }

  if (table || format) {
    out.source = std::string(kSourceKinesisForDynamoDb);
  } else if (arn || (!out.stream_view_type.empty() && out.stream_view_type != "KEYS_ONLY") ||
             out.new_image || out.old_image) {
    out.source = std::string(kSourceDynamoDbStreams);
  } else {
    out.source = std::string(kSourceKinesisKeysOnly);
  }
  return out;
}

}  // namespace dynarep::stream
