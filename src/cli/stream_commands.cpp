// create-stream and delete-stream: the Kinesis stream that carries change records, for setting
// up (and the quickstart). A stream is a name plus a region and endpoint, resolved like table
// locations: --endpoint, else AWS_ENDPOINT_URL_KINESIS, else AWS_ENDPOINT_URL, else Kinesis in
// --region (default: AWS_REGION, the config file, us-east-1).
#include <fmt/format.h>

#include "cli/command.h"
#include "cli/common.h"
#include "kinesis/client.h"
#include "writer/stream_target.h"

namespace dynarep::cli {
namespace {

class StreamCommand : public Command {
 public:
  explicit StreamCommand(bool create) : create_(create) {}
  std::string_view name() const override { return create_ ? "create-stream" : "delete-stream"; }
  std::string_view summary() const override {
    return create_ ? "Create a Kinesis stream for change records and wait until it is ACTIVE"
                   : "Delete a Kinesis stream";
  }
  std::string_view group() const override { return "Replication"; }
  void setup(CLI::App& app) override {
    app.add_option("name", where_.name, "the stream's name")->required();
    if (create_) {
      app.add_option("--shards", shards_, "Shard count (default 1)")->check(CLI::Range(1, 100000));
    }
    app.add_option("--region", where_.region, "The stream's region (default: AWS_REGION, else us-east-1)");
    app.add_option("--endpoint", where_.endpoint_flag,
                   "Kinesis endpoint URL (default: AWS_ENDPOINT_URL_KINESIS, AWS_ENDPOINT_URL, or the region's)");
  }
  int run(Io& io) override {
    if (auto st = writer::validate_stream_name(where_.name); !st.ok()) {
      return usage_error(io, name(), st.error().message);
    }
    auto client = writer::connect_stream(where_, /*check=*/false);
    if (!client.ok()) return report(io, name(), client.error());
    const std::string what = writer::describe(where_);
    if (create_) {
      auto st = (*client)->create_stream(where_.name, shards_);
      if (!st.ok()) {
        if (st.error().code == "ResourceInUseException") {
          return report(io, name(), Error(st.error().kind, st.error().code, what + " already exists"));
        }
        return report(io, name(), st.error());
      }
      io.err << fmt::format("create-stream: {} is ACTIVE with {} shard{}\n", what, shards_, shards_ == 1 ? "" : "s");
      return kExitOk;
    }
    auto st = (*client)->delete_stream(where_.name);
    if (!st.ok()) {
      if (st.error().kind == ErrorKind::kNotFound) {
        return report(io, name(), Error(st.error().kind, st.error().code, what + " does not exist"));
      }
      return report(io, name(), st.error());
    }
    io.err << fmt::format("delete-stream: {} is being deleted\n", what);
    return kExitOk;
  }

 private:
  bool create_;
  writer::StreamLocation where_;
  int shards_ = 1;
};

class CreateStreamCommand final : public StreamCommand {
 public:
  CreateStreamCommand() : StreamCommand(true) {}
};

class DeleteStreamCommand final : public StreamCommand {
 public:
  DeleteStreamCommand() : StreamCommand(false) {}
};

}  // namespace
}  // namespace dynarep::cli

using dynarep::cli::CreateStreamCommand;
using dynarep::cli::DeleteStreamCommand;
DYNAREP_REGISTER_COMMAND(CreateStreamCommand)
DYNAREP_REGISTER_COMMAND(DeleteStreamCommand)
