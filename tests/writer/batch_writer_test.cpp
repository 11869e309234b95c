// writer::BatchWriter against a scripted DynamoDB (tests/http TestHttpServer answering
// BatchWriteItem): items the service returns as UnprocessedItems are re-sent until written,
// never dropped; only confirmed items are counted and published (one record each, INSERT for
// a put, REMOVE for a delete); a key's writes keep their order; a failing call stops the
// writer with the exact count written.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <map>
#include <mutex>
#include <set>

#include "aws/client.h"
#include "aws/credentials.h"
#include "dynamodb/client.h"
#include "fake_kinesis.h"
#include "http/test_server.h"
#include "model/codec.h"
#include "model/item.h"
#include "writer/batch_writer.h"

namespace dynarep::writer {
namespace {

using namespace std::chrono_literals;
using dynamodb::WriteRequest;
using testing::FakeKinesis;

// BatchWriteItem in memory. Each request entry's first sighting is left unprocessed when
// `unprocess_first` says so; from call `fail_from` on, calls fail with ValidationException.
class FakeDynamo {
 public:
  std::function<bool(const std::string& id)> unprocess_first;
  int fail_from = 0;  // 0: never

  dynarep::testing::CannedResponse handle(const dynarep::testing::RecordedRequest& req) {
    simdjson::dom::parser parser;
    auto doc = parser.parse(req.body);
    std::lock_guard lock(mu_);
    ++calls_;
    if (fail_from > 0 && calls_ >= fail_from) {
      return {400, {{"content-type", "application/x-amz-json-1.0"}},
              R"({"__type":"com.amazonaws.dynamodb.v20120810#ValidationException","message":"injected"})"};
    }
    std::string unprocessed;
    std::set<std::string> ids_in_call;
    for (auto entry : doc.value()["RequestItems"]["t"].get_array()) {
      bool put = !entry["PutRequest"].error();
      auto obj = put ? entry["PutRequest"]["Item"] : entry["DeleteRequest"]["Key"];
      std::string id(obj["id"]["S"].get_string().value());
      std::string json = simdjson::minify(obj.value());
      EXPECT_TRUE(ids_in_call.insert(id).second) << "key " << id << " twice in one call";
      bool first = seen_.insert(id + (put ? "+" : "-") + std::to_string(log_[id].size())).second;
      if (first && unprocess_first && unprocess_first(id)) {
        if (!unprocessed.empty()) unprocessed += ',';
        unprocessed += put ? R"({"PutRequest":{"Item":)" + json + "}}" : R"({"DeleteRequest":{"Key":)" + json + "}}";
        continue;
      }
      log_[id].push_back(put ? "INSERT" : "REMOVE");
      ++stored_;
    }
    std::string body = unprocessed.empty() ? R"({"UnprocessedItems":{}})"
                                           : R"({"UnprocessedItems":{"t":[)" + unprocessed + "]}}";
    return {200, {{"content-type", "application/x-amz-json-1.0"}}, body};
  }
  std::map<std::string, std::vector<std::string>> log() {
    std::lock_guard lock(mu_);
    return log_;
  }
  int64_t stored() {
    std::lock_guard lock(mu_);
    return stored_;
  }

 private:
  std::mutex mu_;
  int calls_ = 0;
  int64_t stored_ = 0;
  std::set<std::string> seen_;
  std::map<std::string, std::vector<std::string>> log_;  // id -> writes applied, in order
};

std::shared_ptr<dynamodb::Client> client_for(const std::string& url) {
  aws::Endpoint e{url, "us-east-1", "dynamodb"};
  aws::Credentials c;
  c.access_key_id = "x";
  c.secret_access_key = "y";
  aws::RetryPolicy p;
  p.max_attempts = 1;
  return std::make_shared<dynamodb::Client>(
      std::make_shared<aws::AwsClient>(e, std::make_shared<aws::StaticCredentialsProvider>(c), p));
}

model::Item id_item(const std::string& id) { return model::parse_item(R"({"id":{"S":")" + id + R"("}})").value(); }

const model::KeySchema kSchema{"id", model::Type::kS, "", model::Type::kS};

TEST(BatchWriterTest, UnprocessedItemsAreResentUntilWrittenAndPublishedOnce) {
  FakeDynamo fake;
  fake.unprocess_first = [](const std::string& id) { return id.back() % 2 == 0; };  // about half, once
  dynarep::testing::TestHttpServer server([&](const auto& r) { return fake.handle(r); });
  auto ddb = client_for(server.url());
  FakeKinesis kin;
  PublisherOptions po;
  po.stream = "s";
  StreamPublisher publisher(kin.client(), po);
  ManualClock clock;
  BatchWriterOptions o;
  o.parallel = 3;
  o.publisher = &publisher;
  o.aws_region = "us-east-1";
  o.clock = &clock;
  BatchWriter w(*ddb, "t", kSchema, o);
  // 300 puts, then a delete of every third key: per key, INSERT then REMOVE.
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(w.add({WriteRequest::Kind::kPut, id_item("k" + std::to_string(i))}).ok());
  for (int i = 0; i < 300; i += 3) {
    ASSERT_TRUE(w.add({WriteRequest::Kind::kDelete, id_item("k" + std::to_string(i))}).ok());
  }
  auto r = w.finish();
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->written, 400);
  EXPECT_EQ(r->not_written, 0);
  EXPECT_EQ(fake.stored(), 400);
  EXPECT_GT(clock.total_slept(), 0ns);  // backed off before re-sending unprocessed items
  auto log = fake.log();
  ASSERT_EQ(log.size(), 300u);
  std::map<std::string, std::vector<std::string>> on_stream;
  for (const auto& s : kin.stored()) {
    auto rec = stream::parse_change_record(s.data);
    ASSERT_TRUE(rec.ok());
    on_stream[rec->keys.at("id").as_s()].push_back(std::string(stream::to_string(rec->event)));
  }
  EXPECT_EQ(on_stream, log);  // one record per applied write, in the order applied
  for (int i = 0; i < 300; i += 3) {
    EXPECT_EQ(log["k" + std::to_string(i)], (std::vector<std::string>{"INSERT", "REMOVE"})) << i;
  }
}

TEST(BatchWriterTest, AFailedCallStopsWithTheExactCountWritten) {
  FakeDynamo fake;
  fake.unprocess_first = [](const std::string& id) { return id.back() == '7'; };
  fake.fail_from = 6;
  dynarep::testing::TestHttpServer server([&](const auto& r) { return fake.handle(r); });
  auto ddb = client_for(server.url());
  ManualClock clock;
  BatchWriterOptions o;
  o.parallel = 4;
  o.clock = &clock;
  BatchWriter w(*ddb, "t", kSchema, o);
  for (int i = 0; i < 1000; ++i) {
    if (!w.add({WriteRequest::Kind::kPut, id_item("k" + std::to_string(i))}).ok()) break;
  }
  auto r = w.finish();
  EXPECT_TRUE(w.failed());
  ASSERT_FALSE(r.ok());
  ASSERT_TRUE(r.error().write_error.has_value());
  EXPECT_EQ(r.error().write_error->code, "ValidationException");
  EXPECT_EQ(r.error().written, fake.stored());  // partial calls counted item by item
  EXPECT_GT(r.error().written, 0);
  EXPECT_NE(r.error().describe().find("items written before this call"), std::string::npos) << r.error().describe();
}

TEST(BatchWriterTest, RequestsWithoutAValidKeyAreRefused) {
  FakeDynamo fake;
  dynarep::testing::TestHttpServer server([&](const auto& r) { return fake.handle(r); });
  auto ddb = client_for(server.url());
  BatchWriter w(*ddb, "t", kSchema, {});
  auto st = w.add({WriteRequest::Kind::kPut, model::parse_item(R"({"id":{"N":"1"}})").value()});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::kInvalidInput);
  auto r = w.finish();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->written, 0);
}

}  // namespace
}  // namespace dynarep::writer
