#include "dynamodb/client.h"

#include <fmt/format.h>
#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <tuple>

#include "aws/credentials.h"
#include "core/json_writer.h"
#include "dynamodb/detail/batch_backoff.h"
#include "dynamodb/table_load.h"

namespace dynarep::dynamodb {
namespace {

constexpr std::string_view kTargetPrefix = "DynamoDB_20120810.";
constexpr std::string_view kJsonVersion = "1.0";

// One parser per thread: simdjson parsers are reusable and not thread-safe.
simdjson::dom::parser& thread_parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

Error malformed_response(std::string_view operation, std::string_view what) {
  return Error(ErrorKind::kTransient, "MalformedResponse",
               fmt::format("{} response is not what DynamoDB sends: {}", operation, what));
}

Result<simdjson::dom::element> parse_response(std::string_view operation, const std::string& body) {
  auto doc = thread_parser().parse(body);
  if (doc.error()) return malformed_response(operation, simdjson::error_message(doc.error()));
  return doc.value();
}

std::string key_context(const std::string& table, const Item& key) {
  return fmt::format("table {} key {}", table, model::canonical_key_json(key));
}

// A short form of an item for error messages: its first few attributes' JSON, bounded.
std::string item_summary(const Item& item) {
  std::string json = model::to_json(item);
  if (json.size() > 160) json = json.substr(0, 157) + "...";
  return json;
}

// ---- which updates may be resent ------------------------------------------------------------
// An UpdateItem is resent after a lost answer only when applying it twice leaves the item as
// applying it once would (idempotency is per operation, not per HTTP verb). The
// expression is taken apart just enough to decide that; whatever does not parse as expected
// counts as not idempotent (sent once: the safe side).

std::string upper_case(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return out;
}

bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }
bool path_char(char c) { return word_char(c) || c == '#' || c == '.' || c == '[' || c == ']'; }

struct UpdateAction {
  std::string clause;  // SET, REMOVE, ADD, DELETE
  std::string text;    // one action of it: "#a = :v", "#l[0]", "#n :one"
};

// Splits at the clause keywords (reserved words: never bare attribute names) and, within a
// clause, at commas outside parentheses.
std::vector<UpdateAction> split_update(std::string_view expr) {
  std::vector<UpdateAction> out;
  std::string clause, current;
  int depth = 0;
  auto flush = [&] {
    const auto first = current.find_first_not_of(' ');
    if (first != std::string::npos) out.push_back({clause, current.substr(first)});
    current.clear();
  };
  for (size_t i = 0; i < expr.size();) {
    const char c = expr[i];
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (depth == 0 && c == ',') {
      flush();
      ++i;
      continue;
    }
    const bool word_start = std::isalpha(static_cast<unsigned char>(c)) != 0 && (i == 0 || !path_char(expr[i - 1])) &&
                            (i == 0 || expr[i - 1] != ':');
    if (depth == 0 && word_start) {
      size_t j = i;
      while (j < expr.size() && word_char(expr[j])) ++j;
      const std::string word = upper_case(expr.substr(i, j - i));
      if (word == "SET" || word == "REMOVE" || word == "ADD" || word == "DELETE") {
        flush();
        clause = word;
      } else {
        current.append(expr.substr(i, j - i));
      }
      i = j;
      continue;
    }
    current += (c == '\t' || c == '\n' || c == '\r') ? ' ' : c;
    ++i;
  }
  flush();
  return out;
}

// The document paths a fragment names, placeholders resolved ("#a.b[2]" -> "name.b[2]");
// values (":v") and function names are not paths.
std::vector<std::string> paths_in(std::string_view text, const std::vector<std::pair<std::string, std::string>>& names) {
  std::vector<std::string> out;
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (c == ':') {
      ++i;
      while (i < text.size() && word_char(text[i])) ++i;
      continue;
    }
    if (c != '#' && std::isalpha(static_cast<unsigned char>(c)) == 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < text.size() && path_char(text[j])) ++j;
    size_t k = j;
    while (k < text.size() && text[k] == ' ') ++k;
    const std::string_view token = text.substr(i, j - i);
    i = j;
    if (k < text.size() && text[k] == '(') continue;  // a function: if_not_exists, list_append
    std::string path;
    for (size_t p = 0; p < token.size();) {
      if (token[p] != '#') {
        path += token[p++];
        continue;
      }
      size_t q = p + 1;
      while (q < token.size() && word_char(token[q])) ++q;
      const std::string_view placeholder = token.substr(p, q - p);
      auto it = std::find_if(names.begin(), names.end(), [&](const auto& n) { return n.first == placeholder; });
      path += it != names.end() ? it->second : std::string(placeholder);
      p = q;
    }
    out.push_back(std::move(path));
  }
  return out;
}

