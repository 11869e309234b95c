#include "aws/location.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <vector>

#include "aws/credentials.h"

namespace dynarep::aws {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

bool all_of(std::string_view s, int (*pred)(int)) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [pred](char c) { return pred(static_cast<unsigned char>(c)) != 0; });
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    const auto pos = s.find(sep);
    out.push_back(s.substr(0, pos));
    if (pos == std::string_view::npos) break;
    s.remove_prefix(pos + 1);
  }
  return out;
}

bool is_loopback_host(std::string_view host) {
  return host == "localhost" || host.starts_with("127.") || host == "[::1]";
}

// "host[:port]" without scheme -> the host part.
std::string_view host_of(std::string_view authority) {
  if (authority.starts_with("[")) {
    const auto close = authority.find(']');
    return close == std::string_view::npos ? authority : authority.substr(0, close + 1);
  }
  return authority.substr(0, authority.find(':'));
}

// An endpoint override as configured: trailing '/' dropped, a scheme added when missing.
std::string normalize_endpoint_url(std::string url) {
  while (!url.empty() && std::isspace(static_cast<unsigned char>(url.back()))) url.pop_back();
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (url.find("://") == std::string::npos) {
    url = (is_loopback_host(host_of(url)) ? "http://" : "https://") + url;
  }
  return url;
}

bool valid_port(std::string_view port) {
  if (!all_of(port, &isdigit) || port.size() > 5) return false;
  const int p = std::atoi(std::string(port).c_str());
  return p >= 1 && p <= 65535;
}

bool is_ipv4(std::string_view s) {
  const auto parts = split(s, '.');
  if (parts.size() != 4) return false;
  return std::all_of(parts.begin(), parts.end(), [](std::string_view p) {
    return all_of(p, &isdigit) && p.size() <= 3 && std::atoi(std::string(p).c_str()) <= 255;
  });
}

bool is_hostname(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  for (std::string_view label : split(s, '.')) {
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    if (!std::all_of(label.begin(), label.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-'; })) {
      return false;
    }
  }
  return true;
}

// "host:port", "localhost", an IP, a dotted host name or "[v6]:port": something to connect to.
bool looks_like_host(std::string_view text) {
  std::string_view host = text;
  if (text.starts_with("[")) {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return false;
    std::string_view after = text.substr(close + 1);
    if (!after.empty() && (!after.starts_with(":") || !valid_port(after.substr(1)))) return false;
    const std::string_view inner = text.substr(1, close - 1);
    return !inner.empty() && std::all_of(inner.begin(), inner.end(), [](char c) {
      return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == ':' || c == '.';
    });
  }
  bool has_port = false;
  if (const auto colon = text.rfind(':'); colon != std::string_view::npos) {
    if (!valid_port(text.substr(colon + 1))) return false;
    host = text.substr(0, colon);
    has_port = true;
  }
  if (!is_hostname(host)) return false;
  return has_port || host == "localhost" || is_ipv4(host) || host.find('.') != std::string_view::npos;
}

std::string example_error(std::string_view text) {
  return fmt::format(
      "location '{}' is not region/table or host:port/table (e.g. us-east-1/orders, localhost:8000/orders)", text);
}

bool valid_bucket_name(std::string_view b) {
  if (b.size() < 3 || b.size() > 63) return false;
  if (!std::isalnum(static_cast<unsigned char>(b.front())) || !std::isalnum(static_cast<unsigned char>(b.back()))) {
    return false;
  }
  return std::all_of(b.begin(), b.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) != 0 || std::isdigit(static_cast<unsigned char>(c)) != 0 ||
           c == '.' || c == '-';
  });
}

}  // namespace

std::string_view service_name(Service service) {
  switch (service) {
    case Service::kDynamoDB: return "dynamodb";
    case Service::kKinesis: return "kinesis";
    case Service::kS3: return "s3";
    case Service::kDynamoDBStreams: return "dynamodb";  // the Streams API signs as DynamoDB
    case Service::kSts: return "sts";
    case Service::kSso: return "sso";
  }
  return "unknown";
}

std::string_view endpoint_prefix(Service service) {
  return service == Service::kDynamoDBStreams ? "streams.dynamodb" : service_name(service);
}

bool looks_like_region(std::string_view text) {
  // [a-z]{2} (-(gov|iso|isob|isoe|isof))? -direction -[0-9]{1,2}, or eusc-[a-z]{2}-direction-[0-9]{1,2}
  static constexpr std::array<std::string_view, 9> kDirections = {
      "east", "west", "north", "south", "central", "northeast", "southeast", "northwest", "southwest"};
  static constexpr std::array<std::string_view, 5> kPartitions = {"gov", "iso", "isob", "isoe", "isof"};
  const auto parts = split(text, '-');
  if (parts.size() != 3 && parts.size() != 4) return false;
  if (parts.back().size() > 2 || !all_of(parts.back(), &isdigit)) return false;
  if (parts.size() == 4 && parts[0] == "eusc") {
    // European Sovereign Cloud: eusc-<country>-<direction>-<n>, e.g. eusc-de-east-1.
    if (parts[1].size() != 2 || !all_of(parts[1], &islower)) return false;
  } else {
    if (parts.front().size() != 2 || !all_of(parts.front(), &islower)) return false;
    if (parts.size() == 4 && std::find(kPartitions.begin(), kPartitions.end(), parts[1]) == kPartitions.end()) {
      return false;
    }
  }
  const std::string_view direction = parts[parts.size() - 2];
  return std::find(kDirections.begin(), kDirections.end(), direction) != kDirections.end();
}

