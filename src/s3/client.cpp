#include "s3/client.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

#include "aws/dates.h"
#include "aws/errors.h"
#include "aws/location.h"
#include "aws/sigv4.h"
#include "aws/xml.h"
#include "crypto/checksum.h"
#include "s3/detail.h"

namespace dynarep::s3 {

// The XML reader lives in aws (STS answers in XML too); S3 is its main user.
namespace xml = aws::xml;

namespace detail {

std::string strip_quotes(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
  return std::string(etag);
}

std::string url_decode_plus(std::string_view text) {
  std::string spaced(text);
  std::replace(spaced.begin(), spaced.end(), '+', ' ');
  return aws::sigv4_detail::percent_decode(spaced);
}

std::optional<std::uint64_t> parse_u64(std::string_view text) {
  std::uint64_t v = 0;
  if (text.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return v;
}

std::optional<ContentRange> parse_content_range(std::string_view value) {
  // "bytes 0-99/1234" (RFC 9110 §14.4); the total may be "*" (unknown), which S3 never sends.
  if (!value.starts_with("bytes ")) return std::nullopt;
  value.remove_prefix(6);
  const auto dash = value.find('-');
  const auto slash = value.find('/');
  if (dash == std::string_view::npos || slash == std::string_view::npos || dash > slash) return std::nullopt;
  auto first = parse_u64(value.substr(0, dash));
  auto last = parse_u64(value.substr(dash + 1, slash - dash - 1));
  auto total = parse_u64(value.substr(slash + 1));
  if (!first || !last || !total || *last < *first || *last >= *total) return std::nullopt;
  return ContentRange{*first, *last, *total};
}

bool is_dns_compatible_bucket(std::string_view bucket) {
  if (bucket.size() < 3 || bucket.size() > 63) return false;
  for (char c : bucket) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return bucket.front() != '-' && bucket.back() != '-';
}

std::string query_param(std::string_view name, std::string_view value) {
  return aws::uri_encode(name) + "=" + aws::uri_encode(value);
}

ObjectInfo info_from_headers(const http::Response& resp) {
  ObjectInfo info;
  if (auto v = resp.header("etag")) info.etag = strip_quotes(*v);
  if (auto v = resp.header("last-modified")) {
    info.last_modified = std::string(*v);
    info.last_modified_time = aws::parse_http_date(*v);
  }
  if (auto v = resp.header("content-type")) info.content_type = std::string(*v);
  if (auto v = resp.header("x-amz-version-id")) info.version_id = std::string(*v);
  if (auto v = resp.header("content-range"); v && resp.status == 206) {
    if (auto r = parse_content_range(*v)) info.size = r->total;
  } else if (auto len = resp.header("content-length")) {
    info.size = parse_u64(*len).value_or(0);
  }
  constexpr std::string_view kMeta = "x-amz-meta-";
  for (const auto& [name, value] : resp.headers) {
    if (name.size() > kMeta.size() && name.starts_with(kMeta)) {
      info.metadata.emplace_back(name.substr(kMeta.size()), value);
    }
  }
  return info;
}

}  // namespace detail

using detail::parse_u64;
using detail::strip_quotes;

namespace {

constexpr std::string_view kXmlns = "http://s3.amazonaws.com/doc/2006-03-01/";

// Errors about an object say which: "s3://bucket/key: <code>: <message>". This replaces the AWS
// layer's context ("GET /bucket/key on http://host:port"), which says the same less plainly.
Error name_error(Error e, std::string_view bucket, std::string_view key, std::string_view what = {}) {
  e.context = what.empty() ? Client::display(bucket, key) : fmt::format("{} ({})", Client::display(bucket, key), what);
  return e;
}

Error malformed_response(std::string_view bucket, std::string_view key, std::string_view what,
                         const Error* cause = nullptr) {
  Error e(ErrorKind::kFatal, "MalformedResponse",
          cause != nullptr ? fmt::format("{}: {}", what, cause->describe()) : std::string(what));
  return name_error(std::move(e), bucket, key);
}

Result<xml::Element> parse_xml(const std::string& body, std::string_view expected_root, std::string_view bucket,
                               std::string_view key) {
  auto doc = xml::parse(body);
  if (!doc.ok()) {
    return malformed_response(bucket, key, fmt::format("unreadable {} response", expected_root), &doc.error());
  }
  if (doc->name == "Error") {
    // A 200 answer carrying an error (CompleteMultipartUpload, CopyObject can do this).
    std::string code(doc->child_text("Code").value_or("InternalError"));
    Error e(aws::classify(code, 500), code, std::string(doc->child_text("Message").value_or("")));
    e.request_id = std::string(doc->child_text("RequestId").value_or(""));
    e.http_status = 200;
    return name_error(std::move(e), bucket, key);
  }
  if (doc->name != expected_root) {
    return malformed_response(bucket, key,
                              fmt::format("expected a <{}> response, got <{}>", expected_root, doc->name));
  }
  return std::move(doc).value();
}

bool is_true(std::optional<std::string_view> v) { return v && *v == "true"; }

std::string range_header(std::uint64_t first, std::optional<std::uint64_t> last) {
  return last ? fmt::format("bytes={}-{}", first, *last) : fmt::format("bytes={}-", first);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Client

Client::Client(std::shared_ptr<aws::AwsClient> aws, ClientOptions options)
    : aws_(std::move(aws)), options_(options) {
  options_.read_window = std::max<std::uint64_t>(options_.read_window, 64 * 1024);
}

Client Client::connect(const std::string& region, const std::string& endpoint_flag, ClientOptions options,
                          const aws::CredentialsSpec& credentials) {
  aws::Endpoint endpoint = aws::resolve_endpoint(aws::Service::kS3, region, endpoint_flag);
  endpoint.credentials = credentials;
  auto client = std::make_shared<aws::AwsClient>(std::move(endpoint), aws::credentials_for(credentials));
  return Client(std::move(client), options);
}

const std::string& Client::region() const { return aws_->endpoint().region; }

std::string Client::display(std::string_view bucket, std::string_view key) {
  return key.empty() ? fmt::format("s3://{}", bucket) : fmt::format("s3://{}/{}", bucket, key);
}

bool Client::uses_virtual_host(std::string_view bucket) const {
  switch (options_.addressing) {
    case AddressingStyle::kPath: return false;
    case AddressingStyle::kVirtualHosted: return true;
    case AddressingStyle::kAuto: break;
  }
  const aws::Endpoint& ep = aws_->endpoint();
  return ep.url == aws::aws_endpoint_url(aws::Service::kS3, ep.region) &&
         detail::is_dns_compatible_bucket(bucket);
}

std::string Client::object_url(std::string_view bucket, std::string_view key, std::string_view query) const {
  const std::string& base = aws_->endpoint().url;
  std::string url;
  if (uses_virtual_host(bucket)) {
    const auto scheme_end = base.find("://");
    const std::size_t host_at = scheme_end == std::string::npos ? 0 : scheme_end + 3;
    url = base.substr(0, host_at);
    url += bucket;
    url += '.';
    url += base.substr(host_at);
    url += '/';
    url += aws::uri_encode(key, /*encode_slash=*/false);
  } else {
    url = base;
    url += '/';
    url += aws::uri_encode(bucket);
    if (!key.empty()) {
      url += '/';
      url += aws::uri_encode(key, /*encode_slash=*/false);
    }
  }
  if (!query.empty()) {
    url += '?';
    url += query;
  }
  return url;
}

Result<http::Response> Client::send(http::Request req, std::string_view bucket, std::string_view key,
                                    const aws::CallOptions& call) const {
  req.connect_timeout = options_.connect_timeout;
  auto r = aws_->call_rest(std::move(req), std::nullopt, call);
  if (!r.ok()) return name_error(std::move(r).error(), bucket, key);
  return r;
}

Status Client::create_bucket(std::string_view bucket) const {
  http::Request req;
  req.method = "PUT";
  req.url = object_url(bucket, "");
  req.timeout = options_.request_timeout;
  // us-east-1 is the default location and S3 rejects it as an explicit constraint.
  if (!region().empty() && region() != "us-east-1") {
    req.body = fmt::format(
        R"(<?xml version="1.0" encoding="UTF-8"?><CreateBucketConfiguration xmlns="{}"><LocationConstraint>{}</LocationConstraint></CreateBucketConfiguration>)",
        kXmlns, xml::escape(region()));
    req.headers.emplace_back("Content-Type", "application/xml");
  }
  DR_TRY(send(std::move(req), bucket, ""));
  return {};
}

Status Client::head_bucket(std::string_view bucket) const {
  http::Request req;
  req.method = "HEAD";
  req.url = object_url(bucket, "");
  req.timeout = options_.request_timeout;
  auto r = send(std::move(req), bucket, "");
  if (!r.ok()) {
    Error e = std::move(r).error();
    if (e.http_status == 404) {  // a HEAD answer has no body to say which code
      e.kind = ErrorKind::kNotFound;
      e.code = "NoSuchBucket";
      e.message = "The specified bucket does not exist";
    }
    return e;
  }
  return {};
}

Status Client::delete_bucket(std::string_view bucket) const {
  http::Request req;
  req.method = "DELETE";
  req.url = object_url(bucket, "");
  req.timeout = options_.request_timeout;
  DR_TRY(send(std::move(req), bucket, ""));
  return {};
}

Result<PutObjectResult> Client::put_object(std::string_view bucket, std::string_view key, std::string body,
                                           const PutOptions& options, const aws::CallOptions& call) const {
  http::Request req;
  req.method = "PUT";
  req.url = object_url(bucket, key);
  req.timeout = options_.upload_timeout;
  if (!options.content_type.empty()) req.headers.emplace_back("Content-Type", options.content_type);
  for (const auto& [name, value] : options.metadata) req.headers.emplace_back("x-amz-meta-" + name, value);
  if (!options.storage_class.empty()) req.headers.emplace_back("x-amz-storage-class", options.storage_class);
  if (!options.if_match.empty()) req.headers.emplace_back("If-Match", "\"" + options.if_match + "\"");
  if (options.if_none_match) req.headers.emplace_back("If-None-Match", "*");
  req.body = std::move(body);
  DR_ASSIGN(http::Response resp, send(std::move(req), bucket, key, call));
  PutObjectResult out;
  if (auto v = resp.header("etag")) out.etag = strip_quotes(*v);
  if (auto v = resp.header("x-amz-version-id")) out.version_id = std::string(*v);
  return out;
}

namespace {

http::Request get_request(const Client& client, std::string_view bucket, std::string_view key,
                          const GetOptions& options) {
  http::Request req;
  req.method = "GET";
  std::string query;
  if (!options.version_id.empty()) query = detail::query_param("versionId", options.version_id);
  req.url = client.object_url(bucket, key, query);
  req.timeout = client.options().request_timeout;
  if (options.range) req.headers.emplace_back("Range", range_header(options.range->first, options.range->last));
  if (!options.if_match.empty()) req.headers.emplace_back("If-Match", "\"" + options.if_match + "\"");
  return req;
}

}  // namespace

Result<GetObjectResult> Client::get_object(std::string_view bucket, std::string_view key,
                                           const GetOptions& options) const {
  http::Request req = get_request(*this, bucket, key, options);
  // Whole bodies in memory are for small objects; give big ones the upload time limit.
  req.timeout = options_.upload_timeout;
  DR_ASSIGN(http::Response resp, send(std::move(req), bucket, key));
  GetObjectResult out;
  out.info = detail::info_from_headers(resp);
  if (resp.status != 206) out.info.size = resp.body.size();
  out.body = std::move(resp.body);
  return out;
}

Result<ObjectInfo> Client::get_object_streaming(std::string_view bucket, std::string_view key,
                                                const std::function<Status(std::string_view)>& on_chunk,
                                                const GetOptions& options) const {
  // HEAD first: the size tells how many windows to ask for (and that an empty object needs no
  // GET: a Range on it cannot be satisfied, and servers answer that inconsistently), and the
  // ETag pins every window, and every resumed transfer, to the same version of the object.
  DR_ASSIGN(ObjectInfo info, head_object(bucket, key, options.version_id));
  if (!options.if_match.empty() && info.etag != options.if_match) {
    Error e(ErrorKind::kConditionFailed, "PreconditionFailed",
            fmt::format("the object's ETag is {}, not {}", info.etag, options.if_match));
    return name_error(std::move(e), bucket, key);
  }
  const std::uint64_t size = info.size;
  std::uint64_t pos = options.range ? options.range->first : 0;
  std::uint64_t end = size == 0 ? 0 : size - 1;  // inclusive
  if (options.range && options.range->last) end = std::min(end, *options.range->last);
  if (size == 0 || pos > end) {
    if (options.range && pos >= size && !(size == 0 && pos == 0)) {
      Error e(ErrorKind::kInvalidInput, "InvalidRange",
              fmt::format("range starts at byte {} of a {}-byte object", pos, size));
      return name_error(std::move(e), bucket, key);
    }
    return info;
  }
  int resumes = 0;
  while (pos <= end) {
    const std::uint64_t window_last = std::min(end, pos + options_.read_window - 1);
    GetOptions window_options = options;
    // The whole object in one window: no Range header at all (servers handle that best).
    if (pos == 0 && window_last == size - 1) {
      window_options.range.reset();
    } else {
      window_options.range = ByteRange{pos, window_last};
    }
    window_options.if_match = info.etag;
    http::Request req = get_request(*this, bucket, key, window_options);
    req.timeout = options_.read_window_timeout;
    req.connect_timeout = options_.connect_timeout;

    std::uint64_t delivered = 0;
    std::optional<Error> sink_error;
    auto forward = [&](std::string_view chunk) -> bool {
      Status st = on_chunk(chunk);
      if (!st.ok()) {
        sink_error = std::move(st).error();
        return false;
      }
      delivered += chunk.size();
      return true;
    };
    auto r = aws_->call_rest_streaming(std::move(req), forward);
    if (sink_error) return std::move(*sink_error);
    if (!r.ok()) {
      Error e = std::move(r).error();
      if (e.http_status == 412) {
        e.kind = ErrorKind::kConditionFailed;
        e.message = fmt::format("the object changed while it was being read (at byte {}; it was ETag {})", pos,
                                info.etag);
      } else if (e.retryable() && delivered > 0 && resumes < options_.max_read_resumes) {
        // The transfer broke after some bytes: carry on from there (the ETag condition keeps
        // it the same object).
        ++resumes;
        pos += delivered;
        continue;
      }
      return name_error(std::move(e), bucket, key);
    }
    const http::Response& resp = r.value();
    const std::uint64_t expected = window_last - pos + 1;
    if (window_options.range) {
      if (resp.status != 206) {
        return malformed_response(bucket, key, fmt::format("a ranged GET was answered with HTTP {}", resp.status));
      }
      auto cr = detail::parse_content_range(resp.header("content-range").value_or(""));
      if (!cr || cr->first != pos || cr->last != window_last) {
        return malformed_response(bucket, key,
                                  fmt::format("bad Content-Range '{}' for bytes {}-{}",
                                              resp.header("content-range").value_or(""), pos, window_last));
      }
    }
    if (delivered != expected) {
      return name_error(Error(ErrorKind::kTransient, "ShortRead",
                              fmt::format("got {} of {} bytes from byte {}", delivered, expected, pos)),
                        bucket, key);
    }
    pos += delivered;
  }
  return info;
}

Result<ObjectInfo> Client::head_object(std::string_view bucket, std::string_view key,
                                       const std::string& version_id) const {
  http::Request req;
  req.method = "HEAD";
  req.url = object_url(bucket, key, version_id.empty() ? "" : detail::query_param("versionId", version_id));
  req.timeout = options_.request_timeout;
  auto r = send(std::move(req), bucket, key);
  if (!r.ok()) {
    Error e = std::move(r).error();
    if (e.http_status == 404) {  // no body: S3 does not say whether the key or the bucket is missing
      e.kind = ErrorKind::kNotFound;
      e.code = "NotFound";
      e.message = "no such object (or no such bucket)";
    }
    return e;
  }
  return detail::info_from_headers(r.value());
}

Status Client::delete_object(std::string_view bucket, std::string_view key, const std::string& version_id) const {
  return delete_object(bucket, key, DeleteOptions{.version_id = version_id});
}

Status Client::delete_object(std::string_view bucket, std::string_view key, const DeleteOptions& options,
                             const aws::CallOptions& call) const {
  http::Request req;
  req.method = "DELETE";
  req.url = object_url(bucket, key, options.version_id.empty() ? "" : detail::query_param("versionId", options.version_id));
  req.timeout = options_.request_timeout;
  if (!options.if_match.empty()) req.headers.emplace_back("If-Match", "\"" + options.if_match + "\"");
  DR_TRY(send(std::move(req), bucket, key, call));
  return {};
}

Result<DeleteObjectsResult> Client::delete_objects(std::string_view bucket, std::span<const std::string> keys) const {
  DeleteObjectsResult out;
  constexpr std::size_t kBatch = 1000;  // S3's limit per request
  for (std::size_t at = 0; at < keys.size(); at += kBatch) {
    const auto batch = keys.subspan(at, std::min(kBatch, keys.size() - at));
    std::string body = fmt::format(R"(<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="{}"><Quiet>true</Quiet>)",
                                   kXmlns);
    for (const auto& k : batch) body += "<Object><Key>" + xml::escape(k) + "</Key></Object>";
    body += "</Delete>";
    http::Request req;
    req.method = "POST";
    req.url = object_url(bucket, "", "delete");
    req.timeout = options_.request_timeout;
    req.headers.emplace_back("Content-Type", "application/xml");
    // Required by S3 for DeleteObjects (it accepts an x-amz-checksum-* instead).
    req.headers.emplace_back("Content-MD5", crypto::md5_base64(body));
    req.body = std::move(body);
    DR_ASSIGN(http::Response resp, send(std::move(req), bucket, ""));
    DR_ASSIGN(xml::Element doc, parse_xml(resp.body, "DeleteResult", bucket, ""));
    std::size_t failed = 0;
    for (const xml::Element* err : doc.children_named("Error")) {
      ++failed;
      out.failures.push_back({std::string(err->child_text("Key").value_or("")),
                              std::string(err->child_text("Code").value_or("")),
                              std::string(err->child_text("Message").value_or(""))});
    }
    out.deleted += batch.size() - failed;
  }
  return out;
}

Result<ListObjectsPage> Client::list_objects(std::string_view bucket, const ListObjectsRequest& request) const {
  // encoding-type=url: S3 percent-encodes keys in the answer, so keys holding characters that
  // XML 1.0 cannot carry still list. Decoded only when the answer says it is encoded (s3rver
  // ignores the parameter).
  std::string query = "list-type=2&encoding-type=url";
  if (!request.prefix.empty()) query += "&" + detail::query_param("prefix", request.prefix);
  if (!request.delimiter.empty()) query += "&" + detail::query_param("delimiter", request.delimiter);
  if (!request.continuation_token.empty()) {
    query += "&" + detail::query_param("continuation-token", request.continuation_token);
  }
  if (!request.start_after.empty()) query += "&" + detail::query_param("start-after", request.start_after);
  if (request.max_keys != 1000) query += fmt::format("&max-keys={}", std::clamp(request.max_keys, 0, 1000));
  http::Request req;
  req.method = "GET";
  req.url = object_url(bucket, "", query);
  req.timeout = options_.request_timeout;
  DR_ASSIGN(http::Response resp, send(std::move(req), bucket, request.prefix));
  DR_ASSIGN(xml::Element doc, parse_xml(resp.body, "ListBucketResult", bucket, request.prefix));
  const bool encoded = doc.child_text("EncodingType") == "url";
  auto decode = [&](std::string_view v) { return encoded ? detail::url_decode_plus(v) : std::string(v); };

  ListObjectsPage page;
  page.is_truncated = is_true(doc.child_text("IsTruncated"));
  page.next_continuation_token = std::string(doc.child_text("NextContinuationToken").value_or(""));
  for (const auto& c : doc.children) {
    if (c.name == "Contents") {
      ListedObject o;
      auto key = c.child_text("Key");
      if (!key) return malformed_response(bucket, request.prefix, "a listed object has no <Key>");
      o.key = decode(*key);
      auto size = parse_u64(c.child_text("Size").value_or(""));
      if (!size) {
        return malformed_response(bucket, request.prefix,
                                  fmt::format("listed object '{}' has no valid <Size>", o.key));
      }
      o.size = *size;
      o.etag = strip_quotes(c.child_text("ETag").value_or(""));
      o.last_modified = std::string(c.child_text("LastModified").value_or(""));
      o.storage_class = std::string(c.child_text("StorageClass").value_or(""));
      page.objects.push_back(std::move(o));
    } else if (c.name == "CommonPrefixes") {
      if (auto p = c.child_text("Prefix")) page.common_prefixes.push_back(decode(*p));
    }
  }
  return page;
}

ObjectLister Client::lister(std::string bucket, ListObjectsRequest request) const {
  return ObjectLister(*this, std::move(bucket), std::move(request));
}

ObjectLister::ObjectLister(const Client& client, std::string bucket, ListObjectsRequest request)
    : client_(&client), bucket_(std::move(bucket)), request_(std::move(request)) {}

Result<ListObjectsPage> ObjectLister::next() {
  if (done_) return fatal("ObjectLister::next() after the last page");
  DR_ASSIGN(ListObjectsPage page, client_->list_objects(bucket_, request_));
  if (!page.is_truncated) {
    done_ = true;
  } else if (page.next_continuation_token.empty() || page.next_continuation_token == request_.continuation_token) {
    done_ = true;
    return name_error(Error(ErrorKind::kFatal, "MalformedResponse",
                            "listing is truncated but gives no new continuation token"),
                      bucket_, request_.prefix);
  } else {
    request_.continuation_token = page.next_continuation_token;
  }
  return page;
}

Status Client::for_each_object(std::string_view bucket, ListObjectsRequest request,
                               const std::function<Status(const ListedObject&)>& fn) const {
  ObjectLister it(*this, std::string(bucket), std::move(request));
  while (!it.done()) {
    DR_ASSIGN(ListObjectsPage page, it.next());
    for (const auto& o : page.objects) DR_TRY(fn(o));
  }
  return {};
}

namespace {

Error versions_unsupported(std::string_view bucket, const Error* cause) {
  Error e(ErrorKind::kNotFound, "VersionsUnsupported",
          fmt::format("bucket {} keeps no object versions (or the server does not support versioning)", bucket));
  if (cause != nullptr) {
    e.http_status = cause->http_status;
    e.request_id = cause->request_id;
    e.message += fmt::format(" [{}: {}]", cause->code, cause->message);
  }
  return name_error(std::move(e), bucket, "");
}

}  // namespace

Result<ListVersionsPage> Client::list_object_versions(std::string_view bucket,
                                                     const ListVersionsRequest& request) const {
  std::string query = "versions&encoding-type=url";
  if (!request.prefix.empty()) query += "&" + detail::query_param("prefix", request.prefix);
  if (!request.delimiter.empty()) query += "&" + detail::query_param("delimiter", request.delimiter);
  if (!request.key_marker.empty()) query += "&" + detail::query_param("key-marker", request.key_marker);
  if (!request.version_id_marker.empty()) {
    query += "&" + detail::query_param("version-id-marker", request.version_id_marker);
  }
  if (request.max_keys != 1000) query += fmt::format("&max-keys={}", std::clamp(request.max_keys, 0, 1000));
  http::Request req;
  req.method = "GET";
  req.url = object_url(bucket, "", query);
  req.timeout = options_.request_timeout;
  auto r = aws_->call_rest(std::move(req));
  if (!r.ok()) {
    const Error& e = r.error();
    // s3rver: 405 MethodNotAllowed; other servers: 501 NotImplemented.
    if (e.http_status == 405 || e.http_status == 501 || e.code == "NotImplemented" || e.code == "MethodNotAllowed") {
      return versions_unsupported(bucket, &e);
    }
    return name_error(std::move(r).error(), bucket, "");
  }
  auto doc = xml::parse(r.value().body);
  if (doc.ok() && doc->name != "ListVersionsResult" && doc->name != "Error") {
    // A server that ignored ?versions and answered with a plain listing.
    return versions_unsupported(bucket, nullptr);
  }
  DR_ASSIGN(xml::Element root, parse_xml(r.value().body, "ListVersionsResult", bucket, ""));
  const bool encoded = root.child_text("EncodingType") == "url";
  auto decode = [&](std::string_view v) { return encoded ? detail::url_decode_plus(v) : std::string(v); };

  ListVersionsPage page;
  page.is_truncated = is_true(root.child_text("IsTruncated"));
  page.next_key_marker = decode(root.child_text("NextKeyMarker").value_or(""));
  page.next_version_id_marker = std::string(root.child_text("NextVersionIdMarker").value_or(""));
  for (const auto& c : root.children) {
    if (c.name == "Version" || c.name == "DeleteMarker") {
      ObjectVersion v;
      auto key = c.child_text("Key");
      if (!key) return malformed_response(bucket, "", "a listed version has no <Key>");
      v.key = decode(*key);
      v.version_id = std::string(c.child_text("VersionId").value_or(""));
      v.is_latest = is_true(c.child_text("IsLatest"));
      v.is_delete_marker = c.name == "DeleteMarker";
      v.size = parse_u64(c.child_text("Size").value_or("0")).value_or(0);
      v.etag = strip_quotes(c.child_text("ETag").value_or(""));
      v.last_modified = std::string(c.child_text("LastModified").value_or(""));
      page.versions.push_back(std::move(v));
    } else if (c.name == "CommonPrefixes") {
      if (auto p = c.child_text("Prefix")) page.common_prefixes.push_back(decode(*p));
    }
  }
  return page;
}

Status Client::for_each_object_version(std::string_view bucket, ListVersionsRequest request,
                                       const std::function<Status(const ObjectVersion&)>& fn) const {
  for (;;) {
    DR_ASSIGN(ListVersionsPage page, list_object_versions(bucket, request));
    for (const auto& v : page.versions) DR_TRY(fn(v));
    if (!page.is_truncated) return {};
    if (page.next_key_marker == request.key_marker && page.next_version_id_marker == request.version_id_marker) {
      return malformed_response(bucket, "", "version listing is truncated but its markers do not advance");
    }
    request.key_marker = page.next_key_marker;
    request.version_id_marker = page.next_version_id_marker;
  }
}

// ---------------------------------------------------------------------------------------------
// MultipartUpload

MultipartUpload::MultipartUpload(const Client& client, std::string bucket, std::string key, std::string upload_id)
    : client_(client), bucket_(std::move(bucket)), key_(std::move(key)), upload_id_(std::move(upload_id)) {}

Result<MultipartUpload> MultipartUpload::create(const Client& client, std::string bucket, std::string key,
                                                const PutOptions& options) {
  http::Request req;
  req.method = "POST";
  req.url = client.object_url(bucket, key, "uploads");
  req.timeout = client.options().request_timeout;
  if (!options.content_type.empty()) req.headers.emplace_back("Content-Type", options.content_type);
  for (const auto& [name, value] : options.metadata) req.headers.emplace_back("x-amz-meta-" + name, value);
  if (!options.storage_class.empty()) req.headers.emplace_back("x-amz-storage-class", options.storage_class);
  DR_ASSIGN(http::Response resp, client.send(std::move(req), bucket, key));
  DR_ASSIGN(xml::Element doc, parse_xml(resp.body, "InitiateMultipartUploadResult", bucket, key));
  auto id = doc.child_text("UploadId");
  if (!id || id->empty()) return malformed_response(bucket, key, "CreateMultipartUpload returned no <UploadId>");
  return MultipartUpload(client, std::move(bucket), std::move(key), std::string(*id));
}

Result<std::string> MultipartUpload::upload_part(int part_number, std::string body,
                                                 const std::atomic<bool>* cancel) const {
  http::Request req;
  req.method = "PUT";
  req.url = client_.object_url(bucket_, key_,
                               fmt::format("partNumber={}&{}", part_number, detail::query_param("uploadId", upload_id_)));
  req.timeout = client_.options().upload_timeout;
  req.body = std::move(body);
  req.connect_timeout = client_.options().connect_timeout;
  aws::CallOptions call;
  call.cancel = cancel;
  auto r = client_.aws().call_rest(std::move(req), std::nullopt, call);
  if (!r.ok()) return name_error(std::move(r).error(), bucket_, key_, fmt::format("part {}", part_number));
  auto etag = r.value().header("etag");
  if (!etag || etag->empty()) {
    return malformed_response(bucket_, key_, fmt::format("UploadPart {} returned no ETag", part_number));
  }
  return std::string(*etag);
}

Result<PutObjectResult> MultipartUpload::complete(std::vector<CompletedPart> parts) const {
  std::sort(parts.begin(), parts.end(),
            [](const CompletedPart& a, const CompletedPart& b) { return a.part_number < b.part_number; });
  std::string body = fmt::format(R"(<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUpload xmlns="{}">)", kXmlns);
  for (const auto& p : parts) {
    body += fmt::format("<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>", p.part_number,
                        xml::escape("\"" + strip_quotes(p.etag) + "\""));
  }
  body += "</CompleteMultipartUpload>";
  http::Request req;
  req.method = "POST";
  req.url = client_.object_url(bucket_, key_, detail::query_param("uploadId", upload_id_));
  // S3 may take a while to assemble a large object (it sends whitespace meanwhile).
  req.timeout = client_.options().upload_timeout;
  req.headers.emplace_back("Content-Type", "application/xml");
  req.body = std::move(body);
  DR_ASSIGN(http::Response resp, client_.send(std::move(req), bucket_, key_));
  DR_ASSIGN(xml::Element doc, parse_xml(resp.body, "CompleteMultipartUploadResult", bucket_, key_));
  PutObjectResult out;
  out.etag = strip_quotes(doc.child_text("ETag").value_or(""));
  if (auto v = resp.header("x-amz-version-id")) out.version_id = std::string(*v);
  return out;
}

Status MultipartUpload::abort() const {
  http::Request req;
  req.method = "DELETE";
  req.url = client_.object_url(bucket_, key_, detail::query_param("uploadId", upload_id_));
  req.timeout = client_.options().request_timeout;
  req.connect_timeout = client_.options().connect_timeout;
  auto r = client_.aws().call_rest(std::move(req));
  if (!r.ok()) return name_error(std::move(r).error(), bucket_, key_, "aborting multipart upload " + upload_id_);
  return {};
}

}  // namespace dynarep::s3
