// Least privilege, proved: each DynamoDB/Kinesis command of docs/credentials.md runs on a moto
// that enforces IAM (INITIAL_NO_AUTH_ACTION_COUNT: after the first 3 requests every request is
// signature-checked and policy-checked), as IAM users whose policies are the JSON documents in
// docs/credentials.md, read from the doc itself (each after a `<!-- policy: NAME -->` line), so a
// doc that drifts from what the code calls fails here. Each command must succeed under its
// policies, and fail with an AccessDenied line naming the action once one needed action is
// taken out (enforcement is on, and the policy is not wider than it has to be to matter).
//
// What moto 5.2.1 checks (moto/core/responses.py, moto/iam/access_control.py): the action
// ("dynamodb:GetItem", "kinesis:GetRecords"; DynamoDB Streams calls are "dynamodb:" actions as
// in IAM), against the resource "*" for DynamoDB and Kinesis (it names no table or stream). So
// the test widens each statement's Resource to "*" (for_moto): moto proves the action lists,
// not the ARNs. And moto authorizes TransactWriteItems as an action of its own where IAM
// authorizes the actions inside it (PutItem, DeleteItem, ConditionCheckItem: "IAM with
// DynamoDB transactions" in the DynamoDB developer guide), so for_moto adds
// dynamodb:TransactWriteItems next to dynamodb:ConditionCheckItem.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "aws/client.h"
#include "aws/credentials.h"
#include "aws/sigv4.h"
#include "aws/xml.h"
#include "replicate/test_harness.h"
#include "support/moto.h"
#include "support/process.h"
#include "support/stack.h"

