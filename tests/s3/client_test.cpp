// The S3 client against s3rver (the local stack).
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "s3/client.h"
#include "s3_fixture.h"
#include "support/stack.h"

namespace dynarep::s3 {
namespace {

using testing::random_body;
using testing::S3Test;
using testing::stack_client;

TEST(S3Bucket, CreateHeadDelete) {
  Client c = stack_client();
  std::string b = dynarep::testing::unique_name("dr-bkt");
  Status st = c.head_bucket(b);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(st.error().code, "NoSuchBucket");
  EXPECT_EQ(st.error().context, "s3://" + b);

  ASSERT_TRUE(c.create_bucket(b).ok());
  st = c.head_bucket(b);
  EXPECT_TRUE(st.ok()) << st.error().describe();
  Status again = c.create_bucket(b);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().describe().find("s3://" + b), std::string::npos);

  ASSERT_TRUE(c.delete_bucket(b).ok());
  st = c.head_bucket(b);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::kNotFound);
}

TEST(S3Bucket, MissingBucketIsNotFoundAndNamed) {
  Client c = stack_client();
  std::string b = dynarep::testing::unique_name("dr-missing");
  auto put = c.put_object(b, "some/key", "x");
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(put.error().code, "NoSuchBucket");
  EXPECT_EQ(put.error().describe().rfind("s3://" + b + "/some/key: NoSuchBucket: ", 0), 0u)
      << put.error().describe();

  auto get = c.get_object(b, "k");
  ASSERT_FALSE(get.ok());
  EXPECT_EQ(get.error().kind, ErrorKind::kNotFound);
  EXPECT_NE(get.error().describe().find("s3://" + b + "/k"), std::string::npos);

  auto list = c.list_objects(b, {});
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.error().kind, ErrorKind::kNotFound);
  EXPECT_NE(list.error().describe().find(b), std::string::npos);

  auto head = c.head_object(b, "k");
  ASSERT_FALSE(head.ok());
  EXPECT_EQ(head.error().kind, ErrorKind::kNotFound);
}

TEST_F(S3Test, PutGetHeadDelete) {
  PutOptions opts;
  opts.content_type = "application/x-ndjson";
  opts.metadata = {{"table", "orders"}, {"segment", "3"}};
  auto put = client().put_object(bucket(), "backups/job-1/0", "line 1\nline 2\n", opts);
  ASSERT_TRUE(put.ok()) << put.error().describe();
  EXPECT_EQ(put->etag.size(), 32u);  // MD5 hex, quotes stripped

  auto head = client().head_object(bucket(), "backups/job-1/0");
  ASSERT_TRUE(head.ok()) << head.error().describe();
  EXPECT_EQ(head->size, 14u);
  EXPECT_EQ(head->etag, put->etag);
  EXPECT_EQ(head->content_type, "application/x-ndjson");
  EXPECT_TRUE(head->last_modified_time.has_value()) << head->last_modified;
  std::set<std::pair<std::string, std::string>> meta(head->metadata.begin(), head->metadata.end());
  EXPECT_TRUE(meta.count({"table", "orders"}));
  EXPECT_TRUE(meta.count({"segment", "3"}));

  auto get = client().get_object(bucket(), "backups/job-1/0");
  ASSERT_TRUE(get.ok()) << get.error().describe();
  EXPECT_EQ(get->body, "line 1\nline 2\n");
  EXPECT_EQ(get->info.size, 14u);
  EXPECT_EQ(get->info.etag, put->etag);

  auto range = client().get_object(bucket(), "backups/job-1/0", {.range = ByteRange{7, 12}});
  ASSERT_TRUE(range.ok()) << range.error().describe();
  EXPECT_EQ(range->body, "line 2");
  EXPECT_EQ(range->info.size, 14u);
  auto tail = client().get_object(bucket(), "backups/job-1/0", {.range = ByteRange{12, std::nullopt}});
  ASSERT_TRUE(tail.ok()) << tail.error().describe();
  EXPECT_EQ(tail->body, "2\n");

  ASSERT_TRUE(client().delete_object(bucket(), "backups/job-1/0").ok());
  auto gone = client().head_object(bucket(), "backups/job-1/0");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().kind, ErrorKind::kNotFound);
  auto gone_get = client().get_object(bucket(), "backups/job-1/0");
  ASSERT_FALSE(gone_get.ok());
  EXPECT_EQ(gone_get.error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(gone_get.error().code, "NoSuchKey");
  EXPECT_EQ(gone_get.error().describe().rfind("s3://" + bucket() + "/backups/job-1/0: NoSuchKey: ", 0), 0u)
      << gone_get.error().describe();
  // Deleting what is not there succeeds, as on S3.
  EXPECT_TRUE(client().delete_object(bucket(), "backups/job-1/0").ok());
}

