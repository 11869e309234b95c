// Load generator and probes for bench/replicate/run.sh. Endpoints and credentials come from the
// environment (AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_KINESIS, ...), as for dynarep.
//
//   replicate_loadgen setup   --primary P --replica R [--scratch X] --stream S --shards N
//   replicate_loadgen preload --primary P --stream S --count N [--size B] [--threads T]
//   replicate_loadgen catchup --metrics URL --count N [--timeout-s S] [--cpu NAME=PID,NAME=PID...]
//   replicate_loadgen raw     --primary P --scratch X --count N [--parallel P] [--cpu NAME=PID,...]
//   replicate_loadgen raw-stream --primary P --scratch X --stream S --count N [--parallel P] [--cpu ...]
//   replicate_loadgen steady  --primary P --replica R --stream S --rate W --seconds D [--writers T]
//
// Items are {"id":{"S":"<prefix>-<n>"},"pad":{"S":<size bytes>}}; preload writes ids
// "pre-0".."pre-(N-1)"; raw reads those ids from the primary and writes them to the scratch table
// (BatchGetItem of 100 + BatchWriteItem of 25, `parallel` at once): the same work the replicator
// does for KEYS_ONLY records, without Kinesis or leases.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "aws/credentials.h"
#include "aws/location.h"
#include "dynamodb/client.h"
#include "http/client.h"
#include "kinesis/client.h"
#include "model/item.h"
#include "stream/record.h"

using namespace dynarep;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

namespace {

std::map<std::string, std::string> g_args;

std::string arg(const std::string& name, const std::string& fallback = "") {
  auto it = g_args.find(name);
  if (it != g_args.end()) return it->second;
  if (fallback.empty()) {
    std::cerr << "loadgen: --" << name << " is required\n";
    std::exit(2);
  }
  return fallback;
}
long num(const std::string& name, long fallback) { return std::stol(arg(name, std::to_string(fallback))); }

[[noreturn]] void die(const std::string& what, const Error& e) {
  std::cerr << "loadgen: " << what << ": " << e.describe() << "\n";
  std::exit(3);
}

std::shared_ptr<dynamodb::Client> ddb() {
  return dynamodb::Client::connect(aws::resolve_endpoint(aws::Service::kDynamoDB, aws::default_region()));
}

model::Item key(const std::string& id) {
  model::Item k;
  k.set("id", model::Value::S(id));
  return k;
}
model::Item item(const std::string& id, size_t size) {
  model::Item i = key(id);
  i.set("pad", model::Value::S(std::string(size, 'p')));
  return i;
}

void put_keys(kinesis::Client& k, const std::string& stream, const std::vector<model::Item>& keys) {
  std::vector<kinesis::PutRecordsEntry> pending;
  for (const auto& key_item : keys) {
    pending.push_back({stream::make_keys_only_record(key_item, stream::ChangeRecord::Event::kInsert, "us-east-1"),
                       stream::partition_key(key_item), {}});
  }
  while (!pending.empty()) {
    auto r = k.put_records(stream, pending);
    if (!r.ok()) {
      std::this_thread::sleep_for(20ms);
      continue;
    }
    std::vector<kinesis::PutRecordsEntry> again;
    for (size_t i = 0; i < pending.size(); ++i) {
      if (!r->entries[i].ok()) again.push_back(pending[i]);
    }
    pending = std::move(again);
  }
}

int setup() {
  auto db = ddb();
  model::KeySchema ks;
  ks.hash_name = "id";
  for (const char* t : {"primary", "replica", "scratch"}) {
    if (g_args.count(t) == 0) continue;
    auto st = db->create_table(g_args[t], ks);
    if (!st.ok()) die(std::string("create ") + t, st.error());
    st = db->wait_until_active(g_args[t]);
    if (!st.ok()) die("wait", st.error());
  }
  if (g_args.count("stream") != 0) {
    auto k = kinesis::Client::connect(aws::default_region());
    auto st = k.create_stream(arg("stream"), static_cast<int>(num("shards", 2)));
    if (!st.ok()) die("create stream", st.error());
  }
  return 0;
}

int preload() {
  const long count = num("count", 10000);
  const size_t size = static_cast<size_t>(num("size", 200));
  const int threads = static_cast<int>(num("threads", 4));
  const std::string table = arg("primary"), stream_name = arg("stream");
  auto db = ddb();
  auto k = kinesis::Client::connect(aws::default_region());
  std::atomic<long> next{0};
  auto t0 = SteadyClock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (;;) {
        long begin = next.fetch_add(500);
        if (begin >= count) return;
        long end = std::min(count, begin + 500);
        std::vector<dynamodb::WriteRequest> reqs;
        std::vector<model::Item> keys;
        for (long i = begin; i < end; ++i) {
          std::string id = "pre-" + std::to_string(i);
          reqs.push_back({dynamodb::WriteRequest::Kind::kPut, item(id, size)});
          keys.push_back(key(id));
        }
        auto r = db->batch_write_all(table, reqs);
        if (!r.ok()) die("preload write", r.error());
        put_keys(k, stream_name, keys);  // after the writes are confirmed
      }
    });
  }
  for (auto& t : pool) t.join();
  double s = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  std::cout << fmt::format("preload: {} items + records in {:.1f} s\n", count, s);
  return 0;
}

