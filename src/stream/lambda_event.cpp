#include "stream/lambda_event.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdint>

#include "crypto/encoding.h"
#include "stream/detail/fields.h"

namespace dynarep::stream {
namespace {

namespace dom = simdjson::dom;
using detail::field;
using detail::field_either;
using detail::system_time_from_micros;

std::string string_or_empty(std::optional<dom::element> e) {
  std::string_view s;
  if (!e || e->get_string().get(s)) return {};
  return std::string(s);
}

std::string record_label(std::size_t index, std::string_view seq) {
  if (seq.empty()) return fmt::format("record {}", index);
  return fmt::format("record {} (seq {})", index, seq);
}

Error labelled(Error e, std::size_t index, std::string_view seq) {
  e.with_context(record_label(index, seq));
  return e;
}

// A Kinesis event record: {"eventSource":"aws:kinesis","eventID":"shardId-...:<seq>",
// "eventSourceARN":..., "kinesis":{"data":<base64>,"partitionKey":...,"sequenceNumber":...,
// "approximateArrivalTimestamp":<seconds>}}.
LambdaRecord kinesis_record(dom::object rec, std::size_t index) {
  LambdaRecord out{invalid_input("unset"), {}, {}, {}, {}};
  std::string event_id = string_or_empty(field_either(rec, "eventID", "EventID"));
  std::string arn = string_or_empty(field_either(rec, "eventSourceARN", "EventSourceARN"));
  if (event_id.rfind("shardId-", 0) == 0) {
    out.shard_or_source = event_id.substr(0, event_id.find(':'));
  } else {
    out.shard_or_source = arn;
  }
  auto kinesis_field = field(rec, "kinesis");
  dom::object kinesis;
  if (!kinesis_field || kinesis_field->get_object().get(kinesis)) {
    out.record = labelled(invalid_input(kinesis_field ? "kinesis is not an object" : "kinesis missing"), index, {});
    return out;
  }
  out.sequence_number = string_or_empty(field(kinesis, "sequenceNumber"));
  out.partition_key = string_or_empty(field(kinesis, "partitionKey"));
  if (auto t = field(kinesis, "approximateArrivalTimestamp")) {
    double seconds = 0;
    // Optional and only advisory (turnover metrics): a value no clock can hold is dropped, not
    // an error. The range check comes before any integer conversion, which would overflow.
    if (!t->get_double().get(seconds) && std::isfinite(seconds) && std::fabs(seconds) < 9.2e9) {
      out.approximate_arrival =
          system_time_from_micros(static_cast<std::int64_t>(std::llround(seconds * 1000.0)) * 1000);
    }
  }
  auto data_field = field(kinesis, "data");
  std::string_view data_b64;
  if (!data_field) {
    out.record = labelled(invalid_input("kinesis.data missing"), index, out.sequence_number);
    return out;
  }
  if (data_field->get_string().get(data_b64)) {
    out.record = labelled(invalid_input("kinesis.data is not a string"), index, out.sequence_number);
    return out;
  }
  auto data = crypto::base64_decode(data_b64);
  if (!data.ok()) {
    out.record = labelled(invalid_input(fmt::format("kinesis.data is not base64: {}", data.error().message)), index,
                          out.sequence_number);
    return out;
  }
  auto change = parse_change_record(*data);
  if (!change.ok()) {
    out.record = labelled(std::move(change).error(), index, out.sequence_number);
    return out;
  }
  out.record = std::move(change).value();
  return out;
}

// A DynamoDB Streams event record: the change record itself, plus eventSourceARN.
LambdaRecord dynamodb_record(dom::element element, dom::object rec, std::size_t index) {
  LambdaRecord out{invalid_input("unset"), {}, {}, {}, {}};
  out.shard_or_source = string_or_empty(field_either(rec, "eventSourceARN", "EventSourceARN"));
  if (auto ddb = field_either(rec, "dynamodb", "Dynamodb")) {
    dom::object o;
    if (!ddb->get_object().get(o)) out.sequence_number = string_or_empty(field(o, "SequenceNumber"));
  }
  auto change = parse_change_record(element);
  if (!change.ok()) {
    out.record = labelled(std::move(change).error(), index, out.sequence_number);
    return out;
  }
  change->source = std::string(kSourceDynamoDbStreams);
  out.record = std::move(change).value();
  return out;
}

}  // namespace

Result<std::vector<LambdaRecord>> parse_lambda_event(std::string_view json) {
  thread_local dom::parser parser;  // separate from parse_change_record's: both DOMs stay alive
  dom::element doc;
  if (auto err = parser.parse(json.data(), json.size(), true).get(doc); err) {
    return invalid_input(fmt::format("Lambda event is not JSON: {}", simdjson::error_message(err)));
  }
  dom::object root;
  if (doc.get_object().get(root)) return invalid_input("Lambda event is not a JSON object");
  auto records_field = field(root, "Records");
  dom::array records;
  if (!records_field || records_field->get_array().get(records)) {
    return invalid_input("Lambda event has no Records array");
  }
  std::vector<LambdaRecord> out;
  out.reserve(records.size());
  std::size_t index = 0;
  for (dom::element element : records) {
    dom::object rec;
    if (element.get_object().get(rec)) {
      out.push_back(LambdaRecord{labelled(invalid_input("not a JSON object"), index, {}), {}, {}, {}, {}});
      ++index;
      continue;
    }
    std::string source = string_or_empty(field_either(rec, "eventSource", "EventSource"));
    bool has_kinesis = field(rec, "kinesis").has_value();
    bool has_dynamodb = field_either(rec, "dynamodb", "Dynamodb").has_value();
    if (source == "aws:kinesis" || (source.empty() && has_kinesis)) {
      out.push_back(kinesis_record(rec, index));
    } else if (source == "aws:dynamodb" || (source.empty() && has_dynamodb)) {
      out.push_back(dynamodb_record(element, rec, index));
    } else {
      std::string why = source.empty() ? std::string("eventSource missing")
                                       : fmt::format("eventSource '{}' is neither aws:kinesis nor aws:dynamodb", source);
      out.push_back(LambdaRecord{labelled(invalid_input(std::move(why)), index, {}), {}, {}, {}, {}});
    }
    ++index;
  }
  return out;
}

}  // namespace dynarep::stream
