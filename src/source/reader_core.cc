#include "source/reader_core.h"

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "common/thread_name.h"

namespace cdc::source {

ReaderCore::ReaderCore(ReaderOptions options, std::string reason_prefix)
    : options_(std::move(options)),
      group_(SubscriptionName(options_.owner, options_.channel)),
      reason_prefix_(std::move(reason_prefix)),
      queue_(options_.max_queued_packs, options_.max_queued_bytes) {
  filter_ = options_.filter;
}

ReaderCore::~ReaderCore() { Close(); }

Status ReaderCore::Start(const StartPosition& start) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (started_) return FailedPreconditionError("start reader " + channel() + ": already started");
  }
  std::optional<MsgPosition> resume;
  if (start.kind == StartPosition::Kind::kPosition) {
    if (!start.position.channel_name().empty() && start.position.channel_name() != channel()) {
      return InvalidArgumentError(absl::StrCat("start reader ", channel(),
                                               ": position is for channel '",
                                               start.position.channel_name(), "'"));
    }
    resume = start.position;
  }
  RETURN_IF_ERROR(Open(start));
  packer_ = std::make_unique<ChannelPacker>(options_.kind, channel(), group_, resume, filter_);
  std::lock_guard<std::mutex> l(mu_);
  started_ = true;
  thread_ = std::thread([this] {
    NameThread(absl::StrCat("read-", Tail(channel(), 10)));
    Run();
  });
  return OkStatus();
}

Result<std::optional<Pack>> ReaderCore::Next(std::chrono::milliseconds timeout) {
  auto p = queue_.Pop(timeout);
  std::lock_guard<std::mutex> l(mu_);
  if (p.has_value()) {
    ++stats_.packs;
    return p;
  }
  if (stop_) return absl::CancelledError("read channel " + channel() + ": reader closed");
  return std::optional<Pack>();
}

ReaderStats ReaderCore::stats() const {
  std::lock_guard<std::mutex> l(mu_);
  return stats_;
}

void ReaderCore::Close() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stop_ && !thread_.joinable()) return;
    stop_ = true;
  }
  cv_.notify_all();
  queue_.Close();
  if (thread_.joinable()) thread_.join();
  Release();
}

void ReaderCore::SetReason(std::string reason) {
  std::lock_guard<std::mutex> l(mu_);
  stats_.reason = std::move(reason);
}

void ReaderCore::ClearBrokerReason() {
  std::lock_guard<std::mutex> l(mu_);
  if (stats_.reason.rfind(reason_prefix_, 0) == 0) stats_.reason.clear();
}

bool ReaderCore::Sleep(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait_for(l, d, [&] { return stop_; });
  return !stop_;
}

bool ReaderCore::stopping() const {
  std::lock_guard<std::mutex> l(mu_);
  return stop_;
}

void ReaderCore::Deliver(Message msg, std::string_view where, std::string read_error) {
  std::string error = std::move(read_error);
  std::optional<Header> header;
  if (error.empty()) {
    if (auto h = DecodeHeader(msg.payload); !h.ok()) {
      error = absl::StrCat("decode message at ", AbslView(where), " (", msg.payload.size(),
                           " bytes): ", h.status().message());
    } else {
      header = std::move(*h);
    }
  }
  const bool unexpected = header.has_value() && options_.kind == ChannelKind::kDml &&
                          !IsKnownDmlChannelType(header->type);
  if (unexpected) {
    error = absl::StrCat("unexpected message type ", MsgTypeName(header->type), " at ",
                         AbslView(where));
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    if (msg.offset >= 0) stats_.next_offset = msg.offset + 1;
    stats_.bytes += msg.payload.size();
    if (header.has_value()) ++stats_.messages;
    if (!error.empty()) {
      ++stats_.bad_messages;
      stats_.reason = error;
    } else if (stats_.reason.rfind(reason_prefix_, 0) == 0) {
      stats_.reason.clear();
    }
  }
  if (!error.empty()) spdlog::error("{}", error);
  std::optional<Pack> pack;
  if (!header.has_value()) {
    pack = packer_->AddError(std::move(error));
  } else {
    msg.header = std::move(*header);
    msg.position.set_timestamp(msg.header.timestamp);
    if (!error.empty()) packer_->AddError(std::move(error));
    pack = packer_->Add(std::move(msg));
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    stats_.skipped = packer_->skipped();
    stats_.filtered = packer_->filtered();
  }
  if (!pack.has_value()) return;
  const bool content = HasContent(*pack);
  if (queue_.Push(std::move(*pack), [this] { WhileQueueFull(); }) && on_pack_) on_pack_(content);
}

}  // namespace cdc::source
