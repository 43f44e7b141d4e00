// replicate-ceiling: the least a replicator can do, for benchmarks only. It consumes one Milvus
// DML topic with librdkafka and forwards the messages, grouped between time ticks as Milvus's
// MqTtMsgStream groups them, to a target with one ReplicateMessage per group. The only other
// logic is what a target needs to accept the bytes: Insert/Delete get the target's collection
// id, partition id and shard name (top-level fields, rows untouched). Single-shard collections.
//
//   replicate-ceiling --brokers B --topic T --target H:P --collection NAME
//       [--start-offset N | --start-ms MS] [--source-collection-id ID] [--end-ts TS]
//   replicate-ceiling --brokers B --source H:P --target H:P --collection NAME --end-ts TS
//       (a real source: topic, collection id and start time from the source's DescribeCollection)
//
// Stops after the group whose tick reaches --end-ts (default: the topic's end when it starts).
// Prints one JSON line: {"wall_s", "cpu_s", "msgs", "dml", "bytes", "calls", "peak_rss_kb"}.
// Threads: the main thread consumes and groups, one sender thread calls the target (a queue of
// at most 16 groups between them), plus librdkafka's and gRPC's own threads.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <deque>
#include <mutex>
#include <thread>

#include "milvus/milvus.pb.h"
#include "replicate/wire_rewrite.h"
#include "source/kafka/kafka_client.h"
#include "source/message.h"
#include "target/grpc_client.h"

namespace {
namespace commonpb = ::milvus::proto::common;
using Clock = std::chrono::steady_clock;

double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "replicate-ceiling: %s\n", what.c_str());
  return 1;
}

struct Pending {
  uint64_t ts;
  std::string bytes;
};

// The sending half: one thread sends the queued requests in order, so that consuming the
// next group overlaps the target's answer (at most `kDepth` groups wait).
class Sender {
 public:
  static constexpr size_t kDepth = 16;
  explicit Sender(cdc::target::Client* client) : client_(client), thread_([this] { Run(); }) {}
  ~Sender() { Finish(); }

  void Push(milvus::proto::milvus::ReplicateMessageRequest req) {
    std::unique_lock l(mu_);
    cv_.wait(l, [&] { return queue_.size() < kDepth; });
    queue_.push_back(std::move(req));
    cv_.notify_all();
  }
  // Waits until everything queued was acknowledged; the first error, if any.
  std::string Finish() {
    {
      std::lock_guard l(mu_);
      closed_ = true;
      cv_.notify_all();
    }
    if (thread_.joinable()) thread_.join();
    return error_;
  }
  uint64_t calls() const { return calls_; }

 private:
  void Run() {
    for (;;) {
      milvus::proto::milvus::ReplicateMessageRequest req;
      {
        std::unique_lock l(mu_);
        cv_.wait(l, [&] { return closed_ || !queue_.empty(); });
        if (queue_.empty()) return;
        req = std::move(queue_.front());
        queue_.pop_front();
        cv_.notify_all();
      }
      for (int attempt = 0;; ++attempt) {
        auto r = client_->ReplicateMessage(req);
        if (r.ok()) break;
        if (attempt >= 20) {
          error_ = std::string(r.status().message());
          break;
        }
      }
      ++calls_;
    }
  }