// a and b name the same data or one lies inside the other ("m" and "m.x", "l" and "l[1]").
bool paths_overlap(std::string_view a, std::string_view b) {
  if (a.size() > b.size()) std::swap(a, b);
  return b.substr(0, a.size()) == a && (b.size() == a.size() || b[a.size()] == '.' || b[a.size()] == '[');
}

}  // namespace

bool update_is_idempotent(const UpdateRequest& request) {
  const auto actions = split_update(request.update_expression);
  if (actions.empty()) return false;
  std::vector<std::string> target(actions.size());             // the path each action changes
  std::vector<std::vector<std::string>> reads(actions.size());  // paths a SET's value reads
  for (size_t i = 0; i < actions.size(); ++i) {
    const auto& [clause, text] = actions[i];
    if (clause == "SET") {
      const auto eq = text.find('=');
      if (eq == std::string::npos) return false;
      auto lhs = paths_in(std::string_view(text).substr(0, eq), request.expression_attribute_names);
      if (lhs.size() != 1) return false;
      target[i] = std::move(lhs.front());
      // SET of a list element past the end of the list appends it: twice appends twice.
      if (target[i].find('[') != std::string::npos) return false;
      const std::string_view value = std::string_view(text).substr(eq + 1);
      // Arithmetic (also inside if_not_exists(...) + :n) and list_append change the value
      // again at every application; if_not_exists alone does not (the second finds it set).
      if (value.find_first_of("+-") != std::string_view::npos) return false;
      if (upper_case(value).find("LIST_APPEND") != std::string::npos) return false;
      reads[i] = paths_in(value, request.expression_attribute_names);
    } else {
      const std::string_view t(text);
      auto paths = paths_in(t, request.expression_attribute_names);
      if (paths.size() != 1) return false;
      target[i] = std::move(paths.front());
      if (clause == "REMOVE") {
        // Removing a list element shifts the rest down: a second REMOVE #l[0] takes the next.
        // Removing an attribute or a map entry twice leaves it just as absent.
        if (target[i].find('[') != std::string::npos) return false;
      } else if (clause == "ADD") {
        // ADD to a number adds again; ADD of set elements is a union, the same twice.
        const auto colon = t.find(':');
        if (colon == std::string_view::npos) return false;
        size_t end = colon + 1;
        while (end < t.size() && word_char(t[end])) ++end;
        const model::Value* v = request.expression_attribute_values.find(t.substr(colon, end - colon));
        if (v == nullptr) return false;
        const auto type = v->type();
        if (type != model::Type::kSS && type != model::Type::kNS && type != model::Type::kBS) return false;
      } else if (clause != "DELETE") {  // DELETE removes set elements: absent twice is absent once
        return false;
      }
    }
  }
  // A value read from what the same expression changes differs at the second application
  // ("SET #a = #b, #b = :v": a gets the old b first, then :v; "SET #a = #a.x" digs deeper each
  // time). Reading the path one sets ("SET #a = if_not_exists(#a, :v)") is fine.
  for (size_t i = 0; i < actions.size(); ++i) {
    for (const auto& r : reads[i]) {
      for (size_t j = 0; j < actions.size(); ++j) {
        if (i == j && r == target[j]) continue;
        if (paths_overlap(r, target[j])) return false;
      }
    }
  }
  return true;
}

