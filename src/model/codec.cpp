#include "model/codec.h"

#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <tuple>
#include <vector>

#include "core/json_writer.h"
#include "model/detail/access.h"
#include "crypto/base64.h"
#include "model/detail/decimal.h"
#include "model/detail/json_escape.h"
#include "model/detail/json_reader.h"
#include "model/detail/path.h"

namespace dynarep::model {
namespace {

using detail::PathFrame;
using simdjson::dom::element;
using simdjson::dom::element_type;

const char* json_type_name(element_type t) {
  switch (t) {
    case element_type::ARRAY: return "array";
    case element_type::OBJECT: return "object";
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE: return "number";
    case element_type::STRING: return "string";
    case element_type::BOOL: return "boolean";
    case element_type::NULL_VALUE: return "null";
  }
  return "?";
}

// Duplicate detection runs for every map and set parsed, so it works on fixed-size signatures
// (length, first 8 and last 8 bytes: the whole text for up to 16 bytes) and looks at the bytes
// only when signatures match. Up to kPairwiseLimit members compare every pair; above, sort.
constexpr size_t kPairwiseLimit = 16;

struct Signature {  // no member initializers: arrays of these are not zero-filled
  uint64_t head;
  uint64_t tail;
  size_t len;
  size_t index;
  bool operator<(const Signature& o) const {
    return std::tie(len, head, tail) < std::tie(o.len, o.head, o.tail);
  }
  bool same(const Signature& o) const { return len == o.len && head == o.head && tail == o.tail; }
};

inline Signature signature(std::string_view s, size_t index) {
  Signature g{0, 0, s.size(), index};
  if (s.size() >= 8) {
    std::memcpy(&g.head, s.data(), 8);
    std::memcpy(&g.tail, s.data() + s.size() - 8, 8);
  } else if (!s.empty()) {
    std::memcpy(&g.head, s.data(), s.size());
  }
  return g;
}

// The index of a member equal to an earlier one, or -1. `view(i)` gives member i's bytes.
template <class View>
long find_duplicate(size_t n, View view) {
  if (n < 2) return -1;
  auto equal = [&](const Signature& a, const Signature& b) {
    return a.same(b) && (a.len <= 16 || view(a.index) == view(b.index));
  };
  if (n <= kPairwiseLimit) {
    Signature sigs[kPairwiseLimit];
    for (size_t i = 0; i < n; ++i) {
      sigs[i] = signature(view(i), i);
      for (size_t j = 0; j < i; ++j) {
        if (equal(sigs[j], sigs[i])) return static_cast<long>(i);
      }
    }
    return -1;
  }
  // Sort by signature, then (for long members) by the bytes, then by position: equal members
  // end up adjacent with the earliest first, in O(n log n) even when many share a signature.
  thread_local std::vector<Signature> sigs;
  sigs.clear();
  for (size_t i = 0; i < n; ++i) sigs.push_back(signature(view(i), i));
  std::sort(sigs.begin(), sigs.end(), [&](const Signature& a, const Signature& b) {
    if (!a.same(b)) return a < b;
    if (a.len > 16) {
      const int c = view(a.index).compare(view(b.index));
      if (c != 0) return c < 0;
    }
    return a.index < b.index;
  });
  long found = -1;
  for (size_t i = 1; i < n; ++i) {
    if (equal(sigs[i - 1], sigs[i])) {
      const long later = static_cast<long>(sigs[i].index);  // the run's second-earliest
      if (found < 0 || later < found) found = later;
    }
  }
  return found;
}

// DynamoDB JSON -> Value, from simdjson's DOM. Errors are kept in the decoder and the
// functions return false, so the success path carries no Error objects around.
class WireDecoder {
 public:
  bool item(element el, Map* out) {
    if (el.type() != element_type::OBJECT) {
      error_ = invalid_input(std::string("item must be a JSON object, got ") + json_type_name(el.type()));
      return false;
    }
    return members(el.get_object().value_unsafe(), nullptr, 1, out);
  }

