#pragma once
// StreamProducer: a live Milvus-format source for benchmarks. It writes, into Kafka, what the
// DML channels of a busy Milvus carry: Insert messages of the given collections at a paced
// rate (round-robin over collections), and a time tick on every physical channel every
// `tick_ms` (as Milvus's root coordinator does, also while idle). Timestamps are hybrid
// timestamps of the wall clock (physical ms << 18 | logical), strictly increasing.
//
// For each Insert it records when Kafka acknowledged it (the broker's ack, i.e. when the
// message became available on the topic to consumers), by Milvus msgID: the start of the lag
// measurement.
//
// Threads: a poll thread (delivery reports), a tick thread, and one produce run at a time
// (Start() spawns it). Every public method may be called from any thread.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "source/kafka/kafka_client.h"
#include "tools/sim/messages.h"

namespace cdc::bench {

struct StreamCollection {
  sim::CollectionSpec spec;
  std::string pchannel;
  int64_t first_msg_id = 0;  // msg ids (and pks) of this collection count up from here
};

struct ProduceRun {
  double rate = 0;      // Insert messages per second over all collections; 0 = as fast as possible
  double seconds = 0;   // stop after this long (0 = no limit)
  int64_t count = 0;    // stop after this many inserts (0 = no limit)
  int first = 0;        // index of the first collection used
  int collections = 0;  // use N collections from `first` on (0 = all the rest)
};

class StreamProducer {
 public:
  struct Ack {
    int64_t msg_id = 0;
    int64_t ack_us = 0;  // system_clock microseconds
  };
  struct Stats {
    bool running = false;
    int64_t produced = 0, acked = 0, failed = 0, ticks = 0, bytes = 0;
    std::string error;  // first delivery or produce error
  };

  // Also makes sure the topics in `more_topics` exist (e.g. the replicate-msg channel, which
  // a real Milvus has), through a metadata request with auto-creation.
  static Result<std::unique_ptr<StreamProducer>> Create(
      const std::string& brokers, std::vector<StreamCollection> collections, int rows_per_insert,
      int tick_ms, const std::vector<std::string>& more_topics);
  ~StreamProducer();

  // Starts a produce run in the background; FailedPrecondition if one is running.
  Status Start(const ProduceRun& run);
  Stats stats() const;
  std::vector<Ack> Acks() const;
  void ClearAcks();

 private:
  StreamProducer() = default;
  static void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque);
  uint64_t NextTs();
  // Produces one payload under the ts lock; msg_id 0 for ticks.
  Status Produce(const std::string& topic, const std::string& payload, int64_t msg_id);
  void RunLoop(ProduceRun run);
  void TickLoop();

  source::RdKafkaHandle rk_;
  std::vector<StreamCollection> collections_;
  std::vector<std::string> pchannels_;
  std::vector<int64_t> next_seq_;  // per collection
  int rows_ = 100;
  int tick_ms_ = 200;

  std::mutex ts_mu_;  // orders ts allocation and produce per topic
  uint64_t last_ts_ = 0;

  mutable std::mutex mu_;
  std::vector<Ack> acks_;
  Stats stats_;
  std::atomic<bool> stop_{false};
  std::thread poll_thread_, tick_thread_, run_thread_;
};

}  // namespace cdc::bench
