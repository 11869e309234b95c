#include "diff/record_diff.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "core/json_writer.h"
#include "model/codec.h"
#include "model/item.h"

namespace dynarep::diff {
namespace {

using model::Item;
using model::Map;
using model::Type;
using model::Value;
using Diff = AttributeDifference;

bool is_set(Type t) { return t == Type::kSS || t == Type::kNS || t == Type::kBS; }

// Members of a set as (identity, display) pairs: numbers by value, binary as {"B":...}.
std::vector<std::pair<std::string, std::string>> set_members(const Value& v) {
  std::vector<std::pair<std::string, std::string>> out;
  switch (v.type()) {
    case Type::kSS:
      for (const auto& s : v.as_ss()) {
        std::string shown;
        append_json_string(shown, s);
        out.emplace_back(s, shown);
      }
      break;
    case Type::kNS:
      for (const auto& n : v.as_ns()) out.emplace_back(n.canonical(), n.text());
      break;
    case Type::kBS:
      for (const auto& b : v.as_bs()) out.emplace_back(b, model::to_json(Value::B(b)));
      break;
    default: break;
  }
  return out;
}

std::string set_note(const Value& p, const Value& r) {
  auto pm = set_members(p);
  auto rm = set_members(r);
  std::set<std::string> pid, rid;
  for (const auto& m : pm) pid.insert(m.first);
  for (const auto& m : rm) rid.insert(m.first);
  std::vector<std::string> only_p, only_r;
  for (const auto& m : pm) {
    if (rid.count(m.first) == 0) only_p.push_back(m.second);
  }
  for (const auto& m : rm) {
    if (pid.count(m.first) == 0) only_r.push_back(m.second);
  }
  std::string note;
  if (!only_p.empty()) note += fmt::format("only in primary: {}", fmt::join(only_p, ", "));
  if (!only_r.empty()) {
    if (!note.empty()) note += "; ";
    note += fmt::format("only in replica: {}", fmt::join(only_r, ", "));
  }
  return note;
}

void diff_maps(const std::string& prefix, const Map& p, const Map& r, std::vector<Diff>& out);

void diff_values(const std::string& path, const Value& p, const Value& r, std::vector<Diff>& out) {
  if (p == r) return;
  if (p.is(Type::kM) && r.is(Type::kM)) {
    diff_maps(path + ".", p.as_m(), r.as_m(), out);
    return;
  }
  if (p.is(Type::kL) && r.is(Type::kL) && p.as_l().size() == r.as_l().size()) {
    for (size_t i = 0; i < p.as_l().size(); ++i) {
      diff_values(fmt::format("{}[{}]", path, i), p.as_l()[i], r.as_l()[i], out);
    }
    return;
  }
  Diff d{Diff::Kind::kChanged, path, model::to_json(p), model::to_json(r), ""};
  if (p.type() == r.type() && is_set(p.type())) d.note = set_note(p, r);
  out.push_back(std::move(d));
}

void diff_maps(const std::string& prefix, const Map& p, const Map& r, std::vector<Diff>& out) {
  std::set<std::string> names;
  for (const auto& [n, v] : p) names.insert(n);
  for (const auto& [n, v] : r) names.insert(n);
  for (const auto& name : names) {
    const Value* pv = p.find(name);
    const Value* rv = r.find(name);
    std::string path = prefix + name;
    if (pv != nullptr && rv != nullptr) {
      diff_values(path, *pv, *rv, out);
    } else if (pv != nullptr) {
      out.push_back(Diff{Diff::Kind::kOnlyInPrimary, path, model::to_json(*pv), "", ""});
    } else {
      out.push_back(Diff{Diff::Kind::kOnlyInReplica, path, "", model::to_json(*rv), ""});
    }
  }
}

Error usage(std::string message) { return Error(ErrorKind::kInvalidInput, "Usage", std::move(message)); }

}  // namespace

std::vector<AttributeDifference> diff_items(const model::Item& primary, const model::Item& replica) {
  std::vector<Diff> out;
  diff_maps("", primary, replica, out);
  return out;
}

bool RecordComparison::equal() const { return !kind().has_value(); }

std::optional<Kind> RecordComparison::kind() const {
  if (primary && !replica) return Kind::kMissing;
  if (!primary && replica) return Kind::kExtraneous;
  if (primary && replica && !(*primary == *replica)) return Kind::kDifferent;
  return std::nullopt;
}

Result<model::Item> key_for_schema(const model::Item& key, const model::KeySchema& schema) {
  auto k = model::extract_key(key, schema);
  if (!k.ok()) {
    return usage(fmt::format("key {}: {} (the tables' key is {})", model::to_json(key), k.error().message,
                             model::describe_key_schema(schema)));
  }
  if (k->size() != key.size()) {
    return usage(fmt::format("key {} has attributes that are not part of the tables' key {}",
                             model::to_json(key), model::describe_key_schema(schema)));
  }
  return std::move(k).value();
}

Result<RecordComparison> compare_record(const TableRef& primary, const TableRef& replica, const model::Item& key) {
  RecordComparison c;
  c.key = key;
  auto p = primary.client->get_item(primary.table, key, true);
  if (!p.ok()) return Error(p.error()).with_context("primary table " + primary.display);
  auto r = replica.client->get_item(replica.table, key, true);
  if (!r.ok()) return Error(r.error()).with_context("replica table " + replica.display);
  c.primary = std::move(p).value();
  c.replica = std::move(r).value();
  if (c.primary && c.replica) c.differences = diff_items(*c.primary, *c.replica);
  return c;
}

std::string format_comparison(const RecordComparison& c, std::string_view primary_display,
                              std::string_view replica_display) {
  std::string out;
  auto version = [](const std::optional<model::Item>& it) {
    return it ? model::to_json(*it) : std::string("(no item)");
  };
  out += fmt::format("primary {}: {}\n", primary_display, version(c.primary));
  out += fmt::format("replica {}: {}\n", replica_display, version(c.replica));
  const std::string key = model::canonical_key_json(c.key);
  auto kind = c.kind();
  if (!kind) {
    out += c.primary ? fmt::format("✔ equal: the replica's item matches the primary's\n")
                     : fmt::format("✔ equal: neither table has an item with key {}\n", key);
    return out;
  }
  switch (*kind) {
    case Kind::kMissing:
      out += fmt::format("✘ missing: the replica has no item with key {}\n", key);
      break;
    case Kind::kExtraneous:
      out += fmt::format("✘ extraneous: the primary has no item with key {}; the replica has one\n", key);
      break;
    case Kind::kDifferent: {
      out += fmt::format("✘ different: {} attribute{} differ{}\n", c.differences.size(),
                         c.differences.size() == 1 ? "" : "s", c.differences.size() == 1 ? "s" : "");
      for (const auto& d : c.differences) {
        switch (d.kind) {
          case AttributeDifference::Kind::kChanged:
            out += fmt::format("  ~ {}: primary {}, replica {}", d.path, d.primary, d.replica);
            if (!d.note.empty()) out += fmt::format(" ({})", d.note);
            out += "\n";
            break;
          case AttributeDifference::Kind::kOnlyInPrimary:
            out += fmt::format("  - {}: only in primary: {}\n", d.path, d.primary);
            break;
          case AttributeDifference::Kind::kOnlyInReplica:
            out += fmt::format("  + {}: only in replica: {}\n", d.path, d.replica);
            break;
        }
      }
      break;
    }
  }
  return out;
}

Result<ReplicateOutcome> replicate_record(const TableRef& primary, const TableRef& replica, const model::Item& key) {
  ReplicateOutcome o;
  DR_ASSIGN(o.before, compare_record(primary, replica, key));
  if (o.before.equal()) return o;
  if (o.before.primary) {
    auto st = replica.client->put_item(replica.table, *o.before.primary);
    if (!st.ok()) return Error(st.error()).with_context("replica table " + replica.display);
    o.action = ReplicateOutcome::Action::kPut;
  } else {
    auto st = replica.client->delete_item(replica.table, key);
    if (!st.ok()) return Error(st.error()).with_context("replica table " + replica.display);
    o.action = ReplicateOutcome::Action::kDelete;
  }
  return o;
}

}  // namespace dynarep::diff
