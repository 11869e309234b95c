// Shared pieces of the CLI tests: the local stack, a table or stream per test, running dynarep
// (and the original dyno) as a user does, and reading what landed in tables and streams.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "../writer/stack_env.h"
#include "model/codec.h"
#include "model/item.h"
#include "support/process.h"
#include "support/stack.h"

namespace dynarep::cli::testing {

using dynarep::testing::ProcessResult;
using dynarep::testing::run_dynarep;
using dynarep::testing::run_process;
using namespace std::chrono_literals;

inline std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string l;
  while (std::getline(in, l)) out.push_back(l);
  return out;
}

inline bool contains(const std::string& text, std::string_view what) { return text.find(what) != std::string::npos; }

// node from $DYNAREP_NODE or PATH.
inline std::string node_path() {
  if (const char* n = std::getenv("DYNAREP_NODE")) return n;
  std::string path = std::getenv("PATH") != nullptr ? std::getenv("PATH") : "/usr/bin:/bin";
  std::istringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string candidate = dir + "/node";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "/usr/bin/node";
}

// The original dyno CLI (node_modules/@mapbox/dyno 1.6.3) against the stack's DynamoDB.
inline ProcessResult run_dyno(const std::vector<std::string>& args, const std::string& stdin_data = "") {
  std::vector<std::string> argv{node_path(), dynarep::testing::source_dir() + "/node_modules/@mapbox/dyno/bin/cli.js"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("-e");
  argv.push_back(dynarep::testing::local_stack().dynamodb);
  return run_process(argv, stdin_data, {{"AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE", "1"}});
}

// tests/cli/dyno_interop.js (Dyno.deserialize comparisons).
inline ProcessResult run_interop(const std::vector<std::string>& args) {
  std::vector<std::string> argv{node_path(), dynarep::testing::source_dir() + "/tests/cli/dyno_interop.js"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, "", {{"AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE", "1"}});
}

class CliStack : public ::testing::Test {
 protected:
  void SetUp() override {
    // dynarep may stop reading stdin early (a bad line, a failed stream): run_process then gets
    // EPIPE instead of dying of SIGPIPE.
    std::signal(SIGPIPE, SIG_IGN);
    dynarep::testing::local_stack();
    ddb_ = writer::testing::dynamo();
    kin_ = writer::testing::kinesis_client();
    dir_ = std::filesystem::temp_directory_path() / dynarep::testing::unique_name("dynarep-cli");
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    for (const auto& t : tables_) ddb_->delete_table(t).ignore_error();  // best-effort cleanup
    for (const auto& s : streams_) kin_->delete_stream(s).ignore_error();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // A new table name (deleted after the test); created with key id:S unless `create` is false.
  std::string table(bool create = true, model::KeySchema schema = {"id", model::Type::kS, "", model::Type::kS}) {
    std::string t = dynarep::testing::unique_name("cli");
    tables_.push_back(t);
    if (create) {
      EXPECT_TRUE(ddb_->create_table(t, schema).ok());
      EXPECT_TRUE(ddb_->wait_until_active(t).ok());
    }
    return t;
  }
  std::string stream(int shards = 1, bool create = true) {
    std::string s = dynarep::testing::unique_name("clis");
    streams_.push_back(s);
    if (create) {
      auto st = kin_->create_stream(s, shards);
      EXPECT_TRUE(st.ok()) << st.error().describe();
    }
    return s;
  }
  std::string file(const std::string& name, const std::string& content) {
    auto p = dir_ / name;
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  static std::string read(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  // Every item of a table, by its "id" (S) attribute.
  std::map<std::string, model::Item> items(const std::string& t) {
    std::map<std::string, model::Item> out;
    dynamodb::ScanRequest req;
    req.table = t;
    while (true) {
      auto page = ddb_->scan(req);
      EXPECT_TRUE(page.ok()) << page.error().describe();
      if (!page.ok()) return out;
      for (auto& it : page->items) {
        const model::Value* id = it.find("id");
        out[id != nullptr && id->try_as_s() != nullptr ? id->as_s() : model::to_json(it)] = it;
      }
      if (!page->last_evaluated_key) return out;
      req.exclusive_start_key = page->last_evaluated_key;
    }
  }
  // The stream's records, "EVENT {key}" each, in shard order.
  std::vector<std::string> records(const std::string& s) {
    std::vector<std::string> out;
    for (const auto& r : writer::testing::read_stream(*kin_, s)) {
      out.push_back(std::string(stream::to_string(r.record.event)) + " " + model::canonical_key_json(r.record.keys));
    }
    return out;
  }

  std::shared_ptr<dynamodb::Client> ddb_;
  std::shared_ptr<kinesis::Client> kin_;
  std::filesystem::path dir_;
  std::vector<std::string> tables_, streams_;
};

// `n` lines {"id":{"S":"<prefix><i>"},"n":{"N":"<i>"}}, i = 0..n-1.
inline std::string numbered_lines(int n, const std::string& prefix = "k", int from = 0) {
  std::string out;
  for (int i = from; i < from + n; ++i) {
    out += R"({"id":{"S":")" + prefix + std::to_string(i) + R"("},"n":{"N":")" + std::to_string(i) + "\"}}\n";
  }
  return out;
}

}  // namespace dynarep::cli::testing