  bool value(element el, const PathFrame* path, int level, Value* out) {
    if (level > kMaxNestingLevels) return fail(path, "nesting deeper than 32 levels");
    if (el.type() != element_type::OBJECT) {
      return fail(path, std::string("expected an attribute value object such as {\"S\":\"...\"}, got ") +
                            json_type_name(el.type()));
    }
    const simdjson::dom::object obj = el.get_object().value_unsafe();
    auto it = obj.begin();
    // size() reads the member count simdjson stored; no walk over the members.
    if (obj.size() != 1) {
      if (it == obj.end()) return fail(path, "empty attribute value: expected exactly one type tag");
      const std::string_view first_tag = it.key();
      ++it;
      return fail(path, "more than one type tag (" + detail::quote_for_message(first_tag) + ", " +
                            detail::quote_for_message(it.key()) + ")");
    }
    const std::string_view tag = it.key();
    const element v = it.value();
    Type type;
    if (!type_from_tag(tag, &type)) return fail(path, "unknown type tag " + detail::quote_for_message(tag));
    auto& st = ValueAccess::storage(*out);
    std::string_view sv;
    switch (type) {
      case Type::kS:
        if (v.get_string().get(sv) != simdjson::SUCCESS) return wrong_json(path, tag, v, "a string");
        st.emplace<0>(sv);
        return true;
      case Type::kN: {
        if (v.get_string().get(sv) != simdjson::SUCCESS) return wrong_json(path, tag, v, "a string");
        if (!number_ok(path, sv, nullptr)) return false;
        st.emplace<1>(ValueAccess::trusted(), sv);
        return true;
      }
      case Type::kB: {
        if (v.get_string().get(sv) != simdjson::SUCCESS) return wrong_json(path, tag, v, "a string");
        return base64(path, sv, &st.emplace<2>(), "binary value");
      }
      case Type::kSS: return string_set(path, tag, v, &st.emplace<3>());
      case Type::kNS: return number_set(path, tag, v, &st.emplace<4>());
      case Type::kBS: return binary_set(path, tag, v, &st.emplace<5>());
      case Type::kM: {
        if (v.type() != element_type::OBJECT) return wrong_json(path, tag, v, "an object");
        return members(v.get_object().value_unsafe(), path, level + 1, &st.emplace<6>());
      }
      case Type::kL: {
        if (v.type() != element_type::ARRAY) return wrong_json(path, tag, v, "an array");
        const simdjson::dom::array arr = v.get_array().value_unsafe();
        auto& list = st.emplace<7>();
        list.resize(arr.size());
        size_t i = 0;
        for (element e : arr) {
          const PathFrame frame{path, {}, i, true};
          if (!value(e, &frame, level + 1, &list[i])) return false;
          ++i;
        }
        return true;
      }
      case Type::kNull: {
        bool b = false;
        if (v.get_bool().get(b) != simdjson::SUCCESS || !b) {
          return fail(path, std::string("NULL must be true, got ") +
                                (v.type() == element_type::BOOL ? "false" : json_type_name(v.type())));
        }
        st.emplace<8>();
        return true;
      }
      case Type::kBool: {
        bool b = false;
        if (v.get_bool().get(b) != simdjson::SUCCESS) return wrong_json(path, tag, v, "true or false");
        st.emplace<9>(b);
        return true;
      }
    }
    return fail(path, "unknown type");
  }

  Error take_error() { return std::move(error_); }

 private:
  bool fail(const PathFrame* path, std::string message) {
    error_ = detail::attribute_error(path, std::move(message));
    return false;
  }

  bool wrong_json(const PathFrame* path, std::string_view tag, element v, const char* wanted) {
    return fail(path, std::string(tag) + " must be " + wanted + ", got " + json_type_name(v.type()));
  }

  // Object members -> map entries at `level`, then a check that names are unique.
  bool members(simdjson::dom::object obj, const PathFrame* parent, int level, Map* out) {
    auto& entries = MapAccess::entries(*out);
    entries.clear();
    entries.reserve(obj.size());
    for (const simdjson::dom::key_value_pair field : obj) {
      entries.emplace_back(std::piecewise_construct, std::forward_as_tuple(field.key), std::forward_as_tuple());
      const PathFrame frame{parent, field.key, 0, false};
      if (!value(field.value, &frame, level, &entries.back().second)) return false;
    }
    const long dup = find_duplicate(entries.size(), [&](size_t i) -> std::string_view { return entries[i].first; });
    if (dup >= 0) {
      const PathFrame frame{parent, entries[static_cast<size_t>(dup)].first, 0, false};
      return fail(&frame, "attribute name appears more than once");
    }
    return true;
  }

  bool number_ok(const PathFrame* path, std::string_view text, detail::Decimal* out) {
    detail::Decimal scratch;
    if (detail::decompose(text, out != nullptr ? out : &scratch) == detail::DecimalError::kNone) return true;
    return fail(path, Number::parse(text).error().message);
  }

