// The Lambda modes of `dynarep replicate`: one event from a file, and the custom runtime loop
// against a Runtime API served by the test (tests/http TestHttpServer), also when the binary is
// started under the name `bootstrap`.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>
#include <set>

#include "crypto/encoding.h"
#include "http/test_server.h"
#include "replicate/test_harness.h"
#include "support/fault_proxy.h"
#include "support/process.h"

namespace dynarep::repltest {
namespace {

using namespace std::chrono_literals;
using Event = stream::ChangeRecord::Event;

std::string kinesis_record(const std::string& data, int seq) {
  return R"({"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":"pk","sequenceNumber":")" + std::to_string(seq) +
         R"(","data":")" + crypto::base64_encode(data) +
         R"(","approximateArrivalTimestamp":1700000000.5},"eventSource":"aws:kinesis","eventVersion":"1.0",)"
         R"("eventID":"shardId-000000000007:)" + std::to_string(seq) +
         R"(","eventName":"aws:kinesis:record","awsRegion":"us-east-1","eventSourceARN":"arn:aws:kinesis:us-east-1:1:stream/s"})";
}

std::string streams_record(const std::string& event, const std::string& id, int64_t created_s, int seq) {
  std::string r = R"({"eventID":"e)" + std::to_string(seq) + R"(","eventName":")" + event +
                  R"(","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"us-east-1","dynamodb":{)"
                  R"("ApproximateCreationDateTime":)" + std::to_string(created_s) + R"(,"Keys":{"id":{"S":")" + id + R"("}})";
  if (event != "REMOVE") r += R"(,"NewImage":{"id":{"S":")" + id + R"("},"seq":{"N":")" + std::to_string(seq) + R"("}})";
  r += R"(,"SequenceNumber":")" + std::to_string(seq) + R"(","SizeBytes":10,"StreamViewType":"NEW_AND_OLD_IMAGES"},)"
       R"("eventSourceARN":"arn:aws:dynamodb:us-east-1:1:table/p/stream/2020"})";
  return r;
}

std::string event_of(const std::vector<std::string>& records) {
  std::string e = R"({"Records":[)";
  for (size_t i = 0; i < records.size(); ++i) e += (i ? "," : "") + records[i];
  return e + "]}";
}

class LambdaModeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::local_stack();
    db_ = ddb();
    primary_ = res_.table(simple_schema(), "prim");
    replica_ = res_.table(simple_schema(), "repl");
    dir_ = std::filesystem::temp_directory_path() / testing::unique_name("lambda");
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write_file(const std::string& name, const std::string& text) {
    std::string p = dir_ + "/" + name;
    std::ofstream(p) << text;
    return p;
  }
  Resources res_;
  std::shared_ptr<dynamodb::Client> db_;
  std::string primary_, replica_, dir_;
};

TEST_F(LambdaModeTest, EventFileAppliesAndDeadLettersWithoutFailing) {
  ASSERT_TRUE(db_->put_item(primary_, item("a", 1)).ok());
  ASSERT_TRUE(db_->put_item(replica_, item("gone", 1)).ok());
  std::string ev = event_of({kinesis_record(stream::make_keys_only_record(key("a"), Event::kInsert, "us-east-1"), 1),
                             kinesis_record("{broken", 2),
                             kinesis_record(stream::make_keys_only_record(key("gone"), Event::kRemove, "us-east-1"), 3)});
  std::string file = write_file("event.json", ev);
  Proc p({"replicate", "--primary", "us-east-1/" + primary_, "--replica", "us-east-1/" + replica_, "--event", file,
          "--dead-letter", dir_ + "/dl"});
  ASSERT_EQ(p.wait(30s), 0) << p.log();
  EXPECT_NE(p.log().find(R"({"received":3,"applied":2,"superseded":0,"skipped":0,"deadLettered":1,"puts":1,"deletes":1})"),
            std::string::npos)
      << p.log();
  EXPECT_EQ(diff_tables(scan_all(*db_, primary_), scan_all(*db_, replica_)), "");
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/dl/shardId-000000000007.jsonl"));
}