// The value of the sample line that starts with `prefix` (name, labels and a space).
double metric(const std::string& text, const std::string& prefix) {
  auto p = text.rfind(prefix, 0) == 0 ? 0 : text.find("\n" + prefix);
  if (p == std::string::npos) return -1;
  if (p != 0) ++p;
  return std::stod(text.substr(p + prefix.size()));
}

// CPU seconds (user + system) a process has used so far, from /proc/PID/stat (utime and stime,
// fields 14 and 15, in clock ticks); -1 when it cannot be read.
double cpu_seconds(const std::string& pid) {
  std::ifstream f("/proc/" + pid + "/stat");
  std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto close = stat.rfind(')');  // the command name may hold spaces
  if (close == std::string::npos) return -1;
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stod(field);
    if (i == 15) stime = std::stod(field);
  }
  return (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// The CPU of the processes named by --cpu NAME=PID,NAME=PID... over a window: start(), then
// report() prints each one's CPU seconds and share of one core (and per item for `per_item`).
class CpuWatch {
 public:
  CpuWatch() {
    if (g_args.count("cpu") == 0) return;
    std::istringstream list(g_args["cpu"]);
    std::string entry;
    while (std::getline(list, entry, ',')) {
      auto eq = entry.find('=');
      if (eq != std::string::npos) procs_.push_back({entry.substr(0, eq), entry.substr(eq + 1), 0});
    }
  }
  void start() {
    for (auto& p : procs_) p.at_start = cpu_seconds(p.pid);
  }
  // `what`: "catchup" or "raw"; `per_item`: the process whose CPU per item is a RESULT.
  void report(const std::string& what, double seconds, double items, const std::string& per_item) {
    for (const auto& p : procs_) {
      const double used = cpu_seconds(p.pid) - p.at_start;
      std::cout << fmt::format("{}: {} (pid {}) used {:.2f} s of CPU = {:.0f}% of one core, {:.0f} us per item", what,
                               p.name, p.pid, used, 100 * used / seconds, 1e6 * used / items);
      if (p.name == per_item) std::cout << fmt::format("\nRESULT {}_cpu_us_per_record {:.0f}", what, 1e6 * used / items);
      std::cout << "\n";
    }
  }

 private:
  struct Proc {
    std::string name, pid;
    double at_start;
  };
  std::vector<Proc> procs_;
};

// Times the worker from its first GetRecords call (leases taken, iterators got: start-up
// excluded) to the moment `count` records are applied, polling its metrics every 10 ms. With
// --cpu worker=PID,dynalite=PID,...: the CPU each process used over the same window (per
// record too), to see which one the time goes to.
int catchup() {
  const std::string url = arg("metrics");
  const long count = num("count", 10000);
  const long timeout = num("timeout-s", 600);
  CpuWatch cpu;
  http::Client c;
  http::Request req;
  req.url = url;
  std::optional<SteadyClock::time_point> first, first_page;
  auto deadline = SteadyClock::now() + std::chrono::seconds(timeout);
  while (SteadyClock::now() < deadline) {
    auto r = c.send(req);
    auto now = SteadyClock::now();
    if (r.ok() && r->status == 200) {
      double calls = metric(r->body, "dynarep_replicate_get_records_calls_total ");
      double applied = metric(r->body, "dynarep_replicate_records_total{outcome=\"applied\"} ");
      double read = metric(r->body, "dynarep_replicate_stream_records_read_total ");
      if (!first && calls > 0) {
        if (applied > 0) {
          std::cerr << "catchup: records were applied before the first poll; start polling earlier\n";
          return 3;
        }
        first = now;
        cpu.start();
      }
      if (first && !first_page && read > 0) first_page = now;
      if (first && applied >= static_cast<double>(count)) {
        double s = std::chrono::duration<double>(now - *first).count();
        double rate = applied / s;
        std::cout << fmt::format("catchup: {} records applied in {:.2f} s from the first GetRecords: {:.0f} records/s\n",
                                 static_cast<long>(applied), s, rate);
        std::cout << fmt::format("RESULT catchup_records_per_s {:.0f}\n", rate);
        // The same window split at the first page received: before it, nothing can be applied
        // (the stream server is producing the first pages); after it, the rate the pipeline
        // sustains. With kinesalite (~45 us of CPU per record served) the first pages of two
        // shards took 160-200 ms, a fixed cost that weighs on a short backlog only.
        if (first_page && now > *first_page) {
          const double to_first = std::chrono::duration<double>(*first_page - *first).count();
          const double sustained = applied / std::chrono::duration<double>(now - *first_page).count();
          std::cout << fmt::format("catchup: first page received {:.0f} ms after the first GetRecords; from then on "
                                   "{:.0f} records/s\n",
                                   1e3 * to_first, sustained);
          std::cout << fmt::format("RESULT catchup_first_page_ms {:.0f}\n", 1e3 * to_first);
          std::cout << fmt::format("RESULT catchup_sustained_records_per_s {:.0f}\n", sustained);
        }
        cpu.report("catchup", s, applied, "worker");
        // The AWS calls the worker made per client (start-up included): where its requests to
        // the stack went, and whether any were retried.
        std::istringstream lines(r->body);
        for (std::string line; std::getline(lines, line);) {
          for (const char* name : {"dynarep_aws_calls_total{", "dynarep_aws_retries_total{"}) {
            if (line.rfind(name, 0) == 0) std::cout << "catchup: " << line << "\n";
          }
        }
        return 0;
      }
    }
    std::this_thread::sleep_for(10ms);
  }
  std::cerr << "catchup: timed out\n";
  return 3;
}

// The replicator's work for KEYS_ONLY records, bare: consistent BatchGetItem of `keys` from
// `table`, then BatchWriteItem of what was found to `scratch`. Used by raw and raw-stream.
void copy_items(dynamodb::Client& db, const std::string& table, const std::string& scratch,
                const std::vector<model::Item>& keys, const std::string& what) {
  auto got = db.batch_get_all(table, keys, true);
  if (!got.ok()) die(what + " read", got.error());
  std::vector<dynamodb::WriteRequest> reqs;
  for (auto& item : got->items) reqs.push_back({dynamodb::WriteRequest::Kind::kPut, std::move(item)});
  auto w = db.batch_write_all(scratch, reqs);
  if (!w.ok()) die(what + " write", w.error());
}

// The ceiling for catch-up on this machine: the same stream pages read (GetRecords, Limit 2000,
// one call per shard per 200 ms, each shard read ahead of its apply) and the same DynamoDB calls
// (BatchGetItem of 100 keys, then their BatchWriteItem of 25, `parallel` segments at once over
// all shards), with nothing else: no leases, checkpoints, ordering or dead letters. Raw DynamoDB
// alone leaves the stream server's CPU out, which on a 2-core machine is a share of a core the
// catch-up phase cannot give to dynalite; this phase pays it too, so catch-up / raw-stream is
// what the worker's own machinery costs. Reads the stream from TRIM_HORIZON until `count`
// records are applied.
int raw_stream() {
  const long count = num("count", 10000);
  const int parallel = static_cast<int>(num("parallel", 8));
  const std::string table = arg("primary"), scratch = arg("scratch"), stream_name = arg("stream");
  auto db = ddb();
  auto k = kinesis::Client::connect(aws::default_region());
  auto shards = k.list_shards(stream_name);
  if (!shards.ok()) die("list shards", shards.error());
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::vector<model::Item>> segments;  // keys of up to 100 records, ready to apply
  size_t queued_pages = 0;                        // pages read and not yet fully applied, per all shards
  bool readers_done = false;
  std::atomic<long> applied{0};
  CpuWatch cpu;
  cpu.start();
  auto t0 = SteadyClock::now();
  std::vector<std::thread> readers;
  for (const auto& shard : *shards) {
    readers.emplace_back([&, id = shard.id] {
      auto it = k.get_shard_iterator(stream_name, id, kinesis::StartingPosition::trim_horizon());
      if (!it.ok()) die("shard iterator", it.error());
      std::optional<kinesis::ShardIterator> next = *it;
      while (next && applied.load() < count) {
        auto issued = SteadyClock::now();
        auto page = k.get_records(*next, 2000);
        if (!page.ok()) die("get records", page.error());
        next = page->next_iterator;
        if (page->records.empty()) break;  // the backlog is read
        std::vector<model::Item> seg;
        std::unique_lock lock(mu);
        // Read ahead as the worker does: at most two pages a shard waiting or in progress (counted
        // over all shards).
        cv.wait(lock, [&] { return queued_pages < 2 * shards->size(); });
        ++queued_pages;
        lock.unlock();
        std::vector<std::vector<model::Item>> out;
        for (const auto& rec : page->records) {
          auto c = stream::parse_change_record(rec.data);
          if (!c.ok()) die("stream " + stream_name + " shard " + id.str() + " record " + rec.sequence_number.str(), c.error());
          seg.push_back(std::move(c->keys));
          if (seg.size() == 100) out.push_back(std::exchange(seg, {}));
        }
        if (!seg.empty()) out.push_back(std::move(seg));
        lock.lock();
        for (auto& o : out) segments.push_back(std::move(o));
        segments.back().emplace_back();  // an empty key marks a page's last segment
        lock.unlock();
        cv.notify_all();
        std::this_thread::sleep_until(issued + 200ms);
      }
    });
  }
  std::vector<std::thread> pool;
  for (int t = 0; t < parallel; ++t) {
    pool.emplace_back([&] {
      for (;;) {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return !segments.empty() || applied.load() >= count || readers_done; });
        if (segments.empty()) return;
        auto keys = std::move(segments.front());
        segments.pop_front();
        lock.unlock();
        const bool page_end = keys.back().empty();
        if (page_end) keys.pop_back();
        copy_items(*db, table, scratch, keys, "raw-stream");
        applied += static_cast<long>(keys.size());
        lock.lock();
        if (page_end) --queued_pages;
        lock.unlock();
        cv.notify_all();
      }
    });
  }
  for (auto& r : readers) r.join();
  {
    std::lock_guard lock(mu);
    readers_done = true;
  }
  cv.notify_all();
  for (auto& t : pool) t.join();
  double s = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  std::cout << fmt::format("raw-stream: {} records read from the stream, their keys read and written in {:.2f} s: "
                           "{:.0f} records/s\n",
                           applied.load(), s, static_cast<double>(applied.load()) / s);
  std::cout << fmt::format("RESULT raw_stream_records_per_s {:.0f}\n", static_cast<double>(applied.load()) / s);
  cpu.report("raw-stream", s, static_cast<double>(applied.load()), "");
  return 0;
}

