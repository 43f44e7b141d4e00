#include "source/kafka/kafka_reader.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "source/kafka/kafka_client.h"
#include "source/position.h"

namespace cdc::source {

struct KafkaChannelReader::Client {
  RdKafkaHandle rk;
};

KafkaChannelReader::KafkaChannelReader(KafkaReaderOptions options)
    : options_(std::move(options)), queue_(options_.max_queued_packs, options_.max_queued_bytes) {
  if (options_.group.empty()) options_.group = SubscriptionName("reader", options_.channel);
}

KafkaChannelReader::~KafkaChannelReader() { Close(); }

Status KafkaChannelReader::Start(const StartPosition& start) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (started_)
      return FailedPreconditionError("start reader " + options_.channel + ": already started");
  }
  std::optional<MsgPosition> resume;
  switch (start.kind) {
    case StartPosition::Kind::kEarliest:
      start_offset_ = RD_KAFKA_OFFSET_BEGINNING;
      break;
    case StartPosition::Kind::kLatest:
      start_offset_ = RD_KAFKA_OFFSET_END;
      break;
    case StartPosition::Kind::kPosition: {
      if (!start.position.channel_name().empty() &&
          start.position.channel_name() != options_.channel) {
        return InvalidArgumentError(absl::StrCat("start reader ", options_.channel,
                                                 ": position is for channel '",
                                                 start.position.channel_name(), "'"));
      }
      auto off = DecodeKafkaMsgId(start.position.msgid());
      if (!off.ok()) return Annotate(off.status(), "start reader " + options_.channel);
      start_offset_ = *off;
      resume = start.position;
      break;
    }
  }
  std::map<std::string, std::string> conf = {
      {"group.id", options_.group},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"enable.partition.eof", "false"},
      {"auto.offset.reset", "error"},
      {"queued.max.messages.kbytes", std::to_string(options_.queued_max_kbytes)},
      {"reconnect.backoff.max.ms", "5000"},
  };
  for (const auto& [k, v] : options_.config) conf[k] = v;
  ASSIGN_OR_RETURN(auto rk, NewKafkaClient(true, options_.brokers, conf));
  RETURN_IF_ERROR(AssignPartition0(rk.get(), options_.channel, start_offset_));
  client_ = std::make_shared<Client>(Client{std::move(rk)});
  if (options_.kind == ChannelKind::kDml) {
    packer_ = std::make_unique<Packer>(options_.channel, options_.group, resume, filter_);
  } else {
    single_ = std::make_unique<SingleMessagePacker>(options_.channel, resume);
  }
  std::lock_guard<std::mutex> l(mu_);
  started_ = true;
  stats_.next_offset = start_offset_ >= 0 ? start_offset_ : -1;
  thread_ = std::thread([this] { Run(); });
  return OkStatus();
}

Result<std::optional<Pack>> KafkaChannelReader::Next(std::chrono::milliseconds timeout) {
  auto p = queue_.Pop(timeout);
  std::lock_guard<std::mutex> l(mu_);
  if (p.has_value()) {
    ++stats_.packs;
    return p;
  }
  if (stop_) return absl::CancelledError("read channel " + options_.channel + ": reader closed");
  return std::optional<Pack>();
}

ReaderStats KafkaChannelReader::stats() const {
  std::lock_guard<std::mutex> l(mu_);
  ReaderStats s = stats_;
  return s;
}

int64_t KafkaChannelReader::MessagesAfter(const MsgPosition& position) const {
  if (!position.channel_name().empty() && position.channel_name() != options_.channel) return -1;
  auto off = DecodeKafkaMsgId(position.msgid());
  if (!off.ok()) return -1;
  std::lock_guard<std::mutex> l(mu_);
  if (stats_.latest_offset < 0) return -1;
  return std::max<int64_t>(0, stats_.latest_offset - (*off + 1));
}

void KafkaChannelReader::RefreshLatest() {
  // Bounded: one metadata round trip, at most 500 ms, about once a second.
  auto high = QueryHighWatermark(client_->rk.get(), options_.channel, 500);
  if (!high.ok()) return;  // keep the last value; a broker problem shows in stats().reason
  std::lock_guard<std::mutex> l(mu_);
  // A high watermark below what we already read is stale: never report a negative backlog.
  stats_.latest_offset = std::max(*high, stats_.next_offset);
}

void KafkaChannelReader::Close() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stop_ && !thread_.joinable()) return;
    stop_ = true;
  }
  cv_.notify_all();
  queue_.Close();
  if (thread_.joinable()) thread_.join();
  if (client_) rd_kafka_consumer_close(client_->rk.get());
  client_.reset();
}

void KafkaChannelReader::SetReason(std::string reason) {
  std::lock_guard<std::mutex> l(mu_);
  stats_.reason = std::move(reason);
}

bool KafkaChannelReader::SleepInterruptible(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait_for(l, d, [&] { return stop_; });
  return !stop_;
}

