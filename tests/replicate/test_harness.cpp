#include "replicate/test_harness.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "http/client.h"
#include "support/aws_clients.h"
#include "support/process.h"

namespace dynarep::repltest {

aws::RetryPolicy test_policy() {
  aws::RetryPolicy p;
  p.max_attempts = 6;
  p.base = 20ms;
  p.throttle_base = 50ms;
  p.max_backoff = 1000ms;
  p.max_retry_after = 1000ms;
  return p;
}

std::shared_ptr<aws::AwsClient> make_aws(aws::Service service, const std::string& url, aws::RetryPolicy policy) {
  return testing::make_aws(service, url, policy);
}

std::shared_ptr<dynamodb::Client> ddb(const std::string& url) {
  const auto& s = testing::local_stack();
  return std::make_shared<dynamodb::Client>(make_aws(aws::Service::kDynamoDB, url.empty() ? s.dynamodb : url));
}

std::shared_ptr<kinesis::Client> kin(const std::string& url) {
  const auto& s = testing::local_stack();
  return std::make_shared<kinesis::Client>(make_aws(aws::Service::kKinesis, url.empty() ? s.kinesis : url));
}

model::KeySchema simple_schema() {
  model::KeySchema k;
  k.hash_name = "id";
  k.hash_type = model::Type::kS;
  return k;
}

model::KeySchema composite_schema() {
  model::KeySchema k;
  k.hash_name = "pk";
  k.hash_type = model::Type::kS;
  k.range_name = "sk";
  k.range_type = model::Type::kN;
  return k;
}

Resources::~Resources() {
  auto db = ddb();
  auto k = kin();
  for (const auto& t : tables_) db->delete_table(t).ignore_error();
  for (const auto& s : streams_) k->delete_stream(s).ignore_error();
}

std::string Resources::table(const model::KeySchema& schema, const std::string& prefix) {
  std::string name = testing::unique_name(prefix);
  auto db = ddb();
  auto st = db->create_table(name, schema);
  if (!st.ok()) throw std::runtime_error("create table " + name + ": " + st.error().describe());
  st = db->wait_until_active(name, 60s);
  if (!st.ok()) throw std::runtime_error("table " + name + ": " + st.error().describe());
  tables_.push_back(name);
  return name;
}

std::string Resources::stream(int shards, const std::string& prefix) {
  std::string name = testing::unique_name(prefix);
  auto st = kin()->create_stream(name, shards);
  if (!st.ok()) throw std::runtime_error("create stream " + name + ": " + st.error().describe());
  streams_.push_back(name);
  return name;
}

model::Item item(const std::string& id, int64_t version, size_t pad) {
  model::Item i;
  i.set("id", model::Value::S(id));
  i.set("v", model::Value::N(model::Number::from_int(version)));
  i.set("pad", model::Value::S(std::string(pad, static_cast<char>('a' + version % 26))));
  return i;
}

stream::ChangeInput keys_only(const model::Item& k, stream::ChangeRecord::Event e, int seq) {
  std::string data = stream::make_keys_only_record(k, e, "us-east-1");
  return stream::ChangeInput{"shardId-000000000000", std::to_string(seq), stream::partition_key(k),
                             std::chrono::system_clock::now(), data, stream::parse_change_record(data)};
}

model::Item key(const std::string& id) {
  model::Item k;
  k.set("id", model::Value::S(id));
  return k;
}

Writer::Writer(std::string table, std::string stream, std::shared_ptr<dynamodb::Client> db,
               std::shared_ptr<kinesis::Client> k)
    : table_(std::move(table)), stream_(std::move(stream)), db_(std::move(db)), k_(std::move(k)) {}

void Writer::record(const model::Item& key, stream::ChangeRecord::Event event) { records({key}, event); }

void Writer::records(const std::vector<model::Item>& keys, stream::ChangeRecord::Event event) {
  for (size_t begin = 0; begin < keys.size(); begin += kinesis::kMaxPutRecordsEntries) {
    std::vector<kinesis::PutRecordsEntry> entries;
    for (size_t i = begin; i < std::min(keys.size(), begin + kinesis::kMaxPutRecordsEntries); ++i) {
      entries.push_back({stream::make_keys_only_record(keys[i], event, "us-east-1"), stream::partition_key(keys[i]), {}});
    }
    // Refused entries are re-sent in order, alone, so per-key order holds.
    std::vector<kinesis::PutRecordsEntry> pending = entries;
    for (int attempt = 0; !pending.empty(); ++attempt) {
      if (attempt > 50) throw std::runtime_error("PutRecords keeps refusing entries");
      auto r = k_->put_records(stream_, pending);
      if (!r.ok()) {
        std::this_thread::sleep_for(50ms);
        continue;
      }
      std::vector<kinesis::PutRecordsEntry> again;
      for (size_t i = 0; i < pending.size(); ++i) {
        if (r->entries[i].ok()) {
          records_put_++;
        } else {
          again.push_back(pending[i]);
        }
      }
      pending = std::move(again);
      if (!pending.empty()) std::this_thread::sleep_for(20ms);
    }
  }
}

void Writer::put(const model::Item& it) {
  auto st = db_->put_item(table_, it);
  if (!st.ok()) throw std::runtime_error("put: " + st.error().describe());
  auto k = model::extract_key(it, simple_schema());
  record(k.ok() ? *k : it, stream::ChangeRecord::Event::kInsert);
}

void Writer::del(const model::Item& k) {
  auto st = db_->delete_item(table_, k);
  if (!st.ok()) throw std::runtime_error("delete: " + st.error().describe());
  record(k, stream::ChangeRecord::Event::kRemove);
}

void Writer::put_many(const std::vector<model::Item>& items) {
  std::vector<dynamodb::WriteRequest> reqs;
  std::vector<model::Item> keys;
  for (const auto& it : items) {
    reqs.push_back({dynamodb::WriteRequest::Kind::kPut, it});
    keys.push_back(*model::extract_key(it, simple_schema()));
  }
  auto r = db_->batch_write_all(table_, reqs);
  if (!r.ok()) throw std::runtime_error("batch write: " + r.error().describe());
  records(keys, stream::ChangeRecord::Event::kInsert);
}

std::string Writer::put_raw(const std::string& data, const std::string& partition_key) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    auto r = k_->put_record(stream_, data, partition_key);
    if (r.ok()) {
      records_put_++;
      return r->sequence_number.str();
    }
    std::this_thread::sleep_for(50ms);
  }
  throw std::runtime_error("put_record keeps failing");
}