TEST_F(LambdaModeTest, EventFromStdinWithImagesAndTurnover) {
  // DynamoDB Streams records carry images: no primary needed. Turnover AFTER 1700000100 s.
  std::string ev = event_of({streams_record("INSERT", "old", 1700000000, 1), streams_record("INSERT", "new", 1700000200, 2),
                             streams_record("MODIFY", "new", 1700000300, 3)});
  testing::ProcessResult r = testing::run_dynarep(
      {"replicate", "--replica", "us-east-1/" + replica_, "--event", "-", "--turnover-role", "AFTER", "--turnover-at",
       "1700000100000"},
      ev);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, R"({"received":3,"applied":2,"superseded":1,"skipped":1,"deadLettered":0,"puts":1,"deletes":0})"
                   "\n");
  auto rep = scan_all(*db_, replica_);
  ASSERT_EQ(rep.size(), 1u);
  EXPECT_EQ(model::to_json(rep.begin()->second), R"({"id":{"S":"new"},"seq":{"N":"3"}})");
}

TEST_F(LambdaModeTest, EventFailsWhenTheReplicaKeepsFailing) {
  testing::FaultProxy proxy(testing::local_stack().dynamodb);
  proxy.set_rules(R"({"rules":[{"match":{"target":"DynamoDB_20120810.BatchWriteItem"},"fault":"status","status":500}]})");
  std::string ev = event_of({streams_record("INSERT", "a", 1700000000, 1)});
  testing::ProcessResult r = testing::run_dynarep(
      {"replicate", "--replica", "us-east-1/" + replica_, "--event", "-", "--endpoint", proxy.url()}, ev);
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("replica table " + replica_), std::string::npos) << r.err;
  EXPECT_EQ(scan_all(*db_, replica_).size(), 0u);
}

// A front to dynalite that fails every BatchWriteItem carrying a key with "poison" in it, with
// DynamoDB's 500 InternalServerError (retryable), and passes everything else on: a record that
// cannot be applied for now while its neighbours can.
class PoisonFront {
 public:
  PoisonFront()
      : upstream_(testing::local_stack().dynamodb), server_([this](const testing::RecordedRequest& r) {
          auto target = r.header("x-amz-target");
          if (target == "DynamoDB_20120810.BatchWriteItem" && r.body.find("poison") != std::string::npos) {
            return testing::CannedResponse{
                500,
                {{"Content-Type", "application/x-amz-json-1.0"}},
                R"({"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"Internal server error"})"};
          }
          return testing::forward(upstream_, r);
        }) {}
  std::string url() const { return server_.url(); }

 private:
  std::string upstream_;
  testing::TestHttpServer server_;
};

TEST_F(LambdaModeTest, PartialBatchReportsTheFirstFailingRecordAndAllAfterIt) {
  // Kinesis KEYS_ONLY records a(1), b(2), poison(3), d(4) of one shard: a and b are applied;
  // 3 and 4 are reported (Lambda resumes the shard at 3; d must not overtake it).
  for (const char* id : {"a", "b", "poison", "d"}) ASSERT_TRUE(db_->put_item(primary_, item(id, 1)).ok());
  PoisonFront front;
  std::vector<std::string> records;
  int seq = 0;
  for (const char* id : {"a", "b", "poison", "d"}) {
    records.push_back(kinesis_record(stream::make_keys_only_record(key(id), Event::kInsert, "us-east-1"), ++seq));
  }
  testing::ProcessResult r = testing::run_dynarep({"replicate", "--primary", "us-east-1/" + primary_, "--replica",
                                                   "us-east-1/" + replica_, "--event", "-", "--endpoint", front.url(),
                                                   "--report-batch-item-failures"},
                                                  event_of(records));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.out, R"({"batchItemFailures":[{"itemIdentifier":"3"},{"itemIdentifier":"4"}]})"
                   "\n")
      << r.err;
  EXPECT_NE(r.err.find("2 record(s) not applied, from sequence number 3"), std::string::npos) << r.err;
  std::set<std::string> ids;
  for (const auto& [k, v] : scan_all(*db_, replica_)) ids.insert(model::to_json(*model::extract_key(v, simple_schema())));
  EXPECT_EQ(ids, (std::set<std::string>{R"({"id":{"S":"a"}})", R"({"id":{"S":"b"}})"}));
}

