// The raw BatchWriteItem ceiling of a DynamoDB endpoint, natively: every request body is built
// BEFORE the clock starts (lines grouped by 25 into {"RequestItems":{...}}), then PARALLEL
// threads, each with one keep-alive libcurl handle, send them; UnprocessedItems are re-sent.
// No parsing, no validation, no signing (the local stand-in does not check signatures): the
// least work a client can do, so what it reaches is the server's ceiling on this machine.
//   raw_batch_write ENDPOINT TABLE FILE PARALLEL     (bench/import/run.sh builds and runs it)
// Prints one JSON line like raw_batch_write.js.
#include <curl/curl.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

namespace {

size_t collect(char* p, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(p, size * n);
  return size * n;
}

// The JSON object after `"UnprocessedItems":` in `resp`, or "" when it is empty or absent.
std::string unprocessed(const std::string& resp) {
  auto at = resp.find("\"UnprocessedItems\"");
  if (at == std::string::npos) return "";
  at = resp.find('{', at);
  if (at == std::string::npos) return "";
  int depth = 0;
  bool in_string = false;
  for (size_t i = at; i < resp.size(); ++i) {
    char c = resp[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '{') ++depth;
    else if (c == '}' && --depth == 0) {
      std::string obj = resp.substr(at, i - at + 1);
      return obj == "{}" ? "" : obj;
    }
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: raw_batch_write ENDPOINT TABLE FILE PARALLEL\n";
    return 2;
  }
  const std::string endpoint = std::string(argv[1]) + "/", table = argv[2];
  const int parallel = std::stoi(argv[4]);
  std::ifstream in(argv[3]);
  std::vector<std::string> bodies;
  std::string line, body;
  long items = 0;
  int in_batch = 0;
  auto flush = [&] {
    if (in_batch == 0) return;
    body += "]}}";
    bodies.push_back(std::move(body));
    body.clear();
    in_batch = 0;
  };
  while (std::getline(in, line)) {
    if (line.empty() || line.find("\"KeySchema\"") != std::string::npos) continue;  // description line
    if (in_batch == 0) body = "{\"RequestItems\":{\"" + table + "\":[";
    else body += ',';
    body += "{\"PutRequest\":{\"Item\":" + line + "}}";
    ++items;
    if (++in_batch == 25) flush();
  }
  flush();

  curl_global_init(CURL_GLOBAL_DEFAULT);
  std::atomic<size_t> next{0};
  std::atomic<long> resent{0};
  std::atomic<bool> failed{false};
  rusage r0{};
  getrusage(RUSAGE_SELF, &r0);
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < parallel; ++t) {
    threads.emplace_back([&] {
      CURL* h = curl_easy_init();
      curl_slist* headers = nullptr;
      headers = curl_slist_append(headers, "Content-Type: application/x-amz-json-1.0");
      headers = curl_slist_append(headers, "X-Amz-Target: DynamoDB_20120810.BatchWriteItem");
      headers = curl_slist_append(headers, "X-Amz-Date: 20240101T000000Z");
      headers = curl_slist_append(headers,
                                  "Authorization: AWS4-HMAC-SHA256 Credential=bench/20240101/us-east-1/dynamodb/"
                                  "aws4_request, SignedHeaders=host;x-amz-date, Signature=00");
      headers = curl_slist_append(headers, "Expect:");
      std::string resp;
      curl_easy_setopt(h, CURLOPT_URL, endpoint.c_str());
      curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
      curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
      curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
      curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
      for (size_t i; !failed && (i = next.fetch_add(1)) < bodies.size();) {
        std::string req = bodies[i];
        for (int attempt = 0;; ++attempt) {
          resp.clear();
          curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.data());
          curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(req.size()));
          long status = 0;
          if (curl_easy_perform(h) != CURLE_OK ||
              (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status), status != 200)) {
            if (attempt < 10) continue;
            std::cerr << "request failed: HTTP " << status << " " << resp.substr(0, 300) << "\n";
            failed = true;
            break;
          }
          std::string left = unprocessed(resp);
          if (left.empty()) break;
          ++resent;
          req = "{\"RequestItems\":" + left + "}";
          std::this_thread::sleep_for(std::chrono::milliseconds(std::min(1000, 25 << std::min(attempt, 6))));
        }
      }
      curl_slist_free_all(headers);
      curl_easy_cleanup(h);
    });
  }
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  rusage r1{};
  getrusage(RUSAGE_SELF, &r1);
  auto secs = [](const timeval& a, const timeval& b) { return (b.tv_sec - a.tv_sec) + (b.tv_usec - a.tv_usec) / 1e6; };
  const double cpu = secs(r0.ru_utime, r1.ru_utime) + secs(r0.ru_stime, r1.ru_stime);
  std::printf("{\"items\":%ld,\"seconds\":%.3f,\"items_per_s\":%.1f,\"unprocessed_resent\":%ld,\"client_cpu_seconds\":%.2f}\n",
              items, seconds, items / seconds, resent.load(), cpu);
  return failed ? 1 : 0;
}
