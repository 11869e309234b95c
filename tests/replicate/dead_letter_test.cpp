#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "replicate/dead_letter.h"

namespace dynarep::replicate {
namespace {

DeadLetter letter(std::string shard, std::string seq, std::string data) {
  DeadLetter d;
  d.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1700000000123));
  d.shard = std::move(shard);
  d.sequence_number = std::move(seq);
  d.reason = "record does not parse: x";
  d.data = std::move(data);
  return d;
}

TEST(DeadLetterTest, JsonLine) {
  auto d = letter("shardId-000000000001", "4960", "{bad \"json\"\n");
  d.partition_key = "{\"id\":{\"S\":\"a\"}}";
  EXPECT_EQ(dead_letter_json(d),
            R"({"time":"2023-11-14T22:13:20.123Z","shard":"shardId-000000000001","sequenceNumber":"4960",)"
            R"("partitionKey":"{\"id\":{\"S\":\"a\"}}","reason":"record does not parse: x","data":"{bad \"json\"\n"})");
}

TEST(DeadLetterTest, BinaryDataIsBase64) {
  auto d = letter("s", "1", std::string("\xff\xfe\x00x", 4));
  auto j = dead_letter_json(d);
  EXPECT_NE(j.find(R"("dataBase64":"//4AeA==")"), std::string::npos) << j;
  // Valid multi-byte UTF-8 stays text; a lone surrogate encoding does not.
  EXPECT_NE(dead_letter_json(letter("s", "1", "h\xc3\xa9")).find("\"data\""), std::string::npos);
  EXPECT_NE(dead_letter_json(letter("s", "1", "\xed\xa0\x80")).find("dataBase64"), std::string::npos);
}

// redrive reads back what the sinks write: text and binary data, every field.
TEST(DeadLetterTest, ParseIsTheInverseOfTheJsonLine) {
  for (const auto& data : {std::string("{bad \"json\"\n"), std::string("\xff\xfe\x00x", 4)}) {
    auto d = letter("shardId-000000000001", "4960", data);
    d.partition_key = "pk";
    auto back = parse_dead_letter(dead_letter_json(d));
    ASSERT_TRUE(back.ok()) << back.error().describe();
    EXPECT_EQ(back->data, d.data);
    EXPECT_EQ(back->shard, d.shard);
    EXPECT_EQ(back->sequence_number, d.sequence_number);
    EXPECT_EQ(back->partition_key, d.partition_key);
    EXPECT_EQ(back->reason, d.reason);
    EXPECT_EQ(back->time, d.time);
  }
  EXPECT_FALSE(parse_dead_letter("not json").ok());
  EXPECT_FALSE(parse_dead_letter(R"({"shard":"s"})").ok());
  EXPECT_FALSE(parse_dead_letter(R"({"shard":"s","sequenceNumber":"1"})").ok());  // no data
}

TEST(DeadLetterTest, FileSinkAppendsOneFilePerShard) {
  std::string dir = std::filesystem::temp_directory_path() / ("dl-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto sink = FileDeadLetterSink::open(dir + "/nested");
  ASSERT_TRUE(sink.ok()) << sink.error().describe();
  ASSERT_TRUE((*sink)->write({letter("shardId-1", "1", "a"), letter("shardId-2", "2", "b")}).ok());
  ASSERT_TRUE((*sink)->write({letter("shardId-1", "3", "c")}).ok());
  auto read = [](const std::string& p) {
    std::ifstream f(p);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
  };
  std::string one = read((*sink)->path_for("shardId-1"));
  EXPECT_EQ(std::count(one.begin(), one.end(), '\n'), 2);
  EXPECT_NE(one.find("\"sequenceNumber\":\"3\""), std::string::npos);
  EXPECT_EQ((*sink)->path_for("arn:aws:dynamodb:x/table/t"), dir + "/nested/arn_aws_dynamodb_x_table_t.jsonl");
  std::filesystem::remove_all(dir);
}

TEST(DeadLetterTest, OpenSinkChoosesByLocation) {
  auto none = open_dead_letter_sink("", "us-east-1");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ((*none)->describe(), "stderr only");
  EXPECT_FALSE(open_dead_letter_sink("-", "us-east-1").ok());
  auto s3 = open_dead_letter_sink("s3://my-bucket/dl/prefix", "us-east-1", "http://127.0.0.1:1");
  ASSERT_TRUE(s3.ok()) << s3.error().describe();
  EXPECT_EQ((*s3)->describe(), "s3://my-bucket/dl/prefix");
}

}  // namespace
}  // namespace dynarep::replicate
