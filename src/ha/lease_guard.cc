#include "ha/lease_guard.h"

#include <time.h>

namespace cdc::ha {

Nanos BootClock() {
  timespec ts{};
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return std::chrono::seconds(ts.tv_sec) + Nanos(ts.tv_nsec);
}

LeaseGuard::LeaseGuard(std::chrono::milliseconds ttl, std::chrono::milliseconds margin, Clock clock)
    : ttl_(ttl), margin_(margin), clock_(std::move(clock)) {}

void LeaseGuard::Granted(int64_t lease, std::string token, Nanos sent) {
  std::lock_guard l(mu_);
  lease_ = lease;
  token_ = std::move(token);
  last_ok_sent_ = sent;
}

void LeaseGuard::KeptAlive(int64_t lease, Nanos sent) {
  std::lock_guard l(mu_);
  if (lease != lease_ || sent < last_ok_sent_) return;
  last_ok_sent_ = sent;
}

void LeaseGuard::Lost() {
  std::lock_guard l(mu_);
  lease_ = 0;
  token_.clear();
}

bool LeaseGuard::Valid() const {
  std::lock_guard l(mu_);
  return lease_ != 0 && clock_() - last_ok_sent_ < window();
}

int64_t LeaseGuard::lease() const {
  std::lock_guard l(mu_);
  return lease_;
}

std::string LeaseGuard::token() const {
  std::lock_guard l(mu_);
  return token_;
}

int64_t LeaseGuard::AgeMs() const {
  std::lock_guard l(mu_);
  if (lease_ == 0) return -1;
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_() - last_ok_sent_).count();
}

}  // namespace cdc::ha
