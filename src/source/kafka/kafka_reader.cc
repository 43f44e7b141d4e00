#include "source/kafka/kafka_reader.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "source/position.h"

namespace cdc::source {

struct KafkaChannelReader::Client {
  RdKafkaHandle rk;
};

KafkaChannelReader::KafkaChannelReader(KafkaReaderOptions options)
    : ReaderCore(options.reader, "read kafka"), options_(std::move(options)) {}

KafkaChannelReader::~KafkaChannelReader() { Close(); }

Status KafkaChannelReader::Open(const StartPosition& start) {
  switch (start.kind) {
    case StartPosition::Kind::kEarliest:
      start_offset_ = RD_KAFKA_OFFSET_BEGINNING;
      break;
    case StartPosition::Kind::kLatest:
      start_offset_ = RD_KAFKA_OFFSET_END;
      break;
    case StartPosition::Kind::kPosition: {
      if (start.position.msgid().empty()) {  // the channel's beginning
        start_offset_ = RD_KAFKA_OFFSET_BEGINNING;
        break;
      }
      auto off = DecodeKafkaMsgId(start.position.msgid());
      if (!off.ok()) return Annotate(off.status(), "start reader " + channel());
      start_offset_ = *off;
      break;
    }
  }
  std::map<std::string, std::string> conf = {
      {"group.id", group()},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"enable.partition.eof", "false"},
      {"auto.offset.reset", "error"},
      {"queued.max.messages.kbytes", std::to_string(options_.queued_max_kbytes)},
      {"reconnect.backoff.max.ms", "5000"},
  };
  for (const auto& [k, v] : options_.config) conf[k] = v;
  ASSIGN_OR_RETURN(auto rk, NewKafkaClient(true, options_.brokers, conf));
  RETURN_IF_ERROR(AssignPartition0(rk.get(), channel(), start_offset_));
  client_ = std::make_shared<Client>(Client{std::move(rk)});
  WithStats([&](ReaderStats& s) { s.next_offset = start_offset_ >= 0 ? start_offset_ : -1; });
  return OkStatus();
}

void KafkaChannelReader::Release() {
  if (client_) rd_kafka_consumer_close(client_->rk.get());
  client_.reset();
}

int64_t KafkaChannelReader::MessagesAfter(const MsgPosition& position) const {
  if (!position.channel_name().empty() && position.channel_name() != channel()) return -1;
  auto off = DecodeKafkaMsgId(position.msgid());
  if (!off.ok()) return -1;
  return WithStats([&](const ReaderStats& s) -> int64_t {
    if (s.latest_offset < 0) return -1;
    return std::max<int64_t>(0, s.latest_offset - (*off + 1));
  });
}

void KafkaChannelReader::RefreshLatest() {
  // Bounded: one metadata round trip, at most 500 ms, about once a second.
  auto high = QueryHighWatermark(client_->rk.get(), channel(), 500);
  if (!high.ok()) return;  // keep the last value; a broker problem shows in stats().reason
  // A high watermark below what we already read is stale: never report a negative backlog.
  WithStats([&](ReaderStats& s) { s.latest_offset = std::max(*high, s.next_offset); });
}

namespace {
constexpr int kPauseAfterWaits = 5;

Status PausePartition0(rd_kafka_t* rk, const std::string& topic, bool pause) {
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(parts, topic.c_str(), 0);
  rd_kafka_resp_err_t e =
      pause ? rd_kafka_pause_partitions(rk, parts) : rd_kafka_resume_partitions(rk, parts);
  rd_kafka_topic_partition_list_destroy(parts);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return UnavailableError(absl::StrCat(pause ? "pause" : "resume", " kafka topic ", topic,
                                         " partition 0: ", rd_kafka_err2str(e)));
  }
  return OkStatus();
}
}  // namespace

void KafkaChannelReader::WhileQueueFull() {
  RefreshLatest();
  if (++full_waits_ >= kPauseAfterWaits && !paused_) PauseFetching();
}

void KafkaChannelReader::PauseFetching() {
  if (Status s = PausePartition0(client_->rk.get(), channel(), true); !s.ok()) {
    spdlog::warn("{}", std::string(s.message()));
    return;
  }
  paused_ = true;
  WithStats([](ReaderStats& st) { ++st.pauses; });
  spdlog::debug(
      "read kafka topic {}: the consumer has taken nothing for {} s; fetching paused "
      "(librdkafka's prefetch dropped) until it does, then resumed at offset {}",
      channel(), full_waits_, ResumeOffset());
}

void KafkaChannelReader::ResumeFetching() {
  rd_kafka_t* rk = client_->rk.get();
  Status s = PausePartition0(rk, channel(), false);
  // At the next unread offset, whatever librdkafka kept: nothing skipped, nothing twice.
  if (s.ok()) s = AssignPartition0(rk, channel(), ResumeOffset());
  if (!s.ok()) {
    spdlog::warn("{}", std::string(s.message()));
    SetReason(std::string(s.message()));
    return;  // retried at the next poll
  }
  paused_ = false;
}

