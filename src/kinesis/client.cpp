#include "kinesis/client.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "core/json_writer.h"
#include "kinesis/detail/json.h"

namespace dynarep::kinesis {
namespace {

namespace dom = simdjson::dom;

// Per-thread parser: reused across calls so its buffers are allocated once.
dom::parser& thread_parser() {
  thread_local dom::parser parser;
  return parser;
}

Error malformed(std::string message) {
  return Error(ErrorKind::kFatal, "MalformedResponse", std::move(message));
}

std::string stream_context(std::string_view op, std::string_view stream) {
  return fmt::format("kinesis {} on stream {}", op, stream);
}
std::string shard_context(std::string_view op, std::string_view stream, const ShardId& shard) {
  return fmt::format("kinesis {} on stream {} shard {}", op, stream, shard.str());
}

Error in_context(Error e, const std::string& context) {
  e.with_context(context);
  return e;
}

// --- reading response fields -------------------------------------------------------------

Result<dom::object> parse_object(const std::string& body, std::string_view op) {
  dom::element doc;
  if (auto err = thread_parser().parse(body).get(doc); err) {
    return malformed(fmt::format("{} answer is not JSON: {}", op, simdjson::error_message(err)));
  }
  dom::object obj;
  if (doc.get_object().get(obj)) return malformed(fmt::format("{} answer is not a JSON object", op));
  return obj;
}

// The field, or nullopt when absent or null.
std::optional<dom::element> field(dom::object obj, std::string_view key) {
  dom::element e;
  if (obj.at_key(key).get(e)) return std::nullopt;
  if (e.is_null()) return std::nullopt;
  return e;
}

Result<std::string_view> string_field(dom::object obj, std::string_view key, std::string_view where) {
  auto e = field(obj, key);
  if (!e) return malformed(fmt::format("{}: {} missing", where, key));
  std::string_view s;
  if (e->get_string().get(s)) return malformed(fmt::format("{}: {} is not a string", where, key));
  return s;
}

Result<std::optional<std::string_view>> optional_string_field(dom::object obj, std::string_view key,
                                                              std::string_view where) {
  auto e = field(obj, key);
  if (!e) return std::optional<std::string_view>{};
  std::string_view s;
  if (e->get_string().get(s)) return malformed(fmt::format("{}: {} is not a string", where, key));
  return std::optional<std::string_view>{s};
}

Result<dom::object> object_field(dom::object obj, std::string_view key, std::string_view where) {
  auto e = field(obj, key);
  if (!e) return malformed(fmt::format("{}: {} missing", where, key));
  dom::object o;
  if (e->get_object().get(o)) return malformed(fmt::format("{}: {} is not an object", where, key));
  return o;
}

Result<dom::array> array_field(dom::object obj, std::string_view key, std::string_view where) {
  auto e = field(obj, key);
  if (!e) return malformed(fmt::format("{}: {} missing", where, key));
  dom::array a;
  if (e->get_array().get(a)) return malformed(fmt::format("{}: {} is not an array", where, key));
  return a;
}

std::optional<std::int64_t> int_field(dom::object obj, std::string_view key) {
  auto e = field(obj, key);
  if (!e) return std::nullopt;
  std::int64_t v = 0;
  if (!e->get_int64().get(v)) return v;
  double d = 0;
  if (!e->get_double().get(d)) return static_cast<std::int64_t>(d);
  return std::nullopt;
}

Result<SequenceNumber> sequence_field(dom::object obj, std::string_view key, std::string_view where) {
  DR_ASSIGN(std::string_view text, string_field(obj, key, where));
  auto seq = SequenceNumber::parse(text);
  if (!seq) return malformed(fmt::format("{}: {} '{}' is not a sequence number", where, key, text));
  return *seq;
}

Result<Shard> parse_shard(dom::element e) {
  dom::object o;
  if (e.get_object().get(o)) return malformed("shard entry is not an object");
  Shard shard;
  DR_ASSIGN(std::string_view id, string_field(o, "ShardId", "shard"));
  shard.id = ShardId(std::string(id));
  const std::string where = fmt::format("shard {}", id);
  DR_ASSIGN(auto parent, optional_string_field(o, "ParentShardId", where));
  if (parent) shard.parent = ShardId(std::string(*parent));
  DR_ASSIGN(auto adjacent, optional_string_field(o, "AdjacentParentShardId", where));
  if (adjacent) shard.adjacent_parent = ShardId(std::string(*adjacent));
  DR_ASSIGN(dom::object hash, object_field(o, "HashKeyRange", where));
  DR_ASSIGN(std::string_view start_hash, string_field(hash, "StartingHashKey", where));
  DR_ASSIGN(std::string_view end_hash, string_field(hash, "EndingHashKey", where));
  shard.hash_key_range = {std::string(start_hash), std::string(end_hash)};
  DR_ASSIGN(dom::object seqs, object_field(o, "SequenceNumberRange", where));
  DR_ASSIGN(shard.sequence_number_range.starting, sequence_field(seqs, "StartingSequenceNumber", where));
  if (field(seqs, "EndingSequenceNumber")) {
    DR_ASSIGN(shard.sequence_number_range.ending, sequence_field(seqs, "EndingSequenceNumber", where));
  }
  return shard;
}

Status append_shards(dom::array shards, std::vector<Shard>& out) {
  for (dom::element e : shards) {
    DR_ASSIGN(Shard s, parse_shard(e));
    out.push_back(std::move(s));
  }
  return {};
}

// Seconds since the epoch (JSON number, fractional) -> time point, rounded to the millisecond.
std::chrono::system_clock::time_point from_epoch_seconds(double seconds) {
  return std::chrono::system_clock::time_point(
      std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(seconds * 1000.0))));
}

