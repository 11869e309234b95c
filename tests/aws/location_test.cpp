#include "aws/location.h"

#include <gtest/gtest.h>

#include "aws/scoped_env.h"

namespace dynarep::aws {
namespace {

using testing::ScopedEnv;

TEST(AwsRegion, RecognisesAwsRegionNames) {
  for (const char* r : {"us-east-1", "us-east-2", "us-west-2", "eu-west-2", "eu-central-1", "eu-central-2",
                        "us-gov-west-1", "us-gov-east-1", "cn-north-1", "cn-northwest-1", "ap-southeast-4",
                        "ap-northeast-3", "ap-south-2", "me-south-1", "il-central-1", "ca-west-1", "sa-east-1",
                        "af-south-1", "mx-central-1", "us-iso-east-1", "us-isob-east-1", "eusc-de-east-1"}) {
    EXPECT_TRUE(looks_like_region(r)) << r;
  }
  for (const char* r : {"", "local", "localhost", "us-east", "us-east-", "useast1", "US-EAST-1", "us-east-1a",
                        "my-table-1", "u-east-1", "us-foo-east-1", "eusc-east-1", "abcd-de-east-1", "us-east-123", "127.0.0.1"}) {
    EXPECT_FALSE(looks_like_region(r)) << r;
  }
}

TEST(AwsEndpoint, AwsEndpointsPerPartition) {
  EXPECT_EQ(aws_endpoint_url(Service::kDynamoDB, "us-east-1"), "https://dynamodb.us-east-1.amazonaws.com");
  EXPECT_EQ(aws_endpoint_url(Service::kKinesis, "eu-west-2"), "https://kinesis.eu-west-2.amazonaws.com");
  EXPECT_EQ(aws_endpoint_url(Service::kS3, "ap-southeast-4"), "https://s3.ap-southeast-4.amazonaws.com");
  EXPECT_EQ(aws_endpoint_url(Service::kDynamoDB, "cn-north-1"), "https://dynamodb.cn-north-1.amazonaws.com.cn");
  EXPECT_EQ(aws_endpoint_url(Service::kDynamoDB, "us-gov-west-1"), "https://dynamodb.us-gov-west-1.amazonaws.com");
  EXPECT_EQ(aws_endpoint_url(Service::kS3, "us-iso-east-1"), "https://s3.us-iso-east-1.c2s.ic.gov");
  EXPECT_EQ(aws_endpoint_url(Service::kS3, "us-isob-east-1"), "https://s3.us-isob-east-1.sc2s.sgov.gov");
  EXPECT_EQ(aws_endpoint_url(Service::kDynamoDB, "eusc-de-east-1"), "https://dynamodb.eusc-de-east-1.amazonaws.eu");
}

TEST(AwsEndpoint, OverridesInOrderOfStrength) {
  ScopedEnv env;
  env.clean_aws();
  auto e = resolve_endpoint(Service::kDynamoDB, "eu-west-1");
  EXPECT_EQ(e.url, "https://dynamodb.eu-west-1.amazonaws.com");
  EXPECT_EQ(e.region, "eu-west-1");
  EXPECT_EQ(e.signing_service, "dynamodb");

  env.set("AWS_ENDPOINT_URL", "http://127.0.0.1:9000/");
  EXPECT_EQ(resolve_endpoint(Service::kDynamoDB, "eu-west-1").url, "http://127.0.0.1:9000");
  EXPECT_EQ(resolve_endpoint(Service::kS3, "eu-west-1").url, "http://127.0.0.1:9000");

  env.set("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000");
  env.set("AWS_ENDPOINT_URL_KINESIS", "http://127.0.0.1:4567");
  EXPECT_EQ(resolve_endpoint(Service::kDynamoDB, "eu-west-1").url, "http://127.0.0.1:8000");
  EXPECT_EQ(resolve_endpoint(Service::kKinesis, "eu-west-1").url, "http://127.0.0.1:4567");
  EXPECT_EQ(resolve_endpoint(Service::kS3, "eu-west-1").url, "http://127.0.0.1:9000");
  EXPECT_EQ(resolve_endpoint(Service::kKinesis, "eu-west-1").signing_service, "kinesis");

  auto flagged = resolve_endpoint(Service::kDynamoDB, "eu-west-1", "https://vpce-1.dynamodb.eu-west-1.vpce.amazonaws.com");
  EXPECT_EQ(flagged.url, "https://vpce-1.dynamodb.eu-west-1.vpce.amazonaws.com");
  EXPECT_EQ(flagged.region, "eu-west-1");

  env.set("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true");
  EXPECT_EQ(resolve_endpoint(Service::kDynamoDB, "eu-west-1").url, "https://dynamodb.eu-west-1.amazonaws.com");
  EXPECT_EQ(resolve_endpoint(Service::kDynamoDB, "eu-west-1", "http://localhost:1").url, "http://localhost:1");
}

TEST(AwsEndpoint, SchemeAddedWhenMissing) {
  ScopedEnv env;
  env.clean_aws();
  EXPECT_EQ(resolve_endpoint(Service::kDynamoDB, "us-east-1", "localhost:8000").url, "http://localhost:8000");
  EXPECT_EQ(resolve_endpoint(Service::kDynamoDB, "us-east-1", "127.0.0.1:8000").url, "http://127.0.0.1:8000");
  EXPECT_EQ(resolve_endpoint(Service::kDynamoDB, "us-east-1", "dynamodb.example.com").url,
            "https://dynamodb.example.com");
}

TEST(AwsEndpoint, EmptyRegionMeansTheDefaultRegion) {
  ScopedEnv env;
  env.clean_aws().set("AWS_REGION", "ap-south-1");
  EXPECT_EQ(resolve_endpoint(Service::kS3, "").url, "https://s3.ap-south-1.amazonaws.com");
}

TEST(AwsTableLocation, RegionAndTable) {
  ScopedEnv env;
  env.clean_aws();
  auto loc = parse_table_location("us-east-1/orders");
  ASSERT_TRUE(loc.ok()) << loc.error().describe();
  EXPECT_EQ(loc->table, "orders");
  EXPECT_EQ(loc->display, "us-east-1/orders");
  EXPECT_EQ(loc->endpoint.url, "https://dynamodb.us-east-1.amazonaws.com");
  EXPECT_EQ(loc->endpoint.region, "us-east-1");
  EXPECT_EQ(loc->endpoint.signing_service, "dynamodb");

  auto cn = parse_table_location("cn-north-1/My_Table.v2-x");
  ASSERT_TRUE(cn.ok());
  EXPECT_EQ(cn->endpoint.url, "https://dynamodb.cn-north-1.amazonaws.com.cn");
  EXPECT_EQ(cn->table, "My_Table.v2-x");

  auto gov = parse_table_location("us-gov-west-1/t01");
  ASSERT_TRUE(gov.ok());
  EXPECT_EQ(gov->endpoint.region, "us-gov-west-1");
}

TEST(AwsTableLocation, RegionFormHonoursEndpointOverrides) {
  ScopedEnv env;
  env.clean_aws().set("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:4000");
  auto loc = parse_table_location("eu-west-2/orders");
  ASSERT_TRUE(loc.ok());
  EXPECT_EQ(loc->endpoint.url, "http://127.0.0.1:4000");
  EXPECT_EQ(loc->endpoint.region, "eu-west-2");
  auto flagged = parse_table_location("eu-west-2/orders", "http://127.0.0.1:5000");
  ASSERT_TRUE(flagged.ok());
  EXPECT_EQ(flagged->endpoint.url, "http://127.0.0.1:5000");
}

TEST(AwsTableLocation, HostForms) {
  ScopedEnv env;
  env.clean_aws().set("AWS_ENDPOINT_URL_DYNAMODB", "http://ignored:1");
  struct Case {
    const char* text;
    const char* url;
    const char* table;
  };
  for (const Case& c : {Case{"localhost:4567/orders", "http://localhost:4567", "orders"},
                        Case{"127.0.0.1:8000/orders", "http://127.0.0.1:8000", "orders"},
                        Case{"localhost/orders", "http://localhost", "orders"},
                        Case{"10.1.2.3/orders", "http://10.1.2.3", "orders"},
                        Case{"dynamo.internal.example.com/t-1", "http://dynamo.internal.example.com", "t-1"},
                        Case{"dynamo-local:8000/abc", "http://dynamo-local:8000", "abc"},
                        Case{"[::1]:8000/abc", "http://[::1]:8000", "abc"},
                        Case{"http://localhost:8000/abc", "http://localhost:8000", "abc"},
                        Case{"https://ddb.example.com/abc", "https://ddb.example.com", "abc"}}) {
    auto loc = parse_table_location(c.text, "http://flag-ignored:2");
    ASSERT_TRUE(loc.ok()) << c.text << ": " << loc.error().describe();
    EXPECT_EQ(loc->endpoint.url, c.url) << c.text;
    EXPECT_EQ(loc->table, c.table) << c.text;
    EXPECT_EQ(loc->display, c.text);
    EXPECT_EQ(loc->endpoint.signing_service, "dynamodb");
    EXPECT_EQ(loc->endpoint.region, "us-east-1") << "signed with the default region";
  }
}

TEST(AwsTableLocation, LocalServersAreSignedWithTheConfiguredRegion) {
  ScopedEnv env;
  env.clean_aws().set("AWS_REGION", "eu-west-1");
  auto loc = parse_table_location("localhost:8000/orders");
  ASSERT_TRUE(loc.ok());
  EXPECT_EQ(loc->endpoint.region, "eu-west-1");
}

TEST(AwsTableLocation, ClearErrors) {
  ScopedEnv env;
  env.clean_aws();
  const std::string shape =
      "is not region/table or host:port/table (e.g. us-east-1/orders, localhost:8000/orders)";
  for (const char* bad : {"foo", "orders", "foo/orders", "us-east1/orders", "/orders", "us-east-1/", "localhost:0/t1x",
                          "localhost:99999/abc", "host:port/abc", "-bad-.com/abc", ""}) {
    auto loc = parse_table_location(bad);
    ASSERT_FALSE(loc.ok()) << bad;
    EXPECT_EQ(loc.error().kind, ErrorKind::kInvalidInput);
    EXPECT_EQ(loc.error().message, "location '" + std::string(bad) + "' " + shape) << bad;
  }
}

TEST(AwsTableLocation, TableNamesAreValidated) {
  ScopedEnv env;
  env.clean_aws();
  for (const std::string& bad : {std::string("ab"), std::string(256, 'a'), std::string("has space"),
                                std::string("slash/inside"), std::string("ünï")}) {
    auto loc = parse_table_location("us-east-1/" + bad);
    ASSERT_FALSE(loc.ok()) << bad;
    EXPECT_EQ(loc.error().kind, ErrorKind::kInvalidInput);
    EXPECT_EQ(loc.error().message, "table name '" + bad + "' in location 'us-east-1/" + bad +
                                       "' must be 3-255 characters of a-z, A-Z, 0-9, '_', '-', '.'");
  }
  EXPECT_TRUE(parse_table_location("us-east-1/" + std::string(255, 'a')).ok());
  EXPECT_TRUE(parse_table_location("localhost:8000/abc").ok());
  EXPECT_FALSE(parse_table_location("localhost:8000/ab").ok());
}

TEST(AwsObjectLocation, S3) {
  auto o = parse_object_location("s3://my-bucket/backups/2024/");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->kind, ObjectLocation::Kind::kS3);
  EXPECT_EQ(o->bucket, "my-bucket");
  EXPECT_EQ(o->key, "backups/2024/");
  EXPECT_EQ(o->display, "s3://my-bucket/backups/2024/");
  auto bare = parse_object_location("s3://bucket.with.dots");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->bucket, "bucket.with.dots");
  EXPECT_EQ(bare->key, "");
  auto slash = parse_object_location("S3://abc/");
  ASSERT_TRUE(slash.ok());
  EXPECT_EQ(slash->bucket, "abc");
  EXPECT_EQ(slash->key, "");
  auto nested = parse_object_location("s3://abc/a/b/c.gz");
  ASSERT_TRUE(nested.ok());
  EXPECT_EQ(nested->key, "a/b/c.gz");
}