  bool base64(const PathFrame* path, std::string_view text, std::string* out, const char* what) {
    size_t where = 0;
    const auto e = crypto::base64_decode(text, out, &where);
    if (e == crypto::Base64Error::kNone) return true;
    return fail(path, std::string(what) + " is not valid base64 (" + crypto::describe(e) + " at offset " +
                          std::to_string(where) + "): " + detail::quote_for_message(text));
  }

  // The elements of a set's array: must be a non-empty array of strings.
  bool set_array(const PathFrame* path, std::string_view tag, element v, const char* what,
                 simdjson::dom::array* arr) {
    if (v.type() != element_type::ARRAY) return wrong_json(path, tag, v, "an array");
    *arr = v.get_array().value_unsafe();
    if (arr->size() == 0) return fail(path, std::string(what) + " is empty (DynamoDB rejects empty sets)");
    return true;
  }

  bool member_string(const PathFrame* path, element e, size_t i, const char* what, std::string_view* sv) {
    if (e.get_string().get(*sv) == simdjson::SUCCESS) return true;
    return fail(path, std::string(what) + " member " + std::to_string(i) + " must be a string, got " +
                          json_type_name(e.type()));
  }

  bool string_set(const PathFrame* path, std::string_view tag, element v, std::vector<std::string>* out) {
    simdjson::dom::array arr;
    if (!set_array(path, tag, v, "string set", &arr)) return false;
    out->reserve(arr.size());
    size_t i = 0;
    for (element e : arr) {
      std::string_view sv;
      if (!member_string(path, e, i++, "string set", &sv)) return false;
      out->emplace_back(sv);
    }
    const long dup = find_duplicate(out->size(), [&](size_t k) -> std::string_view { return (*out)[k]; });
    if (dup >= 0) {
      return fail(path, "string set has duplicate member " + detail::quote_for_message((*out)[static_cast<size_t>(dup)]));
    }
    return true;
  }

  bool binary_set(const PathFrame* path, std::string_view tag, element v, std::vector<std::string>* out) {
    simdjson::dom::array arr;
    if (!set_array(path, tag, v, "binary set", &arr)) return false;
    out->resize(arr.size());
    size_t i = 0;
    for (element e : arr) {
      std::string_view sv;
      if (!member_string(path, e, i, "binary set", &sv)) return false;
      const std::string what = "binary set member " + std::to_string(i);
      if (!base64(path, sv, &(*out)[i], what.c_str())) return false;
      ++i;
    }
    const long dup = find_duplicate(out->size(), [&](size_t k) -> std::string_view { return (*out)[k]; });
    if (dup >= 0) {
      std::string b64;
      crypto::base64_append(b64, (*out)[static_cast<size_t>(dup)]);
      return fail(path, "binary set has duplicate member " + detail::quote_for_message(b64));
    }
    return true;
  }

  bool number_set(const PathFrame* path, std::string_view tag, element v, std::vector<Number>* out) {
    simdjson::dom::array arr;
    if (!set_array(path, tag, v, "number set", &arr)) return false;
    thread_local std::vector<std::string> canon;  // members' canonical texts, for duplicates
    canon.resize(arr.size());
    out->reserve(arr.size());
    size_t i = 0;
    for (element e : arr) {
      std::string_view sv;
      if (!member_string(path, e, i, "number set", &sv)) return false;
      detail::Decimal d;
      if (!number_ok(path, sv, &d)) return false;
      canon[i].clear();
      detail::append_canonical(canon[i], d);
      out->emplace_back(ValueAccess::trusted(), sv);
      ++i;
    }
    const long dup = find_duplicate(out->size(), [&](size_t k) -> std::string_view { return canon[k]; });
    if (dup >= 0) {
      return fail(path, "number set has duplicate member " +
                            detail::quote_for_message((*out)[static_cast<size_t>(dup)].text()) +
                            " (numbers compare by value)");
    }
    return true;
  }

