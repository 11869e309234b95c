// The Client constructor over the AWS call path; the only file of this module that needs the
// aws headers' definitions.
#include "aws/client.h"
#include "kinesis/client.h"

namespace dynarep::kinesis {

Client::Client(std::shared_ptr<aws::AwsClient> aws, Clock& clock)
    : Client(
          [aws = std::move(aws)](std::string_view target, const std::string& body) {
            return aws->call_json(target, kJsonVersion, body);
          },
          clock) {}

Client Client::connect(const std::string& region, const std::string& endpoint_flag, Clock& clock) {
  return connect(region, endpoint_flag, clock, aws::CredentialsSpec{});
}

Client Client::connect(const std::string& region, const std::string& endpoint_flag, Clock& clock,
                       const aws::CredentialsSpec& credentials) {
  auto endpoint = aws::resolve_endpoint(aws::Service::kKinesis, region, endpoint_flag);
  endpoint.credentials = credentials;
  auto aws = std::make_shared<aws::AwsClient>(std::move(endpoint), aws::credentials_for(credentials, clock),
                                              aws::RetryPolicy{}, clock);
  return Client(std::move(aws), clock);
}

}  // namespace dynarep::kinesis
