// The item codec (model/codec.h) on arbitrary bytes as one line of the line format.
//
// Properties: parse_item, ItemParser and parse_item(dom::element) agree; a failure is a
// kInvalidInput with a message; what parses re-serializes to JSON that parses to an equal
// item and serializes to the same bytes (the writer is lossless); canonical_bytes and
// item_hash are stable and agree with operator== (also for a reordered copy with numbers
// written differently, which must be equal, and for a copy with one more attribute, which
// must not); validate_item accepts what the parser accepted; parse_key_arg reads the wire
// JSON back as the same item; canonical_key_json parses back to an equal item.
#include <simdjson.h>

#include <algorithm>

#include "common/check.h"
#include "model/codec.h"
#include "model/item.h"
#include "targets/targets.h"

namespace dynarep::fuzz {
namespace {

using model::Item;
using model::Map;
using model::Number;
using model::Type;
using model::Value;

Number renumbered(const Number& n) {
  auto c = Number::parse(n.canonical());
  FUZZ_CHECK(c.ok(), "canonical text of number \"" + printable(n.text()) + "\" does not parse: " +
                         printable(c.ok() ? std::string() : c.error().message));
  FUZZ_CHECK(*c == n, "canonical text of \"" + printable(n.text()) + "\" is another value");
  return std::move(c).value();
}

// Equal by docs/formats.md §1, different bytes: maps and sets in reverse order, numbers canonical.
Value permuted(const Value& v) {
  switch (v.type()) {
    case Type::kN: return Value::N(renumbered(v.as_n()));
    case Type::kSS: {
      std::vector<std::string> m(v.as_ss().rbegin(), v.as_ss().rend());
      return Value::SS(std::move(m));
    }
    case Type::kBS: {
      std::vector<std::string> m(v.as_bs().rbegin(), v.as_bs().rend());
      return Value::BS(std::move(m));
    }
    case Type::kNS: {
      std::vector<Number> m;
      for (auto it = v.as_ns().rbegin(); it != v.as_ns().rend(); ++it) m.push_back(renumbered(*it));
      return Value::NS(std::move(m));
    }
    case Type::kM: {
      Map m;
      for (auto it = v.as_m().end(); it != v.as_m().begin();) {
        --it;
        m.set(it->first, permuted(it->second));
      }
      return Value::M(std::move(m));
    }
    case Type::kL: {
      std::vector<Value> l;
      for (const auto& e : v.as_l()) l.push_back(permuted(e));
      return Value::L(std::move(l));
    }
    default: return v;
  }
}

Item permuted_item(const Item& item) {
  Value v = permuted(Value::M(item));
  return v.as_m();
}

std::string message_of(const Status& s) { return s.ok() ? std::string() : s.error().describe(); }

}  // namespace

void item_codec(std::string_view data) {
  thread_local model::ItemParser parser;
  auto a = model::parse_item(data);
  auto b = parser.parse(data);
  FUZZ_CHECK(a.ok() == b.ok(), "parse_item and ItemParser disagree");
  {
    // The DOM entry point (GetItem responses, stream images) must decide the same way.
    simdjson::dom::parser dom;
    simdjson::dom::element el;
    if (dom.parse(data.data(), data.size(), true).get(el) == simdjson::SUCCESS) {
      auto c = model::parse_item(el);
      FUZZ_CHECK(c.ok() == a.ok(), "parse_item(string) and parse_item(element) disagree");
      if (c.ok()) FUZZ_CHECK(*c == *a, "parse_item(element) gave another item");
    } else {
      FUZZ_CHECK(!a.ok(), "parse_item accepted what simdjson refuses");
    }
  }
  if (!a.ok()) {
    FUZZ_CHECK(a.error().kind == ErrorKind::kInvalidInput, "parse error is not kInvalidInput: " + a.error().describe());
    FUZZ_CHECK(!a.error().message.empty(), "parse error without a message");
    FUZZ_CHECK(a.error().message == b.error().message, "parse_item and ItemParser give different errors");
    return;
  }
  const Item& item = *a;
  FUZZ_CHECK(*b == item, "ItemParser gave another item");

  // Round trip: serialize, parse, serialize.
  const std::string json = model::to_json(item);
  auto again = model::parse_item(json);
  FUZZ_CHECK(again.ok(), "serialized item does not parse: " + printable(json) + ": " + again.error().describe());
  FUZZ_CHECK(*again == item, "round trip gave another item: " + printable(json));
  FUZZ_CHECK(model::to_json(*again) == json, "serializing is not stable: " + printable(json));

  // canonical_bytes and the hashes: deterministic and consistent with ==.
  const std::string canon = model::canonical_bytes(item);
  FUZZ_CHECK(model::canonical_bytes(item) == canon, "canonical_bytes is not deterministic");
  FUZZ_CHECK(model::canonical_bytes(*again) == canon, "canonical_bytes changed over a round trip");
  FUZZ_CHECK(model::item_hash(*again) == model::item_hash(item), "item_hash changed over a round trip");

  const Item shuffled = permuted_item(item);
  FUZZ_CHECK(shuffled == item, "reordered copy with canonical numbers is not equal");
  FUZZ_CHECK(model::canonical_bytes(shuffled) == canon, "canonical_bytes differs for an equal item");
  FUZZ_CHECK(model::item_hash(shuffled) == model::item_hash(item), "item_hash differs for an equal item");
  {
    auto back = model::parse_item(model::to_json(shuffled));
    FUZZ_CHECK(back.ok() && *back == item, "reordered copy does not round-trip");
  }
  if (!item.contains("\x01" "fuzz")) {
    Item extra = item;
    extra.set("\x01" "fuzz", Value::Null());
    FUZZ_CHECK(!(extra == item), "an item with one more attribute compares equal");
    FUZZ_CHECK(model::canonical_bytes(extra) != canon, "canonical_bytes ignores an added attribute");
  }

  // What the parser accepted, validate_item accepts (the parser does not check the size).
  if (model::item_size(item) <= model::kMaxItemSize) {
    Status v = model::validate_item(item);
    FUZZ_CHECK(v.ok(), "validate_item rejects a parsed item: " + message_of(v));
  }

  // A key typed on the command line in wire format reads as the same item.
  auto key = model::parse_key_arg(json);
  FUZZ_CHECK(key.ok(), "parse_key_arg rejects wire JSON: " + printable(json) + ": " + key.error().describe());
  FUZZ_CHECK(*key == item, "parse_key_arg read wire JSON as another item: " + printable(json));

  // The sorted form that names S3 objects and partition keys is the same item.
  const std::string sorted = model::canonical_key_json(item);
  auto from_sorted = model::parse_item(sorted);
  FUZZ_CHECK(from_sorted.ok(), "canonical_key_json does not parse: " + printable(sorted));
  FUZZ_CHECK(*from_sorted == item, "canonical_key_json is another item");
  FUZZ_CHECK(model::canonical_key_json(*from_sorted) == sorted, "canonical_key_json is not stable");
  (void)model::key_hash(item);
}

}  // namespace dynarep::fuzz