int raw() {
  const long count = num("count", 10000);
  const int parallel = static_cast<int>(num("parallel", 4));
  const std::string table = arg("primary"), scratch = arg("scratch");
  auto db = ddb();
  std::atomic<long> next{0};
  const long chunk = 500;  // keys per unit of work: a batch's worth
  CpuWatch cpu;
  cpu.start();
  auto t0 = SteadyClock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < parallel; ++t) {
    pool.emplace_back([&] {
      for (;;) {
        long begin = next.fetch_add(chunk);
        if (begin >= count) return;
        long end = std::min(count, begin + chunk);
        std::vector<model::Item> keys;
        for (long i = begin; i < end; ++i) keys.push_back(key("pre-" + std::to_string(i)));
        copy_items(*db, table, scratch, keys, "raw");
      }
    });
  }
  for (auto& t : pool) t.join();
  double s = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  std::cout << fmt::format("raw: {} keys read (consistent BatchGetItem) and written (BatchWriteItem) in {:.2f} s: "
                           "{:.0f} keys/s\n",
                           count, s, static_cast<double>(count) / s);
  std::cout << fmt::format("RESULT raw_keys_per_s {:.0f}\n", static_cast<double>(count) / s);
  cpu.report("raw", s, static_cast<double>(count), "");
  return 0;
}

