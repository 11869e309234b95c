// Change records: the KEYS_ONLY record we write (byte for byte), partition keys, every record
// shape we read, every error, and creation times in every unit.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "crypto/sha256.h"
#include "model/codec.h"
#include "model/item.h"
#include "stream/record.h"

namespace dynarep::stream {
namespace {

using model::Item;
using model::Number;
using model::Value;
using Event = ChangeRecord::Event;

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(DYNAREP_STREAM_FIXTURES) + "/" + name, std::ios::binary);
  if (!in) throw std::runtime_error("missing fixture " + name);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::int64_t micros(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

Item key_id_n() {
  // Deliberately not in name order: the record sorts the key's attributes.
  return Item{{"n", Value::N(Number::from_string("7"))}, {"id", Value::S("a")}};
}

ChangeRecord parse_ok(std::string_view data) {
  auto r = parse_change_record(data);
  if (!r.ok()) {
    ADD_FAILURE() << r.error().describe();
    return {};
  }
  return std::move(r).value();
}

// --- writing -------------------------------------------------------------------------------

TEST(MakeKeysOnlyRecordTest, ExactBytesOfTheContract) {
  std::string data = make_keys_only_record(key_id_n(), Event::kInsert, "us-east-1", "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(data,
            R"({"awsRegion":"us-east-1","dynamodb":{"Keys":{"id":{"S":"a"},"n":{"N":"7"}},"SequenceNumber":"0",)"
            R"("SizeBytes":0,"StreamViewType":"KEYS_ONLY"},"eventID":"0123456789abcdef0123456789abcdef",)"
            R"("eventName":"INSERT","eventSource":"aws:dynamodb","eventVersion":"1.0"})");
  // The contract's own example.
  EXPECT_EQ(make_keys_only_record(Item{{"id", Value::S("a")}}, Event::kInsert, "us-east-1",
                                  "0123456789abcdef0123456789abcdef"),
            R"({"awsRegion":"us-east-1","dynamodb":{"Keys":{"id":{"S":"a"}},"SequenceNumber":"0",)"
            R"("SizeBytes":0,"StreamViewType":"KEYS_ONLY"},"eventID":"0123456789abcdef0123456789abcdef",)"
            R"("eventName":"INSERT","eventSource":"aws:dynamodb","eventVersion":"1.0"})");
}

TEST(MakeKeysOnlyRecordTest, EventNames) {
  auto with = [](Event e) { return make_keys_only_record(key_id_n(), e, "r", "x"); };
  EXPECT_NE(with(Event::kInsert).find(R"("eventName":"INSERT")"), std::string::npos);
  EXPECT_NE(with(Event::kModify).find(R"("eventName":"MODIFY")"), std::string::npos);
  EXPECT_NE(with(Event::kRemove).find(R"("eventName":"REMOVE")"), std::string::npos);
  EXPECT_EQ(to_string(Event::kModify), "MODIFY");
  EXPECT_EQ(parse_event_name("REMOVE"), Event::kRemove);
  EXPECT_FALSE(parse_event_name("remove").has_value());
}

TEST(MakeKeysOnlyRecordTest, RandomEventIdIs32LowerHex) {
  const std::regex layout(
      R"re(\{"awsRegion":"eu-west-1","dynamodb":\{"Keys":\{"id":\{"S":"a"\},"n":\{"N":"7"\}\},"SequenceNumber":"0","SizeBytes":0,"StreamViewType":"KEYS_ONLY"\},"eventID":"([0-9a-f]{32})","eventName":"REMOVE","eventSource":"aws:dynamodb","eventVersion":"1.0"\})re");
  std::string a = make_keys_only_record(key_id_n(), Event::kRemove, "eu-west-1");
  std::string b = make_keys_only_record(key_id_n(), Event::kRemove, "eu-west-1");
  std::smatch ma, mb;
  ASSERT_TRUE(std::regex_match(a, ma, layout)) << a;
  ASSERT_TRUE(std::regex_match(b, mb, layout)) << b;
  EXPECT_NE(ma[1].str(), mb[1].str());
}

TEST(MakeKeysOnlyRecordTest, EscapesTheRegionAndKeyStrings) {
  Item key{{"id", Value::S("quote\" back\\ nl\n")}};
  std::string data = make_keys_only_record(key, Event::kInsert, "re\"gion", "e");
  EXPECT_NE(data.find(R"("awsRegion":"re\"gion")"), std::string::npos) << data;
  EXPECT_NE(data.find(R"({"id":{"S":"quote\" back\\ nl\n"}})"), std::string::npos) << data;
  auto back = parse_ok(data);
  EXPECT_EQ(back.aws_region, "re\"gion");
  EXPECT_EQ(back.keys, key);
}

TEST(MakeKeysOnlyRecordTest, RoundTripsThroughTheParser) {
  Item binary_key{{"h", Value::B(std::string("\x00\x01\xff", 3))}, {"r", Value::N(Number::from_string("-1.50"))}};
  for (Event e : {Event::kInsert, Event::kModify, Event::kRemove}) {
    for (const Item& key : {key_id_n(), binary_key}) {
      std::string data = make_keys_only_record(key, e, "ap-southeast-2");
      ChangeRecord r = parse_ok(data);
      EXPECT_EQ(r.event, e);
      EXPECT_EQ(r.keys, key);
      EXPECT_EQ(model::canonical_key_json(r.keys), model::canonical_key_json(key));
      EXPECT_FALSE(r.new_image.has_value());
      EXPECT_FALSE(r.old_image.has_value());
      EXPECT_EQ(r.stream_view_type, "KEYS_ONLY");
      EXPECT_EQ(r.sequence_number, "0");
      EXPECT_EQ(r.event_id.size(), 32u);
      EXPECT_EQ(r.aws_region, "ap-southeast-2");
      EXPECT_EQ(r.table_name, "");
      EXPECT_FALSE(r.approximate_creation_time.has_value());
      EXPECT_EQ(r.source, kSourceKinesisKeysOnly);
    }
  }
}

TEST(PartitionKeyTest, IsTheCanonicalKeyJson) {
  EXPECT_EQ(partition_key(key_id_n()), R"({"id":{"S":"a"},"n":{"N":"7"}})");
  Item same_other_order{{"id", Value::S("a")}, {"n", Value::N(Number::from_string("7"))}};
  EXPECT_EQ(partition_key(same_other_order), partition_key(key_id_n()));
}

TEST(PartitionKeyTest, LongKeysUseTheSha256OfTheJson) {
  // {"id":{"S":"<x>"}} is 15 characters around x.
  Item at_limit{{"id", Value::S(std::string(241, 'x'))}};
  EXPECT_EQ(partition_key(at_limit).size(), 256u);
  EXPECT_EQ(partition_key(at_limit), model::canonical_key_json(at_limit));

  Item over{{"id", Value::S(std::string(242, 'x'))}};
  std::string pk = partition_key(over);
  EXPECT_EQ(pk, crypto::sha256_hex(model::canonical_key_json(over)));
  EXPECT_EQ(pk.size(), 64u);
  EXPECT_EQ(partition_key(over), pk);  // stable
  EXPECT_NE(partition_key(Item{{"id", Value::S(std::string(243, 'x'))}}), pk);
}

TEST(PartitionKeyTest, CountsUtf16CodeUnits) {
  std::string e_acute;  // 2 bytes, 1 unit
  for (int i = 0; i < 241; ++i) e_acute += "\xc3\xa9";
  Item two_byte{{"id", Value::S(e_acute)}};
  EXPECT_EQ(partition_key(two_byte), model::canonical_key_json(two_byte));

  std::string emoji;  // 4 bytes, 2 units (a surrogate pair)
  for (int i = 0; i < 120; ++i) emoji += "\xf0\x9f\x98\x80";
  Item fits{{"id", Value::S(emoji + "x")}};  // 241 units
  EXPECT_EQ(partition_key(fits), model::canonical_key_json(fits));
  Item too_long{{"id", Value::S(emoji + "\xf0\x9f\x98\x80")}};  // 242 units
  EXPECT_EQ(partition_key(too_long).size(), 64u);
}

// --- reading: the three shapes -------------------------------------------------------------

TEST(ParseChangeRecordTest, OurKeysOnlyRecord) {
  ChangeRecord r = parse_ok(fixture("keys_only_dynarep.json"));
  EXPECT_EQ(r.event, Event::kModify);
  EXPECT_EQ(r.keys, key_id_n());
  EXPECT_EQ(r.stream_view_type, "KEYS_ONLY");
  EXPECT_EQ(r.sequence_number, "0");
  EXPECT_EQ(r.event_id, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(r.aws_region, "eu-west-1");
  EXPECT_EQ(r.source, kSourceKinesisKeysOnly);
}

TEST(ParseChangeRecordTest, DynoKeysOnlyRecordFromTheDesignNote) {
  ChangeRecord r = parse_ok(fixture("keys_only_dyno.json"));
  EXPECT_EQ(r.event, Event::kInsert);
  EXPECT_EQ(r.keys, (Item{{"ForumName", Value::S("DynamoDB")}, {"Subject", Value::S("DynamoDB Thread 3")}}));
  EXPECT_EQ(r.sequence_number, "300000000000000499659");
  EXPECT_EQ(r.event_id, "e2fd9c34eff2d779b297b26f5fef4206");
  EXPECT_EQ(r.aws_region, "us-east-1");
  EXPECT_EQ(r.source, kSourceKinesisKeysOnly);
  EXPECT_FALSE(r.new_image.has_value());
}

TEST(ParseChangeRecordTest, StreamsPreviewPascalCase) {
  ChangeRecord r = parse_ok(fixture("preview_pascal_case.json"));
  EXPECT_EQ(r.event, Event::kModify);
  EXPECT_EQ(r.keys, (Item{{"id", Value::S("record-2")}}));
  ASSERT_TRUE(r.new_image.has_value());
  EXPECT_EQ(r.new_image->at("data"), Value::S("after"));
  ASSERT_TRUE(r.old_image.has_value());
  EXPECT_EQ(r.old_image->at("data"), Value::S("before"));
  EXPECT_EQ(r.stream_view_type, "NEW_AND_OLD_IMAGES");
  EXPECT_EQ(r.event_id, "7");
  EXPECT_EQ(r.aws_region, "us-east-1");
  EXPECT_EQ(r.source, kSourceDynamoDbStreams);
}

TEST(ParseChangeRecordTest, DynamoDbStreamsInsertWithNewImage) {
  ChangeRecord r = parse_ok(fixture("dynamodb_streams_insert_new_image.json"));
  EXPECT_EQ(r.event, Event::kInsert);
  EXPECT_EQ(r.keys, (Item{{"Id", Value::N(Number::from_string("101"))}}));
  ASSERT_TRUE(r.new_image.has_value());
  EXPECT_EQ(r.new_image->at("Message"), Value::S("New item!"));
  EXPECT_EQ(r.new_image->at("Blob"), Value::B("hello"));
  EXPECT_EQ(r.new_image->at("Tags"), Value::SS({"b", "a"}));
  EXPECT_FALSE(r.old_image.has_value());
  EXPECT_EQ(r.stream_view_type, "NEW_IMAGE");
  EXPECT_EQ(r.sequence_number, "111000000000000000000001");
  EXPECT_EQ(r.aws_region, "us-west-2");
  EXPECT_EQ(r.table_name, "ExampleTableWithStream");
  ASSERT_TRUE(r.approximate_creation_time.has_value());
  EXPECT_EQ(micros(*r.approximate_creation_time), 1594935882000000);  // seconds
  EXPECT_EQ(r.source, kSourceDynamoDbStreams);
}

TEST(ParseChangeRecordTest, DynamoDbStreamsModifyWithBothImages) {
  ChangeRecord r = parse_ok(fixture("dynamodb_streams_modify_new_and_old.json"));
  EXPECT_EQ(r.event, Event::kModify);
  ASSERT_TRUE(r.new_image && r.old_image);
  EXPECT_EQ(r.new_image->at("Message"), Value::S("This item has changed"));
  EXPECT_EQ(r.old_image->at("Message"), Value::S("New item!"));
  EXPECT_EQ(r.stream_view_type, "NEW_AND_OLD_IMAGES");
  EXPECT_EQ(micros(*r.approximate_creation_time), 1594935882500000);  // fractional seconds
}

TEST(ParseChangeRecordTest, DynamoDbStreamsRemoveWithOldImage) {
  ChangeRecord r = parse_ok(fixture("dynamodb_streams_remove_old_image.json"));
  EXPECT_EQ(r.event, Event::kRemove);
  EXPECT_FALSE(r.new_image.has_value());
  ASSERT_TRUE(r.old_image.has_value());
  EXPECT_EQ(r.stream_view_type, "OLD_IMAGE");
  EXPECT_EQ(r.sequence_number, "333000000000000000000003");
}

TEST(ParseChangeRecordTest, DynamoDbStreamsKeysOnly) {
  ChangeRecord r = parse_ok(fixture("dynamodb_streams_keys_only.json"));
  EXPECT_EQ(r.keys, (Item{{"pk", Value::S("a")}, {"sk", Value::S("b")}}));
  EXPECT_EQ(r.stream_view_type, "KEYS_ONLY");
  EXPECT_EQ(r.table_name, "KeysOnlyTable");
  EXPECT_EQ(r.source, kSourceDynamoDbStreams);  // eventSourceARN says where it came from
}

TEST(ParseChangeRecordTest, KinesisDataStreamsForDynamoDb) {
  ChangeRecord ins = parse_ok(fixture("kds_insert.json"));
  EXPECT_EQ(ins.event, Event::kInsert);
  EXPECT_EQ(ins.table_name, "Music");
  EXPECT_EQ(ins.source, kSourceKinesisForDynamoDb);
  EXPECT_EQ(ins.stream_view_type, "");
  EXPECT_EQ(ins.sequence_number, "");
  EXPECT_EQ(ins.event_id, "4b8b9c7e-2f0e-4a64-9a43-3c1d5c0f8a11");
  EXPECT_EQ(ins.keys,
            (Item{{"Artist", Value::S("No One You Know")}, {"SongTitle", Value::S("Call Me Today")}}));
  ASSERT_TRUE(ins.new_image.has_value());
  EXPECT_EQ(ins.new_image->at("Awards"), Value::N(Number::from_string("1")));
  ASSERT_TRUE(ins.approximate_creation_time.has_value());
  EXPECT_EQ(micros(*ins.approximate_creation_time), 1611277035883917);  // microseconds

  ChangeRecord mod = parse_ok(fixture("kds_modify.json"));
  EXPECT_EQ(mod.event, Event::kModify);
  ASSERT_TRUE(mod.new_image && mod.old_image);
  EXPECT_EQ(mod.new_image->at("Awards"), Value::N(Number::from_string("2")));
  EXPECT_EQ(micros(*mod.approximate_creation_time), 1611277036000001);

  ChangeRecord rem = parse_ok(fixture("kds_remove_ttl_ms.json"));
  EXPECT_EQ(rem.event, Event::kRemove);
  EXPECT_FALSE(rem.new_image.has_value());
  ASSERT_TRUE(rem.old_image.has_value());
  EXPECT_EQ(micros(*rem.approximate_creation_time), 1611277037123000);  // milliseconds
  EXPECT_EQ(rem.source, kSourceKinesisForDynamoDb);
}

TEST(ParseChangeRecordTest, NullMembersCountAsAbsent) {
  ChangeRecord r = parse_ok(
      R"({"eventName":"INSERT","eventID":null,"dynamodb":{"Keys":{"id":{"S":"a"}},"NewImage":null,
          "OldImage":null,"StreamViewType":null,"ApproximateCreationDateTime":null}})");
  EXPECT_FALSE(r.new_image.has_value());
  EXPECT_FALSE(r.approximate_creation_time.has_value());
  EXPECT_EQ(r.event_id, "");
  EXPECT_EQ(r.source, kSourceKinesisKeysOnly);
}

TEST(ParseChangeRecordTest, Iso8601CreationTime) {
  ChangeRecord r = parse_ok(
      R"({"eventName":"INSERT","dynamodb":{"Keys":{"id":{"S":"a"}},"ApproximateCreationDateTime":"2015-06-27T00:48:05.899Z"}})");
  ASSERT_TRUE(r.approximate_creation_time.has_value());
  EXPECT_EQ(micros(*r.approximate_creation_time), 1435366085899000);
}

// --- reading: errors -----------------------------------------------------------------------

struct ErrorCase {
  const char* name;
  std::string data;
  std::string message;  // the whole message, or its start when it ends in "..."
};

std::string record_with_dynamodb(const std::string& dynamodb) {
  return R"({"eventName":"INSERT","dynamodb":)" + dynamodb + "}";
}

TEST(ParseChangeRecordTest, EveryErrorSaysWhatIsWrong) {
  const std::vector<ErrorCase> cases = {
      {"not json", "{\"eventName\":", "data is not JSON: ..."},
      {"plain text", "hello", "data is not JSON: ..."},
      {"array", "[1,2]", "record is not a JSON object"},
      {"no eventName", R"({"dynamodb":{"Keys":{"id":{"S":"a"}}}})", "eventName missing"},
      {"eventName number", R"({"eventName":5,"dynamodb":{"Keys":{"id":{"S":"a"}}}})", "eventName is not a string"},
      {"unknown eventName", R"({"eventName":"UPSERT","dynamodb":{"Keys":{"id":{"S":"a"}}}})",
       "eventName 'UPSERT' is not INSERT, MODIFY or REMOVE"},
      {"no dynamodb", R"({"eventName":"INSERT"})", "dynamodb missing"},
      {"dynamodb array", record_with_dynamodb("[]"), "dynamodb is not an object"},
      {"no Keys", record_with_dynamodb(R"({"SequenceNumber":"1"})"), "dynamodb.Keys missing"},
      {"Keys array", record_with_dynamodb(R"({"Keys":[]})"), "dynamodb.Keys is not an object"},
      {"Keys empty", record_with_dynamodb(R"({"Keys":{}})"), "dynamodb.Keys is empty"},
      {"Keys bad tag", record_with_dynamodb(R"({"Keys":{"id":{"Q":"x"}}})"), "dynamodb.Keys: ..."},
      {"Keys bad number", record_with_dynamodb(R"({"Keys":{"id":{"N":"1e999"}}})"), "dynamodb.Keys: ..."},
      {"Keys map", record_with_dynamodb(R"({"Keys":{"id":{"M":{}}}})"),
       "dynamodb.Keys: attribute \"id\" is of type M; key attributes are S, N or B"},
      {"NewImage bad", record_with_dynamodb(R"({"Keys":{"id":{"S":"a"}},"NewImage":{"x":{"S":1}}})"),
       "dynamodb.NewImage: ..."},
      {"OldImage string", record_with_dynamodb(R"({"Keys":{"id":{"S":"a"}},"OldImage":"x"})"),
       "dynamodb.OldImage is not an object"},
      {"view type", record_with_dynamodb(R"({"Keys":{"id":{"S":"a"}},"StreamViewType":"ALL"})"),
       "dynamodb.StreamViewType 'ALL' is not KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES"},
      {"sequence number", record_with_dynamodb(R"({"Keys":{"id":{"S":"a"}},"SequenceNumber":5})"),
       "dynamodb.SequenceNumber is not a string"},
      {"time bool", record_with_dynamodb(R"({"Keys":{"id":{"S":"a"}},"ApproximateCreationDateTime":true})"),
       "dynamodb.ApproximateCreationDateTime is not a number"},
      {"time negative", record_with_dynamodb(R"({"Keys":{"id":{"S":"a"}},"ApproximateCreationDateTime":-5})"),
       "dynamodb.ApproximateCreationDateTime: ..."},
      {"time text", record_with_dynamodb(R"({"Keys":{"id":{"S":"a"}},"ApproximateCreationDateTime":"yesterday"})"),
       "dynamodb.ApproximateCreationDateTime: \"yesterday\" is not an ISO 8601 time"},
      {"kinesis envelope", R"({"eventSource":"aws:kinesis","kinesis":{"data":""}})",
       "eventSource is aws:kinesis: this is a Lambda Kinesis event record, not a change record (its kinesis.data "
       "holds the change)"},
      {"other source", R"({"eventSource":"aws:s3","eventName":"INSERT"})", "eventSource 'aws:s3' is not aws:dynamodb"},
      {"record format", R"({"eventName":"INSERT","recordFormat":"application/ion","dynamodb":{"Keys":{"id":{"S":"a"}}}})",
       "recordFormat 'application/ion' is not supported (only application/json)"},
      {"eventID number", R"({"eventName":"INSERT","eventID":5,"dynamodb":{"Keys":{"id":{"S":"a"}}}})",
       "eventID is not a string"},
      {"awsRegion object", R"({"eventName":"INSERT","awsRegion":{},"dynamodb":{"Keys":{"id":{"S":"a"}}}})",
       "awsRegion is not a string"},
      {"tableName number", R"({"eventName":"INSERT","tableName":1,"dynamodb":{"Keys":{"id":{"S":"a"}}}})",
       "tableName is not a string"},
  };
  for (const auto& c : cases) {
    auto r = parse_change_record(c.data);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.error().kind, ErrorKind::kInvalidInput) << c.name;
    const std::string got = r.error().describe();
    if (c.message.size() > 3 && c.message.compare(c.message.size() - 3, 3, "...") == 0) {
      std::string prefix = c.message.substr(0, c.message.size() - 3);
      EXPECT_EQ(got.substr(0, prefix.size()), prefix) << c.name << ": " << got;
      EXPECT_GT(got.size(), prefix.size()) << c.name << ": " << got;
    } else {
      EXPECT_EQ(got, c.message) << c.name;
    }
  }
}

