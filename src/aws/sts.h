// AWS Security Token Service: the calls the credentials chain makes (AssumeRole,
// AssumeRoleWithWebIdentity) and GetCallerIdentity (which account and role a set of
// credentials is). Query protocol: a form-encoded POST to "/", XML answers read with aws/xml.h.
//
// Endpoint: sts.<region>.amazonaws.com (the regional endpoint, as the SDKs use by default),
// or AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL (resolve_endpoint(Service::kSts, region)).
// Reference: STS API Reference, "AssumeRole", "AssumeRoleWithWebIdentity", "Common Errors".
#pragma once

#include <chrono>
#include <initializer_list>
#include <utility>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "aws/credentials.h"
#include "aws/location.h"
#include "core/clock.h"
#include "core/result.h"

namespace dynarep::aws {

// AssumeRoleParams (role ARN, session name, external id, duration) is in credentials.h.

// AssumeRole signed with `source`'s credentials. Errors keep STS's code and message (kAuth
// for AccessDenied and other 4xx, transient ones retried first) with the role ARN in the
// context: "AssumeRole arn:aws:iam::1:role/r: AccessDenied: User ... is not authorized ...".
Result<Credentials> assume_role(const Endpoint& sts, std::shared_ptr<CredentialsProvider> source, const AssumeRoleParams& params,
                                Clock& clock = SystemClock::instance());

// AssumeRoleWithWebIdentity: unsigned, the OIDC token in the request (an EKS service account
// token). Errors as for assume_role; the token is never part of one.
Result<Credentials> assume_role_with_web_identity(const Endpoint& sts, const AssumeRoleParams& params,
                                                  std::string_view web_identity_token,
                                                  Clock& clock = SystemClock::instance());

struct CallerIdentity {
  std::string account{};
  std::string arn{};
  std::string user_id{};
};
// GetCallerIdentity: who `creds` are (needs no permission).
Result<CallerIdentity> get_caller_identity(const Endpoint& sts, std::shared_ptr<CredentialsProvider> creds,
                                           Clock& clock = SystemClock::instance());

namespace sts_detail {
// application/x-www-form-urlencoded body from name/value pairs (values UriEncoded).
std::string form_body(std::initializer_list<std::pair<std::string_view, std::string_view>> params);
// <XResponse><XResult><Credentials>AccessKeyId, SecretAccessKey, SessionToken, Expiration.
// `action` is "AssumeRole" or "AssumeRoleWithWebIdentity". Errors never quote the document.
Result<Credentials> parse_credentials_xml(std::string_view xml, std::string_view action);
}  // namespace sts_detail

}  // namespace dynarep::aws
