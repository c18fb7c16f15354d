// Portico core — a small HTTP/1.1 client (Boost.Beast) for the services the core talks to over
// HTTP: rspamd's /checkv2, /learnspam and /learnham.
//
// One request per connection (Connection: close), POST with a body from memory or streamed from
// a file, the whole exchange bounded by one timeout and the reply body by a size limit.
// Guarantees: `done` is called exactly once, on the executor's thread, whatever happens
// (refused, timed out, malformed reply); nothing blocks the executor.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace portico::core::filter {

struct HttpRequest {
  std::string address;  // an IP literal
  std::uint16_t port = 0;
  std::string target;  // "/checkv2"
  std::vector<std::pair<std::string, std::string>> fields;
  std::string body;       // the body, when body_file is empty
  std::string body_file;  // else the body is this file's content, streamed
  std::chrono::milliseconds timeout{20000};
  std::size_t max_reply = 4 * 1024 * 1024;
};

struct HttpReply {
  int status = 0;  // 0: no reply (see error)
  std::string body;
  std::string error;  // why there is no reply
};

using HttpDone = std::function<void(HttpReply)>;

// Sends the request on `executor` and calls done with the outcome.
void http_post(boost::asio::any_io_executor executor, HttpRequest request, HttpDone done);

// The same, blocking the calling thread (for the command line).
HttpReply http_post_blocking(HttpRequest request);

}  // namespace portico::core::filter
