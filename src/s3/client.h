// S3 over the AWS core's signed, retried REST path (aws/client.h).
//
// Addressing: virtual-hosted style (https://bucket.s3.region.amazonaws.com/key) for AWS
// endpoints, path style (http://127.0.0.1:PORT/bucket/key) for custom endpoints (local servers,
// MinIO) and for bucket names that are not DNS labels. Keys go into the path URI-encoded once,
// '/' kept (AWS "UriEncode" with encode_slash false); the signer uses the path as sent, neither
// normalised nor encoded again (S3's SigV4 rules), with x-amz-content-sha256.
//
// Every Error names what it concerns: its context is "s3://bucket/key" (or "s3://bucket"), so
// describe() reads "s3://bucket/key: NoSuchBucket: The specified bucket does not exist (HTTP
// 404, request id ...)". Missing buckets and objects are kNotFound.
//
// Thread-safe: a Client may be used from many threads at once (the AwsClient pools connections).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/client.h"
#include "core/result.h"

namespace dynarep::s3 {

enum class AddressingStyle {
  kAuto,           // virtual-hosted for *.amazonaws.com(.cn) endpoints when the bucket name is a
                   // DNS label without dots (dots break the TLS wildcard certificate), else path
  kPath,           // endpoint/bucket/key
  kVirtualHosted,  // bucket.endpoint-host/key
};

struct ClientOptions {
  AddressingStyle addressing = AddressingStyle::kAuto;
  // Per attempt, for requests with small bodies (HEAD, DELETE, listings, small GETs). Default 60 s.
  std::chrono::milliseconds request_timeout{60000};
  // Per attempt, for PutObject and UploadPart (bodies of up to a part, 8 MiB by default, and
  // more for grown parts). Default 10 min: 8 MiB at 14 KB/s.
  std::chrono::milliseconds upload_timeout{600000};
  std::chrono::milliseconds connect_timeout{5000};
  // Streaming GETs read an object in ranged requests of this many bytes, so that each request
  // has a bounded time limit and a failed one resumes where it stopped instead of starting
  // over. Default 64 MiB.
  std::uint64_t read_window = std::uint64_t{64} << 20;
  // Per attempt, for one window of a streaming GET. Default 10 min.
  std::chrono::milliseconds read_window_timeout{600000};
  // How often a streaming GET resumes after a transfer broke mid-window. Default 5.
  int max_read_resumes = 5;
};

// Metadata of an object (HEAD, GET).
struct ObjectInfo {
  std::uint64_t size = 0;  // the whole object's size (also for ranged GETs)
  std::string etag{};        // without the quotes S3 puts around it
  std::string last_modified{};  // as sent (an HTTP date)
  std::optional<std::chrono::system_clock::time_point> last_modified_time{};
  std::string content_type{};
  std::string version_id{};  // empty when the bucket keeps no versions
  // x-amz-meta-* headers: names lower-case without the prefix, in the order received.
  std::vector<std::pair<std::string, std::string>> metadata{};
};

struct PutOptions {
  std::string content_type{};  // empty: none sent (S3 stores binary/octet-stream)
  // Stored as x-amz-meta-<name>; names should be lower-case ASCII.
  std::vector<std::pair<std::string, std::string>> metadata{};
  std::string storage_class{};  // empty: STANDARD
  // Conditional writes (PutObject only, not multipart parts): S3 answers 412 PreconditionFailed
  // (kConditionFailed) when the object's ETag is not `if_match` (without quotes; an absent
  // object: 404 NoSuchKey, kNotFound), or when `if_none_match` is set and the object exists.
  // Servers without conditional writes (s3rver) ignore both: probe before relying on them.
  std::string if_match{};
  bool if_none_match = false;  // If-None-Match: *
};

struct DeleteOptions {
  std::string version_id{};  // empty: the current version
  // ETag (without quotes) the object must still have: else 412 (kConditionFailed), and 404
  // (kNotFound) when it is gone. AWS honours it on general purpose buckets; moto does; s3rver
  // ignores it (the object is deleted whatever its ETag).
  std::string if_match{};
};

struct PutObjectResult {
  std::string etag{};  // without quotes
  std::string version_id{};
};

// Inclusive byte range, as in an HTTP Range header; `last` empty means to the end.
struct ByteRange {
  std::uint64_t first = 0;
  std::optional<std::uint64_t> last{};
};

struct GetOptions {
  std::optional<ByteRange> range{};
  std::string version_id{};  // empty: the current version
  std::string if_match{};    // ETag (without quotes) the object must still have: else kConditionFailed
};

struct GetObjectResult {
  std::string body{};
  ObjectInfo info;
};

struct ListedObject {
  std::string key{};
  std::uint64_t size = 0;
  std::string etag{};           // without quotes
  std::string last_modified{};  // ISO 8601 as listed
  std::string storage_class{};
};

struct ListObjectsRequest {
  std::string prefix{};
  std::string delimiter{};           // e.g. "/": keys with it after the prefix roll up into common_prefixes
  std::string continuation_token{};  // from the previous page
  std::string start_after{};
  int max_keys = 1000;  // S3 returns at most 1000
};

struct ListObjectsPage {
  std::vector<ListedObject> objects{};
  std::vector<std::string> common_prefixes{};
  bool is_truncated = false;
  std::string next_continuation_token{};
};

struct ObjectVersion {
  std::string key{};
  std::string version_id{};  // "null" for objects written before versioning was enabled
  bool is_latest = false;
  bool is_delete_marker = false;
  std::uint64_t size = 0;  // 0 for delete markers
  std::string etag{};        // without quotes; empty for delete markers
  std::string last_modified{};
};

struct ListVersionsRequest {
  std::string prefix{};
  std::string delimiter{};
  std::string key_marker{};
  std::string version_id_marker{};
  int max_keys = 1000;
};

struct ListVersionsPage {
  std::vector<ObjectVersion> versions{};  // versions and delete markers, in S3's order (key, newest first)
  std::vector<std::string> common_prefixes{};
  bool is_truncated = false;
  std::string next_key_marker{};
  std::string next_version_id_marker{};
};

struct DeleteObjectsResult {
  struct Failure {
    std::string key{};
    std::string code{};
    std::string message{};
  };
  std::uint64_t deleted = 0;  // keys S3 reported deleted (including keys that did not exist)
  std::vector<Failure> failures{};
};

class Client;

// Pages of a listing, fetched as needed:
//   ObjectLister it = client.lister("bucket", {.prefix = "backups/"});
//   while (!it.done()) { DR_ASSIGN(auto page, it.next()); ... }
class ObjectLister {
 public:
  ObjectLister(const Client& client, std::string bucket, ListObjectsRequest request);
  [[nodiscard]] bool done() const { return done_; }
  // The next page. A server that says "truncated" without a new continuation token would make
  // this loop forever: that is an error (kFatal) instead.
  Result<ListObjectsPage> next();

