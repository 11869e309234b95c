#include "writer/replicated_table.h"

#include <fmt/format.h>

#include <stdexcept>

namespace dynarep::writer {

Result<std::unique_ptr<ReplicatedTable>> ReplicatedTable::open(ReplicatedTableConfig config) {
  if (!config.write.client) return invalid_input("replicated table: no client for the write table");
  model::KeySchema schema;
  if (config.key_schema) {
    schema = *config.key_schema;
  } else {
    DR_ASSIGN(dynamodb::TableDescription d, config.write.client->describe_table(config.write.table));
    schema = d.key_schema;
  }
  return std::make_unique<ReplicatedTable>(std::move(config), std::move(schema));
}

ReplicatedTable::ReplicatedTable(ReplicatedTableConfig config, model::KeySchema key_schema)
    : write_(std::move(config.write)),
      read_(config.read ? std::move(*config.read) : write_),
      key_schema_(std::move(key_schema)),
      publisher_(std::move(config.publisher)),
      region_(std::move(config.aws_region)),
      batch_parallel_(config.batch_parallel) {
  if (!write_.client) throw std::invalid_argument("ReplicatedTable: no client for the write table");
  if (!read_.client) throw std::invalid_argument("ReplicatedTable: no client for the read table");
  if (region_.empty()) region_ = write_.client->aws().endpoint().region;
}

namespace {

WriteError write_failed(Error e) {
  WriteError w;
  w.write_error = std::move(e);
  return w;
}

}  // namespace

WriteStatus ReplicatedTable::publish_one(model::Item key, Event event) {
  if (!publisher_) return {};
  PublishOutcome out = publisher_->publish({make_change(std::move(key), event, region_)});
  if (out.ok()) return {};
  WriteError w;
  w.publish_error = std::move(out.error);
  w.unpublished = std::move(out.unpublished);
  w.written = 1;
  return w;
}

WriteStatus ReplicatedTable::put(const model::Item& item) {
  auto key = model::extract_key(item, key_schema_);
  if (!key.ok()) return write_failed(std::move(key).error().with_context("put into table " + write_.table));
  if (auto st = write_.client->put_item(write_.table, item); !st.ok()) return write_failed(st.error());
  return publish_one(std::move(key).value(), Event::kInsert);
}

WriteResult<model::Item> ReplicatedTable::update(dynamodb::UpdateRequest request) {
  request.table = write_.table;
  auto key = model::extract_key(request.key, key_schema_);
  if (!key.ok()) return write_failed(std::move(key).error().with_context("update of table " + write_.table));
  if (key->size() != request.key.size()) {
    return write_failed(invalid_input(fmt::format("update of table {}: key {} has attributes that are not part of "
                                                  "the table's key",
                                                  write_.table, model::canonical_key_json(request.key))));
  }
  auto item = write_.client->update_item(request);
  if (!item.ok() && item.error().kind == ErrorKind::kUnknownOutcome) {
    // The update may have been applied (its answer was lost): publish the key all the same. A
    // KEYS_ONLY record for a key that did not change is harmless (the replicator re-reads the
    // primary); a missing record for one that did leaves the replica behind until repaired.
    auto st = publish_one(std::move(key).value(), Event::kModify);
    WriteError w = st.ok() ? WriteError{} : std::move(st).error();
    w.write_error = item.error();
    w.written = 0;  // not confirmed
    return w;
  }
  if (!item.ok()) return write_failed(item.error());
  auto st = publish_one(std::move(key).value(), Event::kModify);
  if (!st.ok()) return std::move(st).error();
  return std::move(item).value();
}

WriteStatus ReplicatedTable::remove(const model::Item& key) {
  auto k = model::extract_key(key, key_schema_);
  if (!k.ok()) return write_failed(std::move(k).error().with_context("delete from table " + write_.table));
  if (k->size() != key.size()) {
    return write_failed(invalid_input(fmt::format("delete from table {}: key {} has attributes that are not part "
                                                  "of the table's key",
                                                  write_.table, model::canonical_key_json(key))));
  }
  if (auto st = write_.client->delete_item(write_.table, *k); !st.ok()) return write_failed(st.error());
  return publish_one(std::move(k).value(), Event::kRemove);
}

WriteResult<BatchWriteSummary> ReplicatedTable::write_batch(std::vector<dynamodb::WriteRequest> requests) {
  // Check every key before writing any: a bad request fails the call with nothing written.
  for (std::size_t i = 0; i < requests.size(); ++i) {
    auto k = model::extract_key(requests[i].item, key_schema_);
    if (!k.ok()) {
      return write_failed(std::move(k).error().with_context(
          fmt::format("batch write to table {}: request {}", write_.table, i)));
    }
  }
  BatchWriterOptions opt;
  opt.parallel = batch_parallel_;
  opt.publisher = publisher_.get();
  opt.aws_region = region_;
  BatchWriter writer(*write_.client, write_.table, key_schema_, opt);
  for (auto& r : requests) {
    if (!writer.add(std::move(r)).ok()) break;  // a write failed: finish() reports it
  }
  return writer.finish();
}

Result<std::optional<model::Item>> ReplicatedTable::get(const model::Item& key, bool consistent_read) {
  return read_.client->get_item(read_.table, key, consistent_read);
}

Result<std::vector<model::Item>> ReplicatedTable::batch_get(const std::vector<model::Item>& keys,
                                                            bool consistent_read) {
  DR_ASSIGN(dynamodb::BatchGetResult r, read_.client->batch_get_all(read_.table, keys, consistent_read));
  return std::move(r.items);
}

Result<dynamodb::ScanPage> ReplicatedTable::scan(dynamodb::ScanRequest request) {
  request.table = read_.table;
  return read_.client->scan(request);
}

Result<dynamodb::ScanPage> ReplicatedTable::query(dynamodb::QueryRequest request) {
  request.table = read_.table;
  return read_.client->query(request);
}

}  // namespace dynarep::writer
