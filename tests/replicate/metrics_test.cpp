#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <optional>

#include "http/client.h"
#include "replicate/metrics.h"

namespace dynarep::replicate {
namespace {

TEST(MetricsTest, PrometheusText) {
  Metrics m;
  m.received += 10;
  m.applied += 8;
  m.puts += 5;
  m.dead_lettered += 1;
  m.lag.observe(0.02);
  m.lag.observe(0.4);
  m.lag.observe(1000);
  std::string out;
  m.render(out);
  EXPECT_NE(out.find("# TYPE dynarep_replicate_records_total counter\n"), std::string::npos);
  EXPECT_NE(out.find("dynarep_replicate_records_total{outcome=\"applied\"} 8\n"), std::string::npos) << out;
  EXPECT_NE(out.find("dynarep_replicate_writes_total{op=\"put\"} 5\n"), std::string::npos);
  EXPECT_NE(out.find("dynarep_replicate_lag_seconds_bucket{le=\"0.025\"} 1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("dynarep_replicate_lag_seconds_bucket{le=\"0.5\"} 2\n"), std::string::npos) << out;
  EXPECT_NE(out.find("dynarep_replicate_lag_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos) << out;
  EXPECT_NE(out.find("dynarep_replicate_lag_seconds_count 3\n"), std::string::npos);
  EXPECT_EQ(m.lag.quantile_bound(0.5), 0.5);
  EXPECT_TRUE(std::isinf(m.lag.quantile_bound(0.99)));
}

TEST(MetricsTest, ServerAnswersMetricsAnd404) {
  auto srv = MetricsServer::start("127.0.0.1", 0, [] { return std::string("x 1\n"); });
  ASSERT_TRUE(srv.ok()) << srv.error().describe();
  http::Client c;
  http::Request req;
  req.url = "http://127.0.0.1:" + std::to_string((*srv)->port()) + "/metrics";
  auto r = c.send(req);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "x 1\n");
  EXPECT_EQ(std::string(r->header("content-type").value_or("")), "text/plain; version=0.0.4; charset=utf-8");
  req.url = "http://127.0.0.1:" + std::to_string((*srv)->port()) + "/nope";
  r = c.send(req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404);
  EXPECT_FALSE(MetricsServer::start("not-an-ip", 0, [] { return std::string(); }).ok());
}

TEST(MetricsTest, HealthAndReadinessEndpoints) {
  std::atomic<bool> ready{false};
  auto srv = MetricsServer::start("127.0.0.1", 0, [] { return std::string("x 1\n"); },
                                  [&]() -> std::optional<std::string> {
                                    if (ready.load()) return std::nullopt;
                                    return std::string("the lease table has not been read yet");
                                  });
  ASSERT_TRUE(srv.ok()) << srv.error().describe();
  http::Client c;
  auto get = [&](const std::string& path) {
    http::Request req;
    req.url = "http://127.0.0.1:" + std::to_string((*srv)->port()) + path;
    auto r = c.send(req);
    EXPECT_TRUE(r.ok());
    return r.ok() ? std::make_pair(r->status, r->body) : std::make_pair(0, std::string());
  };
  EXPECT_EQ(get("/healthz"), std::make_pair(200, std::string("ok\n")));
  auto not_yet = get("/readyz");
  EXPECT_EQ(not_yet.first, 503);
  EXPECT_EQ(not_yet.second, "not ready: the lease table has not been read yet\n");
  ready.store(true);
  EXPECT_EQ(get("/readyz"), std::make_pair(200, std::string("ready\n")));
}

}  // namespace
}  // namespace dynarep::replicate