namespace dynarep::replicate {
namespace {

using namespace std::chrono_literals;
using repltest::item;
namespace fs = std::filesystem;

// The policy document after `<!-- policy: NAME -->` in docs/credentials.md ("" when missing).
std::string doc_policy(const std::string& name) {
  std::ifstream in(testing::source_dir() + "/docs/credentials.md");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  const std::string marker = "<!-- policy: " + name + " -->";
  auto at = doc.find(marker);
  if (at == std::string::npos) return "";
  auto open = doc.find("```json\n", at);
  if (open == std::string::npos) return "";
  open += 8;
  auto close = doc.find("```", open);
  if (close == std::string::npos) return "";
  return doc.substr(open, close - open);
}

// The document as moto can check it (see the top of this file).
std::string for_moto(std::string policy) {
  policy = std::regex_replace(policy, std::regex(R"re("Resource"\s*:\s*("[^"]*"|\[[^\]]*\]))re"),
                              R"("Resource": "*")");
  return std::regex_replace(policy, std::regex(R"re("dynamodb:ConditionCheckItem")re"),
                            R"("dynamodb:ConditionCheckItem", "dynamodb:TransactWriteItems")");
}

// The document without `action` (the test checks it was there).
std::string without(const std::string& policy, const std::string& action) {
  const std::string quoted = "\"" + action + "\"";
  EXPECT_NE(policy.find(quoted), std::string::npos) << action << " is not in the policy:\n" << policy;
  // Renamed rather than cut out, so the JSON stays valid whatever its place in the list.
  return std::regex_replace(policy, std::regex(quoted), "\"" + action + "Removed\"");
}

struct Keys {
  std::string id, secret;
};

std::shared_ptr<aws::CredentialsProvider> provider(const Keys& k) {
  aws::Credentials c;
  c.access_key_id = k.id;
  c.secret_access_key = k.secret;
  return std::make_shared<aws::StaticCredentialsProvider>(c);
}

std::shared_ptr<aws::AwsClient> aws_client(const std::string& url, const std::string& service, const Keys& k) {
  aws::RetryPolicy p = repltest::test_policy();
  return std::make_shared<aws::AwsClient>(aws::Endpoint{url, "us-east-1", service}, provider(k), p);
}

// One IAM Query call (moto's IAM, signed as `who`): the answer's XML.
aws::xml::Element iam(const std::string& url, const Keys& who,
                      const std::vector<std::pair<std::string, std::string>>& params) {
  std::string body = "Version=2010-05-08";
  for (const auto& [k, v] : params) body += "&" + k + "=" + aws::uri_encode(v);
  http::Request req;
  req.method = "POST";
  req.url = url + "/";
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  req.body = std::move(body);
  auto resp = aws_client(url, "iam", who)->call_rest(std::move(req));
  if (!resp.ok()) throw std::runtime_error("IAM " + params.front().second + ": " + resp.error().describe());
  auto doc = aws::xml::parse(resp->body);
  if (!doc.ok()) throw std::runtime_error("IAM answer: " + doc.error().describe());
  return *doc;
}

// An IAM user with `policy` as its only (inline) policy, and its access key.
Keys make_user(const std::string& url, const Keys& admin, const std::string& name, const std::string& policy) {
  iam(url, admin, {{"Action", "CreateUser"}, {"UserName", name}});
  iam(url, admin, {{"Action", "PutUserPolicy"}, {"UserName", name}, {"PolicyName", "dynarep"}, {"PolicyDocument", policy}});
  auto doc = iam(url, admin, {{"Action", "CreateAccessKey"}, {"UserName", name}});
  const auto* result = doc.child("CreateAccessKeyResult");
  const auto* key = result != nullptr ? result->child("AccessKey") : nullptr;
  if (key == nullptr) throw std::runtime_error("CreateAccessKey: no AccessKey in the answer");
  return Keys{std::string(key->child_text("AccessKeyId").value_or("")),
              std::string(key->child_text("SecretAccessKey").value_or(""))};
}

class LeastPrivilegeMotoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::local_stack();
    if (testing::find_program("moto_server").empty()) GTEST_SKIP() << "moto_server is not installed (scripts/setup.sh installs it with pip)";
    // Its own moto: the shared one does not check anything. The first 3 requests make the
    // admin (user, policy, key); from the 4th on, every request is checked.
    moto_ = std::make_unique<testing::MotoServer>(std::map<std::string, std::string>{{"INITIAL_NO_AUTH_ACTION_COUNT", "3"}});
    url_ = moto_->url();
    host_ = url_.substr(std::string("http://").size());
    const Keys nobody{"AKIAUNCHECKEDFIRST3", "unchecked"};
    iam(url_, nobody, {{"Action", "CreateUser"}, {"UserName", "admin"}});
    iam(url_, nobody, {{"Action", "PutUserPolicy"}, {"UserName", "admin"}, {"PolicyName", "all"},
                       {"PolicyDocument", R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})"}});
    auto doc = iam(url_, nobody, {{"Action", "CreateAccessKey"}, {"UserName", "admin"}});
    const auto* k = doc.child("CreateAccessKeyResult")->child("AccessKey");
    admin_ = Keys{std::string(k->child_text("AccessKeyId").value_or("")), std::string(k->child_text("SecretAccessKey").value_or(""))};
    db_ = std::make_shared<dynamodb::Client>(aws_client(url_, "dynamodb", admin_));
    kin_ = std::make_shared<kinesis::Client>(aws_client(url_, "kinesis", admin_));
    std::string tmpl = (fs::temp_directory_path() / "dynarep-iam-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // A user whose only policy is the doc's `name` policy (for moto), minus `drop` if given.
  // Returns the profile name that signs as that user in config().
  std::string user(const std::string& name, const std::string& drop = "") {
    std::string policy = doc_policy(name);
    EXPECT_FALSE(policy.empty()) << "docs/credentials.md has no policy '" << name << "'";
    policy = for_moto(policy);
    if (!drop.empty()) policy = without(policy, drop);
    const std::string profile = name + (drop.empty() ? "" : "-without-" + std::to_string(++dropped_));
    const Keys k = make_user(url_, admin_, profile, policy);
    profiles_ << "[profile " << profile << "]\naws_access_key_id = " << k.id << "\naws_secret_access_key = " << k.secret
              << "\n";
    std::ofstream(dir_ + "/config") << profiles_.str();
    keys_[profile] = k;
    return profile;
  }
  // The environment of a dynarep child: every endpoint is this moto; `as` (a profile of
  // user()) signs what no --<side>-profile covers.
  std::map<std::string, std::string> env(const std::string& as) const {
    const Keys& k = keys_.at(as);
    return {{"AWS_CONFIG_FILE", dir_ + "/config"},
            {"AWS_SHARED_CREDENTIALS_FILE", dir_ + "/credentials-none"},
            {"AWS_ACCESS_KEY_ID", k.id},
            {"AWS_SECRET_ACCESS_KEY", k.secret},
            {"AWS_SESSION_TOKEN", ""},
            {"AWS_REGION", "us-east-1"},
            {"AWS_ENDPOINT_URL_DYNAMODB", url_},
            {"AWS_ENDPOINT_URL_DYNAMODB_STREAMS", url_},
            {"AWS_ENDPOINT_URL_KINESIS", url_}};
  }
  std::string loc(const std::string& table) const { return host_ + "/" + table; }
  std::string table() {
    std::string t = testing::unique_name("lp");
    EXPECT_TRUE(db_->create_table(t, repltest::simple_schema()).ok());
    return t;
  }
  static std::string lines(int from, int to, int version) {
    std::string in;
    for (int i = from; i < to; ++i) {
      in += R"({"id":{"S":"k)" + std::to_string(i) + R"("},"v":{"N":")" + std::to_string(version) + "\"}}\n";
    }
    return in;
  }
  std::string diff(const std::string& primary, const std::string& replica) {
    return repltest::diff_tables(repltest::scan_all(*db_, primary), repltest::scan_all(*db_, replica));
  }
  // The one error line a refused command prints: AccessDenied, naming the action.
  static void expect_denied(const std::string& err, const std::string& action) {
    EXPECT_NE(err.find("AccessDenied"), std::string::npos) << err;
    EXPECT_NE(err.find(action), std::string::npos) << err;
  }
  // A refused daemon does not exit: it logs the refusal (naming the action and the stream or
  // table) and retries with backoff, so a policy fixed while it runs takes effect without a
  // restart. It still stops cleanly when told to.
  static void expect_daemon_refused(repltest::Proc& rep, const std::string& action, const std::string& place) {
    EXPECT_TRUE(repltest::eventually(
        [&] {
          const std::string log = rep.log();
          return log.find("AccessDenied") != std::string::npos && log.find(action) != std::string::npos &&
                 log.find(place) != std::string::npos;
        },
        15s, 100ms))
        << action << " on " << place << ":\n" << rep.log();
    rep.signal(SIGTERM);
    EXPECT_EQ(rep.wait(20s), std::optional<int>(0)) << rep.log();
  }

  std::unique_ptr<testing::MotoServer> moto_;
  std::string url_, host_, dir_;
  Keys admin_;
  std::shared_ptr<dynamodb::Client> db_;
  std::shared_ptr<kinesis::Client> kin_;
  std::stringstream profiles_;
  std::map<std::string, Keys> keys_;
  int dropped_ = 0;
};

TEST_F(LeastPrivilegeMotoTest, DocumentedPoliciesAreThereAndEnforced) {
  for (const char* name : {"writer-put", "replicate-primary", "replicate-replica", "replicate-table-stream-primary",
                           "diff-primary", "diff-replica"}) {
    EXPECT_FALSE(doc_policy(name).empty()) << name;
  }
  // Enforcement is on: the admin may, a user with a diff policy may not create tables.
  const std::string p = user("diff-primary");
  auto r = testing::run_dynarep({"tables", host_}, "", env(p));
  EXPECT_NE(r.exit_code, 0);
  expect_denied(r.err, "dynamodb:");
}

// The writer (`put --stream`) and the replicator reading its Kinesis stream, with the lease
// table beside the replica: each side under its documented policy, converged.
TEST_F(LeastPrivilegeMotoTest, PutAndReplicateFromKinesisUnderTheirPolicies) {
  const std::string primary = table(), replica = table();
  const std::string leases = testing::unique_name("lpleases");
  const std::string stream = testing::unique_name("lpstream");
  ASSERT_TRUE(kin_->create_stream(stream, 1).ok());
  const std::string writer = user("writer-put");
  auto put = testing::run_dynarep({"put", loc(primary), "--stream", stream}, lines(0, 20, 1), env(writer));
  ASSERT_EQ(put.exit_code, 0) << put.err;

  const std::string src = user("replicate-primary"), dst = user("replicate-replica");
  auto args = [&](const std::string& s, const std::string& d) {
    return std::vector<std::string>{"replicate", "--primary", loc(primary), "--replica", loc(replica), "--stream",
                                    stream, "--lease-table", loc(leases), "--primary-profile", s,
                                    "--replica-profile", d, "--idle-poll", "100ms", "--lease-duration", "3s",
                                    "--metrics-port", "0"};
  };
  {
    repltest::Proc rep(args(src, dst), env(writer));
    std::string d;
    EXPECT_TRUE(repltest::eventually([&] { return (d = diff(primary, replica)).empty(); }, 30s, 200ms))
        << d << "\n" << rep.log();
    rep.signal(SIGTERM);
    EXPECT_EQ(rep.wait(20s), std::optional<int>(0)) << rep.log();
  }

  // One action less, one clear refusal. The writer without PutRecords: the item is written,
  // its change record is not (exit 3, the unpublished key listed).
  auto no_records = testing::run_dynarep({"put", loc(primary), "--stream", stream}, lines(20, 21, 1),
                                         env(user("writer-put", "kinesis:PutRecords")));
  EXPECT_EQ(no_records.exit_code, 3) << no_records.err;
  expect_denied(no_records.err, "kinesis:PutRecords");
  // The replicator without GetRecords on the stream, or UpdateItem on its lease table.
  {
    repltest::Proc rep(args(user("replicate-primary", "kinesis:GetRecords"), dst), env(writer));
    expect_daemon_refused(rep, "kinesis:GetRecords", stream);
  }
  {
    repltest::Proc rep(args(src, user("replicate-replica", "dynamodb:UpdateItem")), env(writer));
    expect_daemon_refused(rep, "dynamodb:UpdateItem", leases);
  }
}

// replicate --table-stream: the primary's DynamoDB stream instead of a Kinesis one.
TEST_F(LeastPrivilegeMotoTest, ReplicateFromTheTablesStreamUnderItsPolicy) {
  const std::string primary = testing::unique_name("lpsrc"), replica = table();
  ASSERT_TRUE(db_->create_table(R"({"TableName":")" + primary +
                                R"(","AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}],)"
                                R"("KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST",)"
                                R"("StreamSpecification":{"StreamEnabled":true,"StreamViewType":"KEYS_ONLY"}})")
                  .ok());
  const std::string leases = testing::unique_name("lpleases");
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(db_->put_item(primary, item("k" + std::to_string(i), 1)).ok());
  const std::string src = user("replicate-table-stream-primary"), dst = user("replicate-replica");
  auto args = [&](const std::string& s) {
    return std::vector<std::string>{"replicate", "--primary", loc(primary), "--replica", loc(replica),
                                    "--table-stream", "--lease-table", loc(leases), "--primary-profile", s,
                                    "--replica-profile", dst, "--idle-poll", "100ms", "--lease-duration", "3s",
                                    "--metrics-port", "0"};
  };
  {
    repltest::Proc rep(args(src), env(src));
    std::string d;
    EXPECT_TRUE(repltest::eventually([&] { return (d = diff(primary, replica)).empty(); }, 30s, 200ms))
        << d << "\n" << rep.log();
    rep.signal(SIGTERM);
    EXPECT_EQ(rep.wait(20s), std::optional<int>(0)) << rep.log();
  }
  const std::string weak = user("replicate-table-stream-primary", "dynamodb:GetRecords");
  repltest::Proc rep(args(weak), env(weak));
  expect_daemon_refused(rep, "dynamodb:GetRecords", primary);
}

