#include "writer/stream_target.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "aws/credentials.h"
#include "aws/location.h"

namespace dynarep::writer {
namespace {

std::string resolved_region(const StreamLocation& where) {
  return where.region.empty() ? aws::default_region() : where.region;
}

}  // namespace

Status validate_stream_name(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 128 && std::all_of(name.begin(), name.end(), [](char c) {
              return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '.';
            });
  if (ok) return {};
  return invalid_input(fmt::format("stream name '{}' must be 1-128 characters of a-z, A-Z, 0-9, '_', '-', '.'", name));
}

std::string describe(const StreamLocation& where) {
  auto endpoint = aws::resolve_endpoint(aws::Service::kKinesis, resolved_region(where), where.endpoint_flag);
  return fmt::format("stream {} ({}, {})", where.name, endpoint.region, endpoint.url);
}

Result<std::shared_ptr<kinesis::Client>> connect_stream(const StreamLocation& where, bool check) {
  DR_TRY(validate_stream_name(where.name));
  auto client = std::make_shared<kinesis::Client>(kinesis::Client::connect(resolved_region(where), where.endpoint_flag));
  if (!check) return client;
  auto summary = client->describe_stream_summary(where.name);
  if (!summary.ok()) {
    if (summary.error().kind == ErrorKind::kNotFound) {
      return Error(ErrorKind::kNotFound, summary.error().code, fmt::format("{} does not exist", describe(where)));
    }
    return std::move(summary).error();
  }
  if (summary->status == kinesis::StreamStatus::kDeleting) {
    return Error(ErrorKind::kNotFound, "StreamDeleting", fmt::format("{} is being deleted", describe(where)));
  }
  if (summary->status == kinesis::StreamStatus::kCreating) {
    DR_TRY(client->wait_for_active(where.name));
  }
  return client;
}

Status write_change_file(const std::string& path, const std::vector<Change>& changes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return fatal(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
  for (const auto& c : changes) out << to_line(c) << '\n';
  out.flush();
  if (!out) return fatal(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
  return {};
}

}  // namespace dynarep::writer