namespace {

void write_item(JsonWriter& w, const Item& item) {
  std::string json;
  model::append_item_json(json, item);
  w.raw(json);
}

void write_names(JsonWriter& w, const std::vector<std::pair<std::string, std::string>>& names) {
  if (names.empty()) return;
  w.key("ExpressionAttributeNames").begin_object();
  for (const auto& [k, v] : names) w.field(k, v);
  w.end_object();
}

// The capacity a call consumed: ConsumedCapacity is an object for single-table calls, a list for
// batch calls; each entry has the kind asked for (`ReadCapacityUnits` / `WriteCapacityUnits`)
// or, where the service does not split them, `CapacityUnits`.
double consumed_units(simdjson::dom::element root, const char* kind) {
  double total = 0;
  auto cc = root["ConsumedCapacity"];
  if (cc.error()) return 0;
  auto add = [&](simdjson::dom::element e) {
    double v = 0;
    if (!e[kind].get(v)) {
      total += v;
    } else if (!e["CapacityUnits"].get(v)) {
      total += v;
    }
  };
  simdjson::dom::array arr;
  if (!cc.get(arr)) {
    for (auto e : arr) add(e);
  } else {
    add(cc.value());
  }
  return total;
}

double read_units(simdjson::dom::element root) { return consumed_units(root, "ReadCapacityUnits"); }
double write_units(simdjson::dom::element root) { return consumed_units(root, "WriteCapacityUnits"); }

Result<TableDescription> parse_table(simdjson::dom::element table) {
  TableDescription d;
  std::string_view sv;
  if (table["TableName"].get(sv)) return malformed_response("DescribeTable", "no TableName");
  d.name = std::string(sv);
  if (!table["TableStatus"].get(sv)) d.status = std::string(sv);
  if (!table["TableArn"].get(sv)) d.arn = std::string(sv);
  if (!table["LatestStreamArn"].get(sv)) d.latest_stream_arn = std::string(sv);
  bool enabled = false;
  if (!table["StreamSpecification"]["StreamEnabled"].get(enabled)) d.stream_enabled = enabled;
  if (d.stream_enabled && !table["StreamSpecification"]["StreamViewType"].get(sv)) d.stream_view_type = std::string(sv);
  int64_t n = 0;
  if (!table["ItemCount"].get(n)) d.item_count = n;
  if (!table["TableSizeBytes"].get(n)) d.size_bytes = n;
  simdjson::dom::element billing;
  if (!table["BillingModeSummary"]["BillingMode"].get(sv)) {
    d.billing_mode = std::string(sv);
  } else {
    d.billing_mode = "PROVISIONED";
  }
  d.raw = simdjson::minify(table);
  // The key schema is read by the one parser of table descriptions (table_load.h), the same
  // that reads export and backup description lines. DescribeTable is called once or twice per
  // command, so parsing its Table a second time costs nothing that matters.
  auto key = key_schema_from_description(d.raw);
  if (!key.ok()) return malformed_response("DescribeTable", key.error().message);
  d.key_schema = std::move(key).value();
  return d;
}

}  // namespace

Client::Client(std::shared_ptr<aws::AwsClient> aws, Clock& clock) : aws_(std::move(aws)), clock_(clock) {}

std::shared_ptr<Client> Client::connect(const aws::Endpoint& endpoint) {
  auto aws = std::make_shared<aws::AwsClient>(endpoint,
                                              aws::credentials_for(endpoint.credentials, SystemClock::instance()));
  return std::make_shared<Client>(std::move(aws));
}

Result<std::string> Client::call(std::string_view operation, const std::string& body,
                                 std::string_view context, const aws::CallOptions& options) {
  std::string target = std::string(kTargetPrefix) + std::string(operation);
  auto r = aws_->call_json(target, kJsonVersion, body, options);
  if (!r.ok()) {
    Error e = std::move(r).error();
    if (!context.empty()) e.with_context(context);
    return e;
  }
  return std::move(r).value();
}

Result<std::vector<std::string>> Client::list_tables() {
  std::vector<std::string> names;
  std::string start;
  do {
    std::string body;
    JsonWriter w(body);
    w.begin_object();
    if (!start.empty()) w.field("ExclusiveStartTableName", start);
    w.end_object();
    DR_ASSIGN(std::string resp, call("ListTables", body, "listing tables"));
    DR_ASSIGN(auto root, parse_response("ListTables", resp));
    simdjson::dom::array arr;
    if (root["TableNames"].get(arr)) return malformed_response("ListTables", "no TableNames");
    for (auto e : arr) {
      std::string_view sv;
      if (!e.get(sv)) names.emplace_back(sv);
    }
    std::string_view next;
    start = root["LastEvaluatedTableName"].get(next) ? "" : std::string(next);
  } while (!start.empty());
  return names;
}

Result<TableDescription> Client::describe_table(const std::string& table) {
  std::string body;
  JsonWriter(body).begin_object().field("TableName", table).end_object();
  DR_ASSIGN(std::string resp, call("DescribeTable", body, "table " + table));
  DR_ASSIGN(auto root, parse_response("DescribeTable", resp));
  simdjson::dom::element t;
  if (root["Table"].get(t)) return malformed_response("DescribeTable", "no Table");
  return parse_table(t);
}

