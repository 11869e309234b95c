#include "aws/sts.h"

#include <fmt/format.h>

#include "aws/client.h"
#include "aws/errors.h"
#include "aws/sigv4.h"
#include "aws/xml.h"
#include "http/client.h"

namespace dynarep::aws {
namespace {

constexpr std::string_view kVersion = "2011-06-15";

Error sts_error(std::string message) { return Error(ErrorKind::kAuth, "StsError", std::move(message)); }

std::string session_name_or_default(const AssumeRoleParams& p, Clock& clock) {
  if (!p.session_name.empty()) return p.session_name;
  // What the SDKs do (botocore: "botocore-session-<epoch>"): unique enough to tell sessions apart
  // in CloudTrail, and within STS's 2-64 character limit.
  return fmt::format("dynarep-{}", std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count());
}

http::Request form_request(const Endpoint& sts, std::string body) {
  http::Request req;
  req.method = "POST";
  req.url = sts.url + "/";
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  req.body = std::move(body);
  req.timeout = std::chrono::seconds(10);
  return req;
}

}  // namespace

namespace sts_detail {

std::string form_body(std::initializer_list<std::pair<std::string_view, std::string_view>> params) {
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out += '&';
    out += uri_encode(name);
    out += '=';
    out += uri_encode(value);
  }
  return out;
}

Result<Credentials> parse_credentials_xml(std::string_view xml_text, std::string_view action) {
  auto doc = xml::parse(xml_text);
  if (!doc.ok()) return sts_error(fmt::format("{} answer is not XML: {}", action, doc.error().message));
  const std::string result_name = std::string(action) + "Result";
  const xml::Element* result = doc->child(result_name);
  const xml::Element* creds = result == nullptr ? nullptr : result->child("Credentials");
  if (creds == nullptr) return sts_error(fmt::format("{} answer has no {}/Credentials", action, result_name));
  Credentials c;
  c.access_key_id = std::string(creds->child_text("AccessKeyId").value_or(""));
  c.secret_access_key = std::string(creds->child_text("SecretAccessKey").value_or(""));
  c.session_token = std::string(creds->child_text("SessionToken").value_or(""));
  if (c.access_key_id.empty() || c.secret_access_key.empty() || c.session_token.empty()) {
    return sts_error(fmt::format("{} answer lacks AccessKeyId, SecretAccessKey or SessionToken", action));
  }
  const std::string_view exp = creds->child_text("Expiration").value_or("");
  c.expiration = detail::parse_iso8601(exp);
  if (!c.expiration) return sts_error(fmt::format("{} answer has an unreadable Expiration '{}'", action, exp));
  return c;
}

}  // namespace sts_detail

Result<Credentials> assume_role(const Endpoint& sts, std::shared_ptr<CredentialsProvider> source,
                                const AssumeRoleParams& params, Clock& clock) {
  const std::string session = session_name_or_default(params, clock);
  const std::string duration = params.duration_seconds ? std::to_string(*params.duration_seconds) : "";
  std::string body = sts_detail::form_body(
      {{"Action", "AssumeRole"}, {"Version", kVersion}, {"RoleArn", params.role_arn}, {"RoleSessionName", session}});
  if (!params.external_id.empty()) body += "&ExternalId=" + uri_encode(params.external_id);
  if (!duration.empty()) body += "&DurationSeconds=" + duration;
  Endpoint ep = sts;
  ep.signing_service = "sts";
  AwsClient client(ep, std::move(source), RetryPolicy{}, clock);
  auto resp = client.call_rest(form_request(sts, std::move(body)));
  if (!resp.ok()) {
    Error e = std::move(resp).error();
    e.with_context(fmt::format("AssumeRole {}", params.role_arn));
    return e;
  }
  auto creds = sts_detail::parse_credentials_xml(resp->body, "AssumeRole");
  if (!creds.ok()) {
    Error e = std::move(creds).error();
    e.with_context(fmt::format("AssumeRole {}", params.role_arn));
    return e;
  }
  return creds;
}

Result<Credentials> assume_role_with_web_identity(const Endpoint& sts, const AssumeRoleParams& params,
                                                  std::string_view web_identity_token, Clock& clock) {
  const std::string session = session_name_or_default(params, clock);
  std::string body = sts_detail::form_body({{"Action", "AssumeRoleWithWebIdentity"},
                                            {"Version", kVersion},
                                            {"RoleArn", params.role_arn},
                                            {"RoleSessionName", session},
                                            {"WebIdentityToken", web_identity_token}});
  if (params.duration_seconds) body += "&DurationSeconds=" + std::to_string(*params.duration_seconds);
  const std::string context = fmt::format("AssumeRoleWithWebIdentity {} on {}", params.role_arn, sts.url);
  http::Client http;
  // Unsigned, so not through AwsClient; a transient failure (IDPCommunicationError, 5xx, a
  // dropped connection) gets two more tries after short pauses.
  Result<http::Response> resp = transient("not sent");
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (attempt > 0) clock.sleep_for(std::chrono::milliseconds(200 * attempt));
    resp = http.send(form_request(sts, body));
    if (!resp.ok()) {
      if (resp.error().retryable()) continue;
      break;
    }
    if (resp->status == 200) break;
    Error e = error_from_response(*resp);
    if (!e.retryable()) {
      e.with_context(context);
      return e;
    }
    resp = std::move(e);
  }
  if (!resp.ok()) {
    Error e = std::move(resp).error();
    e.with_context(context);
    return e;
  }
  auto creds = sts_detail::parse_credentials_xml(resp->body, "AssumeRoleWithWebIdentity");
  if (!creds.ok()) {
    Error e = std::move(creds).error();
    e.with_context(context);
    return e;
  }
  return creds;
}

Result<CallerIdentity> get_caller_identity(const Endpoint& sts, std::shared_ptr<CredentialsProvider> creds,
                                           Clock& clock) {
  Endpoint ep = sts;
  ep.signing_service = "sts";
  AwsClient client(ep, std::move(creds), RetryPolicy{}, clock);
  auto resp = client.call_rest(
      form_request(sts, sts_detail::form_body({{"Action", "GetCallerIdentity"}, {"Version", kVersion}})));
  if (!resp.ok()) return std::move(resp).error();
  auto doc = xml::parse(resp->body);
  if (!doc.ok()) return sts_error("GetCallerIdentity answer is not XML: " + doc.error().message);
  const xml::Element* result = doc->child("GetCallerIdentityResult");
  if (result == nullptr) return sts_error("GetCallerIdentity answer has no GetCallerIdentityResult");
  CallerIdentity id;
  id.account = std::string(result->child_text("Account").value_or(""));
  id.arn = std::string(result->child_text("Arn").value_or(""));
  id.user_id = std::string(result->child_text("UserId").value_or(""));
  return id;
}

}  // namespace dynarep::aws