 private:
  const Client* client_;
  std::string bucket_{};
  ListObjectsRequest request_;
  bool done_ = false;
};

class Client {
 public:
  explicit Client(std::shared_ptr<aws::AwsClient> aws, ClientOptions options = {});

  // For `region`, with the endpoint overrides (--endpoint, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL)
  // and the default credentials chain, or aws::credentials_for(credentials) (--s3-profile).
  static Client connect(const std::string& region, const std::string& endpoint_flag = "",
                        ClientOptions options = {}, const aws::CredentialsSpec& credentials = {});

  // --- Buckets
  // With a LocationConstraint when the client's region is not us-east-1.
  Status create_bucket(std::string_view bucket) const;
  // kNotFound (code NoSuchBucket) when the bucket does not exist.
  Status head_bucket(std::string_view bucket) const;
  Status delete_bucket(std::string_view bucket) const;

  // --- Objects
  // `call`: a deadline past which no attempt starts, a cancel flag (aws/retry.h).
  Result<PutObjectResult> put_object(std::string_view bucket, std::string_view key, std::string body,
                                     const PutOptions& options = {}, const aws::CallOptions& call = {}) const;
  Result<GetObjectResult> get_object(std::string_view bucket, std::string_view key,
                                     const GetOptions& options = {}) const;
  // Streams the body to `on_chunk` in pieces as they arrive, holding none of it: memory stays
  // bounded whatever the size. A HEAD learns the size and ETag; the body then comes in ranged
  // windows (ClientOptions::read_window; one plain GET when it fits in one), each conditional
  // on that ETag, so an object replaced while being read is an error (kConditionFailed) rather
  // than a mix of two versions, and a transfer that breaks midway resumes where it stopped.
  // An error from `on_chunk` stops the transfer and is returned as is.
  Result<ObjectInfo> get_object_streaming(std::string_view bucket, std::string_view key,
                                          const std::function<Status(std::string_view)>& on_chunk,
                                          const GetOptions& options = {}) const;
  // kNotFound when the object (or its bucket) does not exist.
  Result<ObjectInfo> head_object(std::string_view bucket, std::string_view key,
                                 const std::string& version_id = "") const;
  // Succeeds also when the object does not exist (S3's semantics).
  Status delete_object(std::string_view bucket, std::string_view key, const std::string& version_id = "") const;
  // The same with a condition (DeleteOptions::if_match) and per-call options.
  Status delete_object(std::string_view bucket, std::string_view key, const DeleteOptions& options,
                       const aws::CallOptions& call = {}) const;
  // Any number of keys, sent 1000 per request (S3's limit). Keys S3 could not delete are in
  // `failures`; an Error only when a whole request failed.
  Result<DeleteObjectsResult> delete_objects(std::string_view bucket, std::span<const std::string> keys) const;

  // --- Listings (ListObjectsV2)
  Result<ListObjectsPage> list_objects(std::string_view bucket, const ListObjectsRequest& request) const;
  ObjectLister lister(std::string bucket, ListObjectsRequest request = {}) const;
  // Every object (and common prefix, if a delimiter is given) under the request's prefix.
  Status for_each_object(std::string_view bucket, ListObjectsRequest request,
                         const std::function<Status(const ListedObject&)>& fn) const;