std::string epoch_seconds_text(std::chrono::system_clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::int64_t whole = ms / 1000;
  std::int64_t frac = ms % 1000;
  if (frac < 0) {
    frac += 1000;
    whole -= 1;
  }
  return fmt::format("{}.{:03}", whole, frac);
}

// Code points in UTF-8 text (bytes that do not continue a sequence).
std::size_t utf8_chars(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0u) != 0x80u;
  }));
}

Status check_partition_key(std::string_view key, std::string_view where) {
  if (key.empty()) return invalid_input(fmt::format("{}: partition key is empty", where));
  if (utf8_chars(key) > kMaxPartitionKeyChars) {
    return invalid_input(fmt::format("{}: partition key has {} characters, more than Kinesis allows ({})", where,
                                     utf8_chars(key), kMaxPartitionKeyChars));
  }
  return {};
}

std::string stream_body(std::string_view stream) {
  std::string body = "{\"StreamName\":";
  append_json_string(body, stream);
  body += '}';
  return body;
}

// --- decimal helpers for 128-bit hash keys ------------------------------------------------

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string add_decimal(std::string_view a, std::string_view b) {
  std::string out;
  int carry = 0;
  std::size_t i = a.size(), j = b.size();
  while (i > 0 || j > 0 || carry != 0) {
    int d = carry;
    if (i > 0) d += a[--i] - '0';
    if (j > 0) d += b[--j] - '0';
    out.push_back(static_cast<char>('0' + d % 10));
    carry = d / 10;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::string halve_decimal(std::string_view a) {
  std::string out;
  int rem = 0;
  for (char c : a) {
    int cur = rem * 10 + (c - '0');
    out.push_back(static_cast<char>('0' + cur / 2));
    rem = cur % 2;
  }
  std::size_t nz = out.find_first_not_of('0');
  return nz == std::string::npos ? "0" : out.substr(nz);
}

}  // namespace

bool is_expired_iterator(const Error& error) { return error.code == kExpiredIteratorCode; }

Result<std::string> hash_key_midpoint(const HashKeyRange& range) {
  const std::string& lo = range.starting_hash_key;
  const std::string& hi = range.ending_hash_key;
  static const SequenceNumber kMax("340282366920938463463374607431768211455");  // 2^128 - 1
  if (!all_digits(lo) || !all_digits(hi) || SequenceNumber(lo) > kMax || SequenceNumber(hi) > kMax) {
    return invalid_input(fmt::format("hash key range [{}, {}] is not two numbers in [0, 2^128-1]", lo, hi));
  }
  std::string mid = halve_decimal(add_decimal(add_decimal(lo, hi), "1"));
  // SplitShard wants start + 1 < mid < end.
  if (!(SequenceNumber(mid) > SequenceNumber(add_decimal(lo, "1")) && SequenceNumber(mid) < SequenceNumber(hi))) {
    return invalid_input(fmt::format("hash key range [{}, {}] is too small to split", lo, hi));
  }
  return mid;
}

Client::Client(Transport transport, Clock& clock) : transport_(std::move(transport)), clock_(&clock) {}

Result<std::string> Client::call(std::string_view operation, const std::string& body) {
  std::string target = fmt::format("{}{}", kTargetPrefix, operation);
  return transport_(target, body);
}

// --- streams ---------------------------------------------------------------------------------

Status Client::create_stream(const std::string& stream, int shard_count, const WaitOptions& wait) {
  if (shard_count < 1) {
    return invalid_input(fmt::format("kinesis CreateStream on stream {}: shard count {} is below 1", stream, shard_count));
  }
  std::string body = "{\"StreamName\":";
  append_json_string(body, stream);
  body += fmt::format(",\"ShardCount\":{}}}", shard_count);
  auto r = call("CreateStream", body);
  if (!r.ok()) return in_context(std::move(r).error(), stream_context("CreateStream", stream));
  return wait_until_active(stream, wait, true);
}

Status Client::delete_stream(const std::string& stream) {
  auto r = call("DeleteStream", stream_body(stream));
  if (!r.ok()) return in_context(std::move(r).error(), stream_context("DeleteStream", stream));
  return {};
}

namespace {

// The summary in a DescribeStreamSummary (`StreamDescriptionSummary`) or DescribeStream
// (`StreamDescription`, which has no open shard count) answer.
Result<StreamSummary> parse_summary(const std::string& body, const char* op, const char* description) {
  StreamSummary summary;
  DR_ASSIGN(dom::object root, parse_object(body, op));
  DR_ASSIGN(dom::object d, object_field(root, description, op));
  DR_ASSIGN(std::string_view name, string_field(d, "StreamName", op));
  summary.name = std::string(name);
  DR_ASSIGN(auto arn, optional_string_field(d, "StreamARN", op));
  if (arn) summary.arn = std::string(*arn);
  DR_ASSIGN(std::string_view status, string_field(d, "StreamStatus", op));
  summary.status = parse_stream_status(status);
  if (auto n = int_field(d, "OpenShardCount")) summary.open_shard_count = static_cast<int>(*n);
  if (auto h = int_field(d, "RetentionPeriodHours")) summary.retention_period_hours = static_cast<int>(*h);
  return summary;
}

}  // namespace

Result<StreamSummary> Client::describe_stream_summary(const std::string& stream) {
  if (!fallbacks_->no_describe_stream_summary.load()) {
    auto r = call("DescribeStreamSummary", stream_body(stream));
    if (r.ok()) {
      auto summary = parse_summary(*r, "DescribeStreamSummary", "StreamDescriptionSummary");
      if (!summary.ok()) return in_context(std::move(summary).error(), stream_context("DescribeStreamSummary", stream));
      return summary;
    }
    if (r.error().code != "UnknownOperationException") {
      return in_context(std::move(r).error(), stream_context("DescribeStreamSummary", stream));
    }
    fallbacks_->no_describe_stream_summary.store(true);
  }
  // DescribeStream: the summary without an open shard count.
  std::string body = "{\"StreamName\":";
  append_json_string(body, stream);
  body += ",\"Limit\":1}";
  auto r = call("DescribeStream", body);
  const std::string describe_context = stream_context("DescribeStream", stream);
  if (!r.ok()) return in_context(std::move(r).error(), describe_context);
  auto summary = parse_summary(*r, "DescribeStream", "StreamDescription");
  if (!summary.ok()) return in_context(std::move(summary).error(), describe_context);
  return summary;
}

Status Client::wait_for_active(const std::string& stream, const WaitOptions& wait) {
  return wait_until_active(stream, wait, false);
}

Status Client::wait_until_active(const std::string& stream, const WaitOptions& wait, bool just_created) {
  const auto deadline = clock_->steady_now() + wait.timeout;
  auto pause = std::chrono::milliseconds(std::max<std::int64_t>(1, wait.first_poll.count()));
  StreamStatus last = StreamStatus::kUnknown;
  for (;;) {
    auto summary = describe_stream_summary(stream);
    if (!summary.ok()) {
      // Right after CreateStream the control plane may not show the stream yet (eventual
      // consistency): keep polling until the deadline instead of failing at once.
      if (!just_created || summary.error().kind != ErrorKind::kNotFound ||
          clock_->steady_now() + pause > deadline) {
        return std::move(summary).error();
      }
      clock_->sleep_for(pause);
      pause = std::min(pause * 2, std::max(wait.max_poll, std::chrono::milliseconds(1)));
      continue;
    }
    last = summary->status;
    if (last == StreamStatus::kActive) return {};
    if (last == StreamStatus::kDeleting) {
      return Error(ErrorKind::kNotFound, "ResourceNotFoundException",
                   fmt::format("kinesis stream {} is being deleted", stream));
    }
    if (clock_->steady_now() + pause > deadline) break;
    clock_->sleep_for(pause);
    pause = std::min(pause * 2, std::max(wait.max_poll, std::chrono::milliseconds(1)));
  }
  return Error(ErrorKind::kTransient, "Timeout",
               fmt::format("kinesis stream {} still {} after {} ms", stream, to_string(last), wait.timeout.count()));
}

Result<std::vector<std::string>> Client::list_streams() {
  std::vector<std::string> names;
  std::optional<std::string> next_token;
  for (;;) {
    std::string body = "{";
    if (next_token) {
      body += "\"NextToken\":";
      append_json_string(body, *next_token);
    } else if (!names.empty()) {
      body += "\"ExclusiveStartStreamName\":";
      append_json_string(body, names.back());
    }
    body += '}';
    auto r = call("ListStreams", body);
    if (!r.ok()) return in_context(std::move(r).error(), "kinesis ListStreams");
    bool more = false;
    next_token.reset();
    auto parsed = [&]() -> Status {
      DR_ASSIGN(dom::object root, parse_object(*r, "ListStreams"));
      DR_ASSIGN(dom::array arr, array_field(root, "StreamNames", "ListStreams"));
      for (dom::element e : arr) {
        std::string_view s;
        if (e.get_string().get(s)) return malformed("ListStreams: a stream name is not a string");
        names.emplace_back(s);
      }
      if (auto m = field(root, "HasMoreStreams")) {
        bool b = false;
        if (!m->get_bool().get(b)) more = b;
      }
      DR_ASSIGN(auto token, optional_string_field(root, "NextToken", "ListStreams"));
      if (token && !token->empty()) next_token = std::string(*token);
      return {};
    }();
    if (!parsed.ok()) return in_context(std::move(parsed).error(), "kinesis ListStreams");
    if (!more || (names.empty() && !next_token)) break;
  }
  return names;
}

// --- shards ----------------------------------------------------------------------------------

Result<std::vector<Shard>> Client::list_shards(const std::string& stream) {
  if (fallbacks_->no_list_shards.load()) return list_shards_via_describe(stream);
  const std::string context = stream_context("ListShards", stream);
  std::vector<Shard> shards;
  std::optional<std::string> next_token;
  for (;;) {
    std::string body = "{";
    if (next_token) {
      // A NextToken call must not name the stream (the token carries it).
      body += "\"NextToken\":";
      append_json_string(body, *next_token);
    } else {
      body += "\"StreamName\":";
      append_json_string(body, stream);
    }
    body += '}';
    auto r = call("ListShards", body);
    if (!r.ok()) {
      if (r.error().code == "UnknownOperationException" && !next_token) {
        fallbacks_->no_list_shards.store(true);
        return list_shards_via_describe(stream);
      }
      return in_context(std::move(r).error(), context);
    }
    next_token.reset();
    auto parsed = [&]() -> Status {
      DR_ASSIGN(dom::object root, parse_object(*r, "ListShards"));
      DR_ASSIGN(dom::array arr, array_field(root, "Shards", "ListShards"));
      DR_TRY(append_shards(arr, shards));
      DR_ASSIGN(auto token, optional_string_field(root, "NextToken", "ListShards"));
      if (token && !token->empty()) next_token = std::string(*token);
      return {};
    }();
    if (!parsed.ok()) return in_context(std::move(parsed).error(), context);
    if (!next_token) break;
  }
  return shards;
}

Result<std::vector<Shard>> Client::list_shards_via_describe(const std::string& stream) {
  const std::string context = stream_context("DescribeStream", stream);
  std::vector<Shard> shards;
  for (;;) {
    std::string body = "{\"StreamName\":";
    append_json_string(body, stream);
    if (!shards.empty()) {
      body += ",\"ExclusiveStartShardId\":";
      append_json_string(body, shards.back().id.str());
    }
    body += '}';
    auto r = call("DescribeStream", body);
    if (!r.ok()) return in_context(std::move(r).error(), context);
    bool more = false;
    std::size_t before = shards.size();
    auto parsed = [&]() -> Status {
      DR_ASSIGN(dom::object root, parse_object(*r, "DescribeStream"));
      DR_ASSIGN(dom::object d, object_field(root, "StreamDescription", "DescribeStream"));
      DR_ASSIGN(dom::array arr, array_field(d, "Shards", "DescribeStream"));
      DR_TRY(append_shards(arr, shards));
      if (auto m = field(d, "HasMoreShards")) {
        bool b = false;
        if (!m->get_bool().get(b)) more = b;
      }
      return {};
    }();
    if (!parsed.ok()) return in_context(std::move(parsed).error(), context);
    // A page that adds nothing yet claims more would loop forever.
    if (!more || shards.size() == before) break;
  }
  return shards;
}

Status Client::split_shard(const std::string& stream, const ShardId& shard,
                           std::optional<std::string> new_starting_hash_key, const WaitOptions& wait) {
  const std::string context = shard_context("SplitShard", stream, shard);
  if (!new_starting_hash_key) {
    DR_ASSIGN(std::vector<Shard> shards, list_shards(stream));
    auto it = std::find_if(shards.begin(), shards.end(), [&](const Shard& s) { return s.id == shard; });
    if (it == shards.end()) {
      return Error(ErrorKind::kNotFound, "ResourceNotFoundException",
                   fmt::format("{}: no such shard", context));
    }
    auto mid = hash_key_midpoint(it->hash_key_range);
    if (!mid.ok()) return in_context(std::move(mid).error(), context);
    new_starting_hash_key = std::move(mid).value();
  }
  std::string body = "{\"StreamName\":";
  append_json_string(body, stream);
  body += ",\"ShardToSplit\":";
  append_json_string(body, shard.str());
  body += ",\"NewStartingHashKey\":";
  append_json_string(body, *new_starting_hash_key);
  body += '}';
  auto r = call("SplitShard", body);
  if (!r.ok()) return in_context(std::move(r).error(), context);
  return wait_for_active(stream, wait);
}

Status Client::merge_shards(const std::string& stream, const ShardId& shard, const ShardId& adjacent,
                            const WaitOptions& wait) {
  std::string body = "{\"StreamName\":";
  append_json_string(body, stream);
  body += ",\"ShardToMerge\":";
  append_json_string(body, shard.str());
  body += ",\"AdjacentShardToMerge\":";
  append_json_string(body, adjacent.str());
  body += '}';
  auto r = call("MergeShards", body);
  if (!r.ok()) {
    return in_context(std::move(r).error(),
                      fmt::format("kinesis MergeShards on stream {} shards {} and {}", stream, shard.str(), adjacent.str()));
  }
  return wait_for_active(stream, wait);
}

// --- writing ---------------------------------------------------------------------------------

Result<PutRecordResult> Client::put_record(const std::string& stream, std::string_view data,
                                           std::string_view partition_key,
                                           const std::optional<std::string>& explicit_hash_key) {
  const std::string context = stream_context("PutRecord", stream);
  if (auto s = check_partition_key(partition_key, context); !s.ok()) return std::move(s).error();
  if (data.size() + partition_key.size() > kMaxRecordBytes) {
    return invalid_input(fmt::format("{}: record of {} bytes (data + partition key) is over the {} byte limit",
                                     context, data.size() + partition_key.size(), kMaxRecordBytes));
  }
  std::string body = "{\"StreamName\":";
  append_json_string(body, stream);
  body += ",\"Data\":\"";
  body += detail::base64(data);
  body += "\",\"PartitionKey\":";
  append_json_string(body, partition_key);
  if (explicit_hash_key) {
    body += ",\"ExplicitHashKey\":";
    append_json_string(body, *explicit_hash_key);
  }
  body += '}';
  auto r = call("PutRecord", body);
  if (!r.ok()) return in_context(std::move(r).error(), context);
  PutRecordResult out;
  auto parsed = [&]() -> Status {
    DR_ASSIGN(dom::object root, parse_object(*r, "PutRecord"));
    DR_ASSIGN(std::string_view shard, string_field(root, "ShardId", "PutRecord"));
    out.shard_id = ShardId(std::string(shard));
    DR_ASSIGN(out.sequence_number, sequence_field(root, "SequenceNumber", "PutRecord"));
    return {};
  }();
  if (!parsed.ok()) return in_context(std::move(parsed).error(), context);
  return out;
}

Result<PutRecordsResult> Client::put_records(const std::string& stream, const std::vector<PutRecordsEntry>& entries) {
  const std::string context = stream_context("PutRecords", stream);
  if (entries.empty()) return invalid_input(fmt::format("{}: no records to put", context));
  if (entries.size() > kMaxPutRecordsEntries) {
    return invalid_input(fmt::format("{}: {} records in one call, more than Kinesis allows ({})", context,
                                     entries.size(), kMaxPutRecordsEntries));
  }
  std::size_t total = 0;
  std::size_t estimate = 64 + stream.size();
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    const std::string where = fmt::format("{}: record {}", context, i);
    if (auto s = check_partition_key(e.partition_key, where); !s.ok()) return std::move(s).error();
    std::size_t size = e.data.size() + e.partition_key.size();
    if (size > kMaxRecordBytes) {
      return invalid_input(fmt::format("{}: {} bytes (data + partition key), over the {} byte limit", where, size,
                                       kMaxRecordBytes));
    }
    total += size;
    estimate += (e.data.size() + 2) / 3 * 4 + e.partition_key.size() * 2 + 64;
  }
  if (total > kMaxPutRecordsBytes) {
    return invalid_input(fmt::format("{}: {} bytes in one call, over the {} byte limit", context, total,
                                     kMaxPutRecordsBytes));
  }

  std::string body;
  body.reserve(estimate);
  body += "{\"StreamName\":";
  append_json_string(body, stream);
  body += ",\"Records\":[";
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    if (i != 0) body += ',';
    body += "{\"Data\":\"";
    body += detail::base64(e.data);
    body += "\",\"PartitionKey\":";
    append_json_string(body, e.partition_key);
    if (e.explicit_hash_key) {
      body += ",\"ExplicitHashKey\":";
      append_json_string(body, *e.explicit_hash_key);
    }
    body += '}';
  }
  body += "]}";

  auto r = call("PutRecords", body);
  if (!r.ok()) return in_context(std::move(r).error(), context);
  PutRecordsResult out;
  out.entries.reserve(entries.size());
  auto parsed = [&]() -> Status {
    DR_ASSIGN(dom::object root, parse_object(*r, "PutRecords"));
    DR_ASSIGN(dom::array arr, array_field(root, "Records", "PutRecords"));
    std::size_t i = 0;
    for (dom::element e : arr) {
      const std::string where = fmt::format("PutRecords record {}", i++);
      dom::object o;
      if (e.get_object().get(o)) return malformed(fmt::format("{} is not an object", where));
      PutRecordsEntryResult entry;
      DR_ASSIGN(auto code, optional_string_field(o, "ErrorCode", where));
      if (code && !code->empty()) {
        entry.error_code = std::string(*code);
        DR_ASSIGN(auto message, optional_string_field(o, "ErrorMessage", where));
        if (message) entry.error_message = std::string(*message);
        ++out.failed_record_count;
      } else {
        DR_ASSIGN(std::string_view shard, string_field(o, "ShardId", where));
        entry.shard_id = ShardId(std::string(shard));
        DR_ASSIGN(entry.sequence_number, sequence_field(o, "SequenceNumber", where));
      }
      out.entries.push_back(std::move(entry));
    }
    if (out.entries.size() != entries.size()) {
      return malformed(fmt::format("PutRecords answered {} results for {} records", out.entries.size(), entries.size()));
    }
    if (auto n = int_field(root, "FailedRecordCount"); n && *n != out.failed_record_count) {
      return malformed(fmt::format("PutRecords FailedRecordCount {} but {} records carry an error code", *n,
                                   out.failed_record_count));
    }
    return {};
  }();
  if (!parsed.ok()) return in_context(std::move(parsed).error(), context);
  return out;
}