TEST_F(LambdaModeTest, PartialBatchWithEverythingAppliedReportsNothing) {
  std::string ev = event_of({streams_record("INSERT", "x", 1700000000, 1), streams_record("INSERT", "y", 1700000000, 2)});
  testing::ProcessResult r = testing::run_dynarep(
      {"replicate", "--replica", "us-east-1/" + replica_, "--event", "-", "--report-batch-item-failures"}, ev);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"batchItemFailures\":[]}\n");
  EXPECT_EQ(scan_all(*db_, replica_).size(), 2u);
}

// A Lambda Runtime API: hands out the queued events, records responses and errors.
class RuntimeApi {
 public:
  explicit RuntimeApi(std::vector<std::string> events)
      : events_(std::move(events)), server_([this](const testing::RecordedRequest& r) { return handle(r); }) {}
  std::string api() const { return "127.0.0.1:" + std::to_string(server_.port()); }
  std::map<std::string, std::string> responses() {
    std::lock_guard lock(mu_);
    return responses_;
  }
  std::map<std::string, std::string> errors() {
    std::lock_guard lock(mu_);
    return errors_;
  }
  std::string init_error() {
    std::lock_guard lock(mu_);
    return init_error_;
  }
  // The time each invocation gets (Lambda-Runtime-Deadline-Ms); 30 s unless set.
  void set_deadline(std::chrono::milliseconds d) {
    std::lock_guard lock(mu_);
    deadline_ = d;
  }

 private:
  testing::CannedResponse handle(const testing::RecordedRequest& r) {
    std::lock_guard lock(mu_);
    const std::string base = "/2018-06-01/runtime";
    if (r.method == "GET" && r.target == base + "/invocation/next") {
      if (next_ >= events_.size()) {
        testing::CannedResponse idle;
        idle.status = 500;
        idle.delay = 100ms;
        idle.body = R"({"errorMessage":"no more events in this test"})";
        return idle;
      }
      testing::CannedResponse c;
      std::string id = "req-" + std::to_string(++next_);
      c.headers = {{"Lambda-Runtime-Aws-Request-Id", id},
                   {"Lambda-Runtime-Deadline-Ms",
                    std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                       (std::chrono::system_clock::now() + deadline_).time_since_epoch())
                                       .count())},
                   {"Lambda-Runtime-Trace-Id", "Root=1-abc"}};
      c.body = events_[next_ - 1];
      return c;
    }
    if (r.method == "POST" && r.target == base + "/init/error") {
      init_error_ = r.body;
      return {202, {}, R"({"status":"OK"})"};
    }
    std::smatch m;
    static const std::regex re(R"(/2018-06-01/runtime/invocation/([^/]+)/(response|error))");
    if (r.method == "POST" && std::regex_match(r.target, m, re)) {
      (m[2] == "response" ? responses_ : errors_)[m[1]] = r.body;
      return {202, {}, R"({"status":"OK"})"};
    }
    return {404, {}, "{}"};
  }

  std::mutex mu_;
  std::vector<std::string> events_;
  size_t next_ = 0;
  std::map<std::string, std::string> responses_, errors_;
  std::string init_error_;
  std::chrono::milliseconds deadline_ = 30s;
  testing::TestHttpServer server_;
};

TEST_F(LambdaModeTest, RuntimeLoopAnswersEachInvocation) {
  ASSERT_TRUE(db_->put_item(primary_, item("a", 1)).ok());
  RuntimeApi api({event_of({kinesis_record(stream::make_keys_only_record(key("a"), Event::kInsert, "us-east-1"), 1)}),
                  R"({"notAnEvent":true})"});
  Proc p({"replicate", "--lambda-runtime"},
         {{"AWS_LAMBDA_RUNTIME_API", api.api()}, {"PRIMARY", "us-east-1/" + primary_}, {"REPLICA", "us-east-1/" + replica_}});
  ASSERT_TRUE(eventually([&] { return api.responses().size() == 1 && api.errors().size() == 1; }, 30s)) << p.log();
  EXPECT_EQ(api.responses()["req-1"],
            R"({"received":1,"applied":1,"superseded":0,"skipped":0,"deadLettered":0,"puts":1,"deletes":0})");
  EXPECT_NE(api.errors()["req-2"].find(R"("errorType":"Replication.InvalidEvent")"), std::string::npos)
      << api.errors()["req-2"];
  EXPECT_EQ(diff_tables(scan_all(*db_, primary_), scan_all(*db_, replica_)), "");
  p.signal(SIGTERM);
  EXPECT_EQ(p.wait(20s), 0) << p.log();
}

