// Change records (stream/record.h) on arbitrary bytes as a Kinesis record's Data, plus the two
// ApproximateCreationDateTime readers on the same bytes.
//
// Properties: failures are clean kInvalidInput errors; a parsed record has non-empty keys of
// type S, N or B, a known source and view type; the KEYS_ONLY record dynarep would write for
// it parses back to the same keys and event (source "kinesis-keys-only"); its partition key
// is non-empty, at most 256 UTF-16 units or a sha256, and the same for the re-read keys.
#include <cstring>

#include "common/check.h"
#include "model/codec.h"
#include "stream/record.h"
#include "targets/targets.h"

namespace dynarep::fuzz {
namespace {

void check_time(const Result<std::chrono::system_clock::time_point>& t, const std::string& what) {
  if (!t.ok()) {
    FUZZ_CHECK(t.error().kind == ErrorKind::kInvalidInput && !t.error().message.empty(), what + ": unclean error");
  }
}

}  // namespace

void change_record(std::string_view data) {
  // The ISO 8601 reader on the whole input, and the epoch reader on its first 8 bytes.
  check_time(stream::creation_time_from_iso8601(data), "creation_time_from_iso8601");
  if (data.size() >= sizeof(double)) {
    double v = 0;
    std::memcpy(&v, data.data(), sizeof v);
    check_time(stream::creation_time_from_epoch(v), "creation_time_from_epoch");
  }

  auto r = stream::parse_change_record(data);
  if (!r.ok()) {
    FUZZ_CHECK(r.error().kind == ErrorKind::kInvalidInput, "error is not kInvalidInput: " + r.error().describe());
    FUZZ_CHECK(!r.error().message.empty(), "error without a message");
    return;
  }
  const stream::ChangeRecord& rec = *r;
  FUZZ_CHECK(!rec.keys.empty(), "a parsed record has no keys");
  for (const auto& [name, v] : rec.keys) {
    FUZZ_CHECK(v.is(model::Type::kS) || v.is(model::Type::kN) || v.is(model::Type::kB),
               "key attribute " + printable(name) + " is not S, N or B");
  }
  FUZZ_CHECK(rec.source == stream::kSourceKinesisKeysOnly || rec.source == stream::kSourceDynamoDbStreams ||
                 rec.source == stream::kSourceKinesisForDynamoDb,
             "unknown source " + rec.source);
  FUZZ_CHECK(rec.stream_view_type.empty() || rec.stream_view_type == "KEYS_ONLY" ||
                 rec.stream_view_type == "NEW_IMAGE" || rec.stream_view_type == "OLD_IMAGE" ||
                 rec.stream_view_type == "NEW_AND_OLD_IMAGES",
             "unknown view type " + printable(rec.stream_view_type));

  // What dynarep writes for this change reads back as the same change.
  const std::string written =
      stream::make_keys_only_record(rec.keys, rec.event, "us-east-1", "0123456789abcdef0123456789abcdef");
  auto back = stream::parse_change_record(written);
  FUZZ_CHECK(back.ok(), "our own KEYS_ONLY record does not parse: " + printable(written) + ": " +
                            back.error().describe());
  FUZZ_CHECK(back->keys == rec.keys, "our own record carries other keys: " + printable(written));
  FUZZ_CHECK(back->event == rec.event, "our own record carries another event");
  FUZZ_CHECK(back->source == stream::kSourceKinesisKeysOnly, "our own record is not read as KEYS_ONLY");
  FUZZ_CHECK(back->stream_view_type == "KEYS_ONLY" && back->sequence_number == "0", "our own record's fields");

  const std::string pk = stream::partition_key(rec.keys);
  FUZZ_CHECK(!pk.empty(), "empty partition key");
  FUZZ_CHECK(stream::partition_key(back->keys) == pk, "the partition key changed over a round trip");
  if (pk.front() != '{') FUZZ_CHECK(pk.size() == 64, "a hashed partition key is not 64 hex digits");
}

}  // namespace dynarep::fuzz
