#include "source/pulsar/pulsar_reader.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "source/position.h"
#include "source/pulsar/pulsar_config.h"
#include "source/pulsar_id.h"

namespace cdc::source {
namespace {

constexpr char kReasonPrefix[] = "read pulsar topic";

}  // namespace

PulsarChannelReader::PulsarChannelReader(PulsarReaderOptions options)
    : ReaderCore(options.reader, kReasonPrefix),
      options_(std::move(options)),
      topic_(PulsarTopic(options_.tenant, options_.name_space, channel())) {}

PulsarChannelReader::~PulsarChannelReader() { Close(); }

Status PulsarChannelReader::Open(const StartPosition& start) {
  consumer_options_ = {};
  consumer_options_.topic = topic_;
  consumer_options_.subscription = group();
  consumer_options_.consumer_name = group();
  consumer_options_.durable = false;
  consumer_options_.receiver_queue = options_.receiver_queue;
  switch (start.kind) {
    case StartPosition::Kind::kEarliest:
      consumer_options_.start_earliest = true;
      break;
    case StartPosition::Kind::kLatest:
      break;
    case StartPosition::Kind::kPosition: {
      if (start.position.msgid().empty()) {  // the channel's beginning
        consumer_options_.start_earliest = true;
        break;
      }
      auto id = DecodePulsarMsgId(start.position.msgid());
      if (!id.ok()) return Annotate(id.status(), "start reader " + channel());
      pulsar::proto::MessageIdData m;
      m.set_ledgerid(static_cast<uint64_t>(id->ledger));
      m.set_entryid(static_cast<uint64_t>(id->entry));
      m.set_partition(-1);
      m.set_batch_index(id->batch_index);
      consumer_options_.start_id = m;
      break;
    }
  }
  // Subscribe once here, so "latest" means the moment Start() ran when the broker is up; if it
  // is not, the reader thread keeps trying.
  if (Status s = EnsureConsumer(); !s.ok()) {
    spdlog::warn("{}", std::string(s.message()));
  }
  return OkStatus();
}

Status PulsarChannelReader::EnsureConsumer() {
  Status s;
  if (consumer_ == nullptr) {
    auto c = pulsar::Consumer::Subscribe(options_.client, consumer_options_);
    if (c.ok()) consumer_ = std::move(*c);
    s = c.status();
  } else if (need_reconnect_) {
    s = consumer_->Reconnect();
  }
  if (s.ok()) {
    need_reconnect_ = false;
    ClearBrokerReason();
    return s;
  }
  std::string reason = absl::StrCat(kReasonPrefix, " ", topic_, " from ",
                                    options_.client.service_url, ": ", s.message());
  SetReason(reason);
  return Status(s.code(), reason);
}

void PulsarChannelReader::Release() {
  if (consumer_ != nullptr) (void)consumer_->Close();
  consumer_.reset();
}

void PulsarChannelReader::RefreshBacklog() {
  if (options_.backlog) options_.backlog->Refresh(channel(), std::chrono::milliseconds(500));
}

int64_t PulsarChannelReader::MessagesAfter(const MsgPosition& position) const {
  if (!options_.backlog) return -1;
  if (!position.channel_name().empty() && position.channel_name() != channel()) return -1;
  MsgPosition p = position;
  p.set_channel_name(channel());
  return options_.backlog->CachedMessagesAfter(p);
}

void PulsarChannelReader::Run() {
  auto backoff = std::chrono::milliseconds(100);
  const auto max_backoff = std::chrono::milliseconds(5000);
  while (!stopping()) {
    RefreshBacklog();  // at most once a second (the backlog caches)
    if (consumer_ == nullptr || need_reconnect_) {
      if (Status s = EnsureConsumer(); !s.ok()) {
        spdlog::warn("{}; retrying in {} ms", std::string(s.message()), backoff.count());
        if (!Sleep(backoff)) return;
        backoff = std::min(backoff * 2, max_backoff);
        continue;
      }
      backoff = std::chrono::milliseconds(100);
    }
    auto r = consumer_->Receive(std::chrono::milliseconds(200));
    if (!r.ok()) {
      std::string reason = absl::StrCat(kReasonPrefix, " ", topic_, ": ", r.status().message(),
                                        "; reconnecting in ", backoff.count(), " ms");
      spdlog::warn("{}", reason);
      SetReason(reason);
      need_reconnect_ = true;
      if (!Sleep(backoff)) return;
      backoff = std::min(backoff * 2, max_backoff);
      continue;
    }
    if (!r->has_value()) continue;
    backoff = std::chrono::milliseconds(100);
    HandleMessage(std::move(**r));
  }
}

void PulsarChannelReader::HandleMessage(pulsar::ReceivedMessage&& r) {
  PulsarMsgId pid{static_cast<int64_t>(r.id.ledgerid()), static_cast<int64_t>(r.id.entryid()), 0,
                  std::max(r.id.batch_index(), 0)};
  Message msg;
  msg.owner = r.owner;
  msg.payload = r.payload;
  msg.position.set_channel_name(channel());
  msg.position.set_msgid(EncodePulsarMsgId(pid));
  Deliver(std::move(msg), absl::StrCat("topic ", topic_, " message ", pulsar::IdString(r.id)),
          std::move(r.error));
}

}  // namespace cdc::source
