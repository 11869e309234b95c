// dynamodb::update_is_idempotent: an update is resent after a lost answer only when applying
// it twice is the same as once (issue 10: REMOVE #l[0] was resent and removed two elements).
#include <gtest/gtest.h>

#include "dynamodb/client.h"
#include "model/codec.h"

namespace dynarep::dynamodb {
namespace {

UpdateRequest update(const std::string& expression) {
  UpdateRequest r;
  r.table = "t";
  r.update_expression = expression;
  r.expression_attribute_names = {{"#a", "a"}, {"#b", "b"}, {"#l", "l"}, {"#m", "m"}, {"#s", "s"}, {"#n", "n"}};
  auto values = model::parse_item(R"({":v":{"S":"x"},":w":{"N":"2"},":one":{"N":"1"},":set":{"SS":["p","q"]},)"
                                  R"(":nums":{"NS":["1"]},":list":{"L":[{"S":"z"}]}})");
  EXPECT_TRUE(values.ok());
  r.expression_attribute_values = *values;
  return r;
}

TEST(UpdateIdempotency, SameTwiceAsOnceMayBeResent) {
  for (const char* e : {"SET #a = :v", "SET #a = :v, #b = :w", "set #a = :v remove #b", "SET #m.x = :v",
                        "SET #a = if_not_exists(#a, :v)", "REMOVE #a", "REMOVE #m.x, #b", "ADD #s :set",
                        "ADD #s :nums", "DELETE #s :set", "SET #a = :v REMOVE #b ADD #s :set DELETE #n :nums",
                        "SET #a = #b", "SET #m.x = #m.y", "SET plain = :v"}) {
    EXPECT_TRUE(update_is_idempotent(update(e))) << e;
  }
}

TEST(UpdateIdempotency, DifferentTwiceIsSentOnce) {
  for (const char* e : {
           "REMOVE #l[0]",                          // the next element moves into index 0
           "REMOVE #a, #l[2]",                      //
           "REMOVE #m.list[1]",                     //
           "SET #l[5] = :v",                        // past the end: appends, twice appends twice
           "SET #n = #n + :one",                    // arithmetic
           "SET #n = #n - :one",                    //
           "SET #n = if_not_exists(#n, :w) + :one", // if_not_exists arithmetic
           "SET #l = list_append(#l, :list)",       //
           "SET #l = LIST_APPEND(:list, #l)",       //
           "ADD #n :one",                           // ADD to a number
           "ADD #n :missing",                       // an unknown value's type: the safe side
           "SET #a = #b, #b = :v",                  // reads what it changes
           "SET #a = #a.x",                         // digs deeper each time
           "SET #a = #m REMOVE #m.x",               //
           "",                                      // nothing that parses
           "#a = :v",                               // no clause
       }) {
    EXPECT_FALSE(update_is_idempotent(update(e))) << e;
  }
}

TEST(UpdateIdempotency, PlaceholdersAndNamesAreTheSamePath) {
  // #a stands for "a": reading a while removing #a changes the value read.
  auto r = update("SET copy = a REMOVE #a");
  EXPECT_FALSE(update_is_idempotent(r));
}

}  // namespace
}  // namespace dynarep::dynamodb
