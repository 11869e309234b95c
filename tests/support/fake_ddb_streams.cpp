#include "support/fake_ddb_streams.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <stdexcept>

#include "core/json_writer.h"

namespace dynarep::testing {
namespace {

CannedResponse json(int status, std::string body) {
  CannedResponse r;
  r.status = status;
  r.headers = {{"Content-Type", "application/x-amz-json-1.0"}};
  r.body = std::move(body);
  return r;
}

CannedResponse error(const std::string& code, const std::string& message) {
  std::string body;
  JsonWriter w(body);
  w.begin_object().field("__type", "com.amazonaws.dynamodb.v20120810#" + code).field("message", message).end_object();
  return json(400, std::move(body));
}

std::string str(simdjson::dom::element e, const char* key) {
  std::string_view sv;
  if (e[key].get(sv)) return {};
  return std::string(sv);
}

}  // namespace

FakeDynamoDbStreams::FakeDynamoDbStreams()
    : server_(std::make_unique<TestHttpServer>([this](const RecordedRequest& r) { return handle(r); })) {}
FakeDynamoDbStreams::~FakeDynamoDbStreams() = default;

std::string FakeDynamoDbStreams::url() const { return server_->url(); }

std::string FakeDynamoDbStreams::add_stream(const std::string& table, const std::string& label,
                                            const std::string& view_type) {
  std::lock_guard lock(mu_);
  std::string arn = fmt::format("arn:aws:dynamodb:us-east-1:000000000000:table/{}/stream/{}", table, label);
  streams_[arn] = Stream{arn, table, label, view_type, {}};
  return arn;
}

FakeDynamoDbStreams::ShardState* FakeDynamoDbStreams::find(const std::string& arn, const std::string& shard) {
  auto s = streams_.find(arn);
  if (s == streams_.end()) return nullptr;
  for (auto& sh : s->second.shards) {
    if (sh.id == shard && sh.listed) return &sh;
  }
  return nullptr;
}

void FakeDynamoDbStreams::add_shard(const std::string& arn, const std::string& shard,
                                    const std::optional<std::string>& parent) {
  std::lock_guard lock(mu_);
  ShardState s;
  s.id = shard;
  s.parent = parent;
  s.starting = fmt::format("4{:020}", ++next_seq_ * 100);
  streams_.at(arn).shards.push_back(std::move(s));
}

std::string FakeDynamoDbStreams::put(const std::string& arn, const std::string& shard, const std::string& event,
                                     const std::string& id, int v, std::chrono::system_clock::time_point created) {
  std::lock_guard lock(mu_);
  return put_locked(arn, shard, event, id, v, created);
}

std::string FakeDynamoDbStreams::put_locked(const std::string& arn, const std::string& shard, const std::string& event,
                                            const std::string& id, int v, std::chrono::system_clock::time_point created) {
  ShardState* s = find(arn, shard);
  if (s == nullptr || s->ending) throw std::logic_error("put: no open shard " + shard);
  const std::string& view = streams_.at(arn).view_type;
  // 21-digit sequence numbers, increasing across the stream, as DynamoDB's are.
  std::string seq = fmt::format("4{:020}", ++next_seq_ * 100);
  std::string body;
  JsonWriter w(body);
  w.begin_object()
      .field("eventID", fmt::format("{:032x}", next_seq_))
      .field("eventName", event)
      .field("eventVersion", "1.1")
      .field("eventSource", "aws:dynamodb")
      .field("awsRegion", "us-east-1");
  w.key("dynamodb").begin_object();
  w.field("ApproximateCreationDateTime",
          static_cast<int64_t>(std::chrono::duration_cast<std::chrono::seconds>(created.time_since_epoch()).count()));
  w.key("Keys").raw(fmt::format(R"({{"id":{{"S":"{}"}}}})", id));
  const std::string image = fmt::format(R"({{"id":{{"S":"{}"}},"v":{{"N":"{}"}}}})", id, v);
  const bool new_image = view == "NEW_IMAGE" || view == "NEW_AND_OLD_IMAGES";
  const bool old_image = view == "OLD_IMAGE" || view == "NEW_AND_OLD_IMAGES";
  if (event != "REMOVE" && new_image) w.key("NewImage").raw(image);
  if (event != "INSERT" && old_image) w.key("OldImage").raw(image);
  w.field("SequenceNumber", seq).field("SizeBytes", int64_t{26}).field("StreamViewType", view);
  w.end_object();
  w.end_object();
  s->records.push_back({seq, body});
  return seq;
}

void FakeDynamoDbStreams::close_shard(const std::string& arn, const std::string& shard) {
  std::lock_guard lock(mu_);
  ShardState* s = find(arn, shard);
  s->ending = s->records.empty() ? s->starting : s->records.back().seq;
}

void FakeDynamoDbStreams::remove_shard(const std::string& arn, const std::string& shard) {
  std::lock_guard lock(mu_);
  find(arn, shard)->listed = false;
}

void FakeDynamoDbStreams::trim(const std::string& arn, const std::string& shard, size_t n) {
  std::lock_guard lock(mu_);
  ShardState* s = find(arn, shard);
  s->trimmed = std::min(s->records.size(), s->trimmed + n);
}

void FakeDynamoDbStreams::lose(const std::string& arn, const std::string& shard, int n) {
  std::lock_guard lock(mu_);  // one step: no reader sees them
  for (int i = 0; i < n; ++i) put_locked(arn, shard, "INSERT", "lost" + std::to_string(i), i, std::chrono::system_clock::now());
  ShardState* s = find(arn, shard);
  s->trimmed = s->records.size();
}

void FakeDynamoDbStreams::expire_iterators() {
  std::lock_guard lock(mu_);
  ++iterator_generation_;
}

int FakeDynamoDbStreams::calls(const std::string& op) const {
  std::lock_guard lock(mu_);
  auto it = calls_.find(op);
  return it == calls_.end() ? 0 : it->second;
}

int FakeDynamoDbStreams::errors(const std::string& code) const {
  std::lock_guard lock(mu_);
  auto it = errors_.find(code);
  return it == errors_.end() ? 0 : it->second;
}

CannedResponse FakeDynamoDbStreams::handle(const RecordedRequest& req) {
  std::string target = req.header("x-amz-target").value_or("");
  const std::string prefix = "DynamoDBStreams_20120810.";
  if (target.rfind(prefix, 0) != 0) return error("UnknownOperationException", "target " + target);
  const std::string op = target.substr(prefix.size());
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(req.body).get(doc)) return error("SerializationException", "body is not JSON");
  std::lock_guard lock(mu_);
  ++calls_[op];
  auto fail = [&](const std::string& code, const std::string& message) {
    ++errors_[code];
    return error(code, message);
  };