  // --- Versions (ListObjectVersions). Servers without versioning (s3rver) answer with an
  // Error of kind kNotFound, code "VersionsUnsupported": "bucket B keeps no object versions
  // (or the server does not support versioning)".
  Result<ListVersionsPage> list_object_versions(std::string_view bucket, const ListVersionsRequest& request) const;
  Status for_each_object_version(std::string_view bucket, ListVersionsRequest request,
                                 const std::function<Status(const ObjectVersion&)>& fn) const;

  [[nodiscard]] const ClientOptions& options() const { return options_; }
  [[nodiscard]] aws::AwsClient& aws() const { return *aws_; }
  [[nodiscard]] const std::string& region() const;

  // "s3://bucket/key", for messages.
  static std::string display(std::string_view bucket, std::string_view key = {});

  // Low-level request building, public for MultipartUpload and for tests.
  // The URL (absolute) of bucket/key with `query` (already encoded, without '?').
  [[nodiscard]] std::string object_url(std::string_view bucket, std::string_view key,
                                       std::string_view query = {}) const;
  [[nodiscard]] bool uses_virtual_host(std::string_view bucket) const;
  // Sends a request with the client's timeouts, naming bucket/key in its errors.
  Result<http::Response> send(http::Request req, std::string_view bucket, std::string_view key,
                              const aws::CallOptions& call = {}) const;

 private:
  std::shared_ptr<aws::AwsClient> aws_;
  ClientOptions options_;
};

// --- Multipart upload, step by step.
struct CompletedPart {
  int part_number = 0;
  std::string etag{};  // as UploadPart returned it (quotes or not)
};

class MultipartUpload {
 public:
  // CreateMultipartUpload.
  static Result<MultipartUpload> create(const Client& client, std::string bucket, std::string key,
                                        const PutOptions& options = {});
  // Resumes an upload whose id is known.
  MultipartUpload(const Client& client, std::string bucket, std::string key, std::string upload_id);

  // UploadPart; returns the part's ETag. Thread-safe: parts may be uploaded concurrently.
  // `cancel` (optional) stops retries when another part has already failed.
  Result<std::string> upload_part(int part_number, std::string body,
                                  const std::atomic<bool>* cancel = nullptr) const;
  // CompleteMultipartUpload with the parts in part-number order. S3 can answer 200 with an
  // <Error> body (the request failed after the status was sent): that is an Error too.
  Result<PutObjectResult> complete(std::vector<CompletedPart> parts) const;
  // AbortMultipartUpload. (s3rver does not implement it: MethodNotAllowed.)
  Status abort() const;

  [[nodiscard]] const std::string& upload_id() const { return upload_id_; }
  [[nodiscard]] const std::string& bucket() const { return bucket_; }
  [[nodiscard]] const std::string& key() const { return key_; }

 private:
  Client client_;
  std::string bucket_, key_, upload_id_;
};

// --- Streaming upload.
struct ObjectWriterOptions {
  // Bytes per part. Default 8 MiB; at least 5 MiB (S3's minimum for all parts but the last).
  // After every 2000 parts the part size doubles, so the 10,000-part limit allows objects of
  // 31 x 2000 x part_size (~485 GiB at 8 MiB) while small objects keep small parts.
  std::size_t part_size = std::size_t{8} << 20;
  // Parts uploading at once, on as many worker threads. Memory is bounded by
  // (max_parts_in_flight + 1) part buffers. Default 4.
  int max_parts_in_flight = 4;
  PutOptions put{};
};

struct ObjectWriteResult {
  std::uint64_t size = 0;
  std::string etag{};  // without quotes
  std::string sha256_hex{};  // of the whole body
  int parts = 0;           // 0 when sent as one PutObject
  std::string version_id{};
};

// Takes an object's bytes as they are produced (a gzip stream, a backup) and uploads them:
// one PutObject if the whole object fits in one part, else a multipart upload whose parts go
// up on worker threads while the caller keeps writing. The first failure (of any part) is
// returned by the next write() or finish(); the upload is then aborted. Destroying a writer
// that was not finished aborts the upload: no object appears.
// Not thread-safe: one producer thread calls write() and finish().
class ObjectWriter {
 public:
  ObjectWriter(const Client& client, std::string bucket, std::string key, ObjectWriterOptions options = {});
  ~ObjectWriter();
  ObjectWriter(const ObjectWriter&) = delete;
  ObjectWriter& operator=(const ObjectWriter&) = delete;

  // Buffers data; blocks while max_parts_in_flight parts are uploading and the next part is full.
  Status write(std::string_view data);
  // Uploads the rest and completes the object.
  Result<ObjectWriteResult> finish();
  // Stops the upload (waits for parts in flight) and aborts it. Idempotent.
  Status abort();

  [[nodiscard]] std::uint64_t bytes_written() const;
  [[nodiscard]] int parts_started() const;
  // Most parts queued or uploading at once so far (never above max_parts_in_flight).
  [[nodiscard]] int peak_parts_in_flight() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace dynarep::s3
