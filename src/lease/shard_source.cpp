#include "lease/shard_source.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "ddbstreams/client.h"
#include "dynamodb/client.h"
#include "kinesis/client.h"

namespace dynarep::lease {
namespace {

class KinesisSource final : public ShardSource {
 public:
  KinesisSource(kinesis::Client& client, std::string stream) : client_(client), stream_(std::move(stream)) {}
  std::string describe() const override { return "stream " + stream_; }
  Result<std::vector<kinesis::Shard>> list_shards() override { return client_.list_shards(stream_); }
  Result<kinesis::ShardIterator> shard_iterator(const kinesis::ShardId& shard,
                                                const kinesis::StartingPosition& position) override {
    return client_.get_shard_iterator(stream_, shard, position);
  }
  Result<kinesis::GetRecordsResult> get_records(const kinesis::ShardIterator& iterator, int limit) override {
    return client_.get_records(iterator, limit);
  }
  int max_records() const override { return kinesis::kMaxGetRecordsLimit; }

 private:
  kinesis::Client& client_;
  std::string stream_;
};

class DynamoStreamsSource final : public ShardSource {
 public:
  DynamoStreamsSource(ddbstreams::Client& client, std::string arn, Clock& clock)
      : client_(client), arn_(std::move(arn)), clock_(clock) {}
  std::string describe() const override { return "DynamoDB stream " + arn_; }

  Result<std::vector<kinesis::Shard>> list_shards() override {
    DR_ASSIGN(ddbstreams::StreamDescription d, client_.describe_stream(arn_));
    std::vector<kinesis::Shard> out;
    out.reserve(d.shards.size());
    for (auto& s : d.shards) {
      kinesis::Shard k;
      k.id = kinesis::ShardId(s.id);
      if (s.parent) k.parent = kinesis::ShardId(*s.parent);
      k.sequence_number_range.starting = kinesis::SequenceNumber(s.starting_sequence);
      if (s.ending_sequence) k.sequence_number_range.ending = kinesis::SequenceNumber(*s.ending_sequence);
      out.push_back(std::move(k));
    }
    return out;
  }

  Result<kinesis::ShardIterator> shard_iterator(const kinesis::ShardId& shard,
                                                const kinesis::StartingPosition& position) override {
    // The worker never asks for AT_TIMESTAMP here (at_timestamp() is false); the client refuses it.
    DR_ASSIGN(std::string it, client_.get_shard_iterator(arn_, shard.str(), kinesis::to_string(position.type),
                                                         position.sequence_number.str()));
    return kinesis::ShardIterator{arn_, shard, std::move(it)};
  }

  Result<kinesis::GetRecordsResult> get_records(const kinesis::ShardIterator& iterator, int limit) override {
    kinesis::GetRecordsResult out;
    if (iterator.value.empty()) return out;  // a closed shard with nothing left: its end
    DR_ASSIGN(ddbstreams::GetRecordsResult page,
              client_.get_records(arn_, iterator.shard.str(), iterator.value, std::min(limit, max_records())));
    out.records.reserve(page.records.size());
    for (auto& r : page.records) {
      kinesis::Record k;
      k.data = std::move(r.json);
      k.sequence_number = kinesis::SequenceNumber(std::move(r.sequence));
      k.approximate_arrival = r.created;
      out.records.push_back(std::move(k));
    }
    if (page.next_iterator) out.next_iterator = kinesis::ShardIterator{arn_, iterator.shard, std::move(*page.next_iterator)};
    if (!out.records.empty() && out.records.back().approximate_arrival) {
      auto age = clock_.now() - *out.records.back().approximate_arrival;
      out.millis_behind_latest = std::max<int64_t>(
          1, std::chrono::duration_cast<std::chrono::milliseconds>(age).count());  // never 0 with records in hand
    }
    return out;
  }

  int max_records() const override { return ddbstreams::kMaxGetRecordsLimit; }
  bool at_timestamp() const override { return false; }
  bool is_trimmed(const Error& e) const override { return ddbstreams::is_trimmed_data(e); }
  std::string lease_stream() const override { return arn_; }

 private:
  ddbstreams::Client& client_;
  std::string arn_;
  Clock& clock_;
};

}  // namespace

std::unique_ptr<ShardSource> kinesis_source(kinesis::Client& client, std::string stream) {
  return std::make_unique<KinesisSource>(client, std::move(stream));
}

std::unique_ptr<ShardSource> dynamodb_streams_source(ddbstreams::Client& client, std::string stream_arn, Clock& clock) {
  return std::make_unique<DynamoStreamsSource>(client, std::move(stream_arn), clock);
}

Result<std::string> table_stream_arn(dynamodb::Client& db, const std::string& table) {
  auto d = db.describe_table(table);
  if (!d.ok()) return std::move(d).error().with_context("finding the DynamoDB stream of table " + table);
  if (!d->stream_enabled || d->latest_stream_arn.empty()) {
    return Error(ErrorKind::kInvalidInput, "NoTableStream",
                 fmt::format("table {} has no DynamoDB stream enabled; enable one with: aws dynamodb update-table "
                             "--table-name {} --stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES",
                             table, table));
  }
  return d->latest_stream_arn;
}

std::string default_stream_lease_table(std::string_view stream_arn) {
  std::string name = fmt::format("dynarep-leases-{}-{}", ddbstreams::stream_table(stream_arn),
                                 ddbstreams::stream_label(stream_arn));
  for (char& c : name) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '.';
    if (!ok) c = '-';
  }
  if (name.size() > 255) name.erase(0, name.size() - 255);  // keep the label: it tells streams apart
  return name;
}

}  // namespace dynarep::lease
