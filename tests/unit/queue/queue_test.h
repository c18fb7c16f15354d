// Helpers shared by the queue tests: a temporary data directory, and queueing a message.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>
#include <vector>

#include "core/queue/queue.h"

namespace portico::core::queue_test {

namespace fs = std::filesystem;

// A fresh folder under the system temp folder, removed with its contents at the end.
class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = fs::temp_directory_path() /
            ("portico-queue-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

inline sdk::Envelope simple_envelope(const std::string& sender,
                                     const std::vector<std::string>& recipients) {
  sdk::Envelope e;
  e.sender = sender;
  for (const auto& r : recipients) {
    sdk::QueueRecipient rcpt;
    rcpt.address = r;
    rcpt.notify = sdk::notify_failure;
    e.recipients.push_back(rcpt);
  }
  e.client_address = "192.0.2.7";
  e.helo = "client.example";
  return e;
}

// Writes, seals and queues `body`; returns the id ("" after a failure, reported by gtest).
inline std::string enqueue_text(sdk::Queue& q, const sdk::Envelope& envelope,
                                const std::string& body) {
  auto incoming = q.create_incoming();
  EXPECT_TRUE(incoming.ok()) << incoming.message;
  if (!incoming.ok()) return {};
  EXPECT_TRUE(incoming.value->append(body).ok());
  auto sealed = incoming.value->seal();
  EXPECT_TRUE(sealed.ok()) << sealed.message;
  auto id = q.enqueue(envelope, *incoming.value);
  EXPECT_TRUE(id.ok()) << id.message;
  return id.value;
}

// Every line written to `in` until its writers are gone (without the line ends; a last line
// without one is left out: a writer killed in the middle of it).
inline std::vector<std::string> read_lines(int in) {
  std::string data;
  char buffer[4096];
  while (true) {
    ssize_t n = ::read(in, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    data.append(buffer, static_cast<std::size_t>(n));
  }
  std::vector<std::string> lines;
  std::size_t start = 0, nl;
  while ((nl = data.find('\n', start)) != std::string::npos) {
    lines.push_back(data.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

// Names in a folder.
inline std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    out.push_back(e.path().filename().string());
  return out;
}

}  // namespace portico::core::queue_test