void KafkaChannelReader::Push(Pack pack) {
  // While the consumer is behind, keep the channel's end current (the backlog grows then).
  queue_.Push(std::move(pack), [this] { RefreshLatest(); });
}

void KafkaChannelReader::Run() {
  auto backoff = std::chrono::milliseconds(100);
  const auto max_backoff = std::chrono::milliseconds(5000);
  rd_kafka_t* rk = client_->rk.get();
  auto last_activity = std::chrono::steady_clock::now();
  auto last_latest = std::chrono::steady_clock::time_point{};
  while (true) {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (stop_) return;
    }
    if (auto now = std::chrono::steady_clock::now(); now - last_latest >= std::chrono::seconds(1)) {
      last_latest = now;
      RefreshLatest();
    }
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 200);
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
      if (err == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;
      int64_t resume = ResumeOffset();
      std::string hint = err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET
                             ? "; the start offset is no longer retained by the topic"
                             : "; check that the broker is up and the topic exists";
      std::string reason =
          absl::StrCat("read kafka topic ", options_.channel, " partition 0 from ",
                       options_.brokers, " at offset ", resume, ": ", rd_kafka_err2str(err), " (",
                       what, ")", hint, "; retrying in ", backoff.count(), " ms");
      spdlog::warn("{}", reason);
      SetReason(reason);
      if (!SleepInterruptible(backoff)) return;
      backoff = std::min(backoff * 2, max_backoff);
      if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
          err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC || err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET) {
        // Re-assign at the next unread offset so nothing is skipped once the topic is back.
        if (Status s = AssignPartition0(rk, options_.channel, resume); !s.ok()) {
          SetReason(std::string(s.message()));
        }
      }
      continue;
    }
    backoff = std::chrono::milliseconds(100);
    HandleMessage(m);
  }
}

int64_t KafkaChannelReader::ResumeOffset() const {
  std::lock_guard<std::mutex> l(mu_);
  return stats_.next_offset >= 0 ? stats_.next_offset : start_offset_;
}

void KafkaChannelReader::ProbeTopic() {
  rd_kafka_t* rk = client_->rk.get();
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, options_.channel.c_str(), nullptr);
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
        absl::StrCat("read kafka topic ", options_.channel, " partition 0 from ", options_.brokers,
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
    if (Status s = AssignPartition0(rk, options_.channel, ResumeOffset()); !s.ok()) {
      SetReason(std::string(s.message()));
      return;
    }
    std::lock_guard<std::mutex> l(mu_);
    if (stats_.reason.rfind("read kafka", 0) == 0) stats_.reason.clear();
  }
}

void KafkaChannelReader::HandleMessage(void* raw) {
  auto* m = static_cast<rd_kafka_message_t*>(raw);
  Message msg;
  msg.owner = std::shared_ptr<const void>(m, [client = client_](const void* p) {
    rd_kafka_message_destroy(static_cast<rd_kafka_message_t*>(const_cast<void*>(p)));
  });
  msg.payload = std::string_view(static_cast<const char*>(m->payload), m->len);
  msg.offset = m->offset;
  msg.position = KafkaPosition(options_.channel, m->offset, 0);
  auto header = DecodeHeader(msg.payload);
  std::string error;
  {
    std::lock_guard<std::mutex> l(mu_);
    stats_.next_offset = m->offset + 1;
    stats_.bytes += m->len;
    if (!header.ok()) {
      ++stats_.bad_messages;
      error = absl::StrCat("decode message at topic ", options_.channel, " offset ", m->offset,
                           " (", m->len, " bytes): ", header.status().message());
    } else {
      ++stats_.messages;
      if (options_.kind == ChannelKind::kDml && !IsKnownDmlChannelType(header->type)) {
        ++stats_.bad_messages;
        error = absl::StrCat("unexpected message type ", MsgTypeName(header->type), " at topic ",
                             options_.channel, " offset ", m->offset);
      }
    }
    if (!error.empty())
      stats_.reason = error;
    else if (!stats_.reason.empty() && stats_.reason.rfind("read kafka", 0) == 0)
      stats_.reason.clear();
  }
  if (!error.empty()) spdlog::error("{}", error);
  std::optional<Pack> pack;
  if (!header.ok()) {
    if (packer_) {
      packer_->AddError(error);
    } else {
      pack = single_->AddError(error);
    }
  } else {
    msg.header = std::move(*header);
    msg.position.set_timestamp(msg.header.timestamp);
    if (packer_) {
      if (!error.empty()) packer_->AddError(error);
      pack = packer_->Add(std::move(msg));
    } else {
      pack = single_->Add(std::move(msg));
    }
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    stats_.skipped = packer_ ? packer_->skipped() : single_->skipped();
    if (packer_) stats_.filtered = packer_->filtered();
  }
  if (pack.has_value()) Push(std::move(*pack));
}

}  // namespace cdc::source
