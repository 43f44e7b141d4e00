#include "mocks/memory_channel_reader.h"

#include "absl/strings/str_cat.h"

namespace cdc::testing {

using source::ChannelKind;
using source::Message;
using source::Pack;
using source::ReaderStats;
using source::StartPosition;

MemoryChannelReader::MemoryChannelReader(std::string channel, ChannelKind kind)
    : channel_(std::move(channel)), kind_(kind) {}

void MemoryChannelReader::Append(std::string payload) {
  std::lock_guard<std::mutex> l(mu_);
  records_.push_back(std::make_shared<const std::string>(std::move(payload)));
  cv_.notify_all();
}

Status MemoryChannelReader::Start(const StartPosition& start) {
  std::lock_guard<std::mutex> l(mu_);
  if (started_) return FailedPreconditionError("start reader " + channel_ + ": already started");
  std::optional<source::MsgPosition> resume;
  switch (start.kind) {
    case StartPosition::Kind::kEarliest:
      next_ = 0;
      break;
    case StartPosition::Kind::kLatest:
      next_ = records_.size();
      break;
    case StartPosition::Kind::kPosition: {
      auto off = source::DecodeKafkaMsgId(start.position.msgid());
      if (!off.ok()) return Annotate(off.status(), "start reader " + channel_);
      next_ = static_cast<size_t>(*off);
      resume = start.position;
      break;
    }
  }
  packer_ = std::make_unique<source::ChannelPacker>(kind_, channel_, "memory", resume, filter_);
  started_ = true;
  return OkStatus();
}

std::optional<Pack> MemoryChannelReader::Pump() {
  while (ready_.empty() && next_ < records_.size()) {
    const int64_t off = static_cast<int64_t>(next_);
    auto rec = records_[next_++];
    Message m;
    m.owner = rec;
    m.payload = *rec;
    m.offset = off;
    m.position = source::KafkaPosition(channel_, off, 0);
    stats_.bytes += rec->size();
    stats_.next_offset = static_cast<int64_t>(next_);
    auto h = source::DecodeHeader(m.payload);
    std::optional<Pack> pack;
    if (!h.ok()) {
      ++stats_.bad_messages;
      std::string err = absl::StrCat("decode message at topic ", channel_, " offset ", off, ": ",
                                     h.status().message());
      stats_.reason = err;
      pack = packer_->AddError(err);
    } else {
      ++stats_.messages;
      m.header = std::move(*h);
      m.position.set_timestamp(m.header.timestamp);
      pack = packer_->Add(std::move(m));
    }
    if (pack) ready_.push_back(std::move(*pack));
  }
  if (ready_.empty()) return std::nullopt;
  Pack p = std::move(ready_.front());
  ready_.pop_front();
  ++stats_.packs;
  return p;
}

Result<std::optional<Pack>> MemoryChannelReader::Next(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> l(mu_);
  if (!started_) return FailedPreconditionError("read " + channel_ + ": reader not started");
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (closed_) return absl::CancelledError("read channel " + channel_ + ": reader closed");
    if (auto p = Pump()) return std::optional<Pack>(std::move(*p));
    if (cv_.wait_until(l, deadline) == std::cv_status::timeout) {
      if (auto p = Pump()) return std::optional<Pack>(std::move(*p));
      return std::optional<Pack>();
    }
  }
}

ReaderStats MemoryChannelReader::stats() const {
  std::lock_guard<std::mutex> l(mu_);
  ReaderStats s = stats_;
  s.skipped = packer_ ? packer_->skipped() : 0;
  s.filtered = packer_ ? packer_->filtered() : 0;
  return s;
}

void MemoryChannelReader::Close() {
  std::lock_guard<std::mutex> l(mu_);
  closed_ = true;
  cv_.notify_all();
}

}  // namespace cdc::testing
