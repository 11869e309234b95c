// Writes one item through dynarep's replicated-table client: the item goes to the primary
// table and, once DynamoDB confirms it, its key goes to the Kinesis change stream that
// `dynarep replicate` consumes.
//
//   replicated-table-example us-east-1/orders orders-changes '{"id":{"S":"a"},"n":{"N":"1"}}'
//
// Locations are dynarep's (region/table or host:port/table; AWS_ENDPOINT_URL_* apply), and
// credentials come from the standard AWS chain.
#include <iostream>
#include <memory>
#include <string>

#include "aws/location.h"
#include "dynamodb/client.h"
#include "model/codec.h"
#include "writer/publisher.h"
#include "writer/replicated_table.h"
#include "writer/stream_target.h"

using namespace dynarep;

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: " << argv[0] << " REGION/TABLE STREAM ITEM_JSON\n";
    return 2;
  }
  auto location = aws::parse_table_location(argv[1]);
  if (!location.ok()) {
    std::cerr << location.error().describe() << "\n";
    return 2;
  }
  auto item = model::parse_item(argv[3]);
  if (!item.ok()) {
    std::cerr << "item: " << item.error().describe() << "\n";
    return 2;
  }

  writer::StreamLocation where{argv[2], location->endpoint.region, ""};
  auto kinesis = writer::connect_stream(where);
  if (!kinesis.ok()) {
    std::cerr << kinesis.error().describe() << "\n";
    return 3;
  }
  writer::PublisherOptions publishing;
  publishing.stream = where.name;

  writer::ReplicatedTableConfig config;
  config.write = {dynamodb::Client::connect(location->endpoint), location->table};
  config.publisher = std::make_shared<writer::StreamPublisher>(std::move(kinesis).value(), publishing);
  auto table = writer::ReplicatedTable::open(std::move(config));
  if (!table.ok()) {
    std::cerr << table.error().describe() << "\n";
    return 3;
  }

  auto written = (*table)->put(*item);
  if (!written.ok()) {
    // The item may be on the primary with its change not on the stream: the error lists it.
    std::cerr << written.error().describe() << "\n";
    return 3;
  }
  std::cout << "written to " << location->table << " and published to " << where.name << "\n";
  return 0;
}