Status Client::create_table(const std::string& request_json) {
  std::string name = "(unnamed)";
  if (auto doc = thread_parser().parse(request_json); !doc.error()) {
    std::string_view sv;
    if (!doc.value()["TableName"].get(sv)) name = std::string(sv);
  }
  DR_TRY(call("CreateTable", request_json, "creating table " + name));
  return {};
}

Status Client::create_table(const std::string& table, const model::KeySchema& key) {
  std::string body;
  JsonWriter w(body);
  w.begin_object().field("TableName", table);
  w.key("AttributeDefinitions").begin_array();
  w.begin_object().field("AttributeName", key.hash_name).field("AttributeType", model::type_tag(key.hash_type)).end_object();
  if (key.has_range()) {
    w.begin_object().field("AttributeName", key.range_name).field("AttributeType", model::type_tag(key.range_type)).end_object();
  }
  w.end_array();
  w.key("KeySchema").begin_array();
  w.begin_object().field("AttributeName", key.hash_name).field("KeyType", "HASH").end_object();
  if (key.has_range()) {
    w.begin_object().field("AttributeName", key.range_name).field("KeyType", "RANGE").end_object();
  }
  w.end_array();
  w.field("BillingMode", "PAY_PER_REQUEST");
  w.end_object();
  return create_table(body);
}

Status Client::delete_table(const std::string& table) {
  std::string body;
  JsonWriter(body).begin_object().field("TableName", table).end_object();
  DR_TRY(call("DeleteTable", body, "deleting table " + table));
  return {};
}

Status Client::wait_until_active(const std::string& table, std::chrono::milliseconds timeout) {
  auto deadline = clock_.steady_now() + timeout;
  while (true) {
    DR_ASSIGN(TableDescription d, describe_table(table));
    if (d.status == "ACTIVE") return {};
    if (clock_.steady_now() >= deadline) {
      return Error(ErrorKind::kFatal, "Timeout",
                   fmt::format("table {} still {} after {} s", table, d.status,
                               std::chrono::duration_cast<std::chrono::seconds>(timeout).count()));
    }
    clock_.sleep_for(std::chrono::milliseconds(250));
  }
}

Result<std::optional<Item>> Client::get_item(const std::string& table, const Item& key,
                                             bool consistent_read) {
  std::string body;
  JsonWriter w(body);
  w.begin_object().field("TableName", table).key("Key");
  write_item(w, key);
  w.field("ConsistentRead", consistent_read).end_object();
  DR_ASSIGN(std::string resp, call("GetItem", body, key_context(table, key)));
  DR_ASSIGN(auto root, parse_response("GetItem", resp));
  simdjson::dom::element item;
  if (root["Item"].get(item)) return std::optional<Item>();
  auto parsed = model::parse_item(item);
  if (!parsed.ok()) return std::move(parsed).error().with_context(key_context(table, key));
  return std::optional<Item>(std::move(parsed).value());
}

Status Client::put_item(const std::string& table, const Item& item, const aws::CallOptions& options) {
  std::string body;
  JsonWriter w(body);
  w.begin_object().field("TableName", table).key("Item");
  write_item(w, item);
  w.end_object();
  // The key is in every item the codec accepted for this table; without a schema at hand,
  // name the item's first attributes instead.
  DR_TRY(call("PutItem", body, fmt::format("table {} item {}", table, item_summary(item)), options));
  return {};
}

Status Client::delete_item(const std::string& table, const Item& key, const aws::CallOptions& options) {
  std::string body;
  JsonWriter w(body);
  w.begin_object().field("TableName", table).key("Key");
  write_item(w, key);
  w.end_object();
  DR_TRY(call("DeleteItem", body, key_context(table, key), options));
  return {};
}

Result<Item> Client::update_item(const UpdateRequest& req) {
  std::string body;
  JsonWriter w(body);
  w.begin_object().field("TableName", req.table).key("Key");
  write_item(w, req.key);
  w.field("UpdateExpression", req.update_expression);
  if (!req.condition_expression.empty()) w.field("ConditionExpression", req.condition_expression);
  write_names(w, req.expression_attribute_names);
  if (!req.expression_attribute_values.empty()) {
    w.key("ExpressionAttributeValues");
    write_item(w, req.expression_attribute_values);
  }
  w.field("ReturnValues", "ALL_NEW").end_object();
  aws::CallOptions options;
  options.idempotent = update_is_idempotent(req);
  // Whether the update happened matters to the caller (a condition's verdict, a counter): an
  // answer lost on the way makes the outcome unknown, and the caller must hear exactly that.
  options.report_unknown_outcome = true;
  DR_ASSIGN(std::string resp, call("UpdateItem", body, key_context(req.table, req.key), options));
  DR_ASSIGN(auto root, parse_response("UpdateItem", resp));
  simdjson::dom::element attrs;
  if (root["Attributes"].get(attrs)) return Item{};
  return model::parse_item(attrs);
}

