#pragma once
// replicate::Quarantine: the collections of a task set aside because the target refuses
// something only they need (their create, a partition, their data), so that the others go on.
//
// A collection set aside keeps its checkpoint row where it stopped (replicate/checkpointer.h)
// and its later messages are not applied; every backoff its blocking step is tried again, and
// once it passes the pipeline reads the channels again from that row, so the collection
// catches up with nothing lost (docs/replication.md, "One collection never blocks the others").
// Not thread-safe: owned by the pipeline thread; View() copies are handed to other threads.
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace cdc::replicate {

struct QuarantinedCollection {
  int64_t id = 0;
  std::string name;    // db.collection
  std::string reason;  // what the target said, and what to do
  int64_t since_ms = 0;
  int attempts = 0;
};

class Quarantine {
 public:
  using Clock = std::chrono::steady_clock;
  Quarantine(std::chrono::milliseconds init_backoff, std::chrono::milliseconds max_backoff)
      : init_backoff_(init_backoff), max_backoff_(max_backoff) {}

  // Sets `id` aside (or records another failure of it, backing off further).
  void Put(int64_t id, const std::string& name, const std::string& reason);
  bool Has(int64_t id) const { return entries_.count(id) > 0; }
  // db.collection of a collection set aside ("" if it is not).
  std::string NameOf(int64_t id) const {
    auto it = entries_.find(id);
    return it == entries_.end() ? std::string() : it->second.info.name;
  }
  bool empty() const { return entries_.empty(); }
  // Collections whose next attempt is due.
  std::vector<int64_t> Due() const;
  void Remove(int64_t id) { entries_.erase(id); }
  // Its next attempt is due now (what blocked it is known to be over).
  void MakeDue(int64_t id) {
    if (auto it = entries_.find(id); it != entries_.end()) it->second.next_try = Clock::now();
  }
  // Replaces its reason (e.g. progress) without counting an attempt.
  void SetReason(int64_t id, const std::string& reason) {
    if (auto it = entries_.find(id); it != entries_.end()) it->second.info.reason = reason;
  }
  std::vector<QuarantinedCollection> View() const;

 private:
  struct Entry {
    QuarantinedCollection info;
    Clock::time_point next_try;
    std::chrono::milliseconds backoff{0};
  };
  std::chrono::milliseconds init_backoff_, max_backoff_;
  std::map<int64_t, Entry> entries_;
};

}  // namespace cdc::replicate