TEST_F(S3Test, EmptyObject) {
  ASSERT_TRUE(client().put_object(bucket(), "empty", "").ok());
  auto get = client().get_object(bucket(), "empty");
  ASSERT_TRUE(get.ok()) << get.error().describe();
  EXPECT_EQ(get->body, "");
  std::string streamed;
  auto info = client().get_object_streaming(bucket(), "empty", [&](std::string_view c) -> Status {
    streamed.append(c);
    return {};
  });
  ASSERT_TRUE(info.ok()) << info.error().describe();
  EXPECT_EQ(info->size, 0u);
  EXPECT_EQ(streamed, "");
}

TEST_F(S3Test, AwkwardKeys) {
  const std::vector<std::string> keys = {
      "with space",
      "plus+sign",
      "equals=sign&amp",
      "deep/path/to/obj.gz",
      "unicode/caf\xC3\xA9/\xE6\x97\xA5\xE6\x9C\xAC/\xF0\x9F\x98\x80",
      "percent%20literal",
      "tilde~star*paren(1)'quote'",
      "xml<chars>&\"",
      "  leading and trailing  ",
      "semi;colon:comma,at@dollar$hash#q?",
  };
  for (const auto& k : keys) {
    auto put = client().put_object(bucket(), k, "body of " + k);
    ASSERT_TRUE(put.ok()) << k << ": " << put.error().describe();
  }
  for (const auto& k : keys) {
    auto get = client().get_object(bucket(), k);
    ASSERT_TRUE(get.ok()) << k << ": " << get.error().describe();
    EXPECT_EQ(get->body, "body of " + k);
    auto head = client().head_object(bucket(), k);
    ASSERT_TRUE(head.ok()) << k << ": " << head.error().describe();
  }
  std::vector<std::string> listed;
  ASSERT_TRUE(client()
                  .for_each_object(bucket(), {}, [&](const ListedObject& o) -> Status {
                    listed.push_back(o.key);
                    return {};
                  })
                  .ok());
  std::vector<std::string> want = keys;
  std::sort(want.begin(), want.end());
  std::sort(listed.begin(), listed.end());
  EXPECT_EQ(listed, want);

  // A prefix with a space and a '+' goes through the query string intact.
  auto page = client().list_objects(bucket(), {.prefix = "plus+"});
  ASSERT_TRUE(page.ok()) << page.error().describe();
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].key, "plus+sign");
  page = client().list_objects(bucket(), {.prefix = "with "});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->objects.size(), 1u);

  auto del = client().delete_objects(bucket(), keys);
  ASSERT_TRUE(del.ok()) << del.error().describe();
  EXPECT_EQ(del->deleted, keys.size());
  EXPECT_TRUE(del->failures.empty());
  // s3rver's XML body parser trims text, so it looks for "leading and trailing" and deletes
  // nothing (S3 keeps the spaces). DeleteObject has no body to trim.
  ASSERT_TRUE(client().delete_object(bucket(), "  leading and trailing  ").ok());
  page = client().list_objects(bucket(), {});
  ASSERT_TRUE(page.ok());
  for (const auto& o : page->objects) ADD_FAILURE() << "not deleted: '" << o.key << "'";
}

TEST_F(S3Test, ListPagesOverThousandKeysWithDelimiter) {
  // 1100 keys under data/, 3 under other/: more than one page of 1000.
  std::vector<std::string> keys;
  for (int i = 0; i < 1100; ++i) keys.push_back(fmt::format("data/{:05d}", i));
  keys.push_back("other/a");
  keys.push_back("other/b");
  keys.push_back("top");
  // Several threads: the client is shared.
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (std::size_t i = static_cast<std::size_t>(t); i < keys.size(); i += 4) {
        if (!client().put_object(bucket(), keys[i], "x").ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failures.load(), 0);

  // Paging through everything.
  ObjectLister it = client().lister(bucket());
  std::vector<std::string> listed;
  int pages = 0;
  while (!it.done()) {
    auto page = it.next();
    ASSERT_TRUE(page.ok()) << page.error().describe();
    ++pages;
    if (!it.done()) {
      EXPECT_EQ(page->objects.size(), 1000u);
      EXPECT_TRUE(page->is_truncated);
      EXPECT_FALSE(page->next_continuation_token.empty());
    }
    for (const auto& o : page->objects) {
      listed.push_back(o.key);
      EXPECT_EQ(o.size, 1u);
    }
  }
  EXPECT_EQ(pages, 2);
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(listed, keys);

  // Small pages with a prefix.
  std::vector<std::string> small;
  ASSERT_TRUE(client()
                  .for_each_object(bucket(), {.prefix = "data/0001", .max_keys = 7},
                                   [&](const ListedObject& o) -> Status {
                                     small.push_back(o.key);
                                     return {};
                                   })
                  .ok());
  EXPECT_EQ(small.size(), 10u);  // data/00010 .. data/00019, in pages of 7
  EXPECT_EQ(small.front(), "data/00010");

  // Delimiter: common prefixes.
  auto top = client().list_objects(bucket(), {.delimiter = "/"});
  ASSERT_TRUE(top.ok()) << top.error().describe();
  ASSERT_EQ(top->objects.size(), 1u);
  EXPECT_EQ(top->objects[0].key, "top");
  EXPECT_EQ(top->common_prefixes, (std::vector<std::string>{"data/", "other/"}));

  // Start after.
  auto after = client().list_objects(bucket(), {.prefix = "data/", .start_after = "data/01097"});
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->objects.size(), 2u);
  EXPECT_EQ(after->objects[0].key, "data/01098");

  // Batch delete of more than 1000 keys (two requests).
  auto del = client().delete_objects(bucket(), keys);
  ASSERT_TRUE(del.ok()) << del.error().describe();
  EXPECT_EQ(del->deleted, keys.size());
  auto empty = client().list_objects(bucket(), {});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->objects.empty());
}

