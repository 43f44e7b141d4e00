#include "lag/stream_producer.h"

#include <algorithm>
#include <chrono>
#include <set>

#include "absl/strings/str_cat.h"
#include "source/vchannel.h"

namespace cdc::bench {
namespace {
int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

Result<std::unique_ptr<StreamProducer>> StreamProducer::Create(
    const std::string& brokers, std::vector<StreamCollection> collections, int rows_per_insert,
    int tick_ms, const std::vector<std::string>& more_topics) {
  std::unique_ptr<StreamProducer> p(new StreamProducer());
  char err[256];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set_dr_msg_cb(conf, &StreamProducer::OnDelivery);
  rd_kafka_conf_set_opaque(conf, p.get());
  for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>{
           {"bootstrap.servers", brokers}, {"linger.ms", "1"}, {"message.max.bytes", "10485760"}}) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return InvalidArgumentError(absl::StrCat("kafka producer config ", k, ": ", err));
    }
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return InvalidArgumentError(absl::StrCat("create kafka producer for ", brokers, ": ", err));
  }
  p->rk_.reset(rk);
  for (const auto& t : more_topics) {
    rd_kafka_topic_t* topic = rd_kafka_topic_new(rk, t.c_str(), nullptr);
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, topic, &md, 10000);
    if (md != nullptr) rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(topic);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return UnavailableError(
          absl::StrCat("create kafka topic ", t, " at ", brokers, ": ", rd_kafka_err2str(e)));
    }
  }
  p->collections_ = std::move(collections);
  std::set<std::string> pch;
  for (const auto& c : p->collections_) pch.insert(c.pchannel);
  p->pchannels_.assign(pch.begin(), pch.end());
  p->next_seq_.assign(p->collections_.size(), 0);
  p->rows_ = std::max(1, rows_per_insert);
  p->tick_ms_ = std::max(1, tick_ms);
  StreamProducer* self = p.get();
  p->poll_thread_ = std::thread([self] {
    while (!self->stop_.load()) rd_kafka_poll(self->rk_.get(), 5);
  });
  p->tick_thread_ = std::thread([self] { self->TickLoop(); });
  return p;
}

StreamProducer::~StreamProducer() {
  stop_.store(true);
  if (run_thread_.joinable()) run_thread_.join();
  if (tick_thread_.joinable()) tick_thread_.join();
  if (poll_thread_.joinable()) poll_thread_.join();
  if (rk_) rd_kafka_flush(rk_.get(), 5000);
}

void StreamProducer::OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* self = static_cast<StreamProducer*>(opaque);
  const auto msg_id = static_cast<int64_t>(reinterpret_cast<intptr_t>(m->_private));
  const int64_t now = NowUs();
  std::lock_guard l(self->mu_);
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++self->stats_.failed;
    if (self->stats_.error.empty()) self->stats_.error = rd_kafka_err2str(m->err);
    return;
  }
  if (msg_id != 0) {
    ++self->stats_.acked;
    self->acks_.push_back({msg_id, now});
  }
}

uint64_t StreamProducer::NextTs() {
  const auto ms = static_cast<uint64_t>(NowUs() / 1000);
  last_ts_ = std::max(last_ts_ + 1, sim::ComposeTs(ms));
  return last_ts_;
}

Status StreamProducer::Produce(const std::string& topic, const std::string& payload,
                               int64_t msg_id) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (true) {
    rd_kafka_resp_err_t e = rd_kafka_producev(
        rk_.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(0),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_VALUE(const_cast<char*>(payload.data()), payload.size()),
        RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<intptr_t>(msg_id))), RD_KAFKA_V_END);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) return OkStatus();
    if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL || std::chrono::steady_clock::now() > deadline) {
      return UnavailableError(
          absl::StrCat("produce to kafka topic ", topic, ": ", rd_kafka_err2str(e)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void StreamProducer::TickLoop() {
  auto next = std::chrono::steady_clock::now();
  while (!stop_.load()) {
    for (const auto& p : pchannels_) {
      std::lock_guard l(ts_mu_);
      const std::string tick = sim::MakeTimeTick(NextTs()).SerializeAsString();
      Status s = Produce(p, tick, 0);
      std::lock_guard sl(mu_);
      ++stats_.ticks;
      if (!s.ok() && stats_.error.empty()) stats_.error = std::string(s.message());
    }
    next += std::chrono::milliseconds(tick_ms_);
    std::this_thread::sleep_until(next);
  }
}

Status StreamProducer::Start(const ProduceRun& run) {
  std::lock_guard l(mu_);
  if (stats_.running) return FailedPreconditionError("a produce run is already running");
  if (run_thread_.joinable()) run_thread_.join();
  stats_.running = true;
  run_thread_ = std::thread([this, run] { RunLoop(run); });
  return OkStatus();
}

void StreamProducer::RunLoop(ProduceRun run) {
  const size_t first = std::min(collections_.size(), static_cast<size_t>(std::max(0, run.first)));
  const size_t rest = collections_.size() - first;
  const size_t n =
      run.collections > 0 ? std::min(rest, static_cast<size_t>(run.collections)) : rest;
  const auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; !stop_.load() && n > 0; ++i) {
    if (run.count > 0 && i >= run.count) break;
    const auto elapsed = std::chrono::steady_clock::now() - start;
    if (run.seconds > 0 && elapsed >= std::chrono::duration<double>(run.seconds)) break;
    if (run.rate > 0) {
      std::this_thread::sleep_until(start + std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                std::chrono::duration<double>(i / run.rate)));
    }
    const size_t k = first + static_cast<size_t>(i) % n;
    StreamCollection& c = collections_[k];
    const int64_t seq = next_seq_[k]++;
    sim::InsertSpec is;
    is.partition_id = c.spec.id + 1;
    is.vchannel = source::MakeVChannel(c.pchannel, c.spec.id, 0);
    is.msg_id = c.first_msg_id + seq;
    is.first_pk = (c.first_msg_id + seq) * rows_;
    is.rows = rows_;
    Status s;
    size_t bytes = 0;
    {
      std::lock_guard l(ts_mu_);
      is.ts = NextTs();
      const std::string payload = sim::MakeInsert(c.spec, is).SerializeAsString();
      bytes = payload.size();
      s = Produce(c.pchannel, payload, is.msg_id);
    }
    std::lock_guard l(mu_);
    if (!s.ok()) {
      if (stats_.error.empty()) stats_.error = std::string(s.message());
      break;
    }
    ++stats_.produced;
    stats_.bytes += static_cast<int64_t>(bytes);
  }
  std::lock_guard l(mu_);
  stats_.running = false;
}

StreamProducer::Stats StreamProducer::stats() const {
  std::lock_guard l(mu_);
  return stats_;
}

std::vector<StreamProducer::Ack> StreamProducer::Acks() const {
  std::lock_guard l(mu_);
  return acks_;
}

void StreamProducer::ClearAcks() {
  std::lock_guard l(mu_);
  acks_.clear();
}

}  // namespace cdc::bench
