#pragma once
// A TCP connection to a Pulsar broker, plain or TLS (one-way: the client verifies the broker),
// where every wait ends at a deadline. Owned by one Connection; not thread-safe, except
// Shutdown(), which any thread may call to wake a blocked read.
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace cdc::pulsar {

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

// One broker address from a service URL.
struct Endpoint {
  bool tls = false;
  std::string host;
  int port = 0;
  std::string Url() const;  // pulsar://host:port or pulsar+ssl://host:port
};

// Parses "pulsar://h:p", "pulsar+ssl://h:p" or "pulsar://h1:p1,h2:p2" (default ports 6650 /
// 6651). InvalidArgument naming the bad part and the expected form.
Result<std::vector<Endpoint>> ParseServiceUrl(std::string_view url);

struct TlsOptions {
  std::string trust_certs_file;  // PEM CA bundle; empty = the system's CAs
  bool allow_insecure = false;   // skip certificate verification (tests only)
  bool verify_hostname = true;
};

class Transport {
 public:
  // Unavailable naming host:port and the cause (refused, DNS, TLS handshake), or
  // DeadlineExceeded.
  static Result<std::unique_ptr<Transport>> Connect(const Endpoint& ep, const TlsOptions& tls,
                                                    Deadline deadline);
  ~Transport();

  Status WriteAll(std::string_view data, Deadline deadline);
  // Reads what is available (at least one byte). DeadlineExceeded when nothing arrived in time;
  // Unavailable when the peer closed or the socket failed.
  Result<size_t> Read(char* buf, size_t cap, Deadline deadline);
  // Wakes a blocked Read/Write (they then fail with Unavailable). Thread-safe.
  void Shutdown();

  const std::string& peer() const { return peer_; }

 private:
  Transport() = default;
  Status WaitFd(bool for_write, Deadline deadline, std::string_view what);
  Status TlsHandshake(const Endpoint& ep, const TlsOptions& opts, Deadline deadline);

  int fd_ = -1;
  void* ssl_ctx_ = nullptr;  // SSL_CTX*
  void* ssl_ = nullptr;      // SSL*
  std::string peer_;
};

}  // namespace cdc::pulsar