  cdc::target::Client* client_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<milvus::proto::milvus::ReplicateMessageRequest> queue_;
  bool closed_ = false;
  std::string error_;
  std::atomic<uint64_t> calls_{0};
  std::thread thread_;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"librdkafka -> ReplicateMessage forwarder (the ceiling for milvus-cdc)"};
  std::string brokers, topic, target, db = "default", collection;
  int64_t start_offset = -2, start_ms = -1, source_collection = 0;
  uint64_t end_ts = 0;
  int timeout_s = 600;
  app.add_option("--brokers", brokers)->required();
  app.add_option("--topic", topic);
  std::string source;
  app.add_option("--source", source, "source Milvus host:port (instead of --topic)");
  app.add_option("--target", target, "target host:port")->required();
  app.add_option("--db", db);
  app.add_option("--collection", collection, "target collection (must exist)")->required();
  app.add_option("--start-offset", start_offset, "first offset (default: beginning)");
  app.add_option("--start-ms", start_ms, "start at the first record at or after this time");
  app.add_option("--source-collection-id", source_collection, "forward only this collection");
  app.add_option("--end-ts", end_ts, "stop after the tick reaching this hybrid timestamp");
  app.add_option("--timeout", timeout_s, "give up after this many seconds");
  CLI11_PARSE(app, argc, argv);

  if (!source.empty()) {
    cdc::target::ConnectOptions so;
    so.uri = source;
    auto src = cdc::target::ConnectGrpcClient(so);
    if (!src.ok()) return Fail(std::string(src.status().message()));
    auto sc = (*src)->DescribeCollection(db, collection);
    if (!sc.ok()) return Fail(std::string(sc.status().message()));
    if (sc->pchannels.size() != 1) return Fail("source collection needs 1 shard");
    topic = sc->pchannels[0];
    source_collection = sc->id;
    start_ms = static_cast<int64_t>(sc->created_ts >> 18) - 1000;
  }
  if (topic.empty()) return Fail("give --topic or --source");
  cdc::target::ConnectOptions co;
  co.uri = target;
  auto client = cdc::target::ConnectGrpcClient(co);
  if (!client.ok()) return Fail(std::string(client.status().message()));
  auto info = (*client)->DescribeCollection(db, collection);
  if (!info.ok()) return Fail(std::string(info.status().message()));
  auto parts = (*client)->ShowPartitions(db, collection);
  if (!parts.ok()) return Fail(std::string(parts.status().message()));
  int64_t target_partition = 0;
  for (const auto& p : *parts) {
    if (p.name == "_default") target_partition = p.id;
  }
  if (info->vchannels.size() != 1 || target_partition == 0) {
    return Fail("target collection " + collection + " needs 1 shard and a _default partition");
  }
  cdc::replicate::FieldOverrides ov;
  ov.varints[cdc::replicate::kDmlCollectionId] = info->id;
  ov.varints[cdc::replicate::kDmlPartitionId] = target_partition;
  ov.strings[cdc::replicate::kDmlShardName] = info->vchannels[0];
  const std::string target_channel = info->pchannels[0];

  auto rk = cdc::source::NewKafkaClient(true, brokers,
                                        {{"group.id", "bench-ceiling"},
                                         {"enable.auto.commit", "false"},
                                         {"queued.max.messages.kbytes", "16384"}});
  if (!rk.ok()) return Fail(std::string(rk.status().message()));
  int64_t low = 0, high = 0;
  if (rd_kafka_query_watermark_offsets(rk->get(), topic.c_str(), 0, &low, &high, 10000)) {
    return Fail("query watermarks of " + topic);
  }
  if (start_ms >= 0) {
    rd_kafka_topic_partition_list_t* l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic.c_str(), 0)->offset = start_ms;
    if (rd_kafka_offsets_for_times(rk->get(), l, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      start_offset = l->elems[0].offset;
    }
    rd_kafka_topic_partition_list_destroy(l);
  }
  if (auto s = cdc::source::AssignPartition0(rk->get(), topic, start_offset); !s.ok()) {
    return Fail(std::string(s.message()));
  }

  auto t0 = Clock::now();
  double c0 = CpuSeconds();
  uint64_t msgs = 0, dml = 0, bytes = 0, prev_tick = 0;
  Sender sender(client->get());
  std::deque<Pending> pending;  // messages waiting for a tick at or above their ts
  bool done = false;
  int64_t next_offset = start_offset;
  while (!done) {
    if (Clock::now() - t0 > std::chrono::seconds(timeout_s)) return Fail("timed out");
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk->get(), 20);
    if (!m) {
      // As milvus-cdc's reader does: librdkafka 2.0 refetches after its prefetch queue was
      // full only when its broker thread wakes (up to 1 s later); a request to it wakes it.
      if (next_offset < high) {
        int64_t lo = 0, hi = 0;
        rd_kafka_query_watermark_offsets(rk->get(), topic.c_str(), 0, &lo, &hi, 1000);
      }
      continue;
    }
    if (m->err) {
      rd_kafka_message_destroy(m);
      continue;
    }
    next_offset = m->offset + 1;
    std::string_view payload(static_cast<const char*>(m->payload), m->len);
    int64_t offset = m->offset;
    ++msgs;
    auto h = cdc::source::DecodeHeader(payload);
    if (h.ok() && (h->type == commonpb::Insert || h->type == commonpb::Delete) &&
        (source_collection == 0 || h->collection_id == source_collection)) {
      auto b = cdc::replicate::RewriteFields(payload, ov);
      if (b.ok()) pending.push_back({h->timestamp, std::move(*b)});
    } else if (h.ok() && h->type == commonpb::TimeTick) {
      milvus::proto::milvus::ReplicateMessageRequest req;
      req.mutable_base()->mutable_replicateinfo()->set_isreplicate(true);
      req.set_channel_name(target_channel);
      req.set_begints(prev_tick);
      req.set_endts(h->timestamp);
      while (!pending.empty() && pending.front().ts <= h->timestamp) {
        bytes += pending.front().bytes.size();
        ++dml;
        req.add_msgs(std::move(pending.front().bytes));
        pending.pop_front();
      }
      req.add_msgs(std::string(payload));
      auto* sp = req.add_startpositions();
      sp->set_channel_name(target_channel);
      sp->set_timestamp(prev_tick);
      auto* ep = req.add_endpositions();
      ep->set_channel_name(target_channel);
      ep->set_timestamp(h->timestamp);
      sender.Push(std::move(req));
      prev_tick = h->timestamp;
      if (end_ts ? h->timestamp >= end_ts : offset >= high - 1) done = true;
    }
    if (!end_ts && offset >= high - 1) done = true;
    rd_kafka_message_destroy(m);
  }
  if (std::string err = sender.Finish(); !err.empty()) return Fail(err);
  uint64_t calls = sender.calls();
  double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::printf(
      "{\"wall_s\": %.4f, \"cpu_s\": %.4f, \"msgs\": %llu, \"dml\": %llu, \"bytes\": %llu, "
      "\"calls\": %llu, \"peak_rss_kb\": %ld}\n",
      wall, CpuSeconds() - c0, (unsigned long long)msgs, (unsigned long long)dml,
      (unsigned long long)bytes, (unsigned long long)calls, ru.ru_maxrss);
  rd_kafka_consumer_close(rk->get());
  return 0;
}