TEST_F(LambdaModeTest, RuntimeAnswersBatchItemFailuresWhenReportingIsOn) {
  // DynamoDB Streams records (images: no primary). Event 1 applies whole; in event 2 the
  // poisoned record and the one after it are reported, by their SequenceNumber.
  PoisonFront front;
  RuntimeApi api({event_of({streams_record("INSERT", "x", 1700000000, 11)}),
                  event_of({streams_record("INSERT", "y", 1700000000, 21), streams_record("INSERT", "poison", 1700000000, 22),
                            streams_record("MODIFY", "y", 1700000000, 23)})});
  // 8 s an invocation: about 3.5 s of whole-batch retries, then the halving.
  api.set_deadline(8s);
  Proc p({"replicate", "--lambda-runtime", "--endpoint", front.url()},
         {{"AWS_LAMBDA_RUNTIME_API", api.api()}, {"REPLICA", "us-east-1/" + replica_},
          {"REPORT_BATCH_ITEM_FAILURES", "true"}, {"DYNAREP_LAMBDA_MAX_INVOCATIONS", "2"}});
  EXPECT_EQ(p.wait(60s), 0) << p.log();
  EXPECT_TRUE(api.errors().empty()) << p.log();
  EXPECT_EQ(api.responses()["req-1"], R"({"batchItemFailures":[]})") << p.log();
  EXPECT_EQ(api.responses()["req-2"], R"({"batchItemFailures":[{"itemIdentifier":"22"},{"itemIdentifier":"23"}]})")
      << p.log();
  // x, and y as record 21 left it (23, after the failure, is not applied ahead of 22).
  auto rep = scan_all(*db_, replica_);
  ASSERT_EQ(rep.size(), 2u);
  std::string all;
  for (const auto& [k, v] : rep) all += model::to_json(v);
  EXPECT_NE(all.find(R"({"id":{"S":"y"},"seq":{"N":"21"}})"), std::string::npos) << all;
}

TEST_F(LambdaModeTest, BootstrapNameStartsTheRuntime) {
  std::string link = dir_ + "/bootstrap";
  const char* bin = std::getenv("DYNAREP_BINARY");
  std::filesystem::create_symlink(bin != nullptr ? bin : DYNAREP_BINARY_FOR_LAMBDA_TEST, link);
  RuntimeApi api({event_of({streams_record("INSERT", "z", 1700000000, 1)})});
  Proc p({}, {{"AWS_LAMBDA_RUNTIME_API", api.api()}, {"REPLICA", "us-east-1/" + replica_},
              {"DYNAREP_LAMBDA_MAX_INVOCATIONS", "1"}},
         link);
  EXPECT_EQ(p.wait(30s), 0) << p.log();
  EXPECT_EQ(api.responses().size(), 1u) << p.log();
  EXPECT_EQ(scan_all(*db_, replica_).size(), 1u);
}

TEST_F(LambdaModeTest, BadConfigurationIsAnInitError) {
  RuntimeApi api({});
  Proc p({"replicate", "--lambda-runtime"},
         {{"AWS_LAMBDA_RUNTIME_API", api.api()}, {"REPLICA", "us-east-1/no-such-table-" + testing::unique_name("x")}});
  EXPECT_EQ(p.wait(30s), 3) << p.log();
  EXPECT_NE(api.init_error().find(R"("errorType":"Runtime.InitError")"), std::string::npos) << api.init_error();
}

}  // namespace
}  // namespace dynarep::repltest