// --- creation time units -------------------------------------------------------------------

TEST(CreationTimeTest, SecondsMillisecondsMicroseconds) {
  auto at = [](double v) {
    auto r = creation_time_from_epoch(v);
    EXPECT_TRUE(r.ok()) << v;
    return r.ok() ? micros(*r) : -1;
  };
  EXPECT_EQ(at(0), 0);
  EXPECT_EQ(at(1594935882), 1594935882000000);           // seconds (DynamoDB Streams)
  EXPECT_EQ(at(1594935882.123), 1594935882123000);       // fractional seconds
  EXPECT_EQ(at(1611277037123), 1611277037123000);        // milliseconds (KDS, MILLISECOND)
  EXPECT_EQ(at(1611277037123.5), 1611277037123500);      // fractional milliseconds
  EXPECT_EQ(at(1611277035883917), 1611277035883917);     // microseconds (KDS default)
  // The thresholds.
  EXPECT_EQ(at(9000000000), 9000000000000000);           // seconds, year 2255
  EXPECT_EQ(at(100000000000), 100000000000000);          // 1e11: milliseconds (1973-03-03)
  EXPECT_EQ(at(9000000000000), 9000000000000000);        // milliseconds, year 2255
  EXPECT_EQ(at(100000000000000), 100000000000000);       // 1e14: microseconds (1973-03-03)
  EXPECT_EQ(at(9000000000000000), 9000000000000000);     // microseconds, year 2255
  EXPECT_EQ(at(9007199254740993.0), 9007199254740992);   // 2^53 + 1 is not a double: nearest
  // Below a threshold but after 2262 (the end of system_clock): errors, not wrapped times.
  EXPECT_FALSE(creation_time_from_epoch(99999999999).ok());
  EXPECT_FALSE(creation_time_from_epoch(99999999999999).ok());
  EXPECT_FALSE(creation_time_from_epoch(99999999999999984.0).ok());
}

