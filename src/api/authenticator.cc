#include "api/authenticator.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/crypto.h"

namespace cdc::api {
namespace {

constexpr auto kWindow = std::chrono::seconds(60);

Authenticator::Decision Allow(Role role) {
  Authenticator::Decision d;
  d.ok = true;
  d.role = role;
  return d;
}

Authenticator::Decision Refuse(int status, std::string reason, std::string message,
                               int retry_after_s = 0) {
  Authenticator::Decision d;
  d.http_status = status;
  d.reason = std::move(reason);
  d.message = std::move(message);
  d.retry_after_s = retry_after_s;
  return d;
}

bool IsHash(const std::string& h) {
  return h.size() == 64 && h.find_first_not_of("0123456789abcdef") == std::string::npos;
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Reads "admin <hash>" / "read <hash>" lines into `out`.
Status ReadTokenFile(const std::string& path, std::vector<std::pair<std::string, Role>>* out) {
  std::ifstream in(path);
  if (!in) {
    return InvalidArgumentError("config key api.auth.tokenFile: cannot read " + path + ": " +
                                std::strerror(errno));
  }
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream words(line);
    std::string role, digest, extra;
    if (!(words >> role)) continue;  // blank or comment
    words >> digest >> extra;
    digest = Lower(digest);
    if ((role != "admin" && role != "read") || !IsHash(digest) || !extra.empty()) {
      return InvalidArgumentError("config key api.auth.tokenFile: " + path + " line " +
                                  std::to_string(n) +
                                  ": expected 'admin <sha256 hex>' or 'read <sha256 hex>' "
                                  "(printf %s \"$TOKEN\" | sha256sum)");
    }
    out->emplace_back(digest, role == "admin" ? Role::kAdmin : Role::kRead);
  }
  return OkStatus();
}

}  // namespace

Result<std::unique_ptr<Authenticator>> Authenticator::Create(const AuthOptions& options) {
  std::unique_ptr<Authenticator> a(new Authenticator(std::max(1, options.max_failures_per_minute)));
  for (const auto& h : options.admin_hashes) a->tokens_.emplace_back(Lower(h), Role::kAdmin);
  for (const auto& h : options.read_hashes) a->tokens_.emplace_back(Lower(h), Role::kRead);
  if (!options.token_file.empty()) RETURN_IF_ERROR(ReadTokenFile(options.token_file, &a->tokens_));
  if (!options.token_file.empty() && a->tokens_.empty()) {
    return InvalidArgumentError("config key api.auth.tokenFile: " + options.token_file +
                                " holds no token; add 'admin <sha256 hex>' lines or unset the "
                                "key to run without authentication");
  }
  return a;
}

Authenticator::Decision Authenticator::Check(const std::string& authorization,
                                             const std::string& ip, Clock::time_point now) {
  if (!enabled()) return Allow(Role::kAdmin);
  {
    std::lock_guard lock(mu_);
    auto it = failures_.find(ip);
    if (it != failures_.end() && it->second.blocked_until > now) {
      auto left = std::chrono::ceil<std::chrono::seconds>(it->second.blocked_until - now);
      return Refuse(429, "rate_limited",
                    "too many failed authentications from " + ip + "; retry in " +
                        std::to_string(left.count()) + " s",
                    static_cast<int>(left.count()));
    }
  }
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size() ||
      Lower(authorization.substr(0, kScheme.size())) != kScheme) {
    return Fail(ip, now, "missing bearer token; send the header 'Authorization: Bearer <token>'");
  }
  std::string digest = crypto::Sha256Hex(authorization.substr(kScheme.size()));
  bool found = false;
  Role role = Role::kRead;
  for (const auto& [h, r] : tokens_) {  // no early exit: time does not depend on the match
    if (crypto::ConstantTimeEquals(h, digest) && !found) {
      found = true;
      role = r;
    }
  }
  if (!found) return Fail(ip, now, "invalid bearer token");
  return Allow(role);
}

Authenticator::Decision Authenticator::Fail(const std::string& ip, Clock::time_point now,
                                            const std::string& why) {
  std::lock_guard lock(mu_);
  if (failures_.size() >= kMaxTracked && !failures_.count(ip)) Prune(now);
  Failures& f = failures_[ip];
  if (f.count == 0 || now - f.window_start >= kWindow) {
    f.window_start = now;
    f.count = 0;
  }
  if (++f.count >= max_failures_) f.blocked_until = now + kWindow;
  return Refuse(401, "unauthorized", why);
}

void Authenticator::Prune(Clock::time_point now) {
  for (auto it = failures_.begin(); it != failures_.end();) {
    bool stale = now - it->second.window_start >= kWindow && it->second.blocked_until <= now;
    it = stale ? failures_.erase(it) : std::next(it);
  }
  // Still full (an attack from many addresses): forget the addresses that are not blocked.
  if (failures_.size() < kMaxTracked) return;
  for (auto it = failures_.begin(); it != failures_.end();) {
    it = it->second.blocked_until <= now ? failures_.erase(it) : std::next(it);
  }
}

}  // namespace cdc::api
