// Endpoints, table locations and object locations as users type them (docs/formats.md §2).
//
//   us-east-1/orders          the AWS endpoint of that region (cn-* regions: amazonaws.com.cn)
//   localhost:8000/orders     plain HTTP to a local DynamoDB-compatible server; also an IP or a
//   127.0.0.1:8000/orders     dotted host name without a port, and "localhost"
//   s3://bucket/prefix        an S3 object or prefix
//   ./file, /abs/file         a local file
//   -                         stdin / stdout
//
// Endpoint overrides, strongest first: the --endpoint flag, AWS_ENDPOINT_URL_<SERVICE>
// (DYNAMODB, DYNAMODB_STREAMS, KINESIS, S3), AWS_ENDPOINT_URL, then the region's AWS endpoint.
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true ignores the two environment variables.
#pragma once

#include <string>
#include <string_view>

#include "aws/credentials.h"
#include "core/result.h"

namespace dynarep::aws {

// kDynamoDBStreams: the DynamoDB Streams API (streams.dynamodb.<region>.amazonaws.com), signed
// as service "dynamodb". kSts and kSso serve the credentials chain: STS (AssumeRole*,
// sts.<region>.amazonaws.com, AWS_ENDPOINT_URL_STS) and the IAM Identity Center portal
// (GetRoleCredentials, portal.sso.<region>.amazonaws.com, AWS_ENDPOINT_URL_SSO).
enum class Service { kDynamoDB, kKinesis, kS3, kDynamoDBStreams, kSts, kSso };

// "dynamodb", "kinesis", "s3", "sts", "sso" (and "dynamodb" for DynamoDB Streams): the SigV4
// service name.
std::string_view service_name(Service service);
// The endpoint host prefix: the service name, "streams.dynamodb" for DynamoDB Streams.
std::string_view endpoint_prefix(Service service);

struct Endpoint {
  std::string url{};  // "https://dynamodb.us-east-1.amazonaws.com" or "http://127.0.0.1:8000", no trailing '/'
  std::string region{};           // the signing region
  std::string signing_service{};  // "dynamodb", "kinesis", "s3"
  // Whose credentials sign calls here: a profile and/or a role to assume (--replica-profile,
  // --replica-role-arn); empty: the default chain. Clients get their provider from
  // credentials_for(), so every client of one side shares one refreshing provider.
  CredentialsSpec credentials{};
};

// The endpoint for `service` in `region`, with the overrides above. An override without a
// scheme gets "http://" if it names localhost or a loopback address, else "https://".
Endpoint resolve_endpoint(Service service, const std::string& region, const std::string& endpoint_flag = "");

// The AWS endpoint URL of a service in a region (no overrides).
std::string aws_endpoint_url(Service service, std::string_view region);

// True for names shaped like AWS regions: us-east-1, eu-west-2, us-gov-west-1, cn-north-1,
// ap-southeast-4, us-isob-east-1.
bool looks_like_region(std::string_view text);

// DynamoDB table names: 3-255 characters of a-z A-Z 0-9 _ - . (an Error kInvalidInput naming
// `context` otherwise).
Status validate_table_name(std::string_view name, std::string_view context);

struct TableLocation {
  std::string table{};
  Endpoint endpoint{};
  std::string display{};  // what the user typed, for messages
};

// Parses "region/table" or "host[:port]/table". For a region, the endpoint is resolved with
// the overrides (endpoint_flag included). For a host, the endpoint is http://host[:port], and
// the signing region is default_region(): local servers ignore it (dynalite) or keep one
// database per region (DynamoDB Local), so signing as the user's other tools do finds the
// same data. Errors are kInvalidInput and quote the text.
Result<TableLocation> parse_table_location(std::string_view text, const std::string& endpoint_flag = "");

struct ObjectLocation {
  enum class Kind { kS3, kFile, kStdio };
  Kind kind = Kind::kFile;
  std::string bucket{};   // kS3
  std::string key{};      // kS3: key or prefix, without the leading '/'; may be empty
  std::string path{};     // kFile
  std::string display{};  // what the user typed
};

// "s3://bucket[/key]" (bucket names checked: 3-63 of a-z 0-9 . -), "-" for stdio,
// "file://path" or anything else for a local file. Errors are kInvalidInput.
Result<ObjectLocation> parse_object_location(std::string_view text);

}  // namespace dynarep::aws