int steady() {
  const double rate = static_cast<double>(num("rate", 500));
  const long seconds = num("seconds", 60);
  const int writers = static_cast<int>(num("writers", 16));
  const size_t size = static_cast<size_t>(num("size", 200));
  const std::string table = arg("primary"), replica = arg("replica"), stream_name = arg("stream");
  auto db = ddb();
  auto k = kinesis::Client::connect(aws::default_region());

  std::mutex mu;
  std::map<std::string, SteadyClock::time_point> pending;  // id -> write confirmed
  std::vector<double> lags_ms;
  std::atomic<bool> writing{true};
  std::atomic<long> written{0}, late{0};

  auto t_start = SteadyClock::now();
  auto t_end = t_start + std::chrono::seconds(seconds);
  std::vector<std::thread> pool;
  for (int w = 0; w < writers; ++w) {
    pool.emplace_back([&, w] {
      auto interval = std::chrono::duration<double>(static_cast<double>(writers) / rate);
      auto next = t_start + std::chrono::duration_cast<SteadyClock::duration>(interval * w / writers);
      long n = 0;
      // Each writer keeps its share of the schedule; when the stack cannot keep up, writes
      // start late (counted) and the achieved rate is reported.
      while (next < t_end) {
        std::this_thread::sleep_until(next);
        std::string id = fmt::format("st-{}-{}", w, n++);
        auto st = db->put_item(table, item(id, size));
        if (!st.ok()) die("steady put", st.error());
        auto confirmed = SteadyClock::now();
        {
          std::lock_guard lock(mu);
          pending[id] = confirmed;
        }
        auto r = k.put_record(stream_name, stream::make_keys_only_record(key(id), stream::ChangeRecord::Event::kInsert, "us-east-1"),
                              stream::partition_key(key(id)));
        if (!r.ok()) die("steady put_record", r.error());
        written++;
        next += std::chrono::duration_cast<SteadyClock::duration>(interval);
        if (SteadyClock::now() > next + 100ms) late++;
      }
    });
  }
  // The poller: consistent BatchGetItem on the replica for the oldest pending keys, every 20 ms.
  std::thread poller([&] {
    auto pdb = ddb();
    while (writing.load() || [&] {
      std::lock_guard lock(mu);
      return !pending.empty();
    }()) {
      std::vector<std::pair<std::string, SteadyClock::time_point>> batch;
      {
        std::lock_guard lock(mu);
        for (const auto& p : pending) {
          batch.push_back(p);
          if (batch.size() == 100) break;
        }
      }
      if (batch.empty()) {
        std::this_thread::sleep_for(10ms);
        continue;
      }
      std::vector<model::Item> keys;
      for (const auto& [id, t] : batch) keys.push_back(key(id));
      auto got = pdb->batch_get_all(replica, keys, true);
      auto now = SteadyClock::now();
      if (got.ok()) {
        std::lock_guard lock(mu);
        for (const auto& it : got->items) {
          const std::string& id = it.find("id")->as_s();
          auto p = pending.find(id);
          if (p == pending.end()) continue;
          lags_ms.push_back(std::chrono::duration<double, std::milli>(now - p->second).count());
          pending.erase(p);
        }
      }
      if (now - t_end > 120s) break;
      std::this_thread::sleep_for(20ms);
    }
  });
  for (auto& t : pool) t.join();
  const double write_secs = std::chrono::duration<double>(SteadyClock::now() - t_start).count();
  writing.store(false);
  poller.join();
  std::sort(lags_ms.begin(), lags_ms.end());
  auto q = [&](double f) { return lags_ms.empty() ? -1.0 : lags_ms[std::min(lags_ms.size() - 1, static_cast<size_t>(f * static_cast<double>(lags_ms.size())))]; };
  const double achieved = static_cast<double>(written.load()) / write_secs;
  std::cout << fmt::format("steady: {} writes in {:.1f} s: {:.0f}/s achieved of {:.0f}/s offered ({} writes started "
                           ">100 ms behind schedule); visible on the replica: {}; lag p50 {:.0f} ms, p90 {:.0f} ms, "
                           "p99 {:.0f} ms, max {:.0f} ms (poll resolution ~20-40 ms)\n",
                           written.load(), write_secs, achieved, rate, late.load(), lags_ms.size(), q(0.5), q(0.9),
                           q(0.99), lags_ms.empty() ? -1.0 : lags_ms.back());
  std::cout << fmt::format("RESULT lag_p50_ms {:.0f}\nRESULT lag_p99_ms {:.0f}\nRESULT writes_per_s {:.0f}\n", q(0.5),
                           q(0.99), achieved);
  return lags_ms.size() == static_cast<size_t>(written.load()) ? 0 : 3;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: replicate_loadgen setup|preload|catchup|raw|raw-stream|steady --name value ...\n";
    return 2;
  }
  std::string cmd = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string n = argv[i];
    if (n.rfind("--", 0) != 0) {
      std::cerr << "loadgen: expected --name value, got " << n << "\n";
      return 2;
    }
    g_args[n.substr(2)] = argv[i + 1];
  }
  if (cmd == "setup") return setup();
  if (cmd == "preload") return preload();
  if (cmd == "catchup") return catchup();
  if (cmd == "raw") return raw();
  if (cmd == "raw-stream") return raw_stream();
  if (cmd == "steady") return steady();
  std::cerr << "loadgen: unknown command " << cmd << "\n";
  return 2;
}