Result<BatchGetResult> Client::batch_get(const std::string& table, const std::vector<Item>& keys,
                                         bool consistent_read) {
  BatchGetResult out;
  if (keys.empty()) return out;
  std::string body;
  JsonWriter w(body);
  w.begin_object().key("RequestItems").begin_object().key(table).begin_object();
  w.key("Keys").begin_array();
  for (const auto& k : keys) write_item(w, k);
  w.end_array();
  w.field("ConsistentRead", consistent_read);
  w.end_object().end_object();
  w.field("ReturnConsumedCapacity", "TOTAL").end_object();
  DR_ASSIGN(std::string resp, call("BatchGetItem", body, "table " + table));
  DR_ASSIGN(auto root, parse_response("BatchGetItem", resp));
  simdjson::dom::array items;
  if (!root["Responses"][table].get(items)) {
    out.items.reserve(items.size());
    for (auto e : items) {
      DR_ASSIGN(Item it, model::parse_item(e));
      out.items.push_back(std::move(it));
    }
  }
  simdjson::dom::array unprocessed;
  if (!root["UnprocessedKeys"][table]["Keys"].get(unprocessed)) {
    for (auto e : unprocessed) {
      DR_ASSIGN(Item k, model::parse_item(e));
      out.unprocessed_keys.push_back(std::move(k));
    }
  }
  out.consumed_read_units = read_units(root);
  return out;
}

Result<BatchGetResult> Client::batch_get_all(const std::string& table, const std::vector<Item>& keys,
                                             bool consistent_read) {
  BatchGetResult total;
  std::vector<Item> pending(keys.begin(), keys.end());
  detail::BatchBackoff backoff(clock_);
  while (!pending.empty()) {
    std::vector<Item> chunk;
    size_t n = std::min(pending.size(), kMaxBatchGet);
    chunk.assign(std::make_move_iterator(pending.end() - static_cast<ptrdiff_t>(n)),
                 std::make_move_iterator(pending.end()));
    pending.resize(pending.size() - n);
    DR_ASSIGN(BatchGetResult r, batch_get(table, chunk, consistent_read));
    total.consumed_read_units += r.consumed_read_units;
    for (auto& it : r.items) total.items.push_back(std::move(it));
    if (!r.unprocessed_keys.empty()) {
      for (auto& k : r.unprocessed_keys) pending.push_back(std::move(k));
      backoff.wait();
    } else {
      backoff.reset();
    }
  }
  return total;
}

Result<BatchWriteResult> Client::batch_write(const std::string& table,
                                             const std::vector<WriteRequest>& requests,
                                             const aws::CallOptions& options) {
  BatchWriteResult out;
  if (requests.empty()) return out;
  std::string body;
  body.reserve(requests.size() * 256);
  JsonWriter w(body);
  w.begin_object().key("RequestItems").begin_object().key(table).begin_array();
  for (const auto& r : requests) {
    w.begin_object();
    if (r.kind == WriteRequest::Kind::kPut) {
      w.key("PutRequest").begin_object().key("Item");
    } else {
      w.key("DeleteRequest").begin_object().key("Key");
    }
    write_item(w, r.item);
    w.end_object().end_object();
  }
  w.end_array().end_object();
  w.field("ReturnConsumedCapacity", "TOTAL").end_object();
  DR_ASSIGN(std::string resp, call("BatchWriteItem", body, "table " + table, options));
  DR_ASSIGN(auto root, parse_response("BatchWriteItem", resp));
  simdjson::dom::array unprocessed;
  if (!root["UnprocessedItems"][table].get(unprocessed)) {
    for (auto e : unprocessed) {
      simdjson::dom::element inner;
      WriteRequest wr;
      if (!e["PutRequest"]["Item"].get(inner)) {
        wr.kind = WriteRequest::Kind::kPut;
      } else if (!e["DeleteRequest"]["Key"].get(inner)) {
        wr.kind = WriteRequest::Kind::kDelete;
      } else {
        return malformed_response("BatchWriteItem", "unprocessed entry is neither put nor delete");
      }
      DR_ASSIGN(wr.item, model::parse_item(inner));
      out.unprocessed.push_back(std::move(wr));
    }
  }
  out.consumed_write_units = write_units(root);
  return out;
}