TEST_F(S3Test, ListObjectVersionsUnsupported) {
  ASSERT_TRUE(client().put_object(bucket(), "k", "v").ok());
  auto r = client().list_object_versions(bucket(), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(r.error().code, "VersionsUnsupported");
  EXPECT_NE(r.error().message.find("bucket " + bucket() +
                                   " keeps no object versions (or the server does not support versioning)"),
            std::string::npos)
      << r.error().describe();
}

TEST_F(S3Test, StreamingGetOfALargeObjectInWindows) {
  // 9 MiB + 123 bytes read in 1 MiB windows (10 ranged requests), one chunk at a time: nothing
  // but the current chunk is held.
  ClientOptions opts;
  opts.read_window = 1 << 20;
  Client windowed = stack_client(opts);
  const std::string body = random_body((9u << 20) + 123, 11);
  ASSERT_TRUE(client().put_object(bucket(), "large", body).ok());

  std::uint64_t total = 0;
  std::size_t largest_chunk = 0;
  bool same = true;
  auto info = windowed.get_object_streaming(bucket(), "large", [&](std::string_view chunk) -> Status {
    if (body.compare(total, chunk.size(), chunk) != 0) same = false;
    total += chunk.size();
    largest_chunk = std::max(largest_chunk, chunk.size());
    return {};
  });
  ASSERT_TRUE(info.ok()) << info.error().describe();
  EXPECT_EQ(total, body.size());
  EXPECT_TRUE(same);
  EXPECT_EQ(info->size, body.size());
  EXPECT_LE(largest_chunk, std::size_t{1} << 20);  // bounded by the transfer buffer, never the object

  // A range across window boundaries.
  std::string part;
  auto r = windowed.get_object_streaming(
      bucket(), "large",
      [&](std::string_view chunk) -> Status {
        part.append(chunk);
        return {};
      },
      {.range = ByteRange{(1u << 20) - 5, (3u << 20) + 7}});
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(part, body.substr((1u << 20) - 5, (2u << 20) + 13));

  // The callback's error stops the transfer and comes back unchanged.
  int calls = 0;
  auto stopped = windowed.get_object_streaming(bucket(), "large", [&](std::string_view) -> Status {
    ++calls;
    return invalid_input("bad line 1");
  });
  ASSERT_FALSE(stopped.ok());
  EXPECT_EQ(stopped.error().message, "bad line 1");
  EXPECT_EQ(calls, 1);

  // Missing object.
  auto missing = windowed.get_object_streaming(bucket(), "nope", [](std::string_view) -> Status { return {}; });
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(missing.error().context, "s3://" + bucket() + "/nope");
}

TEST_F(S3Test, StreamingGetIfMatch) {
  auto put = client().put_object(bucket(), "k", "v1");
  ASSERT_TRUE(put.ok());
  std::string got;
  auto sink = [&](std::string_view c) -> Status {
    got.append(c);
    return {};
  };
  auto ok = client().get_object_streaming(bucket(), "k", sink, {.if_match = put->etag});
  ASSERT_TRUE(ok.ok()) << ok.error().describe();
  EXPECT_EQ(got, "v1");
  auto stale = client().get_object_streaming(bucket(), "k", sink, {.if_match = "0123456789abcdef0123456789abcdef"});
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().kind, ErrorKind::kConditionFailed);
  EXPECT_EQ(stale.error().context, "s3://" + bucket() + "/k");
}

TEST_F(S3Test, StreamingGetRangeErrors) {
  ASSERT_TRUE(client().put_object(bucket(), "k", "0123456789").ok());
  auto sink = [](std::string_view) -> Status { return {}; };
  auto r = client().get_object_streaming(bucket(), "k", sink, {.range = ByteRange{10, std::nullopt}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "InvalidRange");
  std::string got;
  auto clamp = client().get_object_streaming(
      bucket(), "k",
      [&](std::string_view c) -> Status {
        got.append(c);
        return {};
      },
      {.range = ByteRange{8, 100}});
  ASSERT_TRUE(clamp.ok()) << clamp.error().describe();
  EXPECT_EQ(got, "89");
}

}  // namespace
}  // namespace dynarep::s3
