// A confirmed write as the stream learns of it: the item's key, what happened to it, and the
// identity of its change record (event ID, region), fixed when the write is confirmed so that
// republishing it later sends the very same record (docs/formats.md §3).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "model/value.h"
#include "stream/record.h"

namespace dynarep::writer {

using Event = stream::ChangeRecord::Event;

struct Change {
  model::Item key;                  // the key attributes only
  Event event = Event::kInsert;     // INSERT (put), MODIFY (update), REMOVE (delete)
  std::string event_id;             // 32 lower-case hex
  std::string aws_region;           // the record's awsRegion: the primary table's region

  friend bool operator==(const Change& a, const Change& b) = default;
};

// A change with a fresh random event ID; number key attributes are normalized ("1.50" ->
// "1.5", as DynamoDB returns them) so one item always gets one partition key.
Change make_change(model::Item key, Event event, std::string aws_region);

// The record's Data, byte for byte as it goes on the stream.
std::string record_data(const Change& change);
// Its partition key (stream::partition_key of the key).
std::string record_partition_key(const Change& change);

// "INSERT {"id":{"S":"a"}}": how the CLI lists a change, one line each.
std::string describe(const Change& change);

// The unpublished-changes file: one change record per line, exactly the Data that should
// have gone on the stream. `dynarep republish` reads it back; so does parse_change_line.
std::string to_line(const Change& change);
// Reads a line of that file: any KEYS_ONLY record (ours or dyno's). Keeps its event ID and
// region, so republishing sends the same record. Errors are kInvalidInput.
Result<Change> parse_change_line(std::string_view line);

}  // namespace dynarep::writer
