// A Kinesis service in memory behind kinesis::Client's Transport: PutRecords appends the
// records it accepts to one log (the "stream"), and a test decides which calls fail and which
// entries are refused. Thread-safe, so publishers with several senders can be exercised.
#pragma once

#include <simdjson.h>

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "kinesis/client.h"
#include "kinesis/detail/json.h"

namespace dynarep::writer::testing {

class FakeKinesis {
 public:
  struct Stored {
    std::string partition_key;
    std::string data;
    int call = 0;  // which PutRecords call stored it (1-based)
  };
  struct Call {
    std::vector<std::string> partition_keys;
    std::size_t bytes = 0;  // data + partition keys
  };

  // Per call (1-based call number): an Error fails the whole call.
  std::function<std::optional<Error>(int call)> fail_call;
  // Per entry: an error code refuses it ("ProvisionedThroughputExceededException").
  std::function<std::optional<std::string>(int call, const std::string& partition_key)> refuse_entry;

  kinesis::Transport transport() {
    return [this](std::string_view target, const std::string& body) -> Result<std::string> {
      if (target != "Kinesis_20131202.PutRecords") {
        return Error(ErrorKind::kInvalidInput, "UnknownOperationException", std::string(target));
      }
      return put_records(body);
    };
  }
  std::shared_ptr<kinesis::Client> client() { return std::make_shared<kinesis::Client>(transport()); }

  std::vector<Stored> stored() {
    std::lock_guard lock(mu_);
    return stored_;
  }
  std::vector<Call> calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }

 private:
  Result<std::string> put_records(const std::string& body) {
    int call = 0;
    {
      std::lock_guard lock(mu_);
      call = ++call_count_;
    }
    simdjson::dom::parser parser;
    auto doc = parser.parse(body);
    if (doc.error()) return Error(ErrorKind::kInvalidInput, "SerializationException", "bad JSON");
    Call c;
    std::vector<std::pair<std::string, std::string>> records;
    for (auto r : doc.value()["Records"].get_array()) {
      std::string_view pk = r["PartitionKey"].get_string().value();
      std::string_view data64 = r["Data"].get_string().value();
      auto data = kinesis::detail::unbase64(data64);
      if (!data) return Error(ErrorKind::kInvalidInput, "SerializationException", "bad base64");
      c.bytes += pk.size() + data->size();
      c.partition_keys.emplace_back(pk);
      records.emplace_back(std::string(pk), std::move(*data));
    }
    std::lock_guard lock(mu_);
    calls_.push_back(c);
    if (fail_call) {
      if (auto e = fail_call(call)) return *e;
    }
    std::string out = "{\"Records\":[";
    int failed = 0;
    for (std::size_t i = 0; i < records.size(); ++i) {
      if (i != 0) out += ',';
      std::optional<std::string> code = refuse_entry ? refuse_entry(call, records[i].first) : std::nullopt;
      if (code) {
        ++failed;
        out += "{\"ErrorCode\":\"" + *code + "\",\"ErrorMessage\":\"refused by the test\"}";
      } else {
        stored_.push_back({records[i].first, records[i].second, call});
        out += "{\"SequenceNumber\":\"" + std::to_string(stored_.size()) + "\",\"ShardId\":\"shardId-000000000000\"}";
      }
    }
    out += "],\"FailedRecordCount\":" + std::to_string(failed) + "}";
    return out;
  }

  std::mutex mu_;
  int call_count_ = 0;
  std::vector<Stored> stored_;
  std::vector<Call> calls_;
};

}  // namespace dynarep::writer::testing