SteadyWriter::SteadyWriter(Writer& writer, int keys, double rate, uint64_t seed) : w_(writer) {
  thread_ = std::thread([this, keys, rate, seed] {
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<int> pick(0, keys - 1);
    std::uniform_int_distribution<int> op(0, 9);
    auto interval = std::chrono::duration<double>(1.0 / rate);
    auto next = std::chrono::steady_clock::now();
    int64_t version = 0;
    while (!stop_.load()) {
      std::string id = "k" + std::to_string(pick(rng));
      try {
        if (op(rng) < 7) {
          ++version;
          w_.put(item(id, version, 8 + static_cast<size_t>(version % 40)));
        } else {
          w_.del(key(id));
        }
      } catch (const std::exception& e) {
        ADD_FAILURE() << "steady writer: " << e.what();
        return;
      }
      ops_++;
      next += std::chrono::duration_cast<std::chrono::steady_clock::duration>(interval);
      std::this_thread::sleep_until(next);
    }
  });
}

SteadyWriter::~SteadyWriter() { stop(); }

void SteadyWriter::stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

std::map<std::string, model::Item> scan_all(dynamodb::Client& db, const std::string& table) {
  std::map<std::string, model::Item> out;
  dynamodb::ScanRequest req;
  req.table = table;
  req.consistent_read = true;
  auto d = db.describe_table(table);
  if (!d.ok()) throw std::runtime_error("describe " + table + ": " + d.error().describe());
  for (;;) {
    auto page = db.scan(req);
    if (!page.ok()) throw std::runtime_error("scan " + table + ": " + page.error().describe());
    for (auto& it : page->items) {
      auto k = model::extract_key(it, d->key_schema);
      out[model::canonical_key_json(*k)] = it;
    }
    if (!page->last_evaluated_key) break;
    req.exclusive_start_key = page->last_evaluated_key;
  }
  return out;
}

std::string diff_tables(const std::map<std::string, model::Item>& p, const std::map<std::string, model::Item>& r) {
  std::ostringstream out;
  int n = 0;
  for (const auto& [k, v] : p) {
    auto it = r.find(k);
    if (it == r.end()) {
      if (n++ < 5) out << "missing on replica: " << k << "\n";
    } else if (!(it->second == v)) {
      if (n++ < 5) out << "differs: " << k << " primary " << model::to_json(v) << " replica " << model::to_json(it->second) << "\n";
    }
  }
  for (const auto& [k, v] : r) {
    if (p.count(k) == 0 && n++ < 5) out << "extra on replica: " << k << "\n";
  }
  if (n > 0) out << n << " differences (" << p.size() << " primary items, " << r.size() << " replica items)";
  return out.str();
}

