#include "unit/replicate/fake_source.h"

#include <algorithm>

#include "source/position.h"

namespace cdc::testing {

int64_t FakeBroker::Append(const std::string& channel, std::string payload) {
  std::lock_guard l(mu_);
  auto& log = logs_[channel];
  log.push_back(std::make_shared<const std::string>(std::move(payload)));
  return static_cast<int64_t>(log.size()) - 1;
}

std::optional<source::Message> FakeBroker::Read(const std::string& channel, int64_t offset) const {
  std::lock_guard l(mu_);
  auto it = logs_.find(channel);
  if (it == logs_.end() || offset >= static_cast<int64_t>(it->second.size())) return std::nullopt;
  const auto& bytes = it->second[offset];
  source::Message m;
  m.owner = bytes;
  m.payload = *bytes;
  m.offset = offset;
  auto header = source::DecodeHeader(m.payload);
  if (header.ok()) m.header = *header;
  m.position = source::KafkaPosition(channel, offset, m.header.timestamp);
  return m;
}

int64_t FakeBroker::End(const std::string& channel) const {
  std::lock_guard l(mu_);
  auto it = logs_.find(channel);
  return it == logs_.end() ? 0 : static_cast<int64_t>(it->second.size());
}

int64_t FakeReader::MessagesAfter(const source::MsgPosition& position) const {
  auto off = source::DecodeKafkaMsgId(position.msgid());
  if (!off.ok()) return -1;
  return std::max<int64_t>(0, broker_->End(channel_) - (*off + 1));
}

Status FakeReader::Start(const source::StartPosition& start) {
  std::optional<source::MsgPosition> resume;
  switch (start.kind) {
    case source::StartPosition::Kind::kEarliest:
      cursor_ = 0;
      break;
    case source::StartPosition::Kind::kLatest:
      cursor_ = broker_->End(channel_);
      break;
    case source::StartPosition::Kind::kPosition: {
      if (start.position.msgid().empty()) {  // the channel's beginning
        cursor_ = 0;
      } else {
        auto off = source::DecodeKafkaMsgId(start.position.msgid());
        if (!off.ok()) return off.status();
        cursor_ = *off;
      }
      resume = start.position;
      break;
    }
  }
  if (kind_ == source::ChannelKind::kDml) {
    packer_ = std::make_unique<source::Packer>(channel_, "fake", resume, filter_);
  } else {
    single_ = std::make_unique<source::SingleMessagePacker>(channel_, resume);
  }
  return OkStatus();
}

Result<std::optional<source::Pack>> FakeReader::Next(std::chrono::milliseconds) {
  while (auto m = broker_->Read(channel_, cursor_)) {
    ++cursor_;
    auto pack = packer_ ? packer_->Add(std::move(*m)) : single_->Add(std::move(*m));
    if (packer_) filtered_ = packer_->filtered();
    if (pack) {
      ++packs_;
      return pack;
    }
  }
  return std::optional<source::Pack>();
}

Result<std::map<std::string, source::MsgPosition>> FakeBroker::LatestPositions(
    const std::vector<std::string>& channels) const {
  std::map<std::string, source::MsgPosition> out;
  for (const auto& ch : channels) {
    source::MsgPosition p;
    p.set_channel_name(ch);
    const int64_t end = End(ch);
    if (end == 0) {
      p.set_msgid(source::EncodeKafkaMsgId(0));
    } else {
      auto last = Read(ch, end - 1);
      p.set_msgid(source::EncodeKafkaMsgId(end - 1));
      p.set_timestamp(last->header.timestamp);
    }
    out[ch] = p;
  }
  return out;
}

void FakeCatalog::ApplyLocked(const replicate::CollectionMeta& c, bool remove) {
  ++revision_;
  if (remove) {
    auto it = colls_.find(c.id);
    if (it == colls_.end()) return;
    dropped_[c.id] = it->second;
    dropped_[c.id].dropped = true;
    colls_.erase(it);
    return;
  }
  colls_[c.id] = c;
}

void FakeCatalog::Put(replicate::CollectionMeta c) {
  std::lock_guard l(mu_);
  if (lagging_) {
    pending_.emplace_back(std::move(c), false);
    return;
  }
  ApplyLocked(c, false);
}

void FakeCatalog::Remove(int64_t id) {
  std::lock_guard l(mu_);
  replicate::CollectionMeta c;
  c.id = id;
  if (lagging_) {
    pending_.emplace_back(std::move(c), true);
    return;
  }
  ApplyLocked(c, true);
}

void FakeCatalog::set_unavailable(bool v) {
  std::function<void()> fn;
  {
    std::lock_guard l(mu_);
    if (unavailable_ && !v) fn = on_change_;
    unavailable_ = v;
  }
  if (fn) fn();
}

void FakeCatalog::OnChange(const std::function<void()>& fn) {
  std::lock_guard l(mu_);
  on_change_ = fn;
}

void FakeCatalog::set_lagging(bool v) {
  std::lock_guard l(mu_);
  lagging_ = v;
}

int FakeCatalog::syncs() const {
  std::lock_guard l(mu_);
  return syncs_;
}

Status FakeCatalog::Sync() {
  std::lock_guard l(mu_);
  if (unavailable_) return UnavailableError("source etcd 127.0.0.1:1: unreachable (fake)");
  ++syncs_;
  for (const auto& [c, removed] : pending_) ApplyLocked(c, removed);
  pending_.clear();
  return OkStatus();
}

int64_t FakeCatalog::Revision() {
  std::lock_guard l(mu_);
  return revision_;
}

Result<std::vector<replicate::CollectionMeta>> FakeCatalog::ListCollections() {
  std::lock_guard l(mu_);
  if (unavailable_) return UnavailableError("source etcd 127.0.0.1:1: unreachable (fake)");
  std::vector<replicate::CollectionMeta> out;
  for (const auto& [_, c] : colls_) out.push_back(c);
  return out;
}

Result<std::optional<replicate::CollectionMeta>> FakeCatalog::GetCollection(int64_t id) {
  std::lock_guard l(mu_);
  if (unavailable_) return UnavailableError("source etcd 127.0.0.1:1: unreachable (fake)");
  if (auto it = colls_.find(id); it != colls_.end())
    return std::optional<replicate::CollectionMeta>(it->second);
  if (auto it = dropped_.find(id); it != dropped_.end())
    return std::optional<replicate::CollectionMeta>(it->second);
  return std::optional<replicate::CollectionMeta>();
}

Result<std::optional<replicate::PartitionMeta>> FakeCatalog::GetPartition(int64_t collection_id,
                                                                          int64_t partition_id) {
  ASSIGN_OR_RETURN(auto c, GetCollection(collection_id));
  if (!c) return std::optional<replicate::PartitionMeta>();
  for (auto p : c->partitions) {
    if (p.id != partition_id) continue;
    p.dropped = c->dropped;
    return std::optional<replicate::PartitionMeta>(p);
  }
  return std::optional<replicate::PartitionMeta>();
}

void FakeCatalog::SetLoad(int64_t id, std::optional<replicate::LoadInfo> load) {
  std::lock_guard l(mu_);
  if (load) {
    loads_[id] = *load;
  } else {
    loads_.erase(id);
  }
}

void FakeCatalog::set_clock(uint64_t ts) {
  std::lock_guard l(mu_);
  clock_ = ts;
}

Result<std::map<int64_t, replicate::LoadInfo>> FakeCatalog::LoadStates() {
  std::lock_guard l(mu_);
  if (unavailable_) return UnavailableError("fake etcd down");
  return loads_;
}

uint64_t FakeCatalog::SourceNow() {
  std::lock_guard l(mu_);
  return clock_ != 0 ? clock_ : CatalogView::SourceNow();
}

}  // namespace cdc::testing
