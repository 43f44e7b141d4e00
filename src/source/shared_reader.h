#pragma once
// SharedReaders: one reader per source channel per server, shared by every task that reads the
// channel, so that threads, broker fetches and buffered messages grow with channels, not with
// tasks x channels.
//
// Open() gives a task a ChannelReader of its own (a member) that behaves as a reader started
// where the task asked:
//  - alone: it reads with a private reader (Broker::OpenReader) from its start, e.g. a
//    checkpoint behind the shared reader;
//  - joined: once the pack that follows its last one is among the shared reader's recent packs
//    (`history_packs`, matched by the position the pack starts after), it closes the private
//    reader and takes the shared reader's packs from there on, filtered by its own
//    CollectionFilter (payloads are shared, never copied);
//  - a joined member whose queue reaches its limits (ReaderOptions::max_queued_packs /
//    max_queued_bytes, time-only packs kTimeOnlyFactor times more, as PackQueue) leaves: the
//    shared reader never waits for a task (one task whose target is down never slows the
//    others). It takes what it has queued, then reads alone again from the end of its last pack
//    (a pack's end position reproduces the packs after it), and joins again once caught up.
// Packs are the same either way (the packer is deterministic from a pack's end position), so a
// task sees one unbroken sequence across joins and leaves: nothing lost, nothing twice.
//
// The shared reader of a channel starts at the channel's latest message when its first member
// starts (for the replicate channel, where that member starts), and stops when its last member
// closes. A shared reader whose Next() fails (not a
// timeout) is reopened at the latest message after a second; its members read alone meanwhile.
// Threads: one pump thread per shared reader (plus the reader's own); a member is used as any
// ChannelReader (Next() from one consumer thread); Open()/stats() are thread-safe.
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "source/channel_reader.h"

namespace cdc::source {

struct SharedReadersOptions {
  // Recent packs each shared reader keeps for members reading alone to join at, bounded in
  // packs and payload bytes (the smaller wins; the newest pack is always kept).
  size_t history_packs = 25;  // 5 s of ticks every 200 ms
  size_t history_bytes = 4 << 20;
  // The shared readers' owner (their subscription / consumer group: SubscriptionName(owner, ..));
  // unique per server (several servers may read one channel).
  std::string owner = "shared";
  size_t max_queued_bytes = 16 << 20;  // each shared reader's own queue
  // How long a failed shared reader waits before it is opened again.
  std::chrono::milliseconds reopen_delay{1000};
};

struct SharedReadersStats {
  size_t shared = 0;  // shared readers running (one per channel read)
  size_t joined = 0;  // members reading through a shared reader now
  size_t alone = 0;   // members reading on their own now (starting, catching up, or left)
  uint64_t joins = 0;
  uint64_t leaves = 0;  // members that left as their queue was full
};

class SharedReaders {
 public:
  using Opener = std::function<Result<std::unique_ptr<ChannelReader>>(const ReaderOptions&)>;
  // `open` opens a private reader (a task's own, or a shared one); it must outlive this.
  SharedReaders(Opener open, SharedReadersOptions options);
  // Members must be closed (destroyed) before.
  ~SharedReaders();
  SharedReaders(const SharedReaders&) = delete;
  SharedReaders& operator=(const SharedReaders&) = delete;

  // A member for one task (see above); the filter and on-pack callback it is given (SetFilter,
  // SetOnPack) apply to both ways of reading. Never fails itself: a private reader's open error
  // comes from Start().
  std::unique_ptr<ChannelReader> Open(const ReaderOptions& options);

  SharedReadersStats stats() const;

 private:
  struct Hub;
  class Member;
  std::shared_ptr<Hub> Attach(const ReaderOptions& options, const StartPosition& start);
  void Detach(const std::shared_ptr<Hub>& hub);

  const Opener open_;
  const SharedReadersOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Hub>> hubs_;  // by kind and channel
  std::atomic<uint64_t> joins_{0};
  std::atomic<uint64_t> leaves_{0};
  friend class Member;
};

}  // namespace cdc::source