TEST(AwsObjectLocation, S3Errors) {
  auto none = parse_object_location("s3://");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().message, "object location 's3://' names no bucket (e.g. s3://my-bucket/backups)");
  auto none2 = parse_object_location("s3:///key");
  ASSERT_FALSE(none2.ok());
  for (const char* bad : {"s3://UpperCase/x", "s3://ab/x", "s3://-dash/x", "s3://under_score/x"}) {
    auto o = parse_object_location(bad);
    ASSERT_FALSE(o.ok()) << bad;
    EXPECT_EQ(o.error().kind, ErrorKind::kInvalidInput);
    EXPECT_NE(o.error().message.find("must be 3-63 characters"), std::string::npos) << o.error().message;
    EXPECT_NE(o.error().message.find(bad), std::string::npos);
  }
  auto typo = parse_object_location("s3:/bucket/x");
  ASSERT_FALSE(typo.ok());
  EXPECT_EQ(typo.error().message, "object location 's3:/bucket/x' is not s3://bucket/key");
}

TEST(AwsObjectLocation, FilesAndStdio) {
  auto dash = parse_object_location("-");
  ASSERT_TRUE(dash.ok());
  EXPECT_EQ(dash->kind, ObjectLocation::Kind::kStdio);
  auto rel = parse_object_location("./backup.gz");
  ASSERT_TRUE(rel.ok());
  EXPECT_EQ(rel->kind, ObjectLocation::Kind::kFile);
  EXPECT_EQ(rel->path, "./backup.gz");
  auto abs = parse_object_location("/tmp/x");
  ASSERT_TRUE(abs.ok());
  EXPECT_EQ(abs->path, "/tmp/x");
  auto file = parse_object_location("file:///tmp/y");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->kind, ObjectLocation::Kind::kFile);
  EXPECT_EQ(file->path, "/tmp/y");
  EXPECT_FALSE(parse_object_location("").ok());
  EXPECT_FALSE(parse_object_location("file://").ok());
}

