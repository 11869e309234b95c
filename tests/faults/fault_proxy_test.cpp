// The FaultProxy fixture itself: it starts, takes rules, counts what passes, rejects bad rules
// loudly and dies with its owner. Traffic goes through the plain HTTP client (no signing), so
// these tests need only the proxy and an upstream.
#include "support/fault_proxy.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <cerrno>
#include <stdexcept>

#include "http/client.h"
#include "support/stack.h"

namespace dynarep::testing {
namespace {

TEST(FaultProxyJson, ReadsIntegerFields) {
  const std::string line = R"({"port":41235,"control_port":39017,"pid":12345})";
  EXPECT_EQ(detail::json_int_field(line, "port"), 41235);
  EXPECT_EQ(detail::json_int_field(line, "control_port"), 39017);
  EXPECT_EQ(detail::json_int_field(line, "pid"), 12345);
  EXPECT_EQ(detail::json_int_field(line, "missing"), -1);

  const std::string stats = R"({
  "total": 4,
  "faulted": 2,
  "operations": {
    "DynamoDB_20120810.BatchWriteItem": 3,
    "DynamoDB_20120810.GetItem": 1
  },
  "rules": [{"index": 0, "matched": 3, "hits": 2}]
})";
  EXPECT_EQ(detail::json_int_field(stats, "faulted"), 2);
  EXPECT_EQ(detail::json_object_int(stats, "operations", "DynamoDB_20120810.BatchWriteItem"), 3);
  EXPECT_EQ(detail::json_object_int(stats, "operations", "DynamoDB_20120810.GetItem"), 1);
  // Only inside the object: "total" is outside "operations".
  EXPECT_EQ(detail::json_object_int(stats, "operations", "total"), 0);
  EXPECT_EQ(detail::json_object_int(stats, "operations", "DynamoDB_20120810.Scan"), 0);
}

http::Response post_target(const std::string& url, const std::string& target) {
  http::Client client;
  http::Request req;
  req.method = "POST";
  req.url = url + "/";
  req.headers = {{"X-Amz-Target", target}, {"Content-Type", "application/x-amz-json-1.0"}};
  req.body = "{}";
  req.timeout = std::chrono::milliseconds(10000);
  auto r = client.send(req);
  if (!r.ok()) throw std::runtime_error("request through the proxy failed: " + r.error().describe());
  return std::move(r).value();
}

TEST(FaultProxy, StartsTakesRulesAndCounts) {
  FaultProxy proxy(local_stack().dynamodb);
  EXPECT_EQ(proxy.url(), "http://127.0.0.1:" + std::to_string(proxy.port()));
  EXPECT_EQ(proxy.total_requests(), 0);

  proxy.set_rules(R"({"rules":[{"match":{"target":"DynamoDB_20120810.ListTables"},
      "fault":"error","status":400,"code":"ValidationException","message":"from the proxy","count":1}]})");
  auto first = post_target(proxy.url(), "DynamoDB_20120810.ListTables");
  EXPECT_EQ(first.status, 400);
  EXPECT_NE(first.body.find("ValidationException"), std::string::npos) << first.body;
  EXPECT_NE(first.body.find("from the proxy"), std::string::npos) << first.body;
  // count 1: the second goes through to dynalite (which answers whatever it answers to an
  // unsigned request, but not with our message).
  auto second = post_target(proxy.url(), "DynamoDB_20120810.ListTables");
  EXPECT_EQ(second.body.find("from the proxy"), std::string::npos) << second.body;

  EXPECT_EQ(proxy.requests("DynamoDB_20120810.ListTables"), 2);
  EXPECT_EQ(proxy.requests("DynamoDB_20120810.Scan"), 0);
  EXPECT_EQ(proxy.faults_injected(), 1);
  EXPECT_EQ(proxy.total_requests(), 2);
  EXPECT_NE(proxy.stats_json().find("\"faults\""), std::string::npos);

  proxy.reset_stats();
  EXPECT_EQ(proxy.total_requests(), 0);
  proxy.clear_rules();
  (void)post_target(proxy.url(), "DynamoDB_20120810.ListTables");
  EXPECT_EQ(proxy.faults_injected(), 0);
  EXPECT_EQ(proxy.requests("DynamoDB_20120810.ListTables"), 1);
}

TEST(FaultProxy, RejectedRulesThrowWithTheProxysMessage) {
  FaultProxy proxy(local_stack().dynamodb);
  try {
    proxy.set_rules(R"({"rules":[{"fault":"no_such_fault"}]})");
    FAIL() << "an unknown fault was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("400"), std::string::npos) << e.what();
  }
  EXPECT_THROW(proxy.set_rules("not json"), std::runtime_error);
  // The old (empty) rules stay in force and the proxy still answers.
  EXPECT_EQ(proxy.faults_injected(), 0);
}

TEST(FaultProxy, DiesWithItsOwner) {
  pid_t pid = -1;
  {
    FaultProxy proxy(local_stack().dynamodb);
    pid = proxy.pid();
    ASSERT_GT(pid, 0);
    EXPECT_EQ(::kill(pid, 0), 0);
  }
  // Reaped by the destructor: the pid no longer names our child.
  errno = 0;
  EXPECT_EQ(::kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

TEST(FaultProxy, BadTargetFailsAtStart) {
  EXPECT_THROW(FaultProxy("ftp://127.0.0.1:1"), std::runtime_error);
}

}  // namespace
}  // namespace dynarep::testing
