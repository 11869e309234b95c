// The one parser of key schemas in table descriptions (DescribeTable's Table, an export's
// first line, a backup manifest's description): what it accepts and the line it fails with.
#include <gtest/gtest.h>

#include "dynamodb/table_load.h"

namespace dynarep::dynamodb {
namespace {

TEST(KeySchemaFromDescription, ReadsNamesFromKeySchemaAndTypesFromDefinitions) {
  auto k = key_schema_from_description(
      R"({"TableName":"t","AttributeDefinitions":[{"AttributeName":"ts","AttributeType":"N"},)"
      R"({"AttributeName":"id","AttributeType":"S"},{"AttributeName":"gsi","AttributeType":"B"}],)"
      R"("KeySchema":[{"AttributeName":"id","KeyType":"HASH"},{"AttributeName":"ts","KeyType":"RANGE"}]})");
  ASSERT_TRUE(k.ok()) << k.error().message;
  EXPECT_EQ(model::describe_key_schema(*k), "id (S), ts (N)");
}

// DescribeTable's parser used to take any KeyType other than HASH as the sort key and the
// line parser used to ignore it; an attribute defined as a set type was taken as a key type.
// Both parsers are now one, and refuse what DynamoDB never sends.
TEST(KeySchemaFromDescription, RefusesWhatIsNotAKeySchema) {
  struct Case {
    const char* json;
    const char* error;
  } cases[] = {
      {R"({"AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"},{"AttributeName":"ts","AttributeType":"N"}],)"
       R"("KeySchema":[{"AttributeName":"id","KeyType":"HASH"},{"AttributeName":"ts","KeyType":"SORT"}]})",
       "table description has a malformed KeySchema entry"},
      {R"({"AttributeDefinitions":[{"AttributeName":"id","AttributeType":"SS"}],)"
       R"("KeySchema":[{"AttributeName":"id","KeyType":"HASH"}]})",
       "table description: key attribute id has no AttributeDefinition"},
      {R"({"AttributeDefinitions":[{"AttributeName":"ts","AttributeType":"N"}],)"
       R"("KeySchema":[{"AttributeName":"ts","KeyType":"RANGE"}]})",
       "table description has no HASH key"},
      {R"({"AttributeDefinitions":[],"KeySchema":{}})", "table description has no KeySchema"},
      {R"(not json)", "table description is not JSON"},
  };
  for (const auto& c : cases) {
    auto k = key_schema_from_description(c.json);
    ASSERT_FALSE(k.ok()) << c.json;
    EXPECT_EQ(k.error().message, c.error) << c.json;
  }
}

}  // namespace
}  // namespace dynarep::dynamodb