std::string aws_endpoint_url(Service service, std::string_view region) {
  std::string_view suffix = "amazonaws.com";
  if (region.starts_with("cn-")) suffix = "amazonaws.com.cn";
  else if (region.starts_with("us-isob-")) suffix = "sc2s.sgov.gov";
  else if (region.starts_with("us-isof-")) suffix = "csp.hci.ic.gov";
  else if (region.starts_with("us-iso-")) suffix = "c2s.ic.gov";
  else if (region.starts_with("eu-isoe-")) suffix = "cloud.adc-e.uk";
  else if (region.starts_with("eusc-")) suffix = "amazonaws.eu";
  if (service == Service::kSso) return fmt::format("https://portal.sso.{}.{}", region, suffix);
  return fmt::format("https://{}.{}.{}", endpoint_prefix(service), region, suffix);
}

Endpoint resolve_endpoint(Service service, const std::string& region, const std::string& endpoint_flag) {
  Endpoint e;
  e.region = region.empty() ? default_region() : region;
  e.signing_service = std::string(service_name(service));
  if (!endpoint_flag.empty()) {
    e.url = normalize_endpoint_url(endpoint_flag);
    return e;
  }
  if (env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") != "true") {
    // AWS_ENDPOINT_URL_DYNAMODB_STREAMS for "streams.dynamodb" (the SDKs' service id).
    std::string var = "AWS_ENDPOINT_URL_";
    if (service == Service::kDynamoDBStreams) var += "DYNAMODB_STREAMS";
    for (char c : service == Service::kDynamoDBStreams ? std::string_view() : service_name(service)) {
      var += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    if (std::string v = env(var.c_str()); !v.empty()) {
      e.url = normalize_endpoint_url(v);
      return e;
    }
    if (std::string v = env("AWS_ENDPOINT_URL"); !v.empty()) {
      e.url = normalize_endpoint_url(v);
      return e;
    }
  }
  e.url = aws_endpoint_url(service, e.region);
  return e;
}

Status validate_table_name(std::string_view name, std::string_view context) {
  const bool ok = name.size() >= 3 && name.size() <= 255 && std::all_of(name.begin(), name.end(), [](char c) {
                    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '.';
                  });
  if (ok) return {};
  return invalid_input(fmt::format("table name '{}' in {} must be 3-255 characters of a-z, A-Z, 0-9, '_', '-', '.'",
                                   name, context));
}

Result<TableLocation> parse_table_location(std::string_view text, const std::string& endpoint_flag) {
  TableLocation loc;
  loc.display = std::string(text);
  std::string_view rest = text;
  std::string scheme = "http://";
  // Also accept a URL: http://localhost:8000/orders.
  for (std::string_view s : {std::string_view("http://"), std::string_view("https://")}) {
    if (rest.starts_with(s)) {
      scheme = std::string(s);
      rest.remove_prefix(s.size());
    }
  }
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == rest.size()) {
    return invalid_input(example_error(text));
  }
  const std::string_view head = rest.substr(0, slash);
  const std::string_view table = rest.substr(slash + 1);
  const std::string context = fmt::format("location '{}'", text);
  if (rest.size() == text.size() && looks_like_region(head)) {
    DR_TRY(validate_table_name(table, context));
    loc.table = std::string(table);
    loc.endpoint = resolve_endpoint(Service::kDynamoDB, std::string(head), endpoint_flag);
    return loc;
  }
  if (looks_like_host(head)) {
    DR_TRY(validate_table_name(table, context));
    loc.table = std::string(table);
    // The location names its server; --endpoint and AWS_ENDPOINT_URL* do not apply to it.
    loc.endpoint = Endpoint{scheme + std::string(head), default_region(), "dynamodb"};
    return loc;
  }
  return invalid_input(example_error(text));
}

Result<ObjectLocation> parse_object_location(std::string_view text) {
  ObjectLocation loc;
  loc.display = std::string(text);
  if (text.empty()) return invalid_input("empty object location (e.g. s3://bucket/prefix, ./file, or - for stdin/stdout)");
  if (text == "-") {
    loc.kind = ObjectLocation::Kind::kStdio;
    return loc;
  }
  auto starts_with_ci = [&](std::string_view prefix) {
    return text.size() >= prefix.size() &&
           std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) {
             return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
           });
  };
  if (starts_with_ci("s3://")) {
    std::string_view rest = text.substr(5);
    const auto slash = rest.find('/');
    const std::string_view bucket = rest.substr(0, slash);
    if (bucket.empty()) {
      return invalid_input(fmt::format("object location '{}' names no bucket (e.g. s3://my-bucket/backups)", text));
    }
    if (!valid_bucket_name(bucket)) {
      return invalid_input(fmt::format(
          "bucket name '{}' in '{}' must be 3-63 characters of a-z, 0-9, '.', '-', starting and ending with a letter "
          "or digit",
          bucket, text));
    }
    loc.kind = ObjectLocation::Kind::kS3;
    loc.bucket = std::string(bucket);
    loc.key = slash == std::string_view::npos ? std::string() : std::string(rest.substr(slash + 1));
    return loc;
  }
  if (starts_with_ci("s3:")) {
    return invalid_input(fmt::format("object location '{}' is not s3://bucket/key", text));
  }
  loc.kind = ObjectLocation::Kind::kFile;
  loc.path = starts_with_ci("file://") ? std::string(text.substr(7)) : std::string(text);
  if (loc.path.empty()) return invalid_input(fmt::format("object location '{}' names no file", text));
  return loc;
}

}  // namespace dynarep::aws
