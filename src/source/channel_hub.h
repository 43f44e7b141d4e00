#pragma once
// ChannelHub: one ChannelReader serving several subscribers (tasks), each seeing only its
// own vchannels. A pump thread takes each pack from the reader and hands every subscriber the
// pack filtered by its vchannels (FilterPack: time and positions are kept even when no
// message is left, so each subscriber's time still advances).
//
// Subscribers are independent queues of at most `max_queued` packs; a full queue makes the
// pump wait (back-pressure to the broker instead of memory growth), so the slowest
// subscriber sets the pace. Subscribers joining later see packs from then on; one that
// must start earlier needs its own reader (a hub serves one shared position).
// Threads: one pump thread; Subscribe/Update/Unsubscribe/Next are thread-safe.
// Errors: a reader error other than a timeout ends the hub; every subscriber's Next() then
// returns that status.
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "source/channel_reader.h"

namespace cdc::source {

class ChannelHub {
 public:
  // Takes a started reader. `max_queued`: packs buffered per subscriber. Subscribe the
  // first tasks, then Start(): packs read before a subscription are not shown to it.
  ChannelHub(std::unique_ptr<ChannelReader> reader, size_t max_queued = 8);
  // Starts the pump thread. Idempotent.
  void Start();
  ~ChannelHub();

  // Returns a subscriber id.
  int Subscribe(std::set<std::string> vchannels);
  // Replaces the subscriber's vchannels (e.g. a collection was created or dropped).
  void Update(int id, std::set<std::string> vchannels);
  void Unsubscribe(int id);
  // Next pack for subscriber `id`; nullopt on timeout.
  Result<std::optional<Pack>> Next(int id, std::chrono::milliseconds timeout);

  ReaderStats stats() const { return reader_->stats(); }
  void Stop();

 private:
  struct Sub {
    std::set<std::string> vchannels;
    std::deque<Pack> queue;
  };
  void Pump();

  std::unique_ptr<ChannelReader> reader_;
  const size_t max_queued_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<int, Sub> subs_;
  int next_id_ = 1;
  bool stop_ = false;
  Status failed_;
  std::thread pump_;
};

}  // namespace cdc::source
