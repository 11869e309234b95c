// Where a stream is, as the CLI and applications name it: a stream name plus a region and an
// optional endpoint override, resolved like table locations (docs/formats.md §2): the endpoint
// flag, else AWS_ENDPOINT_URL_KINESIS, else AWS_ENDPOINT_URL, else Kinesis in the region.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "kinesis/client.h"
#include "writer/change.h"

namespace dynarep::writer {

struct StreamLocation {
  std::string name;
  std::string region;         // empty: the default region (AWS_REGION, the config file, us-east-1)
  std::string endpoint_flag;  // empty: from the environment or the region
};

// Kinesis stream names: 1-128 characters of a-z A-Z 0-9 _ . - (kInvalidInput otherwise).
Status validate_stream_name(std::string_view name);

// A Kinesis client for the stream's endpoint, with the default credentials chain. With
// `check`, DescribeStreamSummary first: a missing stream is one clear kNotFound error naming
// the stream, region and endpoint, and nothing is written before the stream is known to exist.
Result<std::shared_ptr<kinesis::Client>> connect_stream(const StreamLocation& where, bool check = true);

// "stream orders-changes (us-east-1, http://127.0.0.1:4568)", for messages.
std::string describe(const StreamLocation& where);

// Writes changes as the unpublished-changes file (to_line, one a line); "-" is not allowed.
Status write_change_file(const std::string& path, const std::vector<Change>& changes);

}  // namespace dynarep::writer
