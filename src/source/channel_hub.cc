#include "source/channel_hub.h"

#include "source/vchannel.h"

namespace cdc::source {

ChannelHub::ChannelHub(std::unique_ptr<ChannelReader> reader, size_t max_queued)
    : reader_(std::move(reader)), max_queued_(max_queued ? max_queued : 1) {}

void ChannelHub::Start() {
  std::lock_guard<std::mutex> l(mu_);
  if (pump_.joinable() || stop_) return;
  pump_ = std::thread([this] { Pump(); });
}

ChannelHub::~ChannelHub() { Stop(); }

void ChannelHub::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  reader_->Close();
  if (pump_.joinable()) pump_.join();
}

int ChannelHub::Subscribe(std::set<std::string> vchannels) {
  std::lock_guard<std::mutex> l(mu_);
  int id = next_id_++;
  subs_[id].vchannels = std::move(vchannels);
  return id;
}

void ChannelHub::Update(int id, std::set<std::string> vchannels) {
  std::lock_guard<std::mutex> l(mu_);
  if (auto it = subs_.find(id); it != subs_.end()) it->second.vchannels = std::move(vchannels);
}

void ChannelHub::Unsubscribe(int id) {
  std::lock_guard<std::mutex> l(mu_);
  subs_.erase(id);
  cv_.notify_all();
}

Result<std::optional<Pack>> ChannelHub::Next(int id, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> l(mu_);
  auto ready = [&] {
    auto it = subs_.find(id);
    return stop_ || !failed_.ok() || it == subs_.end() || !it->second.queue.empty();
  };
  cv_.wait_for(l, timeout, ready);
  auto it = subs_.find(id);
  if (it == subs_.end()) return NotFoundError("channel hub: no subscriber " + std::to_string(id));
  if (!it->second.queue.empty()) {
    Pack p = std::move(it->second.queue.front());
    it->second.queue.pop_front();
    cv_.notify_all();
    return std::optional<Pack>(std::move(p));
  }
  if (!failed_.ok()) return failed_;
  if (stop_) return absl::CancelledError("channel hub for " + reader_->channel() + " stopped");
  return std::optional<Pack>();
}

void ChannelHub::Pump() {
  while (true) {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (stop_) return;
    }
    auto p = reader_->Next(std::chrono::milliseconds(200));
    if (!p.ok()) {
      std::lock_guard<std::mutex> l(mu_);
      if (!stop_) failed_ = p.status();
      cv_.notify_all();
      return;
    }
    if (!p->has_value()) continue;
    const Pack& pack = **p;
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] {
      if (stop_) return true;
      for (const auto& [id, s] : subs_)
        if (s.queue.size() >= max_queued_) return false;
      return true;
    });
    if (stop_) return;
    for (auto& [id, s] : subs_) s.queue.push_back(FilterPack(pack, s.vchannels));
    cv_.notify_all();
  }
}

}  // namespace cdc::source