  if (op == "DescribeStream") {
    auto s = streams_.find(str(doc, "StreamArn"));
    if (s == streams_.end()) return fail("ResourceNotFoundException", "Requested resource not found");
    const std::string start = str(doc, "ExclusiveStartShardId");
    std::vector<const ShardState*> listed;
    for (const auto& sh : s->second.shards) {
      if (sh.listed) listed.push_back(&sh);
    }
    size_t from = 0;
    if (!start.empty()) {
      while (from < listed.size() && listed[from]->id != start) ++from;
      ++from;
    }
    std::string body;
    JsonWriter w(body);
    w.begin_object().key("StreamDescription").begin_object();
    w.field("StreamArn", s->second.arn).field("StreamLabel", s->second.label).field("StreamStatus", "ENABLED");
    w.field("StreamViewType", s->second.view_type).field("TableName", s->second.table);
    w.key("Shards").begin_array();
    size_t end = std::min(listed.size(), from + static_cast<size_t>(page_size));
    for (size_t i = from; i < end; ++i) {
      const ShardState& sh = *listed[i];
      w.begin_object().field("ShardId", sh.id);
      if (sh.parent) w.field("ParentShardId", *sh.parent);
      w.key("SequenceNumberRange").begin_object().field("StartingSequenceNumber", sh.starting);
      if (sh.ending) w.field("EndingSequenceNumber", *sh.ending);
      w.end_object().end_object();
    }
    w.end_array();
    if (end < listed.size()) w.field("LastEvaluatedShardId", listed[end - 1]->id);
    w.end_object().end_object();
    return json(200, std::move(body));
  }

