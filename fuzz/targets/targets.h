// One function per fuzz target: feeds one input to the code under test and checks the
// properties in fuzz/README.md. Used by the libFuzzer entry point (fuzz/common/entry.cpp,
// one binary per target) and by tests/fuzz_regressions/ to replay saved inputs.
#pragma once

#include <string_view>

namespace dynarep::fuzz {

// Once per process before the first input: a fixed environment (no AWS_* variables or config
// files from the machine) and silent logging.
void setup_environment();

void item_codec(std::string_view data);      // model: parse_item / ItemParser, round trip
void number(std::string_view data);          // model: Number::parse, canonical, compare
void plain_json(std::string_view data);      // model: item_from_plain_json, parse_key_arg
void change_record(std::string_view data);   // stream: parse_change_record, ISO/epoch times
void lambda_event(std::string_view data);    // stream: parse_lambda_event
void location(std::string_view data);        // aws: parse_table_location, parse_object_location
void s3_xml(std::string_view data);          // s3: xml::parse, round trip through xml::escape
void gzip_lines(std::string_view data);      // compress: GzipReader -> LineSplitter -> ItemParser
void backup_reader(std::string_view data);   // backup: read_lines (gzip or plain, from stdin)

}  // namespace dynarep::fuzz