TEST(AwsServiceName, Names) {
  EXPECT_EQ(service_name(Service::kDynamoDB), "dynamodb");
  EXPECT_EQ(service_name(Service::kKinesis), "kinesis");
  EXPECT_EQ(service_name(Service::kS3), "s3");
  EXPECT_EQ(service_name(Service::kDynamoDBStreams), "dynamodb");  // signs as DynamoDB
}

TEST(AwsEndpoint, DynamoDbStreams) {
  ScopedEnv env;
  env.clean_aws();
  auto e = resolve_endpoint(Service::kDynamoDBStreams, "eu-west-1");
  EXPECT_EQ(e.url, "https://streams.dynamodb.eu-west-1.amazonaws.com");
  EXPECT_EQ(e.signing_service, "dynamodb");
  EXPECT_EQ(aws_endpoint_url(Service::kDynamoDBStreams, "cn-north-1"), "https://streams.dynamodb.cn-north-1.amazonaws.com.cn");
  env.set("AWS_ENDPOINT_URL", "http://127.0.0.1:9000");
  env.set("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000");  // not the Streams API's variable
  EXPECT_EQ(resolve_endpoint(Service::kDynamoDBStreams, "eu-west-1").url, "http://127.0.0.1:9000");
  env.set("AWS_ENDPOINT_URL_DYNAMODB_STREAMS", "http://127.0.0.1:8001");
  EXPECT_EQ(resolve_endpoint(Service::kDynamoDBStreams, "eu-west-1").url, "http://127.0.0.1:8001");
  EXPECT_EQ(resolve_endpoint(Service::kDynamoDBStreams, "eu-west-1", "http://127.0.0.1:1").url, "http://127.0.0.1:1");
}

}  // namespace
}  // namespace dynarep::aws
