#include "replicate/merger.h"

#include <algorithm>

#include "source/pack_queue.h"

namespace cdc::replicate {

void Merger::AddChannel(const std::string& channel) { channels_.try_emplace(channel); }

std::vector<std::string> Merger::Channels() const {
  std::vector<std::string> out;
  for (const auto& [name, _] : channels_) out.push_back(name);
  return out;
}

void Merger::AddPack(source::Pack pack) {
  auto& ch = channels_[pack.channel];
  ch.latest_tick = std::max(ch.latest_tick.value_or(0), pack.end_ts);
  if (coalescer_.options().enabled) {
    ticks_.insert(pack.begin_ts);
    ticks_.insert(pack.end_ts);
  }
  const size_t n = source::PackBytes(pack);
  ch.bytes += n;
  bytes_ += n;
  if (!pack.msgs.empty()) ++ch.with_data;
  ch.packs.push_back(std::move(pack));
}

std::optional<uint64_t> Merger::Watermark() const {
  if (channels_.empty()) return std::nullopt;
  uint64_t w = UINT64_MAX;
  for (const auto& [_, ch] : channels_) {
    if (!ch.latest_tick) return std::nullopt;
    w = std::min(w, *ch.latest_tick);
  }
  return w;
}

std::vector<MergedMessage> Merger::Take(uint64_t w) {
  std::vector<MergedMessage> out;
  const auto bucket = [this](uint64_t ts) { return Bucket(ts); };
  for (auto& [name, ch] : channels_) {
    while (!ch.packs.empty()) {
      auto& pack = ch.packs.front();
      auto& msgs = pack.msgs;
      // A pack's messages are not always sorted by ts; take every one at or below w.
      std::vector<source::Message> keep, taken;
      const bool had_data = !msgs.empty();
      for (size_t i = 0; i < msgs.size(); ++i) {
        if (msgs[i].header.timestamp <= w) {
          ch.bytes -= msgs[i].payload.size();
          bytes_ -= msgs[i].payload.size();
          taken.push_back(std::move(msgs[i]));
        } else {
          keep.push_back(std::move(msgs[i]));
        }
      }
      for (auto& c : coalescer_.Apply(std::move(taken), bucket))
        out.push_back({name, std::move(c.msg), c.first_ts, c.count});
      msgs = std::move(keep);
      if (had_data && msgs.empty()) --ch.with_data;
      if (msgs.empty()) drained_[name] = pack.end_position;
      if (pack.end_ts <= w && msgs.empty()) {
        consumed_[name] = pack.end_position;
        ch.packs.pop_front();
        continue;
      }
      break;
    }
  }
  PruneTicks();
  auto is_delete = [](const MergedMessage& m) {
    return m.msg.header.type == ::milvus::proto::common::Delete;
  };
  std::stable_sort(out.begin(), out.end(), [&](const MergedMessage& a, const MergedMessage& b) {
    if (a.msg.header.timestamp != b.msg.header.timestamp)
      return a.msg.header.timestamp < b.msg.header.timestamp;
    return is_delete(a) && !is_delete(b);
  });
  return out;
}

uint64_t Merger::Bucket(uint64_t ts) const {
  auto it = ticks_.lower_bound(ts);
  return it == ticks_.end() ? UINT64_MAX : *it;
}

void Merger::PruneTicks() {
  if (ticks_.empty()) return;
  // Buffered messages are all above the begin of their channel's front pack (or, with none
  // buffered, above its latest tick): no cut below the smallest of these is needed.
  std::optional<uint64_t> floor;
  for (const auto& [_, ch] : channels_) {
    if (ch.packs.empty() && !ch.latest_tick) return;  // a new channel: its first pack may be low
    const uint64_t f = ch.packs.empty() ? *ch.latest_tick : ch.packs.front().begin_ts;
    floor = std::min(floor.value_or(f), f);
  }
  if (floor) ticks_.erase(ticks_.begin(), ticks_.lower_bound(*floor));
}

bool Merger::HoldsBack(const std::string& channel) const {
  auto it = channels_.find(channel);
  if (it == channels_.end() || !it->second.latest_tick) return true;
  auto w = Watermark();
  return !w || *it->second.latest_tick <= *w;
}

size_t Merger::Buffered(const std::string& channel) const {
  auto it = channels_.find(channel);
  return it == channels_.end() ? 0 : it->second.packs.size();
}

size_t Merger::BufferedWithData(const std::string& channel) const {
  auto it = channels_.find(channel);
  return it == channels_.end() ? 0 : it->second.with_data;
}

}  // namespace cdc::replicate