void KafkaChannelReader::Run() {
  auto backoff = std::chrono::milliseconds(100);
  rd_kafka_t* rk = client_->rk.get();
  auto last_activity = std::chrono::steady_clock::now();
  auto last_message = last_activity;
  auto last_latest = std::chrono::steady_clock::time_point{};
  while (!stopping()) {
    full_waits_ = 0;
    if (paused_) ResumeFetching();
    if (auto now = std::chrono::steady_clock::now(); now - last_latest >= std::chrono::seconds(1)) {
      last_latest = now;
      RefreshLatest();
    }
    // Behind the channel's end. librdkafka 2.0 stops fetching while its prefetch queue is full
    // and looks again only when its broker thread wakes, after up to a second (bench: backlogs
    // read in bursts with 0.5-1 s gaps). A request to that broker wakes it: once we drained the
    // queue, asking for the channel's end (a small round trip) restarts the fetch at once. Only
    // while messages come: with none for 2 s (a broker down, an end we never reach) the reader
    // polls as usual instead of asking 50 times a second.
    const bool behind = std::chrono::steady_clock::now() - last_message < std::chrono::seconds(2) &&
                        WithStats([](const ReaderStats& s) {
                          return s.next_offset >= 0 && s.next_offset < s.latest_offset;
                        });
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, behind ? 20 : 200);
    if (m == nullptr && behind) {
      last_latest = std::chrono::steady_clock::now();
      RefreshLatest();
    }
    if (m == nullptr) {
      // Idle: librdkafka waits silently for a missing topic or a dead broker, so ask the
      // broker directly now and then, to report the cause and re-assign once it is cured.
      auto now = std::chrono::steady_clock::now();
      if (now - last_activity >= std::chrono::seconds(2)) {
        last_activity = now;
        ProbeTopic();
      }
      continue;
    }
    last_activity = std::chrono::steady_clock::now();
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_resp_err_t err = m->err;
      std::string what = rd_kafka_message_errstr(m);
      rd_kafka_message_destroy(m);
      if (err != RD_KAFKA_RESP_ERR__PARTITION_EOF) HandleError(err, what, &backoff);
      continue;
    }
    backoff = std::chrono::milliseconds(100);
    last_message = last_activity;
    if (const int64_t next = ResumeOffset(); next >= 0 && m->offset < next) {
      // Already read: a fetch from before a re-assign at the next unread offset.
      spdlog::debug("read kafka topic {}: offset {} again (next is {}); dropped as read", channel(),
                    m->offset, next);
      rd_kafka_message_destroy(m);
      continue;
    }
    HandleMessage(m);
  }
}

void KafkaChannelReader::HandleError(rd_kafka_resp_err_t err, const std::string& what,
                                     std::chrono::milliseconds* backoff) {
  const int64_t resume = ResumeOffset();
  const std::string hint = err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET
                               ? "; the start offset is no longer retained by the topic"
                               : "; check that the broker is up and the topic exists";
  std::string reason =
      absl::StrCat("read kafka topic ", channel(), " partition 0 from ", options_.brokers,
                   " at offset ", resume, ": ", rd_kafka_err2str(err), " (", what, ")", hint,
                   "; retrying in ", backoff->count(), " ms");
  spdlog::warn("{}", reason);
  SetReason(reason);
  if (!Sleep(*backoff)) return;
  *backoff = std::min(*backoff * 2, std::chrono::milliseconds(5000));
  if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
      err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET) {
    // Re-assign at the next unread offset so nothing is skipped once the topic is back.
    if (Status s = AssignPartition0(client_->rk.get(), channel(), resume); !s.ok()) {
      SetReason(std::string(s.message()));
    }
  }
}

int64_t KafkaChannelReader::ResumeOffset() const {
  const int64_t next = WithStats([](const ReaderStats& s) { return s.next_offset; });
  return next >= 0 ? next : start_offset_;
}

void KafkaChannelReader::ProbeTopic() {
  rd_kafka_t* rk = client_->rk.get();
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, channel().c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, 2000);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (md->topic_cnt != 1) {
      err = RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
    } else if (md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      err = md->topics[0].err;
    } else if (md->topics[0].partition_cnt < 1) {
      err = RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION;
    }
    rd_kafka_metadata_destroy(md);
  }
  rd_kafka_topic_destroy(rkt);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    probe_failed_ = true;
    std::string reason =
        absl::StrCat("read kafka topic ", channel(), " partition 0 from ", options_.brokers,
                     " at offset ", ResumeOffset(), ": ", rd_kafka_err2str(err),
                     err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART
                         ? "; the topic does not exist yet (Milvus creates it on first write)"
                         : "; check that the broker is up",
                     "; retrying");
    spdlog::warn("{}", reason);
    SetReason(reason);
    return;
  }
  if (probe_failed_) {
    probe_failed_ = false;
    if (Status s = AssignPartition0(rk, channel(), ResumeOffset()); !s.ok()) {
      SetReason(std::string(s.message()));
      return;
    }
    ClearBrokerReason();
  }
}

void KafkaChannelReader::HandleMessage(rd_kafka_message_t* m) {
  Message msg;
  msg.owner = std::shared_ptr<const void>(m, [client = client_](const void* p) {
    rd_kafka_message_destroy(static_cast<rd_kafka_message_t*>(const_cast<void*>(p)));
  });
  msg.payload = std::string_view(static_cast<const char*>(m->payload), m->len);
  msg.offset = m->offset;
  msg.position = KafkaPosition(channel(), m->offset, 0);
  Deliver(std::move(msg), absl::StrCat("topic ", channel(), " offset ", m->offset));
}

}  // namespace cdc::source