std::vector<std::string> cancellation_reasons(const Error& error) {
  std::vector<std::string> out;
  if (error.code != "TransactionCanceledException") return out;
  auto open = error.message.rfind('[');
  auto close = error.message.rfind(']');
  if (open == std::string::npos || close == std::string::npos || close < open) return out;
  std::string_view list(error.message.data() + open + 1, close - open - 1);
  while (!list.empty()) {
    auto comma = list.find(',');
    std::string_view part = list.substr(0, comma);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    out.emplace_back(part);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

Status Client::transact_write(const std::vector<TransactItem>& items, const std::string& client_request_token,
                              const aws::CallOptions& options) {
  std::string body;
  JsonWriter w(body);
  w.begin_object().key("TransactItems").begin_array();
  for (const auto& t : items) {
    w.begin_object();
    switch (t.kind) {
      case TransactItem::Kind::kPut:
        w.key("Put").begin_object().field("TableName", t.table).key("Item");
        break;
      case TransactItem::Kind::kDelete:
        w.key("Delete").begin_object().field("TableName", t.table).key("Key");
        break;
      case TransactItem::Kind::kConditionCheck:
        w.key("ConditionCheck").begin_object().field("TableName", t.table).key("Key");
        break;
    }
    write_item(w, t.item);
    if (!t.condition_expression.empty()) w.field("ConditionExpression", t.condition_expression);
    write_names(w, t.expression_attribute_names);
    if (!t.expression_attribute_values.empty()) {
      w.key("ExpressionAttributeValues");
      write_item(w, t.expression_attribute_values);
    }
    w.end_object().end_object();
  }
  w.end_array();
  if (!client_request_token.empty()) w.field("ClientRequestToken", client_request_token);
  w.end_object();
  const std::string context =
      items.empty() ? std::string("TransactWriteItems") : fmt::format("TransactWriteItems on table {}", items.back().table);
  DR_TRY(call("TransactWriteItems", body, context, options));
  return {};
}

Result<BatchWriteResult> Client::batch_write_all(const std::string& table,
                                                 const std::vector<WriteRequest>& requests,
                                                 const std::function<aws::CallOptions()>& options) {
  BatchWriteResult total;
  std::vector<WriteRequest> pending(requests.rbegin(), requests.rend());  // pop from the back
  detail::BatchBackoff backoff(clock_);
  while (!pending.empty()) {
    std::vector<WriteRequest> chunk;
    size_t n = std::min(pending.size(), kMaxBatchWrite);
    for (size_t i = 0; i < n; ++i) {
      chunk.push_back(std::move(pending.back()));
      pending.pop_back();
    }
    DR_ASSIGN(BatchWriteResult r, batch_write(table, chunk, options ? options() : aws::CallOptions{}));
    total.consumed_write_units += r.consumed_write_units;
    if (!r.unprocessed.empty()) {
      spdlog::debug("table {}: {} of {} writes unprocessed, retrying", table, r.unprocessed.size(),
                    chunk.size());
      for (auto& u : r.unprocessed) pending.push_back(std::move(u));
      backoff.wait();
    } else {
      backoff.reset();
    }
  }
  return total;
}

namespace {

void write_scan_common(JsonWriter& w, const ScanRequest& req) {
  w.begin_object().field("TableName", req.table);
  if (req.segment && req.total_segments) {
    w.field("Segment", *req.segment).field("TotalSegments", *req.total_segments);
  }
  if (req.limit) w.field("Limit", *req.limit);
  if (req.exclusive_start_key) {
    w.key("ExclusiveStartKey");
    write_item(w, *req.exclusive_start_key);
  }
  if (req.consistent_read) w.field("ConsistentRead", true);
  w.field("ReturnConsumedCapacity", "TOTAL");
  w.end_object();
}

std::string scan_context(const ScanRequest& req) {
  if (req.segment && req.total_segments) {
    return fmt::format("scanning table {} segment {}/{}", req.table, *req.segment, *req.total_segments);
  }
  return "scanning table " + req.table;
}

Status read_page_tail(simdjson::dom::element root, std::optional<Item>& last_key, double& units,
                      int64_t& scanned) {
  simdjson::dom::element lek;
  if (!root["LastEvaluatedKey"].get(lek)) {
    DR_ASSIGN(Item k, model::parse_item(lek));
    last_key = std::move(k);
  }
  units = read_units(root);
  int64_t n = 0;
  if (!root["ScannedCount"].get(n)) scanned = n;
  return {};
}

}  // namespace

Result<ScanPage> Client::scan(const ScanRequest& req) {
  std::string body;
  JsonWriter w(body);
  write_scan_common(w, req);
  std::string ctx = scan_context(req);
  DR_ASSIGN(std::string resp, call("Scan", body, ctx));
  DR_ASSIGN(auto root, parse_response("Scan", resp));
  ScanPage page;
  simdjson::dom::array items;
  if (root["Items"].get(items)) return malformed_response("Scan", "no Items");
  page.items.reserve(items.size());
  for (auto e : items) {
    auto it = model::parse_item(e);
    if (!it.ok()) return std::move(it).error().with_context(ctx);
    page.items.push_back(std::move(it).value());
  }
  DR_TRY(read_page_tail(root, page.last_evaluated_key, page.consumed_read_units, page.scanned_count));
  return page;
}

Result<RawScanPage> Client::scan_raw(const ScanRequest& req) {
  std::string body;
  JsonWriter w(body);
  write_scan_common(w, req);
  std::string ctx = scan_context(req);
  DR_ASSIGN(std::string resp, call("Scan", body, ctx));
  DR_ASSIGN(auto root, parse_response("Scan", resp));
  RawScanPage page;
  simdjson::dom::array items;
  if (root["Items"].get(items)) return malformed_response("Scan", "no Items");
  page.items.reserve(items.size());
  for (auto e : items) page.items.push_back(simdjson::minify(e));
  DR_TRY(read_page_tail(root, page.last_evaluated_key, page.consumed_read_units, page.scanned_count));
  return page;
}

Result<ScanPage> Client::query(const QueryRequest& req) {
  std::string body;
  JsonWriter w(body);
  w.begin_object().field("TableName", req.table);
  if (!req.index_name.empty()) w.field("IndexName", req.index_name);
  w.field("KeyConditionExpression", req.key_condition_expression);
  write_names(w, req.expression_attribute_names);
  if (!req.expression_attribute_values.empty()) {
    w.key("ExpressionAttributeValues");
    write_item(w, req.expression_attribute_values);
  }
  if (req.limit) w.field("Limit", *req.limit);
  if (req.exclusive_start_key) {
    w.key("ExclusiveStartKey");
    write_item(w, *req.exclusive_start_key);
  }
  if (req.consistent_read) w.field("ConsistentRead", true);
  if (!req.scan_index_forward) w.field("ScanIndexForward", false);
  w.field("ReturnConsumedCapacity", "TOTAL").end_object();
  DR_ASSIGN(std::string resp, call("Query", body, "querying table " + req.table));
  DR_ASSIGN(auto root, parse_response("Query", resp));
  ScanPage page;
  simdjson::dom::array items;
  if (root["Items"].get(items)) return malformed_response("Query", "no Items");
  for (auto e : items) {
    DR_ASSIGN(Item it, model::parse_item(e));
    page.items.push_back(std::move(it));
  }
  DR_TRY(read_page_tail(root, page.last_evaluated_key, page.consumed_read_units, page.scanned_count));
  return page;
}

// --- descriptions ----------------------------------------------------------------------

namespace {

// Fields of DescribeTable's Table that describe state, not shape (docs/formats.md §1): dropped
// from export descriptions, at any depth (indexes carry some of them too).
bool is_volatile_field(std::string_view name) {
  static constexpr std::string_view kVolatile[] = {
      "ItemCount", "TableSizeBytes", "TableStatus", "CreationDateTime", "IndexSizeBytes",
      "IndexStatus", "NumberOfDecreasesToday", "LastDecreaseDateTime", "LastIncreaseDateTime"};
  return std::find(std::begin(kVolatile), std::end(kVolatile), name) != std::end(kVolatile);
}

void write_filtered(JsonWriter& w, simdjson::dom::element e) {
  switch (e.type()) {
    case simdjson::dom::element_type::OBJECT:
      w.begin_object();
      for (auto field : simdjson::dom::object(e)) {
        if (is_volatile_field(field.key)) continue;
        w.key(field.key);
        write_filtered(w, field.value);
      }
      w.end_object();
      break;
    case simdjson::dom::element_type::ARRAY:
      w.begin_array();
      for (auto v : simdjson::dom::array(e)) write_filtered(w, v);
      w.end_array();
      break;
    default:
      w.raw(simdjson::minify(e));
  }
}

}  // namespace

Result<std::string> export_description(const TableDescription& table) {
  auto doc = thread_parser().parse(table.raw);
  if (doc.error()) return malformed_response("DescribeTable", "table description is not JSON");
  std::string out;
  JsonWriter w(out);
  write_filtered(w, doc.value());
  return out;
}

Result<std::string> create_table_request(std::string_view description_json,
                                         const std::string& table_name) {
  simdjson::dom::parser parser;
  auto doc = parser.parse(description_json.data(), description_json.size());
  if (doc.error()) {
    return invalid_input(fmt::format("table description is not JSON: {}",
                                     simdjson::error_message(doc.error())));
  }
  simdjson::dom::element d = doc.value();
  simdjson::dom::object obj;
  if (d.get(obj)) return invalid_input("table description is not a JSON object");
  if (d["KeySchema"].error() || d["AttributeDefinitions"].error()) {
    return invalid_input("table description has no KeySchema/AttributeDefinitions");
  }
  std::string billing = "PROVISIONED";
  std::string_view sv;
  if (!d["BillingModeSummary"]["BillingMode"].get(sv)) billing = std::string(sv);
  // An on-demand table reports ProvisionedThroughput of 0/0, which CreateTable rejects:
  // the original dyno crashed on exactly this.
  int64_t rcu = 0, wcu = 0;
  std::ignore = d["ProvisionedThroughput"]["ReadCapacityUnits"].get(rcu);
  std::ignore = d["ProvisionedThroughput"]["WriteCapacityUnits"].get(wcu);
  bool on_demand = billing == "PAY_PER_REQUEST" || rcu == 0 || wcu == 0;

  auto write_throughput = [&](JsonWriter& w, simdjson::dom::element pt) {
    int64_t r = 0, wu = 0;
    std::ignore = pt["ReadCapacityUnits"].get(r);
    std::ignore = pt["WriteCapacityUnits"].get(wu);
    w.key("ProvisionedThroughput").begin_object()
        .field("ReadCapacityUnits", std::max<int64_t>(r, 1))
        .field("WriteCapacityUnits", std::max<int64_t>(wu, 1))
        .end_object();
  };
  auto write_index = [&](JsonWriter& w, simdjson::dom::element idx, bool global) {
    w.begin_object();
    for (std::string_view f : {"IndexName", "KeySchema", "Projection"}) {
      auto v = idx[f];
      if (!v.error()) {
        w.key(f);
        write_filtered(w, v.value());
      }
    }
    if (global && !on_demand) {
      auto pt = idx["ProvisionedThroughput"];
      if (!pt.error()) write_throughput(w, pt.value());
    }
    w.end_object();
  };

  std::string out;
  JsonWriter w(out);
  w.begin_object().field("TableName", table_name);
  w.key("AttributeDefinitions");
  write_filtered(w, d["AttributeDefinitions"].value());
  w.key("KeySchema");
  write_filtered(w, d["KeySchema"].value());
  if (on_demand) {
    w.field("BillingMode", "PAY_PER_REQUEST");
  } else {
    w.field("BillingMode", "PROVISIONED");
    write_throughput(w, d["ProvisionedThroughput"].value());
  }
  simdjson::dom::array arr;
  if (!d["LocalSecondaryIndexes"].get(arr) && arr.size() > 0) {
    w.key("LocalSecondaryIndexes").begin_array();
    for (auto idx : arr) write_index(w, idx, false);
    w.end_array();
  }
  if (!d["GlobalSecondaryIndexes"].get(arr) && arr.size() > 0) {
    w.key("GlobalSecondaryIndexes").begin_array();
    for (auto idx : arr) write_index(w, idx, true);
    w.end_array();
  }
  simdjson::dom::element spec;
  if (!d["StreamSpecification"].get(spec)) {
    bool enabled = false;
    if (!spec["StreamEnabled"].get(enabled) && enabled) {
      w.key("StreamSpecification");
      write_filtered(w, spec);
    }
  }
  w.end_object();
  return out;
}

}  // namespace dynarep::dynamodb