  Error error_;
};

// The first number token (document order) that simdjson refuses on its own, e.g. 1e999.
const detail::JsonNode* first_unparsable_number(const detail::JsonNode& node, simdjson::dom::parser& probe) {
  using Kind = detail::JsonNode::Kind;
  if (node.kind == Kind::kNumber) {
    simdjson::dom::element ignored;
    return probe.parse(node.text).get(ignored) != simdjson::SUCCESS ? &node : nullptr;
  }
  for (const auto& e : node.elements) {
    if (const auto* hit = first_unparsable_number(e, probe)) return hit;
  }
  for (const auto& m : node.members) {
    if (const auto* hit = first_unparsable_number(m.second, probe)) return hit;
  }
  return nullptr;
}

// simdjson says only what kind of error it met; our own reader says where.
Error syntax_error(std::string_view json, simdjson::error_code code) {
  detail::JsonNode root;
  detail::JsonSyntaxError where;
  if (!detail::parse_json(json, &root, &where)) {
    return invalid_input("malformed JSON at byte " + std::to_string(where.offset) + ": " + where.reason);
  }
  // Valid JSON that simdjson refused: a bare number beyond its range. DynamoDB JSON carries
  // numbers as strings, so a bare number is wrong wherever it is.
  simdjson::dom::parser probe;
  if (const auto* number = first_unparsable_number(root, probe)) {
    return invalid_input("malformed JSON at byte " + std::to_string(number->offset) + ": bare number " +
                         detail::quote_for_message(number->text) +
                         " out of range (DynamoDB JSON writes numbers as strings: {\"N\":\"...\"})");
  }
  return invalid_input(std::string("malformed JSON: ") + simdjson::error_message(code));
}

// ------------------------------------------------------------------------------ writing

// Appends a literal with its length known at compile time (no strlen).
template <size_t N>
inline void put(std::string& out, const char (&literal)[N]) {
  out.append(literal, N - 1);
}

void append_string_array(std::string& out, const std::vector<std::string>& members) {
  out += '[';
  bool first = true;
  for (const auto& m : members) {
    if (!first) out += ',';
    first = false;
    append_json_string(out, m);
  }
  out += ']';
}

void append_map_json(std::string& out, const Map& map) {
  out += '{';
  bool first = true;
  for (const auto& [name, value] : map) {
    if (!first) out += ',';
    first = false;
    append_json_string(out, name);
    out += ':';
    append_value_json(out, value);
  }
  out += '}';
}

// ---------------------------------------------------------------------------- plain JSON

Result<Value> plain_value(const detail::JsonNode& node, const PathFrame* path, int level);

Status plain_members(const detail::JsonNode& node, const PathFrame* parent, int level, Map* out) {
  auto& entries = MapAccess::entries(*out);
  entries.reserve(node.members.size());
  for (const auto& [name, child] : node.members) {
    const PathFrame frame{parent, name, 0, false};
    DR_ASSIGN(Value v, plain_value(child, &frame, level));
    entries.emplace_back(name, std::move(v));
  }
  const long dup = find_duplicate(entries.size(), [&](size_t i) -> std::string_view { return entries[i].first; });
  if (dup >= 0) {
    const PathFrame frame{parent, entries[static_cast<size_t>(dup)].first, 0, false};
    return detail::attribute_error(&frame, "attribute name appears more than once");
  }
  return {};
}

Result<Value> plain_value(const detail::JsonNode& node, const PathFrame* path, int level) {
  using Kind = detail::JsonNode::Kind;
  if (level > kMaxNestingLevels) return detail::attribute_error(path, "nesting deeper than 32 levels");
  switch (node.kind) {
    case Kind::kNull: return Value::Null();
    case Kind::kBool: return Value::Bool(node.boolean);
    case Kind::kString: return Value::S(node.text);
    case Kind::kNumber: {
      auto n = Number::parse(node.text);
      if (!n.ok()) return detail::attribute_error(path, n.error().message);
      return Value::N(std::move(n).value());
    }
    case Kind::kArray: {
      std::vector<Value> list;
      list.reserve(node.elements.size());
      for (size_t i = 0; i < node.elements.size(); ++i) {
        const PathFrame frame{path, {}, i, true};
        DR_ASSIGN(Value v, plain_value(node.elements[i], &frame, level + 1));
        list.push_back(std::move(v));
      }
      return Value::L(std::move(list));
    }
    case Kind::kObject: {
      Map m;
      DR_TRY(plain_members(node, path, level + 1, &m));
      return Value::M(std::move(m));
    }
  }
  return detail::attribute_error(path, "unknown JSON value");
}

Result<detail::JsonNode> read_json_object(std::string_view json, const char* what) {
  detail::JsonNode root;
  detail::JsonSyntaxError where;
  if (!detail::parse_json(json, &root, &where)) {
    return invalid_input("malformed JSON at byte " + std::to_string(where.offset) + ": " + where.reason);
  }
  if (root.kind != detail::JsonNode::Kind::kObject) {
    return invalid_input(std::string(what) + " must be a JSON object, got " + detail::kind_name(root.kind));
  }
  return root;
}

Result<Item> item_from_plain_node(const detail::JsonNode& root) {
  Item item;
  DR_TRY(plain_members(root, nullptr, 1, &item));
  return item;
}

}  // namespace

// ---------------------------------------------------------------------------------- API

ItemParser::ItemParser() : parser_(std::make_unique<simdjson::dom::parser>()) {}
ItemParser::~ItemParser() = default;
ItemParser::ItemParser(ItemParser&&) noexcept = default;
ItemParser& ItemParser::operator=(ItemParser&&) noexcept = default;

Status ItemParser::parse_into(std::string_view line, Item* out) {
  element doc;
  const auto code = parser_->parse(line.data(), line.size()).get(doc);
  if (code != simdjson::SUCCESS) return syntax_error(line, code);
  WireDecoder decoder;
  if (!decoder.item(doc, out)) return decoder.take_error();
  return {};
}

Result<Item> ItemParser::parse(std::string_view line) {
  Item item;
  DR_TRY(parse_into(line, &item));
  return item;
}

Result<Item> parse_item(std::string_view json) {
  thread_local ItemParser parser;
  return parser.parse(json);
}

Result<Item> parse_item(element el) {
  Item item;
  WireDecoder decoder;
  if (!decoder.item(el, &item)) return decoder.take_error();
  return item;
}

Result<Value> parse_value(element el) {
  Value v;
  WireDecoder decoder;
  if (!decoder.value(el, nullptr, 1, &v)) return decoder.take_error();
  return v;
}

void append_value_json(std::string& out, const Value& value) {
  switch (value.type()) {
    case Type::kS:
      put(out, "{\"S\":");
      append_json_string(out, value.as_s());
      out += '}';
      return;
    case Type::kN:
      // A valid number's text is digits, sign, '.', 'e'/'E': nothing to escape.
      put(out, "{\"N\":\"");
      out += value.as_n().text();
      put(out, "\"}");
      return;
    case Type::kB:
      put(out, "{\"B\":\"");
      crypto::base64_append(out, value.as_b());
      put(out, "\"}");
      return;
    case Type::kSS:
      put(out, "{\"SS\":");
      append_string_array(out, value.as_ss());
      out += '}';
      return;
    case Type::kNS: {
      put(out, "{\"NS\":[");
      bool first = true;
      for (const auto& n : value.as_ns()) {
        if (!first) out += ',';
        first = false;
        out += '"';
        out += n.text();
        out += '"';
      }
      put(out, "]}");
      return;
    }
    case Type::kBS: {
      put(out, "{\"BS\":[");
      bool first = true;
      for (const auto& b : value.as_bs()) {
        if (!first) out += ',';
        first = false;
        out += '"';
        crypto::base64_append(out, b);
        out += '"';
      }
      put(out, "]}");
      return;
    }
    case Type::kM:
      put(out, "{\"M\":");
      append_map_json(out, value.as_m());
      out += '}';
      return;
    case Type::kL: {
      put(out, "{\"L\":[");
      bool first = true;
      for (const auto& e : value.as_l()) {
        if (!first) out += ',';
        first = false;
        append_value_json(out, e);
      }
      put(out, "]}");
      return;
    }
    case Type::kNull:
      put(out, "{\"NULL\":true}");
      return;
    case Type::kBool:
      if (value.as_bool()) {
        put(out, "{\"BOOL\":true}");
      } else {
        put(out, "{\"BOOL\":false}");
      }
      return;
  }
}

void append_item_json(std::string& out, const Item& item) { append_map_json(out, item); }

std::string to_json(const Item& item) {
  std::string out;
  out.reserve(256);
  append_item_json(out, item);
  return out;
}

std::string to_json(const Value& value) {
  std::string out;
  append_value_json(out, value);
  return out;
}

Result<Item> item_from_plain_json(std::string_view json) {
  DR_ASSIGN(detail::JsonNode root, read_json_object(json, "item"));
  return item_from_plain_node(root);
}

Result<Item> parse_key_arg(std::string_view json) {
  DR_ASSIGN(detail::JsonNode root, read_json_object(json, "key"));
  bool wire = true;
  for (const auto& [name, child] : root.members) {
    Type ignored;
    if (child.kind != detail::JsonNode::Kind::kObject || child.members.size() != 1 ||
        !type_from_tag(child.members.front().first, &ignored)) {
      wire = false;
      break;
    }
  }
  if (wire) return parse_item(json);
  return item_from_plain_node(root);
}

}  // namespace dynarep::model