std::string wait_equal(dynamodb::Client& db, const std::string& primary, const std::string& replica,
                       std::chrono::milliseconds timeout) {
  std::string last;
  eventually(
      [&] {
        last = diff_tables(scan_all(db, primary), scan_all(db, replica));
        return last.empty();
      },
      timeout, 500ms);
  return last;
}

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout, std::chrono::milliseconds poll) {
  auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(poll);
  }
}

// ---------------------------------------------------------------------------------------------

Proc::Proc(std::vector<std::string> args, std::map<std::string, std::string> extra_env, std::string program) {
  if (program.empty()) {
    const char* b = std::getenv("DYNAREP_BINARY");
    program = b != nullptr ? b : DYNAREP_BINARY_FOR_TESTS;
  }
  char tmpl[] = "/tmp/dynarep-repl-proc-XXXXXX";
  int fd = ::mkstemp(tmpl);
  if (fd < 0) throw std::runtime_error("mkstemp failed");
  log_path_ = tmpl;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, fd, 1);
  posix_spawn_file_actions_adddup2(&fa, fd, 2);
  args.insert(args.begin(), program);
  int rc = testing::spawn_process(pid_, args, fa, extra_env);
  posix_spawn_file_actions_destroy(&fa);
  ::close(fd);
  if (rc != 0) throw std::runtime_error("spawn " + program + ": " + std::strerror(rc));
}

Proc::~Proc() {
  if (!status_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int st = 0;
    ::waitpid(pid_, &st, 0);
  }
  if (std::getenv("DYNAREP_KEEP_LOGS") == nullptr) ::unlink(log_path_.c_str());
}

void Proc::signal(int sig) {
  if (!status_ && pid_ > 0) ::kill(pid_, sig);
}

std::optional<int> Proc::wait(std::chrono::milliseconds timeout) {
  if (status_) return status_;
  auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int st = 0;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      return status_;
    }
    if (std::chrono::steady_clock::now() >= end) return std::nullopt;
    std::this_thread::sleep_for(20ms);
  }
}

bool Proc::running() { return !wait(0ms).has_value(); }

std::string Proc::log() const {
  std::ifstream f(log_path_);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

int Proc::metrics_port(std::chrono::milliseconds timeout) {
  if (port_ != 0) return port_;
  std::regex re(R"(metrics on http://[0-9.]+:([0-9]+)/metrics)");
  eventually(
      [&] {
        std::smatch m;
        std::string text = log();
        if (std::regex_search(text, m, re)) port_ = std::stoi(m[1]);
        return port_ != 0 || !running();
      },
      timeout, 50ms);
  return port_;
}

std::string Proc::metrics() {
  int port = metrics_port();
  if (port == 0) return "";
  http::Client c;
  http::Request req;
  req.url = "http://127.0.0.1:" + std::to_string(port) + "/metrics";
  req.timeout = 5s;
  auto r = c.send(req);
  if (!r.ok() || r->status != 200) return "";
  return r->body;
}

double Proc::metric(const std::string& text, const std::string& name, const std::string& labels) {
  std::string prefix = labels.empty() ? name + " " : name + "{" + labels + "} ";
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) return std::stod(line.substr(prefix.size()));
  }
  return -1;
}

long Proc::peak_rss_kb() const {
  std::ifstream f("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

std::vector<LeaseRow> lease_rows(dynamodb::Client& db, const std::string& table) {
  std::vector<LeaseRow> out;
  dynamodb::ScanRequest req;
  req.table = table;
  req.consistent_read = true;
  for (;;) {
    auto page = db.scan(req);
    if (!page.ok()) return out;
    for (const auto& it : page->items) {
      LeaseRow r;
      if (auto* v = it.find("leaseKey")) r.key = v->as_s();
      if (auto* v = it.find("leaseOwner")) r.owner = v->as_s();
      if (auto* v = it.find("checkpoint")) r.checkpoint = v->as_s();
      if (auto* v = it.find("leaseCounter")) r.counter = std::stoll(v->as_n().text());
      if (auto* v = it.find("parentShardIds")) r.parents = v->as_ss();
      out.push_back(r);
    }
    if (!page->last_evaluated_key) break;
    req.exclusive_start_key = page->last_evaluated_key;
  }
  std::sort(out.begin(), out.end(), [](const LeaseRow& a, const LeaseRow& b) { return a.key < b.key; });
  return out;
}

}  // namespace dynarep::repltest
