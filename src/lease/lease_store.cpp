#include "lease/lease_store.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <chrono>

#include "dynamodb/client.h"
#include "model/value.h"

namespace dynarep::lease {
namespace {

using model::Item;
using model::Number;
using model::Value;

Result<int64_t> to_int(const Value* v, std::string_view what, const std::string& key) {
  if (v == nullptr) return int64_t{0};
  const Number* n = v->try_as_n();
  if (n == nullptr) return invalid_input(fmt::format("lease {}: {} is not a number", key, what));
  int64_t out = 0;
  const std::string& t = n->text();
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
  if (ec != std::errc() || p != t.data() + t.size()) {
    return invalid_input(fmt::format("lease {}: {} \"{}\" is not an integer", key, what, t));
  }
  return out;
}

Result<Lease> lease_from_item(const Item& item) {
  Lease l;
  const Value* k = item.find(kAttrKey);
  if (k == nullptr || k->try_as_s() == nullptr) return invalid_input("lease item without a string leaseKey");
  l.key = k->as_s();
  if (const Value* o = item.find(kAttrOwner); o != nullptr && o->try_as_s() != nullptr) l.owner = o->as_s();
  if (const Value* t = item.find(kAttrOwnerToken); t != nullptr && t->try_as_s() != nullptr) l.owner_token = t->as_s();
  DR_ASSIGN(l.counter, to_int(item.find(kAttrCounter), kAttrCounter, l.key));
  if (const Value* c = item.find(kAttrCheckpoint); c != nullptr && c->try_as_s() != nullptr) {
    l.checkpoint = c->as_s();
  } else {
    l.checkpoint = std::string(kTrimHorizon);
  }
  if (const Value* p = item.find(kAttrParents); p != nullptr && p->try_as_ss() != nullptr) {
    l.parent_shard_ids = p->as_ss();
  }
  DR_ASSIGN(l.owner_switches_since_checkpoint, to_int(item.find(kAttrOwnerSwitches), kAttrOwnerSwitches, l.key));
  if (const Value* lr = item.find(kAttrLastRenewed); lr != nullptr) {
    DR_ASSIGN(int64_t v, to_int(lr, kAttrLastRenewed, l.key));
    l.last_renewed_ms = v;
  }
  if (const Value* ts = item.find(kAttrStartTimestamp); ts != nullptr) {
    DR_ASSIGN(int64_t v, to_int(ts, kAttrStartTimestamp, l.key));
    l.start_timestamp_ms = v;
  }
  if (const Value* s = item.find(kAttrStream); s != nullptr && s->try_as_s() != nullptr) l.stream = s->as_s();
  return l;
}

Item key_of(const std::string& key) {
  Item k;
  k.set(std::string(kAttrKey), Value::S(key));
  return k;
}

// Runs one conditional UpdateItem; false when the condition failed.
Result<bool> conditional_update(dynamodb::Client& client, dynamodb::UpdateRequest req, Lease& lease) {
  auto r = client.update_item(req);
  if (!r.ok()) {
    if (r.error().kind == ErrorKind::kConditionFailed && r.error().code == "ConditionalCheckFailedException") {
      return false;
    }
    return std::move(r).error();
  }
  auto parsed = lease_from_item(*r);
  if (!parsed.ok()) return std::move(parsed).error();
  lease = std::move(parsed).value();
  return true;
}

dynamodb::UpdateRequest base_request(const std::string& table, const std::string& key) {
  dynamodb::UpdateRequest req;
  req.table = table;
  req.key = key_of(key);
  req.expression_attribute_names = {{"#c", std::string(kAttrCounter)}};
  return req;
}

// "#c = :exp AND #o = :me AND <token>": the owner's own write, made only while the lease is
// still at the counter it last saw and still held by this very process (its token), so a second
// process with the same worker id cannot pass for it.
// "#lr = :lr": the writer's wall clock, for `dynarep status` (never for expiry).
std::string stamp(dynamodb::UpdateRequest& req) {
  req.expression_attribute_names.emplace_back("#lr", std::string(kAttrLastRenewed));
  req.expression_attribute_values.set(
      ":lr", Value::N(Number::from_int(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count())));
  return ", #lr = :lr";
}

void owner_condition(dynamodb::UpdateRequest& req, const Lease& lease) {
  req.expression_attribute_names.emplace_back("#o", std::string(kAttrOwner));
  req.expression_attribute_names.emplace_back("#tok", std::string(kAttrOwnerToken));
  req.expression_attribute_values.set(":exp", Value::N(Number::from_int(lease.counter)));
  req.expression_attribute_values.set(":me", Value::S(lease.owner));
  if (lease.owner_token.empty()) {
    req.condition_expression = "#c = :exp AND #o = :me AND attribute_not_exists(#tok)";
  } else {
    req.expression_attribute_values.set(":tok", Value::S(lease.owner_token));
    req.condition_expression = "#c = :exp AND #o = :me AND #tok = :tok";
  }
}

}  // namespace

DynamoLeaseStore::DynamoLeaseStore(dynamodb::Client& client, std::string table)
    : client_(client), table_(std::move(table)) {}

Status DynamoLeaseStore::ensure_table() {
  auto d = client_.describe_table(table_);
  if (d.ok()) {
    if (d->key_schema.hash_name != kAttrKey || d->key_schema.hash_type != model::Type::kS ||
        d->key_schema.has_range()) {
      return invalid_input(fmt::format("table {} is not a lease table: its key is not {} (S)", table_, kAttrKey));
    }
    if (d->status == "ACTIVE") return {};
    return client_.wait_until_active(table_, std::chrono::minutes(5));
  }
  if (d.error().kind != ErrorKind::kNotFound) return std::move(d).error();
  model::KeySchema schema;
  schema.hash_name = std::string(kAttrKey);
  schema.hash_type = model::Type::kS;
  spdlog::info("creating lease table {} (on-demand billing)", table_);
  auto c = client_.create_table(table_, schema);
  // Another worker creating it at the same moment is fine.
  if (!c.ok() && c.error().code != "ResourceInUseException") return std::move(c).error();
  return client_.wait_until_active(table_, std::chrono::minutes(5));
}

Result<std::vector<Lease>> DynamoLeaseStore::list() {
  std::vector<Lease> out;
  dynamodb::ScanRequest req;
  req.table = table_;
  req.consistent_read = true;
  for (;;) {
    DR_ASSIGN(dynamodb::ScanPage page, client_.scan(req));
    for (const auto& item : page.items) {
      auto l = lease_from_item(item);
      if (!l.ok()) {
        spdlog::warn("lease table {}: skipping an item: {}", table_, l.error().describe());
        continue;
      }
      out.push_back(std::move(l).value());
    }
    if (!page.last_evaluated_key) break;
    req.exclusive_start_key = std::move(page.last_evaluated_key);
  }
  return out;
}

Result<std::optional<Lease>> DynamoLeaseStore::get(const std::string& key) {
  DR_ASSIGN(std::optional<Item> item, client_.get_item(table_, key_of(key), true));
  if (!item) return std::optional<Lease>();
  DR_ASSIGN(Lease l, lease_from_item(*item));
  return std::optional<Lease>(std::move(l));
}

Result<bool> DynamoLeaseStore::create(const Lease& lease) {
  auto req = base_request(table_, lease.key);
  req.expression_attribute_names.emplace_back("#k", std::string(kAttrKey));
  req.expression_attribute_names.emplace_back("#cp", std::string(kAttrCheckpoint));
  req.expression_attribute_names.emplace_back("#sw", std::string(kAttrOwnerSwitches));
  std::string set = "SET #c = :zero, #cp = :cp, #sw = :zero";
  req.expression_attribute_values.set(":zero", Value::N(Number::from_int(0)));
  req.expression_attribute_values.set(":cp", Value::S(lease.checkpoint));
  if (!lease.parent_shard_ids.empty()) {
    req.expression_attribute_names.emplace_back("#p", std::string(kAttrParents));
    std::vector<std::string> parents = lease.parent_shard_ids;
    std::sort(parents.begin(), parents.end());
    parents.erase(std::unique(parents.begin(), parents.end()), parents.end());
    req.expression_attribute_values.set(":p", Value::SS(std::move(parents)));
    set += ", #p = :p";
  }
  if (lease.start_timestamp_ms) {
    req.expression_attribute_names.emplace_back("#ts", std::string(kAttrStartTimestamp));
    req.expression_attribute_values.set(":ts", Value::N(Number::from_int(*lease.start_timestamp_ms)));
    set += ", #ts = :ts";
  }
  if (!lease.stream.empty()) {
    req.expression_attribute_names.emplace_back("#sa", std::string(kAttrStream));
    req.expression_attribute_values.set(":sa", Value::S(lease.stream));
    set += ", #sa = :sa";
  }
  req.update_expression = set;
  req.condition_expression = "attribute_not_exists(#k)";
  Lease written = lease;
  return conditional_update(client_, std::move(req), written);
}

Result<bool> DynamoLeaseStore::renew(Lease& lease) {
  auto req = base_request(table_, lease.key);
  req.update_expression = "SET #c = #c + :one" + stamp(req);
  req.expression_attribute_values.set(":one", Value::N(Number::from_int(1)));
  owner_condition(req, lease);
  return conditional_update(client_, std::move(req), lease);
}

Result<bool> DynamoLeaseStore::take(Lease& lease, const std::string& new_owner, const std::string& new_token) {
  auto req = base_request(table_, lease.key);
  req.expression_attribute_names.emplace_back("#o", std::string(kAttrOwner));
  req.expression_attribute_names.emplace_back("#tok", std::string(kAttrOwnerToken));
  req.expression_attribute_names.emplace_back("#sw", std::string(kAttrOwnerSwitches));
  req.update_expression = "SET #o = :me, #tok = :tok, #c = #c + :one, #sw = if_not_exists(#sw, :zero) + :sw" + stamp(req);
  req.expression_attribute_values.set(":me", Value::S(new_owner));
  req.expression_attribute_values.set(":tok", Value::S(new_token));
  req.expression_attribute_values.set(":one", Value::N(Number::from_int(1)));
  req.expression_attribute_values.set(":zero", Value::N(Number::from_int(0)));
  req.expression_attribute_values.set(":sw", Value::N(Number::from_int(lease.owner == new_owner ? 0 : 1)));
  req.expression_attribute_values.set(":exp", Value::N(Number::from_int(lease.counter)));
  req.condition_expression = "#c = :exp";
  return conditional_update(client_, std::move(req), lease);
}

Result<bool> DynamoLeaseStore::evict(Lease& lease) {
  auto req = base_request(table_, lease.key);
  req.update_expression = "REMOVE #o, #tok SET #c = #c + :one";
  req.expression_attribute_values.set(":one", Value::N(Number::from_int(1)));
  owner_condition(req, lease);
  return conditional_update(client_, std::move(req), lease);
}

Result<bool> DynamoLeaseStore::checkpoint(Lease& lease, const std::string& value,
                                          std::optional<int64_t> start_timestamp_ms) {
  auto req = base_request(table_, lease.key);
  req.expression_attribute_names.emplace_back("#cp", std::string(kAttrCheckpoint));
  req.expression_attribute_names.emplace_back("#sw", std::string(kAttrOwnerSwitches));
  req.expression_attribute_names.emplace_back("#ts", std::string(kAttrStartTimestamp));
  if (start_timestamp_ms) {
    req.update_expression = "SET #cp = :cp, #sw = :zero, #c = #c + :one, #ts = :ts" + stamp(req);
    req.expression_attribute_values.set(":ts", Value::N(Number::from_int(*start_timestamp_ms)));
  } else {
    req.update_expression = "SET #cp = :cp, #sw = :zero, #c = #c + :one" + stamp(req) + " REMOVE #ts";
  }
  req.expression_attribute_values.set(":cp", Value::S(value));
  req.expression_attribute_values.set(":zero", Value::N(Number::from_int(0)));
  req.expression_attribute_values.set(":one", Value::N(Number::from_int(1)));
  owner_condition(req, lease);
  return conditional_update(client_, std::move(req), lease);
}

}  // namespace dynarep::lease