// --- reading ---------------------------------------------------------------------------------

Result<ShardIterator> Client::get_shard_iterator(const std::string& stream, const ShardId& shard,
                                                 const StartingPosition& position) {
  const std::string context = shard_context("GetShardIterator", stream, shard);
  std::string body = "{\"StreamName\":";
  append_json_string(body, stream);
  body += ",\"ShardId\":";
  append_json_string(body, shard.str());
  body += ",\"ShardIteratorType\":\"";
  body += to_string(position.type);
  body += '"';
  switch (position.type) {
    case IteratorType::kAtSequenceNumber:
    case IteratorType::kAfterSequenceNumber:
      if (position.sequence_number.empty()) {
        return invalid_input(fmt::format("{}: {} needs a sequence number", context, to_string(position.type)));
      }
      body += ",\"StartingSequenceNumber\":";
      append_json_string(body, position.sequence_number.str());
      break;
    case IteratorType::kAtTimestamp:
      body += ",\"Timestamp\":";
      body += epoch_seconds_text(position.timestamp);
      break;
    case IteratorType::kTrimHorizon:
    case IteratorType::kLatest:
      break;
  }
  body += '}';
  auto r = call("GetShardIterator", body);
  if (!r.ok()) return in_context(std::move(r).error(), context);
  ShardIterator it{stream, shard, {}};
  auto parsed = [&]() -> Status {
    DR_ASSIGN(dom::object root, parse_object(*r, "GetShardIterator"));
    DR_ASSIGN(std::string_view value, string_field(root, "ShardIterator", "GetShardIterator"));
    it.value = std::string(value);
    return {};
  }();
  if (!parsed.ok()) return in_context(std::move(parsed).error(), context);
  return it;
}

