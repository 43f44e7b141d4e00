#include "source/pack_queue.h"

namespace cdc::source {

size_t PackBytes(const Pack& pack) {
  size_t n = 0;
  for (const auto& m : pack.msgs) n += m.payload.size();
  return n;
}

PackQueue::PackQueue(size_t max_packs, size_t max_bytes)
    : max_packs_(max_packs > 0 ? max_packs : 1), max_bytes_(max_bytes) {}

bool PackQueue::Push(Pack pack, const std::function<void()>& while_waiting) {
  const size_t n = PackBytes(pack);
  const bool data = !pack.msgs.empty();
  std::unique_lock<std::mutex> l(mu_);
  auto room = [&] { return closed_ || Room(n, data); };
  while (!cv_.wait_for(l, std::chrono::seconds(1), room)) {
    if (!while_waiting) continue;
    l.unlock();
    while_waiting();
    l.lock();
  }
  if (closed_) return false;
  bytes_ += n;
  if (data) ++with_data_;
  packs_.emplace_back(std::move(pack), n);
  cv_.notify_all();
  return true;
}

bool PackQueue::Room(size_t n, bool data) const {
  return packs_.empty() ||
         ((!data || with_data_ < max_packs_) && packs_.size() < max_packs_ * kTimeOnlyFactor &&
          (max_bytes_ == 0 || bytes_ + n <= max_bytes_));
}

bool PackQueue::TryPush(Pack pack) {
  const size_t n = PackBytes(pack);
  const bool data = !pack.msgs.empty();
  std::lock_guard<std::mutex> l(mu_);
  if (closed_ || !Room(n, data)) return false;
  bytes_ += n;
  if (data) ++with_data_;
  packs_.emplace_back(std::move(pack), n);
  cv_.notify_all();
  return true;
}

std::optional<Pack> PackQueue::Pop(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait_for(l, timeout, [&] { return closed_ || !packs_.empty(); });
  if (packs_.empty()) return std::nullopt;
  Pack p = std::move(packs_.front().first);
  bytes_ -= packs_.front().second;
  if (!p.msgs.empty()) --with_data_;
  packs_.pop_front();
  cv_.notify_all();
  return p;
}

void PackQueue::Close() {
  std::lock_guard<std::mutex> l(mu_);
  closed_ = true;
  cv_.notify_all();
}

bool PackQueue::closed() const {
  std::lock_guard<std::mutex> l(mu_);
  return closed_;
}

size_t PackQueue::bytes() const {
  std::lock_guard<std::mutex> l(mu_);
  return bytes_;
}

}  // namespace cdc::source
