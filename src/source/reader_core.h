#pragma once
// ReaderCore: the part every ChannelReader backend shares: the start checks, the packer, the
// bounded pack queue, stats and reason, the reader thread and its stop. A backend (kafka/,
// pulsar/) derives from it and supplies Open() (position decoding, client setup) and Run() (its
// fetch loop, which hands each message to Deliver()).
//
// Threads: Start() runs Open() on the caller's thread, then Run() on the reader thread;
// Next() is for one consumer thread; stats(), Close() and the protected helpers are thread-safe.
// A derived class must call Close() in its destructor (the thread runs its Run()).
// Errors: see channel_reader.h. Deliver() counts and reports bad messages; reasons the backend
// sets for broker trouble start with `reason_prefix` and are cleared by the next good message.
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "source/channel_reader.h"
#include "source/pack_queue.h"
#include "source/packer.h"

namespace cdc::source {

class ReaderCore : public ChannelReader {
 public:
  ~ReaderCore() override;

  // Checks (not started twice, a position of this channel), Open(), then starts Run().
  Status Start(const StartPosition& start) final;
  Result<std::optional<Pack>> Next(std::chrono::milliseconds timeout) final;
  ReaderStats stats() const final;
  // Stops and joins the thread, then Release(). Idempotent.
  void Close() final;
  const std::string& channel() const final { return options_.channel; }

 protected:
  // `reason_prefix`: how this backend's broker reasons begin, e.g. "read kafka topic".
  ReaderCore(ReaderOptions options, std::string reason_prefix);

  // Prepares the client to read from `start` (a position is of this channel). An error fails
  // Start(); nothing runs then.
  virtual Status Open(const StartPosition& start) = 0;
  // The fetch loop on the reader thread: returns once stopping().
  virtual void Run() = 0;
  // After the thread ended: releases the client.
  virtual void Release() {}
  // About once a second while the queue is full (e.g. refresh the channel's end).
  virtual void WhileQueueFull() {}

  // Reader thread: decodes msg's header, counts it, packs it and queues a finished pack
  // (waiting while the queue is full). `where` names the message in errors ("topic T offset
  // 7"). A non-empty `read_error` says the transport could not read it: reported, not packed.
  void Deliver(Message msg, std::string_view where, std::string read_error = "");
  void SetReason(std::string reason);
  // Clears the reason if it is a broker reason of this backend.
  void ClearBrokerReason();
  // Waits up to `d`; false once Close() was called.
  bool Sleep(std::chrono::milliseconds d);
  bool stopping() const;
  // Runs f(stats) under the stats lock.
  template <typename F>
  auto WithStats(F&& f) {
    std::lock_guard<std::mutex> l(mu_);
    return f(stats_);
  }
  template <typename F>
  auto WithStats(F&& f) const {
    std::lock_guard<std::mutex> l(mu_);
    return f(static_cast<const ReaderStats&>(stats_));
  }

  const ReaderOptions& reader_options() const { return options_; }
  const std::string& group() const { return group_; }

 private:
  const ReaderOptions options_;
  const std::string group_;  // subscription / consumer group, msgGroup of end positions
  const std::string reason_prefix_;
  std::unique_ptr<ChannelPacker> packer_;  // reader thread only (after Start)
  PackQueue queue_;
  mutable std::mutex mu_;  // guards the fields below
  std::condition_variable cv_;
  ReaderStats stats_;
  bool stop_ = false;
  bool started_ = false;
  std::thread thread_;
};

}  // namespace cdc::source
