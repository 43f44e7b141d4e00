#pragma once
// PackQueue: the bounded hand-over between a channel reader's thread and its consumer.
//
// Bounded both in packs and in payload bytes: Push() blocks while either limit is reached, so
// a backlog stays in the broker instead of in memory. An empty queue always takes one pack,
// however large, so a pack bigger than the byte limit still gets through (alone).
// Packs of time only (no message: an idle channel, or one whose messages the filter dropped)
// count against a limit kTimeOnlyFactor times larger: they cost a few hundred bytes each, and
// a reader that stopped on them would leave its client's prefetch full of other collections'
// messages (16 MB per reader with Kafka) while its consumer waits, e.g. for a target that is
// down.
// Thread-safe: one producer and one consumer thread (more are fine). Close() wakes both.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>

#include "source/pack.h"

namespace cdc::source {

// Payload bytes of a pack's messages (what the pack keeps alive).
size_t PackBytes(const Pack& pack);

class PackQueue {
 public:
  static constexpr size_t kTimeOnlyFactor = 64;
  // `max_packs`: packs with messages; all packs: kTimeOnlyFactor times that.
  PackQueue(size_t max_packs, size_t max_bytes);

  // Waits for room, then queues `pack`. While it waits, `while_waiting` (if set) runs about once
  // a second without the lock held. false if the queue was closed (the pack is dropped).
  bool Push(Pack pack, const std::function<void()>& while_waiting = {});
  // Queues `pack` if there is room now, without waiting; false (the pack dropped) if not, or
  // if the queue was closed.
  bool TryPush(Pack pack);
  // The next pack, waiting up to `timeout`; nullopt on timeout or once closed and empty.
  std::optional<Pack> Pop(std::chrono::milliseconds timeout);
  void Close();
  bool closed() const;
  size_t bytes() const;

 private:
  // Room for a pack of `n` bytes, with or without messages; mu_ held.
  bool Room(size_t n, bool data) const;

  const size_t max_packs_;
  const size_t max_bytes_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<Pack, size_t>> packs_;
  size_t with_data_ = 0;  // packs with messages
  size_t bytes_ = 0;
  bool closed_ = false;
};

}  // namespace cdc::source
