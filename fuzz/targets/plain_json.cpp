// Plain JSON items and command-line keys (model::item_from_plain_json, parse_key_arg), and the
// small JSON reader under them (model/detail/json_reader.h).
//
// Properties: failures are clean kInvalidInput errors; what parses is a valid item
// (validate_item) whose wire JSON parses back to an equal item; parse_key_arg on a document
// that item_from_plain_json read as plain gives the same item unless the document has the
// wire shape; the reader accepts no document that simdjson rejects, except numbers beyond
// a double's range (plain keys keep number text on purpose) and simdjson's own depth limit.
#include <simdjson.h>

#include "common/check.h"
#include "model/codec.h"
#include "model/detail/json_reader.h"
#include "model/item.h"
#include "targets/targets.h"

namespace dynarep::fuzz {
namespace {

void check_item(const Result<model::Item>& r, const char* what) {
  if (!r.ok()) {
    FUZZ_CHECK(r.error().kind == ErrorKind::kInvalidInput, std::string(what) + ": error is not kInvalidInput: " +
                                                               r.error().describe());
    FUZZ_CHECK(!r.error().message.empty(), std::string(what) + ": error without a message");
    return;
  }
  const model::Item& item = *r;
  if (model::item_size(item) <= model::kMaxItemSize) {
    Status v = model::validate_item(item);
    FUZZ_CHECK(v.ok(), std::string(what) + " built an item validate_item rejects: " + v.error().describe());
  }
  const std::string json = model::to_json(item);
  auto back = model::parse_item(json);
  FUZZ_CHECK(back.ok(), std::string(what) + ": wire JSON does not parse: " + printable(json) + ": " +
                            back.error().describe());
  FUZZ_CHECK(*back == item, std::string(what) + ": wire JSON is another item: " + printable(json));
}

// True when every top-level value is an object with exactly one member named by a type tag.
bool wire_shaped(const model::detail::JsonNode& root) {
  for (const auto& [name, child] : root.members) {
    model::Type t;
    if (child.kind != model::detail::JsonNode::Kind::kObject || child.members.size() != 1 ||
        !model::type_from_tag(child.members.front().first, &t)) {
      return false;
    }
  }
  return true;
}

}  // namespace

void plain_json(std::string_view data) {
  auto plain = model::item_from_plain_json(data);
  check_item(plain, "item_from_plain_json");
  auto key = model::parse_key_arg(data);
  check_item(key, "parse_key_arg");

  model::detail::JsonNode root;
  model::detail::JsonSyntaxError where;
  const bool ours = model::detail::parse_json(data, &root, &where);
  if (!ours) {
    FUZZ_CHECK(where.offset <= data.size(), "syntax error offset past the end");
    FUZZ_CHECK(!where.reason.empty(), "syntax error without a reason");
    FUZZ_CHECK(!plain.ok() && !key.ok(), "the reader rejects what the codec accepted");
  } else {
    simdjson::dom::parser parser;
    simdjson::dom::element el;
    const auto code = parser.parse(data.data(), data.size(), true).get(el);
    FUZZ_CHECK(code == simdjson::SUCCESS || code == simdjson::NUMBER_ERROR || code == simdjson::DEPTH_ERROR ||
                   code == simdjson::NUMBER_OUT_OF_RANGE,
               std::string("the JSON reader accepts a document simdjson rejects: ") + simdjson::error_message(code) +
                   ": " + printable(data));
    if (root.kind == model::detail::JsonNode::Kind::kObject && plain.ok() && !wire_shaped(root)) {
      FUZZ_CHECK(key.ok() && *key == *plain, "parse_key_arg read a plain key differently");
    }
  }
}

}  // namespace dynarep::fuzz
