// Shared pieces of the lease and replication tests on the local stack: clients, tables and
// streams with unique names, a writer that follows the contract (write to the primary, then put
// the KEYS_ONLY record), full-table comparison, and a dynarep process running in the background.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "aws/client.h"
#include "aws/credentials.h"
#include "aws/location.h"
#include "aws/retry.h"
#include "dynamodb/client.h"
#include "kinesis/client.h"
#include "model/codec.h"
#include "model/item.h"
#include "stream/change_input.h"
#include "stream/record.h"
#include "support/stack.h"

namespace dynarep::repltest {

using namespace std::chrono_literals;

// A retry policy for test set-up and checks: patient, quick.
aws::RetryPolicy test_policy();
std::shared_ptr<aws::AwsClient> make_aws(aws::Service service, const std::string& url,
                                         aws::RetryPolicy policy = test_policy());
// Clients for the local stack (or `url`, a fault proxy's).
std::shared_ptr<dynamodb::Client> ddb(const std::string& url = "");
std::shared_ptr<kinesis::Client> kin(const std::string& url = "");

model::KeySchema simple_schema();    // id (S)
model::KeySchema composite_schema();  // pk (S), sk (N)

// Creates a table / stream with a unique name and deletes it at the end of the test (best effort).
class Resources {
 public:
  ~Resources();
  std::string table(const model::KeySchema& schema, const std::string& prefix = "t");
  std::string stream(int shards, const std::string& prefix = "s");
  // Remembers a table someone else creates (a lease table) for deletion.
  void adopt_table(const std::string& name) { tables_.push_back(name); }

 private:
  std::vector<std::string> tables_, streams_;
};

// An item {"id":{"S":id}, "v":{"N":version}, "pad":{"S":...}}.
model::Item item(const std::string& id, int64_t version, size_t pad = 16);
model::Item key(const std::string& id);
// A KEYS_ONLY record for `k` as it arrives from shardId-000000000000 with sequence number `seq`.
stream::ChangeInput keys_only(const model::Item& k, stream::ChangeRecord::Event e, int seq);

// Writes like the contract's writer: the change to the primary first, then (once confirmed)
// one KEYS_ONLY record per changed key on the stream, partition key = canonical key JSON.
class Writer {
 public:
  Writer(std::string table, std::string stream, std::shared_ptr<dynamodb::Client> db = ddb(),
         std::shared_ptr<kinesis::Client> k = kin());
  void put(const model::Item& item);
  void del(const model::Item& key);
  // Many puts: BatchWriteItem, then PutRecords for those keys (fast preload).
  void put_many(const std::vector<model::Item>& items);
  // Puts raw data as a record (malformed records, replays).
  std::string put_raw(const std::string& data, const std::string& partition_key);
  void record(const model::Item& key, stream::ChangeRecord::Event event);
  void records(const std::vector<model::Item>& keys, stream::ChangeRecord::Event event);
  int64_t records_put() const { return records_put_.load(); }

 private:
  std::string table_, stream_;
  std::shared_ptr<dynamodb::Client> db_;
  std::shared_ptr<kinesis::Client> k_;
  std::atomic<int64_t> records_put_{0};
};

// A background writer: puts (70%) and deletes (30%) over `keys` ids at about `rate` per second
// until stopped. Versions only grow, so the final state is the primary's.
class SteadyWriter {
 public:
  SteadyWriter(Writer& writer, int keys, double rate, uint64_t seed = 1);
  ~SteadyWriter();
  void stop();
  int64_t ops() const { return ops_.load(); }

 private:
  Writer& w_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> ops_{0};
  std::thread thread_;
};

// Every item of a table, by canonical key JSON.
std::map<std::string, model::Item> scan_all(dynamodb::Client& db, const std::string& table);
// "" when equal, else the first differences (at most 5), readable.
std::string diff_tables(const std::map<std::string, model::Item>& primary,
                        const std::map<std::string, model::Item>& replica);
// Polls until the replica equals the primary (full scans); returns the last difference ("" = equal).
std::string wait_equal(dynamodb::Client& db, const std::string& primary, const std::string& replica,
                       std::chrono::milliseconds timeout);

// Polls `pred` every `poll` until it is true or `timeout` passes.
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout,
                std::chrono::milliseconds poll = 100ms);

// The dynarep binary (or another program) in the background, its stdout and stderr in a file.
class Proc {
 public:
  explicit Proc(std::vector<std::string> args, std::map<std::string, std::string> env = {},
                std::string program = "");
  ~Proc();  // SIGKILLs the process if it still runs
  Proc(const Proc&) = delete;
  Proc& operator=(const Proc&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig);
  // Waits for the exit: the exit code, 128+signal when killed; nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  bool running();
  std::string log() const;
  // The port from the log line "metrics on http://127.0.0.1:PORT/metrics" (waits for it).
  int metrics_port(std::chrono::milliseconds timeout = 20s);
  // GET /metrics; "" when it cannot be reached.
  std::string metrics();
  // A sample's value, or -1 when absent: metric(text, "dynarep_replicate_records_total",
  // "outcome=\"applied\"").
  static double metric(const std::string& text, const std::string& name, const std::string& labels = "");
  // Peak resident set (VmHWM) in kB while running; -1 when unknown.
  long peak_rss_kb() const;

 private:
  pid_t pid_ = -1;
  std::string log_path_;
  std::optional<int> status_;
  int port_ = 0;
};

// The sorted lease table.
struct LeaseRow {
  std::string key, owner, checkpoint;
  int64_t counter = 0;
  std::vector<std::string> parents;
};
std::vector<LeaseRow> lease_rows(dynamodb::Client& db, const std::string& table);

}  // namespace dynarep::repltest
