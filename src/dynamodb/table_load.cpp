#include "dynamodb/table_load.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <map>

#include "dynamodb/client.h"
#include "model/codec.h"

namespace dynarep::dynamodb {

Result<model::KeySchema> key_schema_from_description(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json.data(), json.size()).get(doc)) return invalid_input("table description is not JSON");
  simdjson::dom::array ks, defs;
  if (doc["KeySchema"].get_array().get(ks)) return invalid_input("table description has no KeySchema");
  if (doc["AttributeDefinitions"].get_array().get(defs)) {
    return invalid_input("table description has no AttributeDefinitions");
  }
  // Key attributes are S, N or B; other definitions (an index's, say) cannot be key types.
  std::map<std::string, model::Type, std::less<>> types;
  for (auto d : defs) {
    std::string_view name, type;
    if (d["AttributeName"].get_string().get(name) || d["AttributeType"].get_string().get(type)) continue;
    model::Type t;
    if (model::type_from_tag(type, &t) && (t == model::Type::kS || t == model::Type::kN || t == model::Type::kB)) {
      types[std::string(name)] = t;
    }
  }
  model::KeySchema k;
  for (auto e : ks) {
    std::string_view name, kt;
    if (e["AttributeName"].get_string().get(name) || e["KeyType"].get_string().get(kt) ||
        (kt != "HASH" && kt != "RANGE")) {
      return invalid_input("table description has a malformed KeySchema entry");
    }
    auto it = types.find(name);
    if (it == types.end()) {
      return invalid_input(fmt::format("table description: key attribute {} has no AttributeDefinition", name));
    }
    if (kt == "HASH") {
      k.hash_name = std::string(name);
      k.hash_type = it->second;
    } else {
      k.range_name = std::string(name);
      k.range_type = it->second;
    }
  }
  if (k.hash_name.empty()) return invalid_input("table description has no HASH key");
  return k;
}

bool is_description_line(std::string_view line) {
  if (line.find("\"KeySchema\"") == std::string_view::npos) return false;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(line.data(), line.size()).get(doc)) return false;
  simdjson::dom::array a;
  return !doc["KeySchema"].get_array().get(a);
}

namespace {

void log(const LoadTableOptions& opt, const std::string& line) {
  if (opt.log) opt.log(line);
}

// An existing table: refused under kMustCreate or when its key is not the one the items carry.
Result<LoadTable> check_existing(const TableDescription& existing, const std::optional<model::KeySchema>& wanted,
                                 const LoadTableOptions& opt) {
  if (opt.create == LoadTableOptions::Create::kMustCreate) {
    return invalid_input(fmt::format("table {} already exists{}", opt.display, opt.exists_hint));
  }
  if (wanted && !model::same_key_schema(*wanted, existing.key_schema)) {
    return invalid_input(fmt::format("table {} has key {} but {} has key {}", opt.display,
                                     model::describe_key_schema(existing.key_schema), opt.key_source,
                                     model::describe_key_schema(*wanted)));
  }
  if (opt.create != LoadTableOptions::Create::kNever) {
    log(opt, fmt::format("table {} exists; loading items into it", opt.display));
  }
  return LoadTable{existing.key_schema, false};
}

}  // namespace

Result<LoadTable> prepare_load_table(Client& client, const LoadTableOptions& opt) {
  std::optional<model::KeySchema> wanted = opt.key;
  if (!opt.description.empty()) {
    DR_ASSIGN(model::KeySchema k, key_schema_from_description(opt.description));
    wanted = k;
  }
  auto existing = client.describe_table(opt.table);
  if (existing.ok()) return check_existing(*existing, wanted, opt);
  if (existing.error().kind != ErrorKind::kNotFound) return existing.error();

  if (opt.create == LoadTableOptions::Create::kNever || (opt.description.empty() && !wanted)) {
    return Error(ErrorKind::kNotFound, existing.error().code,
                 fmt::format("table {} does not exist{}", opt.display, opt.missing_hint));
  }
  if (!opt.description.empty()) {
    DR_ASSIGN(std::string request, create_table_request(opt.description, opt.table));
    log(opt, fmt::format("creating table {} from the table description", opt.display));
    DR_TRY(client.create_table(request));
  } else {
    log(opt, fmt::format("creating table {} with key {} (on-demand)", opt.display,
                         model::describe_key_schema(*wanted)));
    DR_TRY(client.create_table(opt.table, *wanted));
  }
  DR_TRY(client.wait_until_active(opt.table));
  // The key as the service reports it, which is what items are checked against.
  DR_ASSIGN(TableDescription created, client.describe_table(opt.table));
  return LoadTable{created.key_schema, true};
}

Result<model::Item> check_load_item(const model::Item& item, const model::KeySchema& schema) {
  auto key = model::extract_key(item, schema);
  if (!key.ok()) {
    // Name what the item has of the key, so it can be found in the input.
    model::Item partial;
    for (const auto* n : {&schema.hash_name, &schema.range_name}) {
      if (const model::Value* v = n->empty() ? nullptr : item.find(*n)) partial.set(*n, *v);
    }
    if (partial.empty()) return key.error();
    return std::move(key).error().with_context(fmt::format("item {}", model::canonical_key_json(partial)));
  }
  std::size_t size = model::item_size(item);
  if (size > model::kMaxItemSize) {
    return invalid_input(fmt::format("item {} is {} bytes, over DynamoDB's 400 KB limit ({} bytes)",
                                     model::canonical_key_json(*key), size, model::kMaxItemSize));
  }
  return key;
}

}  // namespace dynarep::dynamodb
