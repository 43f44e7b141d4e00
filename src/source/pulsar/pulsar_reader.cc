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
    : options_(std::move(options)), queue_(options_.max_queued_packs, options_.max_queued_bytes) {
  topic_ = pulsar::MilvusTopic(options_.tenant, options_.name_space, options_.channel);
  if (options_.subscription.empty()) options_.subscription = SubscriptionName("reader", options_.channel);
}

PulsarChannelReader::~PulsarChannelReader() { Close(); }

Status PulsarChannelReader::Start(const StartPosition& start) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (started_) {
      return FailedPreconditionError("start reader " + options_.channel + ": already started");
    }
  }
  std::optional<MsgPosition> resume;
  consumer_options_ = {};
  consumer_options_.topic = topic_;
  consumer_options_.subscription = options_.subscription;
  consumer_options_.consumer_name = options_.subscription;
  consumer_options_.durable = false;
  consumer_options_.receiver_queue = options_.receiver_queue;
  switch (start.kind) {
    case StartPosition::Kind::kEarliest:
      consumer_options_.start_earliest = true;
      break;
    case StartPosition::Kind::kLatest:
      break;
    case StartPosition::Kind::kPosition: {
      if (!start.position.channel_name().empty() &&
          start.position.channel_name() != options_.channel) {
        return InvalidArgumentError(absl::StrCat("start reader ", options_.channel,
                                                 ": position is for channel '",
                                                 start.position.channel_name(), "'"));
      }
      auto id = DecodePulsarMsgId(start.position.msgid());
      if (!id.ok()) return Annotate(id.status(), "start reader " + options_.channel);
      pulsar::proto::MessageIdData m;
      m.set_ledgerid(static_cast<uint64_t>(id->ledger));
      m.set_entryid(static_cast<uint64_t>(id->entry));
      m.set_partition(-1);
      m.set_batch_index(id->batch_index);
      consumer_options_.start_id = m;
      resume = start.position;
      break;
    }
  }
  if (options_.kind == ChannelKind::kDml) {
    packer_ = std::make_unique<Packer>(options_.channel, options_.subscription, resume, filter_);
  } else {
    single_ = std::make_unique<SingleMessagePacker>(options_.channel, resume);
  }
  // Subscribe once here, so "latest" means the moment Start() ran when the broker is up; if it
  // is not, the reader thread keeps trying.
  if (Status s = EnsureConsumer(); !s.ok()) {
    spdlog::warn("{}", std::string(s.message()));
  }
  std::lock_guard<std::mutex> l(mu_);
  started_ = true;
  thread_ = std::thread([this] { Run(); });
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
    std::lock_guard<std::mutex> l(mu_);
    if (stats_.reason.rfind(kReasonPrefix, 0) == 0) stats_.reason.clear();
    return s;
  }
  std::string reason = absl::StrCat(kReasonPrefix, " ", topic_, " from ",
                                    options_.client.service_url, ": ", s.message());
  SetReason(reason);
  return Status(s.code(), reason);
}

Result<std::optional<Pack>> PulsarChannelReader::Next(std::chrono::milliseconds timeout) {
  auto p = queue_.Pop(timeout);
  std::lock_guard<std::mutex> l(mu_);
  if (p.has_value()) {
    ++stats_.packs;
    return p;
  }
  if (stop_) return absl::CancelledError("read channel " + options_.channel + ": reader closed");
  return std::optional<Pack>();
}

ReaderStats PulsarChannelReader::stats() const {
  std::lock_guard<std::mutex> l(mu_);
  return stats_;
}

void PulsarChannelReader::Close() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stop_ && !thread_.joinable()) return;
    stop_ = true;
  }
  cv_.notify_all();
  queue_.Close();
  if (thread_.joinable()) thread_.join();
  if (consumer_ != nullptr) (void)consumer_->Close();
  consumer_.reset();
}

void PulsarChannelReader::SetReason(std::string reason) {
  std::lock_guard<std::mutex> l(mu_);
  stats_.reason = std::move(reason);
}

bool PulsarChannelReader::SleepInterruptible(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait_for(l, d, [&] { return stop_; });
  return !stop_;
}

void PulsarChannelReader::Push(Pack pack) {
  // While the consumer is behind, keep the channel's end current (the backlog grows then).
  queue_.Push(std::move(pack), [this] { RefreshBacklog(); });
}

void PulsarChannelReader::RefreshBacklog() {
  if (options_.backlog) options_.backlog->Refresh(options_.channel, std::chrono::milliseconds(500));
}

int64_t PulsarChannelReader::MessagesAfter(const MsgPosition& position) const {
  if (!options_.backlog) return -1;
  if (!position.channel_name().empty() && position.channel_name() != options_.channel) return -1;
  MsgPosition p = position;
  p.set_channel_name(options_.channel);
  return options_.backlog->CachedMessagesAfter(p);
}

void PulsarChannelReader::Run() {
  auto backoff = std::chrono::milliseconds(100);
  const auto max_backoff = std::chrono::milliseconds(5000);
  while (true) {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (stop_) return;
    }
    RefreshBacklog();  // at most once a second (the backlog caches)
    if (consumer_ == nullptr || need_reconnect_) {
      if (Status s = EnsureConsumer(); !s.ok()) {
        spdlog::warn("{}; retrying in {} ms", std::string(s.message()), backoff.count());
        if (!SleepInterruptible(backoff)) return;
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
      if (!SleepInterruptible(backoff)) return;
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
  msg.position.set_channel_name(options_.channel);
  msg.position.set_msgid(EncodePulsarMsgId(pid));
  const std::string where = absl::StrCat("topic ", topic_, " message ", pulsar::IdString(r.id));
  std::string error;
  std::optional<Header> header;
  {
    std::lock_guard<std::mutex> l(mu_);
    stats_.bytes += r.payload.size();
    if (!r.error.empty()) {
      ++stats_.bad_messages;
      error = r.error;
    } else if (auto h = DecodeHeader(msg.payload); !h.ok()) {
      ++stats_.bad_messages;
      error = absl::StrCat("decode message at ", where, " (", r.payload.size(),
                           " bytes): ", h.status().message());
    } else {
      ++stats_.messages;
      header = std::move(*h);
      if (options_.kind == ChannelKind::kDml && !IsKnownDmlChannelType(header->type)) {
        ++stats_.bad_messages;
        error = absl::StrCat("unexpected message type ", MsgTypeName(header->type), " at ", where);
      }
    }
    if (!error.empty()) {
      stats_.reason = error;
    } else if (stats_.reason.rfind(kReasonPrefix, 0) == 0) {
      stats_.reason.clear();
    }
  }
  if (!error.empty()) spdlog::error("{}", error);
  std::optional<Pack> pack;
  if (!header.has_value()) {
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
