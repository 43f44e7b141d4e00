#pragma once
// api::Authenticator: bearer tokens for the HTTP API, with two roles, and a limit on failed
// attempts per client address.
//   read   get, list, position (and verify), the metrics endpoints
//   admin  everything
// Tokens are configured as lower-case sha256 hex digests (api.auth.adminTokenHashes,
// readTokenHashes) or in a token file (api.auth.tokenFile) of lines "admin <hash>" /
// "read <hash>" ('#' starts a comment). With no hash at all, authentication is off and every
// request is admin.
// A client address with max_failures_per_minute failed attempts (missing or unknown token)
// within a minute is refused (429) for a minute from the last failure, whatever token it sends.
//
// Threads: Check is thread-safe (one mutex around the failure table; when it reaches
// kMaxTracked addresses, expired entries and then the ones not blocked are dropped).
// Errors: Create returns InvalidArgument naming the token file and line.
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"

namespace cdc::api {

enum class Role { kRead, kAdmin };

struct AuthOptions {
  std::vector<std::string> admin_hashes;
  std::vector<std::string> read_hashes;
  std::string token_file;
  int max_failures_per_minute = 10;
};

class Authenticator {
 public:
  using Clock = std::chrono::steady_clock;

  static Result<std::unique_ptr<Authenticator>> Create(const AuthOptions& options);

  bool enabled() const { return !tokens_.empty(); }

  struct Decision {
    bool ok = false;
    Role role = Role::kRead;
    int http_status = 0;    // 401 or 429 when !ok
    std::string reason;     // "unauthorized" or "rate_limited" (metrics)
    std::string message;    // for the envelope
    int retry_after_s = 0;  // for 429
  };
  // `authorization` is the Authorization header ("Bearer <token>"), `ip` the client address.
  Decision Check(const std::string& authorization, const std::string& ip,
                 Clock::time_point now = Clock::now());

  static constexpr size_t kMaxTracked = 10000;

 private:
  struct Failures {
    Clock::time_point window_start;
    int count = 0;
    Clock::time_point blocked_until;
  };
  explicit Authenticator(int max_failures) : max_failures_(max_failures) {}
  Decision Fail(const std::string& ip, Clock::time_point now, const std::string& why);
  void Prune(Clock::time_point now);

  std::vector<std::pair<std::string, Role>> tokens_;  // sha256 hex -> role
  const int max_failures_;
  std::mutex mu_;
  std::map<std::string, Failures> failures_;  // guarded by mu_
};

}  // namespace cdc::api