  if (op == "GetShardIterator") {
    const std::string arn = str(doc, "StreamArn"), shard = str(doc, "ShardId"), type = str(doc, "ShardIteratorType");
    const std::string seq = str(doc, "SequenceNumber");
    ShardState* s = find(arn, shard);
    if (s == nullptr) return fail("ResourceNotFoundException", "Requested resource not found: Shard does not exist");
    size_t pos = 0;
    if (type == "TRIM_HORIZON") {
      pos = s->trimmed;
    } else if (type == "LATEST") {
      pos = s->records.size();
    } else if (type == "AT_SEQUENCE_NUMBER" || type == "AFTER_SEQUENCE_NUMBER") {
      auto it = std::find_if(s->records.begin(), s->records.end(), [&](const Rec& r) { return r.seq == seq; });
      if (it == s->records.end()) return fail("ValidationException", "Invalid SequenceNumber " + seq);
      pos = static_cast<size_t>(it - s->records.begin()) + (type == "AFTER_SEQUENCE_NUMBER" ? 1 : 0);
      if (pos < s->trimmed) {
        return fail("TrimmedDataAccessException", "The operation attempted to read past the oldest stream record");
      }
    } else {
      return fail("ValidationException", "ShardIteratorType " + type);
    }
    return json(200, fmt::format(R"({{"ShardIterator":"{}|{}|{}|{}"}})", arn, shard, pos, iterator_generation_));
  }

  if (op == "GetRecords") {
    // Our iterators: "<arn>|<shard>|<position>|<generation>".
    const std::string it = str(doc, "ShardIterator");
    int64_t limit = 1000;
    if (!doc["Limit"].get(limit) && (limit < 1 || limit > 1000)) return fail("ValidationException", "Limit");
    auto p1 = it.find('|'), p2 = it.find('|', p1 + 1), p3 = it.find('|', p2 + 1);
    if (p3 == std::string::npos) return fail("ValidationException", "Invalid ShardIterator");
    const std::string arn = it.substr(0, p1), shard = it.substr(p1 + 1, p2 - p1 - 1);
    size_t pos = std::stoull(it.substr(p2 + 1, p3 - p2 - 1));
    uint64_t gen = std::stoull(it.substr(p3 + 1));
    if (gen < iterator_generation_) return fail("ExpiredIteratorException", "Iterator expired");
    ShardState* s = find(arn, shard);
    if (s == nullptr) return fail("ResourceNotFoundException", "Requested resource not found: Shard does not exist");
    if (pos < s->trimmed) {
      return fail("TrimmedDataAccessException", "The operation attempted to read past the oldest stream record");
    }
    size_t end = std::min(s->records.size(), pos + static_cast<size_t>(limit));
    std::string body = "{\"Records\":[";
    for (size_t i = pos; i < end; ++i) {
      if (i > pos) body += ',';
      body += s->records[i].json;
    }
    body += ']';
    if (!(s->ending && end == s->records.size())) {
      body += fmt::format(R"(,"NextShardIterator":"{}|{}|{}|{}")", arn, shard, end, iterator_generation_);
    }
    body += '}';
    return json(200, std::move(body));
  }

  if (op == "ListStreams") {
    const std::string table = str(doc, "TableName");
    std::string body;
    JsonWriter w(body);
    w.begin_object().key("Streams").begin_array();
    for (const auto& [arn, s] : streams_) {
      if (!table.empty() && s.table != table) continue;
      w.begin_object().field("StreamArn", arn).field("TableName", s.table).field("StreamLabel", s.label).end_object();
    }
    w.end_array().end_object();
    return json(200, std::move(body));
  }
  return fail("UnknownOperationException", "unknown operation " + op);
}

}  // namespace dynarep::testing