Result<GetRecordsResult> Client::get_records(const ShardIterator& iterator, int limit) {
  const std::string context = shard_context("GetRecords", iterator.stream, iterator.shard);
  if (limit < 0 || limit > kMaxGetRecordsLimit) {
    return invalid_input(fmt::format("{}: limit {} is outside 1..{}", context, limit, kMaxGetRecordsLimit));
  }
  std::string body = "{\"ShardIterator\":";
  append_json_string(body, iterator.value);
  if (limit > 0) body += fmt::format(",\"Limit\":{}", limit);
  body += '}';
  auto r = call("GetRecords", body);
  if (!r.ok()) return in_context(std::move(r).error(), context);
  GetRecordsResult out;
  auto parsed = [&]() -> Status {
    DR_ASSIGN(dom::object root, parse_object(*r, "GetRecords"));
    DR_ASSIGN(dom::array arr, array_field(root, "Records", "GetRecords"));
    out.records.reserve(arr.size());
    for (dom::element e : arr) {
      dom::object o;
      if (e.get_object().get(o)) return malformed("GetRecords: a record is not an object");
      Record rec;
      DR_ASSIGN(rec.sequence_number, sequence_field(o, "SequenceNumber", "GetRecords record"));
      const std::string where = fmt::format("GetRecords record {}", rec.sequence_number.str());
      DR_ASSIGN(std::string_view data, string_field(o, "Data", where));
      auto decoded = detail::unbase64(data);
      if (!decoded) return malformed(fmt::format("{}: Data is not base64", where));
      rec.data = std::move(*decoded);
      DR_ASSIGN(std::string_view pk, string_field(o, "PartitionKey", where));
      rec.partition_key = std::string(pk);
      if (auto t = field(o, "ApproximateArrivalTimestamp")) {
        double seconds = 0;
        if (t->get_double().get(seconds)) {
          return malformed(fmt::format("{}: ApproximateArrivalTimestamp is not a number", where));
        }
        rec.approximate_arrival = from_epoch_seconds(seconds);
      }
      out.records.push_back(std::move(rec));
    }
    DR_ASSIGN(auto next, optional_string_field(root, "NextShardIterator", "GetRecords"));
    if (next && !next->empty()) out.next_iterator = ShardIterator{iterator.stream, iterator.shard, std::string(*next)};
    if (auto ms = int_field(root, "MillisBehindLatest")) out.millis_behind_latest = *ms;
    if (auto children = field(root, "ChildShards")) {
      dom::array ca;
      if (children->get_array().get(ca)) return malformed("GetRecords: ChildShards is not an array");
      for (dom::element c : ca) {
        dom::object co;
        if (c.get_object().get(co)) return malformed("GetRecords: a child shard is not an object");
        DR_ASSIGN(std::string_view id, string_field(co, "ShardId", "GetRecords child shard"));
        out.child_shards.emplace_back(std::string(id));
      }
    }
    return {};
  }();
  if (!parsed.ok()) return in_context(std::move(parsed).error(), context);
  return out;
}

}  // namespace dynarep::kinesis