TEST(CreationTimeTest, SameInstantInEveryUnit) {
  auto s = creation_time_from_epoch(1700000000.25);
  auto ms = creation_time_from_epoch(1700000000250);
  auto us = creation_time_from_epoch(1700000000250000);
  ASSERT_TRUE(s.ok() && ms.ok() && us.ok());
  EXPECT_EQ(*s, *ms);
  EXPECT_EQ(*ms, *us);
}

TEST(CreationTimeTest, OutOfRange) {
  EXPECT_FALSE(creation_time_from_epoch(-1).ok());
  EXPECT_FALSE(creation_time_from_epoch(1e17).ok());
  EXPECT_FALSE(creation_time_from_epoch(1e300).ok());
  EXPECT_FALSE(creation_time_from_epoch(std::numeric_limits<double>::quiet_NaN()).ok());
  EXPECT_FALSE(creation_time_from_epoch(std::numeric_limits<double>::infinity()).ok());
  EXPECT_EQ(creation_time_from_epoch(-1).error().kind, ErrorKind::kInvalidInput);
}

TEST(CreationTimeTest, Iso8601) {
  auto at = [](std::string_view s) {
    auto r = creation_time_from_iso8601(s);
    EXPECT_TRUE(r.ok()) << s << ": " << (r.ok() ? "" : r.error().describe());
    return r.ok() ? micros(*r) : -1;
  };
  EXPECT_EQ(at("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(at("2015-06-27T00:48:05Z"), 1435366085000000);
  EXPECT_EQ(at("2015-06-27T00:48:05.899Z"), 1435366085899000);
  EXPECT_EQ(at("2015-06-27T00:48:05.899123Z"), 1435366085899123);
  EXPECT_EQ(at("2015-06-27T00:48:05.8991239Z"), 1435366085899123);  // beyond microseconds: cut
  EXPECT_EQ(at("2015-06-27T02:48:05+02:00"), 1435366085000000);
  EXPECT_EQ(at("2015-06-26T19:48:05-0500"), 1435366085000000);
  EXPECT_EQ(at("2015-06-27T00:48:05"), 1435366085000000);  // no zone: UTC
  for (std::string_view bad : {"", "2015-06-27", "2015-13-01T00:00:00Z", "2015-02-30T00:00:00Z", "2015-06-27T24:00:00Z",
                               "2015-06-27T00:48:05.Z", "2015-06-27T00:48:05Q", "2015-06-27T00:48:05Z junk",
                               "20150627T004805Z"}) {
    EXPECT_FALSE(creation_time_from_iso8601(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace dynarep::stream