// diff-tables (reporting, then --repair), diff-record and replicate-record.
TEST_F(LeastPrivilegeMotoTest, DiffRepairAndRecordCommandsUnderTheirPolicies) {
  const std::string primary = table(), replica = table();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(db_->put_item(primary, item("k" + std::to_string(i), 1)).ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(db_->put_item(replica, item("k" + std::to_string(i), 1)).ok());
  ASSERT_TRUE(db_->put_item(replica, item("k1", 7)).ok());
  ASSERT_TRUE(db_->put_item(replica, item("extra", 1)).ok());
  const std::string p = user("diff-primary"), r = user("diff-replica");
  auto sides = [&](std::vector<std::string> args, const std::string& pp, const std::string& rp) {
    args.insert(args.end(), {"--primary-profile", pp, "--replica-profile", rp});
    return args;
  };
  // replicate-record and diff-record: one key.
  auto rec = testing::run_dynarep(sides({"replicate-record", loc(primary), loc(replica), R"({"id":"k1"})"}, p, r), "", env(p));
  EXPECT_EQ(rec.exit_code, 0) << rec.out << rec.err;
  auto same = testing::run_dynarep(sides({"diff-record", loc(primary), loc(replica), R"({"id":"k1"})"}, p, r), "", env(p));
  EXPECT_EQ(same.exit_code, 0) << same.out << same.err;
  auto found = testing::run_dynarep(sides({"diff-tables", loc(primary), loc(replica), "--settle", "0"}, p, r), "", env(p));
  EXPECT_EQ(found.exit_code, 1) << found.out << found.err;
  auto repaired = testing::run_dynarep(sides({"diff-tables", loc(primary), loc(replica), "--repair", "--settle", "0"}, p, r),
                                       "", env(p));
  EXPECT_EQ(repaired.exit_code, 0) << repaired.out << repaired.err;
  EXPECT_EQ(diff(primary, replica), "");

  // One action less: the primary without Scan; the replica without BatchWriteItem (what
  // --repair writes with, deletes included).
  auto no_scan = testing::run_dynarep(
      sides({"diff-tables", loc(primary), loc(replica), "--settle", "0"}, user("diff-primary", "dynamodb:Scan"), r), "",
      env(p));
  EXPECT_EQ(no_scan.exit_code, 3) << no_scan.out << no_scan.err;
  expect_denied(no_scan.err, "dynamodb:Scan");
  ASSERT_TRUE(db_->put_item(replica, item("extra", 1)).ok());
  auto no_delete = testing::run_dynarep(
      sides({"diff-tables", loc(primary), loc(replica), "--repair", "--settle", "0"}, p, user("diff-replica", "dynamodb:BatchWriteItem")),
      "", env(p));
  EXPECT_NE(no_delete.exit_code, 0) << no_delete.out << no_delete.err;
  expect_denied(no_delete.err, "dynamodb:BatchWriteItem");
  EXPECT_NE(diff(primary, replica).find("extra on replica"), std::string::npos) << "the replica is not repaired";
}

}  // namespace
}  // namespace dynarep::replicate
